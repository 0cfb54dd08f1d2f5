"""The parties of UBL-SR-12/13/18 read from the child index are those ``iterfind`` lists, in the same order."""

from __future__ import annotations

from lxml import etree

from validators.rules import Session
from validators.rules._session import activate
from validators.rules.syntax.ubl_syntax import _parties

UBL = (
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">'
    "<cac:AccountingSupplierParty><cac:Party><cac:PartyName/></cac:Party><cac:Party/></cac:AccountingSupplierParty>"
    "<cac:AccountingCustomerParty><cac:Party/></cac:AccountingCustomerParty>"
    "<!-- between --><cac:AccountingSupplierParty><cac:Party><cac:Party/></cac:Party></cac:AccountingSupplierParty>"
    "</Invoice>"
)
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def test_parties_are_what_iterfind_finds_in_and_outside_a_run() -> None:
    root = etree.fromstring(UBL)
    for role in ("AccountingSupplierParty", "AccountingCustomerParty", "PayeeParty"):
        expected = list(root.iterfind(f"{CAC}{role}/{CAC}Party"))
        assert list(_parties(root, role)) == expected
        with activate(Session(root)):
            assert list(_parties(root, role)) == expected
    assert len(list(_parties(root, "AccountingSupplierParty"))) == 3
