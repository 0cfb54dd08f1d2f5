"""Reading speed: median time to read a file into the EN 16931 model, against a plain lxml parse.

Both are measured in the same run, on the same bytes (the KoSIT XRechnung test suite), so
the ratio is what matters, not the absolute figures of this machine.

    python bench/read_bench.py [--corpus DIR] [--repeat N] [--rounds N]

On a busy machine, more rounds give a steadier minimum (the default, 3, keeps figures comparable).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from lxml import etree

from schemas.reader import read_invoice

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "kosit-testsuite"


def _best_of(fn, data: bytes, repeat: int, rounds: int = 3) -> float:
    """Best mean over ``rounds`` rounds of ``repeat`` calls: the least disturbed estimate of the cost."""
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn(data)
        means.append((time.perf_counter() - start) / repeat)
    return min(means)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.xml"))
    if not files:
        raise SystemExit(f"no XML files under {args.corpus}")
    parse, read, ratios = [], [], []
    for path in files:
        data = path.read_bytes()
        read_invoice(data)  # warm caches (compiled paths) outside the measurement
        p = _best_of(etree.fromstring, data, args.repeat, args.rounds)
        r = _best_of(read_invoice, data, args.repeat, args.rounds)
        parse.append(p)
        read.append(r)
        ratios.append(r / p)
    print(f"files: {len(files)} ({args.corpus})")
    print(f"lxml.etree.fromstring  median {statistics.median(parse) * 1e3:.3f} ms/file")
    print(f"read_invoice           median {statistics.median(read) * 1e3:.3f} ms/file")
    print(f"ratio of medians       {statistics.median(read) / statistics.median(parse):.1f}x")
    print(f"median per-file ratio  {statistics.median(ratios):.1f}x  (target <= 5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
