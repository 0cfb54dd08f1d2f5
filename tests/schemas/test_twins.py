"""The UBL and CII twins of the XRechnung test suite read into the same invoice, term by term.

``kosit-testsuite/`` holds pairs ``*_ubl.xml`` / ``*_uncefact.xml`` of one business case. Both
are read into the model, flattened to ``{term path: value}`` (``BG-25[0]/BG-31/BT-153``), and
compared, so a failure names the business terms that differ. What may differ is written down
below: what one syntax cannot carry like the other (``NOT_IN_BOTH``), how CII codes a term
differently (``CII_CODES``), and where the twin files of a pair really say different things
(``TEST_DATA_DIFFERS``, checked by hand against both files).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from schemas.model import AttachedBinary, Identifier, Invoice, ItemClassification
from schemas.reader import open_document, read_tree

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
SUITE = CORPUS / "kosit-testsuite"

needs_suite = pytest.mark.skipif(not SUITE.is_dir(), reason=f"test corpus not found at {SUITE}")

# Terms the two syntaxes cannot carry alike. Each may be present in the UBL twin and absent
# from the CII twin (never the other way round, and never with a different value).
NOT_IN_BOTH: dict[str, str] = {
    # CII D16B allows one ram:InvoiceReferencedDocument in the header settlement; UBL repeats
    # cac:BillingReference. Preceding invoice references after the first exist only in UBL.
    "BG-3": "CII D16B carries at most one preceding invoice reference",
    # cac:OrderReference requires cbc:ID, so a UBL invoice that has a sales order reference
    # (BT-14) but no purchase order reference must write a placeholder BT-13 ('Dummywert').
    "BT-13": "UBL cannot state BT-14 without a BT-13, so it writes a placeholder CII leaves out",
    # cac:TaxTotal, which carries the VAT breakdown, requires cbc:TaxAmount; CII may omit BT-110.
    "BT-110": "UBL must state the VAT total to carry the VAT breakdown; CII may leave it out",
}

# Same term, other code list: CII binds BT-8 to UNTDID 2475 (ram:DueDateTypeCode), UBL to
# UNTDID 2005 (cbc:DescriptionCode). The reader keeps codes as written, so the CII code is
# translated before comparing.
CII_CODES: dict[str, dict[str, str]] = {"BT-8": {"5": "3", "29": "35", "72": "432"}}

_BT114 = "CII writes RoundingAmount 0, the UBL twin has no PayableRoundingAmount"
_BT29 = "CII seller has three identifiers (two ram:ID, one ram:GlobalID), UBL one PartyIdentification"
_BT61 = "CII payee has a legal registration id, the UBL PayeeParty has no PartyLegalEntity"
_BASE_QUANTITY = "the UBL twin gives line 2 a price base quantity, the CII twin does not"
_BUYER_NAMES = "the UBL twin swaps RegistrationName and PartyName of the buyer"
_CONTACT = "CII gives ram:DepartmentName 'Testorganisation', UBL the contact name 'Tim Tester'"
_ATTRIBUTES = "item attributes in another order ('cva' first in UBL, last in CII)"

# Pair (path below kosit-testsuite, without _ubl.xml / _uncefact.xml) → term path (indices
# dropped) → why the files differ there. Every entry must still be needed.
TEST_DATA_DIFFERS: dict[str, dict[str, str]] = {
    "business-cases/standard/01.20a-INVOICE": {
        "BG-22/BT-107": "CII writes AllowanceTotalAmount 0.00, UBL omits it",
        "BG-22/BT-108": "CII writes ChargeTotalAmount 0.00, UBL omits it",
        "BG-22/BT-113": "CII writes TotalPrepaidAmount 0.00, UBL omits it",
        "BG-4/BG-5/BT-35": "seller street '[Seller street]' (UBL) vs '[Street]' (CII)",
        "BG-4/BG-5/BT-37": "seller city '[Seller city]' (UBL) vs '[City]' (CII)",
    },
    "business-cases/standard/01.21a-INVOICE": {
        "BG-16/BT-82": "payment means text 'Information' (UBL) vs 'Rechnung' (CII)",
        "BG-22/BT-107": "CII writes AllowanceTotalAmount 0.00, UBL omits it",
        "BG-23/BT-120": "different VAT exemption reason texts",
        "BG-4/BT-31": "different seller VAT identifiers",
    },
    "business-cases/standard/02.01a-INVOICE": {"BG-22/BT-114": _BT114},
    "business-cases/standard/02.02a-INVOICE": {"BG-22/BT-114": _BT114},
    "business-cases/standard/02.03a-INVOICE": {"BG-22/BT-114": _BT114},
    "business-cases/standard/02.04a-INVOICE": {"BG-22/BT-114": _BT114},
    "business-cases/standard/03.01a-INVOICE": {
        "BG-7/BT-45": "the UBL twin writes a buyer PartyName (trading name), the CII twin none",
    },
    "business-cases/standard/03.06a-INVOICE": {
        "BG-4/BG-5/BT-37": "the UBL twin swaps CityName and PostalZone",
        "BG-4/BG-5/BT-38": "the UBL twin swaps CityName and PostalZone",
        "BG-7/BG-8/BT-52": "the UBL twin swaps CityName and PostalZone",
        "BG-7/BG-8/BT-53": "the UBL twin swaps CityName and PostalZone",
    },
    "business-cases/standard/03.07a-INVOICE": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-4/BT-29": _BT29,
    },
    "technical-cases/cius/01.01_comprehensive_test": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-25/BG-29/BT-149": _BASE_QUANTITY,
        "BG-25/BG-29/BT-150": _BASE_QUANTITY,
        "BG-4/BT-29": _BT29,
        "BG-7/BT-44": _BUYER_NAMES,
        "BG-7/BT-45": _BUYER_NAMES,
    },
    "technical-cases/cius/01.02_comprehensive_test": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-25/BG-29/BT-149": _BASE_QUANTITY,
        "BG-25/BG-29/BT-150": _BASE_QUANTITY,
        "BG-7/BT-44": _BUYER_NAMES,
        "BG-7/BT-45": _BUYER_NAMES,
    },
    "technical-cases/cius/01.03_comprehensive_test": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-25/BG-29/BT-149": _BASE_QUANTITY,
        "BG-25/BG-29/BT-150": _BASE_QUANTITY,
        "BG-4/BG-6/BT-41": _CONTACT,
        "BG-7/BT-44": _BUYER_NAMES,
        "BG-7/BT-45": _BUYER_NAMES,
    },
    "technical-cases/cius/01.04_comprehensive_test": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-25/BG-29/BT-149": _BASE_QUANTITY,
        "BG-25/BG-29/BT-150": _BASE_QUANTITY,
        "BG-4/BG-6/BT-41": _CONTACT,
        "BG-7/BT-44": _BUYER_NAMES,
        "BG-7/BT-45": _BUYER_NAMES,
    },
    "technical-cases/cvd/02.01a-cvd_INVOICE": {
        "BG-10/BT-61": _BT61,
        "BG-22/BT-114": _BT114,
        "BG-25/BG-31/BG-32/BT-160": _ATTRIBUTES,
        "BG-25/BG-31/BG-32/BT-161": _ATTRIBUTES,
        "BG-25/BG-31/BT-154": "item description 'Fahrzeug' (UBL) vs 'Fahrzeugde' (CII)",
        "BG-4/BT-29": _BT29,
    },
}


# --- flattening ------------------------------------------------------------------------------


def _put(out: dict[str, Any], path: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _put(out, f"{path}[{index}]", item)
    elif isinstance(value, Identifier):
        out[path] = value.id
        _put(out, f"{path}-1", value.scheme)
    elif isinstance(value, ItemClassification):
        out[path] = value.id
        _put(out, f"{path}-1", value.scheme)
        _put(out, f"{path}-2", value.scheme_version)
    elif isinstance(value, AttachedBinary):
        out[path] = value.content
        _put(out, f"{path}-1", value.mime_code)
        _put(out, f"{path}-2", value.filename)
    elif isinstance(value, BaseModel):
        out.update(flatten(value, f"{path}/"))
    else:
        out[path] = value


def flatten(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    """{term path: value} for every term the model holds, e.g. ``BG-25[1]/BG-29/BT-146``."""
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "term" in extra:
            _put(out, f"{prefix}{extra['term']}", getattr(model, name))
    return out


def test_flatten_names_terms_and_sub_terms() -> None:
    invoice = Invoice.model_validate(
        {
            "number": "1",
            "seller": {"identifiers": [{"id": "A", "scheme": "0088"}, {"id": "B"}]},
            "lines": [{"identifier": "1", "sub_lines": [{"identifier": "1.1", "net_amount": "2.50"}]}],
        }
    )
    assert flatten(invoice) == {
        "BT-1": "1",
        "BG-4/BT-29[0]": "A",
        "BG-4/BT-29[0]-1": "0088",
        "BG-4/BT-29[1]": "B",
        "BG-25[0]/BT-126": "1",
        "BG-25[0]/BG-DEX-01[0]/BT-126": "1.1",
        "BG-25[0]/BG-DEX-01[0]/BT-131": Decimal("2.50"),
    }


# --- comparing -------------------------------------------------------------------------------

_INDEX = re.compile(r"\[\d+\]")


def _bare(path: str) -> str:
    return _INDEX.sub("", path)


def _names(path: str, term: str) -> bool:
    """Whether a bare term path is ``term`` or one of its sub-terms (``BT-29-1`` of ``BT-29``)."""
    return path == term or path.startswith(term + "-")


def _not_in_both(path: str) -> str | None:
    parts = _bare(path).split("/")
    return next((term for term in NOT_IN_BOTH if any(_names(part, term) for part in parts)), None)


def _read(path: Path) -> dict[str, Any]:
    document = open_document(path.read_bytes())
    return flatten(read_tree(document.root, document.syntax))


def _pairs() -> list[str]:
    if not SUITE.is_dir():
        return []
    return sorted(
        str(ubl.relative_to(SUITE))[: -len("_ubl.xml")]
        for ubl in SUITE.rglob("*_ubl.xml")
        if ubl.with_name(ubl.name.replace("_ubl.xml", "_uncefact.xml")).is_file()
    )


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


@cache
def _compare(pair: str) -> tuple[list[str], set[str], set[str]]:
    """(unexplained differences, NOT_IN_BOTH terms used, TEST_DATA_DIFFERS paths used)."""
    ubl = _read(SUITE / f"{pair}_ubl.xml")
    cii = _read(SUITE / f"{pair}_uncefact.xml")
    for path, value in cii.items():
        codes = CII_CODES.get(_bare(path))
        if codes is not None and value in codes:
            cii[path] = codes[value]
    per_file = TEST_DATA_DIFFERS.get(pair, {})
    problems: list[str] = []
    used_terms: set[str] = set()
    used_paths: set[str] = set()
    for path in sorted(set(ubl) | set(cii)):
        in_ubl, in_cii = ubl.get(path), cii.get(path)
        if in_ubl == in_cii:
            continue
        bare = _bare(path)
        explained = next((listed for listed in per_file if _names(bare, listed)), None)
        if explained is not None:
            used_paths.add(explained)
            continue
        term = _not_in_both(path)
        if term is not None and in_cii is None:
            used_terms.add(term)
            continue
        problems.append(f"{path}: UBL {_show(in_ubl)} != CII {_show(in_cii)}")
    return problems, used_terms, used_paths


PAIRS = _pairs()


@pytest.mark.corpus
@needs_suite
def test_the_suite_has_its_forty_twins() -> None:
    assert len(PAIRS) == 40, PAIRS


@pytest.mark.corpus
@needs_suite
@pytest.mark.parametrize("pair", PAIRS)
def test_twins_read_to_the_same_terms(pair: str) -> None:
    problems, _, used_paths = _compare(pair)
    assert not problems, f"{pair}: UBL and CII twins differ in\n  " + "\n  ".join(problems)
    stale = set(TEST_DATA_DIFFERS.get(pair, {})) - used_paths
    assert not stale, f"{pair}: TEST_DATA_DIFFERS lists terms that no longer differ: {sorted(stale)}"


@pytest.mark.corpus
@needs_suite
def test_allow_lists_are_as_short_as_the_data_allows() -> None:
    assert set(TEST_DATA_DIFFERS) <= set(PAIRS), set(TEST_DATA_DIFFERS) - set(PAIRS)
    used = set().union(*(_compare(pair)[1] for pair in PAIRS))
    assert used == set(NOT_IN_BOTH), f"NOT_IN_BOTH entries no twin needs: {sorted(set(NOT_IN_BOTH) - used)}"
    translated = [pair for pair in PAIRS if "BT-8" in _read(SUITE / f"{pair}_uncefact.xml")]
    assert translated, "no twin carries BT-8: CII_CODES is not exercised"
