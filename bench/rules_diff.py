"""The safety net of speed work on the rules: what fires on thousands of mutated invoices, for two checkouts.

A faster rule must fire on the same nodes, with the same values, in the same order, and fail where it
failed before, on every input, not only on the corpus. This writes, for the corpus documents and
``--count`` deterministic mutations of them (elements dropped, duplicated, moved, swapped; texts and
attributes replaced by codes, amounts, blanks and junk), one JSON line per document: each rule set of
its syntax, what fired, and the error a rule raised. Run it with the interpreter of each checkout and
compare the two files:

    ../main/.venv/bin/python bench/rules_diff.py dump /tmp/main.jsonl
    .venv/bin/python bench/rules_diff.py dump /tmp/mine.jsonl
    .venv/bin/python bench/rules_diff.py compare /tmp/main.jsonl /tmp/mine.jsonl

The same ``--seed`` and ``--count`` give the same documents; ``compare`` exits 1 when any differ.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from validators.check import open_for_check
from validators.rules import RULE_SETS, Session, node_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SOURCES = ("kosit-testsuite", "en16931-examples", "kosit-config-tests")
RULE_SETS_BY_SYNTAX = {
    "cii": ("en16931-cii@1.3.15", "xrechnung-cii@2.5.0"),
    "ubl": ("en16931-ubl@1.3.15", "xrechnung-ubl@2.5.0"),
}
# Texts that make rules fire or fail: codes of the VAT categories and code lists, amounts in every
# lexical shape (and some that are none), dates, blanks.
TEXTS = (
    *("", " ", "\n", "0", "-1", "1", "1.005", "abc", "NaN", "-0.00", "1e3", "100.00", "0.5", "19", "7"),
    *("S", "AE", "E", "Z", "G", "K", "L", "M", "O", "B", "IC", "VAT", "EUR", "HUF", "2024-01-01", "20240101"),
    *("DE123456789", "true", "false", "58", "30", "59", "380", "381", "H87", "C62", "  12.50 ", "12,50"),
    *("1234567890000", "0.000000001"),
)
ATTRIBUTE_VALUES = (*TEXTS, "USD", "XYZ", "0088", "EM", "9930")


def corpus(root: Path) -> list[tuple[str, etree._Element]]:
    documents = []
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.xml")):
            try:
                documents.append((path.name, etree.fromstring(path.read_bytes())))
            except etree.XMLSyntaxError:
                continue  # the corpus's deliberately broken files: nothing for the rules to see
    return documents


def mutate(root: etree._Element, rng: random.Random, leaf_texts: list[str]) -> None:
    """One random edit of the tree below the document element."""
    elements = list(root.iter(etree.Element))[1:]
    if len(elements) < 2:
        return
    element = rng.choice(elements)
    parent = element.getparent()
    kind = rng.randrange(9)
    if kind == 0:
        parent.remove(element)
    elif kind == 1:
        parent.insert(parent.index(element), copy.deepcopy(element))
    elif kind in (2, 3):
        leaves = [e for e in element.iter(etree.Element) if len(e) == 0]
        if leaves:
            rng.choice(leaves).text = rng.choice(TEXTS)
    elif kind == 4:
        rng.choice([e for e in elements if len(e) == 0] or [element]).text = rng.choice(leaf_texts)
    elif kind == 5:
        other = rng.choice(elements)
        if other is not element and not _related(element, other):
            other.addprevious(copy.deepcopy(element))
    elif kind == 6:
        name = rng.choice(list(element.attrib) or ["currencyID", "unitCode", "schemeID"])
        element.set(name, rng.choice(ATTRIBUTE_VALUES))
    elif kind == 7:
        following = element.getnext()
        if following is not None:
            element.addprevious(following)
    else:
        target = rng.choice(elements)
        if target is not parent and target is not element and not _related(element, target):
            target.append(element)


def _related(a: etree._Element, b: etree._Element) -> bool:
    """Whether one is an ancestor of the other (moving one into the other would loop)."""
    return any(x is b for x in a.iterancestors()) or any(x is a for x in b.iterancestors())


def fired(data: bytes) -> list[object]:
    """Per rule set of the document's syntax: what fired (rule, flag, node path, value) and the error, if any."""
    root = open_for_check(data).root
    syntax = "cii" if etree.QName(root).localname == "CrossIndustryInvoice" else "ubl"
    session = Session(root)
    results: list[object] = []
    for key in RULE_SETS_BY_SYNTAX[syntax]:
        found: list[object] = []
        error = None
        try:
            for hit in RULE_SETS[key].run(root, session):
                found.append([hit.rule.id, hit.rule.flag.value, node_path(hit.node), hit.value])
        except Exception as exc:  # a rule's failure is part of its behaviour: record it
            error = type(exc).__name__
        results.append([key, found, error])
    return results


def documents(root: Path, count: int, seed: int) -> Iterator[tuple[str, int, bytes]]:
    rng = random.Random(seed)
    sources = corpus(root)
    leaf_texts = sorted({e.text or "" for _, doc in sources for e in doc.iter(etree.Element) if len(e) == 0})
    for name, doc in sources:
        yield name, 0, etree.tostring(doc)
    for i in range(1, count + 1):
        name, doc = sources[rng.randrange(len(sources))]
        tree = copy.deepcopy(doc)
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            mutate(tree, rng, leaf_texts)
        yield name, i, etree.tostring(tree)


def dump(out: Path, root: Path, count: int, seed: int) -> int:
    with out.open("w", encoding="utf-8") as sink:
        for name, number, data in documents(root, count, seed):
            try:
                result: object = fired(data)
            except Exception as exc:  # the document did not open: that, too, must not change
                result = f"not opened: {type(exc).__name__}"
            sink.write(json.dumps([name, number, result]) + "\n")
    return 0


def compare(a: Path, b: Path) -> int:
    left = a.read_text(encoding="utf-8").splitlines()
    right = b.read_text(encoding="utf-8").splitlines()
    if len(left) != len(right):
        print(f"{a}: {len(left)} documents, {b}: {len(right)}: dumps of different runs")
        return 1
    differ = [(x, y) for x, y in zip(left, right, strict=True) if x != y]
    for x, y in differ[:5]:
        (name, number, sets_a), (_, _, sets_b) = json.loads(x), json.loads(y)
        print(f"differs: {name} mutation {number}")
        for set_a, set_b in zip(sets_a, sets_b, strict=False):
            if set_a != set_b:
                only_a = sorted({tuple(f) for f in set_a[1]} - {tuple(f) for f in set_b[1]})
                only_b = sorted({tuple(f) for f in set_b[1]} - {tuple(f) for f in set_a[1]})
                print(
                    f"  {set_a[0]}: only in {a.name}: {only_a[:5]}; only in {b.name}: {only_b[:5]};"
                    f" errors {set_a[2]} / {set_b[2]}"
                )
    print(f"{len(left)} documents, {len(differ)} differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump", help="what fires on the corpus and its mutations, as JSON lines")
    dumping.add_argument("out", type=Path)
    dumping.add_argument("--corpus", type=Path, default=SHARED)
    dumping.add_argument("--count", type=int, default=30_000)
    dumping.add_argument("--seed", type=int, default=7)
    comparing = commands.add_parser("compare", help="two dumps of the same --count and --seed")
    comparing.add_argument("a", type=Path)
    comparing.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        return dump(args.out, args.corpus, args.count, args.seed)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
