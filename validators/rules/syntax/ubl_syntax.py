"""UBL-SR-*, UBL-DT-* and UBL-CR-*: the UBL syntax pattern of the CEN EN 16931 artefacts (1.3.15).

Contexts are registered in the official order, since a node is handled by the first one that
matches. The official tests are XPath 2.0; where that differs from XPath 1.0 (``upper-case``,
comparisons with an empty sequence, ``= false()``) the test is written in Python.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from validators.rules._engine import Fail, Flag, Test
from validators.rules._session import active_session, child_elements, first_child
from validators.rules._text import string_value
from validators.rules._xpath import XPaths
from validators.rules.sets import EN16931_UBL
from validators.rules.syntax._absence import AbsenceProbe, attribute_owners
from validators.rules.syntax._cardinality import Cardinality
from validators.rules.syntax._patterns import UBL_SYNTAX
from validators.rules.syntax._ubl_restrictions import RESTRICTIONS

__all__: list[str] = []

_NS = dict(EN16931_UBL.namespaces)
_xp = XPaths(_NS)
_CAC = f"{{{_NS['cac']}}}"
_CBC = f"{{{_NS['cbc']}}}"


def _text(element: etree._Element) -> str:
    """The XPath string value of an element."""
    return string_value(element)


def _at_most_one(expr: str) -> Test:
    def test(node: etree._Element) -> bool | Fail:
        found = _xp.nodes(node, expr)
        if len(found) <= 1:
            return True
        # An attribute path yields strings; the finding then points at the context node.
        return Fail(node=found[1] if isinstance(found[1], etree._Element) else None)

    return test


def _upper_scheme(element: etree._Element) -> str:
    # upper-case(@schemeID): an absent attribute gives the empty string.
    return element.get("schemeID", "").upper()


def _tax_scheme_ids(party_tax_scheme: etree._Element) -> list[str]:
    """``cac:TaxScheme/upper-case(cbc:ID)`` of one party tax scheme, one value per TaxScheme."""
    return [_upper_scheme_id(ts) for ts in child_elements(party_tax_scheme, _CAC + "TaxScheme")]


def _upper_scheme_id(tax_scheme: etree._Element) -> str:
    found = first_child(tax_scheme, _CBC + "ID")
    return "" if found is None else _text(found).upper()


def _vat_company_ids(parties: Iterable[etree._Element], vat: bool) -> list[etree._Element]:
    """CompanyIDs of the parties' tax schemes whose scheme is (or, as XPath ``!=`` reads it, is not) VAT."""
    out: list[etree._Element] = []
    for party in parties:
        for pts in child_elements(party, _CAC + "PartyTaxScheme"):
            if any((i == "VAT") == vat for i in _tax_scheme_ids(pts)):
                out.extend(child_elements(pts, _CBC + "CompanyID"))
    return out


def _distinct_values(elements: Iterable[etree._Element]) -> int:
    return len({_text(e) for e in elements})


# --- AddressLine: //cac:PostalAddress | //cac:Address ---------------------------------------------------------

_address = UBL_SYNTAX.context("//cac:PostalAddress | //cac:Address")
_address.check(
    "UBL-SR-51",
    Flag.FATAL,
    en="An address can have at most one third address line.",
    de="Eine Adresse darf höchstens eine dritte Adresszeile haben.",
)(_at_most_one("cac:AddressLine"))

# --- Accounting supplier party --------------------------------------------------------------------------------

_seller = UBL_SYNTAX.context("cac:AccountingSupplierParty/cac:Party")
_seller.check(
    "UBL-SR-42",
    Flag.FATAL,
    en="The seller party has at most two party tax schemes.",
    de="Der Verkäufer hat höchstens zwei PartyTaxScheme-Elemente.",
)(lambda node: len(child_elements(node, _CAC + "PartyTaxScheme")) <= 2)

# --- Additional supporting documents (BG-24) ------------------------------------------------------------------

_additional = UBL_SYNTAX.context("cac:AdditionalDocumentReference")
_additional.check(
    "UBL-SR-33",
    Flag.FATAL,
    terms=("BT-123",),
    en="A supporting document description occurs at most once.",
    de="Die Beschreibung eines rechnungsbegründenden Dokuments darf höchstens einmal vorkommen.",
)(_at_most_one("cbc:DocumentDescription"))


@_additional.check(
    "UBL-SR-43",
    Flag.FATAL,
    terms=("BT-18",),
    en="A scheme identifier is only allowed on an invoiced object reference (type code 130, or 50 in a credit note).",
    de="Eine Schema-Kennung ist nur bei der Kennung eines in Rechnung gestellten Objekts erlaubt "
    "(Typcode 130, oder 50 in einer Gutschrift).",
)
def _scheme_only_on_invoiced_object(node: etree._Element) -> bool:
    codes = [_text(c) for c in child_elements(node, _CBC + "DocumentTypeCode")]
    if "130" in codes:
        return True
    if etree.QName(node.getroottree().getroot()).localname == "CreditNote" and "50" in codes:
        return True
    has_scheme = any("schemeID" in i.attrib for i in child_elements(node, _CBC + "ID"))
    return not has_scheme and not codes


# --- Amounts: every *Amount except prices and the price allowance ---------------------------------------------

_AMOUNT = (
    "*[substring(local-name(), string-length(local-name()) - 5) = 'Amount'"
    " and not(substring(local-name(), string-length(local-name()) - 10) = 'PriceAmount')"
    " and not(ancestor::cac:Price/cac:AllowanceCharge)]"
)
_amount = UBL_SYNTAX.context(_AMOUNT)


@_amount.check(
    "UBL-DT-01",
    Flag.FATAL,
    en="An amount has at most two fraction digits.",
    de="Ein Betrag hat höchstens zwei Nachkommastellen.",
)
def _two_fraction_digits(node: etree._Element) -> bool | Fail:
    text = _text(node)
    _, dot, fraction = text.partition(".")
    return (not dot or len(fraction) <= 2) or Fail(value=text)


# --- Binary objects -------------------------------------------------------------------------------------------

_binary = UBL_SYNTAX.context("*[substring(local-name(), string-length(local-name()) - 11) = 'BinaryObject']")
_binary.check(
    "UBL-DT-06",
    Flag.FATAL,
    terms=("BT-125",),
    en="A binary object carries a MIME code attribute.",
    de="Ein Binärobjekt hat das Attribut mimeCode.",
)(lambda node: "mimeCode" in node.attrib)
_binary.check(
    "UBL-DT-07",
    Flag.FATAL,
    terms=("BT-125",),
    en="A binary object carries a file name attribute.",
    de="Ein Binärobjekt hat das Attribut filename.",
)(lambda node: "filename" in node.attrib)

# --- Deliver to (BG-13) ---------------------------------------------------------------------------------------

_delivery = UBL_SYNTAX.context("cac:Delivery")
_delivery.check(
    "UBL-SR-25",
    Flag.FATAL,
    terms=("BT-70",),
    en="The deliver-to party name occurs at most once.",
    de="Der Name des Waren- oder Dienstleistungsempfängers darf höchstens einmal vorkommen.",
)(_at_most_one("cac:DeliveryParty/cac:PartyName/cbc:Name"))

# --- Document level allowances and charges (BG-20, BG-21) -----------------------------------------------------
# ``cbc:ChargeIndicator = false()`` casts the text to xs:boolean, whose lexical forms are
# true/false/1/0 after whitespace collapsing; XPath 1.0 would compare the node-set's existence.

_allowance = UBL_SYNTAX.context(
    "cac:AllowanceCharge[cbc:ChargeIndicator[normalize-space(.) = 'false' or normalize-space(.) = '0']]"
)
_allowance.check(
    "UBL-SR-30",
    Flag.FATAL,
    terms=("BT-97",),
    en="A document level allowance reason occurs at most once.",
    de="Der Grund für einen Nachlass auf Dokumentenebene darf höchstens einmal vorkommen.",
)(_at_most_one("cbc:AllowanceChargeReason"))
_charge = UBL_SYNTAX.context(
    "cac:AllowanceCharge[cbc:ChargeIndicator[normalize-space(.) = 'true' or normalize-space(.) = '1']]"
)
_charge.check(
    "UBL-SR-31",
    Flag.FATAL,
    terms=("BT-104",),
    en="A document level charge reason occurs at most once.",
    de="Der Grund für einen Zuschlag auf Dokumentenebene darf höchstens einmal vorkommen.",
)(_at_most_one("cbc:AllowanceChargeReason"))

# --- Party tax scheme -----------------------------------------------------------------------------------------

_party_tax = UBL_SYNTAX.context("cac:PartyTaxScheme")
_party_tax.check(
    "UBL-SR-53",
    Flag.FATAL,
    terms=("BT-31", "BT-32", "BT-48", "BT-63"),
    en="A party tax scheme states both the tax scheme identifier and the company identifier.",
    de="Ein PartyTaxScheme nennt sowohl die Steuerschema-Kennung als auch die CompanyID.",
)(
    lambda node: (
        first_child(node, _CBC + "CompanyID") is not None
        and any(first_child(t, _CBC + "ID") is not None for t in child_elements(node, _CAC + "TaxScheme"))
    )
)

# --- The invoice: restrictions (UBL-CR), attribute restrictions (UBL-DT), cardinalities (UBL-SR) --------------

_invoice = UBL_SYNTAX.context("/ubl:Invoice | /cn:CreditNote")
# The rules of the document element beyond absence pass on almost every invoice: one probe answers
# them all (the cardinalities by one count of their paths), so only a failing rule is called.
_COUNTS = Cardinality(_NS)

_DT_ATTRIBUTES = (
    ("UBL-DT-08", "schemeName", "Schema-Name"),
    ("UBL-DT-09", "schemeAgencyName", "Name der Schema-Agentur"),
    ("UBL-DT-10", "schemeDataURI", "Schema-Daten-URI"),
    ("UBL-DT-11", "schemeURI", "Schema-URI"),
    ("UBL-DT-12", "format", "Format"),
    ("UBL-DT-13", "unitCodeListIdentifier", "Kennung der Einheiten-Codeliste"),
    ("UBL-DT-14", "unitCodeListAgencyIdentifier", "Agentur-Kennung der Einheiten-Codeliste"),
    ("UBL-DT-15", "unitCodeListAgencyName", "Agentur-Name der Einheiten-Codeliste"),
    ("UBL-DT-16", "listAgencyName", "Name der Listen-Agentur"),
    ("UBL-DT-17", "listName", "Listen-Name"),
    ("UBL-DT-19", "languageID", "Sprachkennung"),
    ("UBL-DT-20", "listURI", "Listen-URI"),
    ("UBL-DT-21", "listSchemeURI", "Listen-Schema-URI"),
    ("UBL-DT-22", "languageLocaleID", "Sprach-Locale-Kennung"),
    ("UBL-DT-23", "uri", "URI"),
    ("UBL-DT-24", "currencyCodeListVersionID", "Version der Währungscodeliste"),
    ("UBL-DT-25", "characterSetCode", "Zeichensatz-Code"),
    ("UBL-DT-26", "encodingCode", "Kodierungs-Code"),
    ("UBL-DT-27", "schemeAgencyID", "Schema-Agentur-Kennung"),
    ("UBL-DT-28", "listAgencyID", "Listen-Agentur-Kennung"),
)

# One walk of the document answers every UBL-CR rule and every "attribute not present" UBL-DT rule.
_PROBE = AbsenceProbe(
    {
        **{rule_id: path for rule_id, _, path in RESTRICTIONS},
        **{rule_id: f"//@{attr}" for rule_id, attr, _ in _DT_ATTRIBUTES},
    },
    _NS,
)


def _readable(path: str) -> str:
    """A path without prefixes and predicates, for messages: ``cac:Delivery/cbc:ID`` -> ``Delivery/ID``."""
    out, depth = [], 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace("cac:", "").replace("cbc:", "").replace("ext:", "").lstrip("/")


for _rule_id, _flag, _path in RESTRICTIONS:
    _shall = _flag is Flag.FATAL
    _invoice.check(
        _rule_id,
        _flag,
        en=f"A UBL invoice {'shall' if _shall else 'should'} not contain {_readable(_path)}.",
        de=f"Eine UBL-Rechnung {'darf' if _shall else 'sollte'} {_readable(_path)} nicht enthalten.",
    )(_PROBE.rule(_rule_id))


def _name_only_on_payment_means_codes(node: etree._Element) -> bool:
    """``not(//@name[not(parent::cbc:PaymentMeansCode)])``, from the attributes the probe lists once per check."""
    session = active_session(node)
    if session is None:
        return not _xp.exists(node, "//@name[not(parent::cbc:PaymentMeansCode)]")
    return all(owner.tag == _CBC + "PaymentMeansCode" for owner in attribute_owners(session).get("name", ()))


# DT-18 stands in official order among the other attribute rules.
for _rule_id, _attr, _de_name in _DT_ATTRIBUTES:
    _invoice.check(
        _rule_id,
        Flag.WARNING,
        en=f"The attribute {_attr} should not be used.",
        de=f"Das Attribut {_attr} ({_de_name}) sollte nicht verwendet werden.",
    )(_PROBE.rule(_rule_id))
    if _rule_id == "UBL-DT-17":
        _invoice.check(
            "UBL-DT-18",
            Flag.WARNING,
            en="The attribute name should only be used on a payment means code.",
            de="Das Attribut name sollte nur am Zahlungsart-Code verwendet werden.",
        )(_COUNTS.custom("UBL-DT-18", _name_only_on_payment_means_codes))

_SUPPLIER = "cac:AccountingSupplierParty/cac:Party/"
_CUSTOMER = "cac:AccountingCustomerParty/cac:Party/"
_CARDINALITY = (
    ("UBL-SR-01", "cac:ContractDocumentReference/cbc:ID", ("BT-12",), "The contract reference", "Die Vertragsreferenz"),
    (
        "UBL-SR-02",
        "cac:ReceiptDocumentReference/cbc:ID",
        ("BT-15",),
        "The receiving advice reference",
        "Die Wareneingangsmeldung",
    ),
    (
        "UBL-SR-03",
        "cac:DespatchDocumentReference/cbc:ID",
        ("BT-16",),
        "The despatch advice reference",
        "Die Versandanzeige",
    ),
    (
        "UBL-SR-04",
        "cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']/cbc:ID",
        ("BT-18",),
        "The invoiced object identifier",
        "Die Kennung eines in Rechnung gestellten Objekts",
    ),
    ("UBL-SR-05", "cac:PaymentTerms/cbc:Note", ("BT-20",), "The payment terms", "Die Zahlungsbedingungen"),
    ("UBL-SR-08", "cac:InvoicePeriod", ("BG-14",), "The invoice period", "Der Rechnungszeitraum"),
    (
        "UBL-SR-09",
        _SUPPLIER + "cac:PartyLegalEntity/cbc:RegistrationName",
        ("BT-27",),
        "The seller name",
        "Der Name des Verkäufers",
    ),
    (
        "UBL-SR-10",
        _SUPPLIER + "cac:PartyName/cbc:Name",
        ("BT-28",),
        "The seller trading name",
        "Der Handelsname des Verkäufers",
    ),
    (
        "UBL-SR-11",
        _SUPPLIER + "cac:PartyLegalEntity/cbc:CompanyID",
        ("BT-30",),
        "The seller legal registration identifier",
        "Die Registernummer des Verkäufers",
    ),
)
_CARDINALITY_2 = (
    (
        "UBL-SR-14",
        _SUPPLIER + "cac:PartyLegalEntity/cbc:CompanyLegalForm",
        ("BT-33",),
        "The seller additional legal information",
        "Die weiteren rechtlichen Informationen zum Verkäufer",
    ),
    (
        "UBL-SR-15",
        _CUSTOMER + "cac:PartyLegalEntity/cbc:RegistrationName",
        ("BT-44",),
        "The buyer name",
        "Der Name des Käufers",
    ),
    (
        "UBL-SR-16",
        _CUSTOMER + "cac:PartyIdentification/cbc:ID",
        ("BT-46",),
        "The buyer identifier",
        "Die Kennung des Käufers",
    ),
    (
        "UBL-SR-17",
        _CUSTOMER + "cac:PartyLegalEntity/cbc:CompanyID",
        ("BT-47",),
        "The buyer legal registration identifier",
        "Die Registernummer des Käufers",
    ),
)


def _one_invoiced_object_id(node: etree._Element) -> bool | Fail:
    """UBL-SR-04's path, ``cac:AdditionalDocumentReference[cbc:DocumentTypeCode='130']/cbc:ID``, at most once."""
    found = [
        i
        for reference in child_elements(node, _CAC + "AdditionalDocumentReference")
        if any(_text(c) == "130" for c in child_elements(reference, _CBC + "DocumentTypeCode"))
        for i in child_elements(reference, _CBC + "ID")
    ]
    return len(found) <= 1 or Fail(node=found[1])


for _rule_id, _expr, _terms, _en, _de in _CARDINALITY:
    _invoice.check(
        _rule_id,
        Flag.FATAL,
        terms=_terms,
        en=f"{_en} occurs at most once.",
        de=f"{_de} darf höchstens einmal vorkommen.",
    )(
        _COUNTS.custom(_rule_id, _one_invoiced_object_id)
        if _rule_id == "UBL-SR-04"
        else _COUNTS.at_most(_rule_id, _expr, 1)
    )


def _parties(node: etree._Element, role: str) -> Iterable[etree._Element]:
    """``role/cac:Party``, in document order."""
    return [party for r in child_elements(node, _CAC + role) for party in child_elements(r, _CAC + "Party")]


_invoice.check(
    "UBL-SR-12",
    Flag.FATAL,
    terms=("BT-31",),
    en="The seller VAT identifier occurs at most once.",
    de="Die Umsatzsteuer-Identifikationsnummer des Verkäufers darf höchstens einmal vorkommen.",
)(
    _COUNTS.custom(
        "UBL-SR-12", lambda node: len(_vat_company_ids(_parties(node, "AccountingSupplierParty"), vat=True)) <= 1
    )
)
_invoice.check(
    "UBL-SR-13",
    Flag.FATAL,
    terms=("BT-32",),
    en="The seller tax registration occurs at most once.",
    de="Die Steuernummer des Verkäufers darf höchstens einmal vorkommen.",
)(
    _COUNTS.custom(
        "UBL-SR-13", lambda node: len(_vat_company_ids(_parties(node, "AccountingSupplierParty"), vat=False)) <= 1
    )
)
for _rule_id, _expr, _terms, _en, _de in _CARDINALITY_2:
    _invoice.check(
        _rule_id,
        Flag.FATAL,
        terms=_terms,
        en=f"{_en} occurs at most once.",
        de=f"{_de} darf höchstens einmal vorkommen.",
    )(_COUNTS.at_most(_rule_id, _expr, 1))
_invoice.check(
    "UBL-SR-18",
    Flag.FATAL,
    terms=("BT-48",),
    en="The buyer VAT identifier occurs at most once.",
    de="Die Umsatzsteuer-Identifikationsnummer des Käufers darf höchstens einmal vorkommen.",
)(
    _COUNTS.custom(
        "UBL-SR-18", lambda node: len(_vat_company_ids(_parties(node, "AccountingCustomerParty"), vat=True)) <= 1
    )
)
_invoice.check(
    "UBL-SR-24",
    Flag.FATAL,
    terms=("BG-13",),
    en="The deliver-to information occurs at most once.",
    de="Die Lieferinformationen dürfen höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-24", "cac:Delivery", 1))


def _one_creditor_id(node: etree._Element) -> bool:
    # An identifier without a scheme has the scheme "" here, never SEPA: [@schemeID] need not be asked.
    ids = _xp.nodes(node, "//cac:PartyIdentification/cbc:ID")
    return sum(1 for i in ids if _upper_scheme(i) == "SEPA") <= 1


_invoice.check(
    "UBL-SR-29",
    Flag.FATAL,
    terms=("BT-90",),
    en="The bank assigned creditor identifier occurs at most once.",
    de="Die Gläubiger-Identifikationsnummer darf höchstens einmal vorkommen.",
)(_COUNTS.custom("UBL-SR-29", _one_creditor_id))


_invoice.check(
    "UBL-SR-39",
    Flag.FATAL,
    terms=("BT-11",),
    en="The project reference occurs at most once.",
    de="Die Projektreferenz darf höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-39", "cac:ProjectReference/cbc:ID", 1))
_invoice.check(
    "UBL-SR-40",
    Flag.FATAL,
    terms=("BT-45",),
    en="The buyer trading name occurs at most once.",
    de="Der Handelsname des Käufers darf höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-40", _CUSTOMER + "cac:PartyName/cbc:Name", 1))
# Distinct by string value, as counting the values no preceding element repeats does.
_invoice.check(
    "UBL-SR-44",
    Flag.FATAL,
    terms=("BT-83",),
    en="An invoice has one payment reference at most, which several payment means may repeat.",
    de="Eine Rechnung hat höchstens einen Verwendungszweck, den mehrere Zahlungsmittel wiederholen dürfen.",
)(_COUNTS.custom("UBL-SR-44", lambda node: _distinct_values(_xp.nodes(node, "//cbc:PaymentID")) <= 1))
_invoice.check(
    "UBL-SR-45",
    Flag.FATAL,
    terms=("BT-9",),
    en="The payment due date occurs at most once.",
    de="Das Fälligkeitsdatum darf höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-45", "cac:PaymentMeans/cbc:PaymentDueDate", 1))
_invoice.check(
    "UBL-SR-46",
    Flag.FATAL,
    terms=("BT-82",),
    en="The payment means text occurs at most once.",
    de="Der Text zur Zahlungsart darf höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-46", "cac:PaymentMeans/cbc:PaymentMeansCode/@name", 1))
_invoice.check(
    "UBL-SR-47",
    Flag.FATAL,
    terms=("BT-81",),
    en="All payment means codes of an invoice are equal.",
    de="Alle Zahlungsart-Codes einer Rechnung sind gleich.",
)(_COUNTS.custom("UBL-SR-47", lambda node: _distinct_values(_xp.nodes(node, "//cbc:PaymentMeansCode")) <= 1))
_invoice.check(
    "UBL-SR-49",
    Flag.FATAL,
    terms=("BT-8",),
    en="The value added tax point date code occurs at most once.",
    de="Der Code für das Datum der Steuerfälligkeit darf höchstens einmal vorkommen.",
)(_COUNTS.at_most("UBL-SR-49", "cac:InvoicePeriod/cbc:DescriptionCode", 1))
# The 1.3.15 artefacts state BR-66 and BR-67 (one payment card, one mandate) as these two syntax rules.
_invoice.check(
    "UBL-SR-54",
    Flag.FATAL,
    terms=("BG-18",),
    en="An invoice contains at most one payment card account.",
    de="Eine Rechnung enthält höchstens eine Zahlungskarte.",
)(_COUNTS.at_most("UBL-SR-54", "cac:PaymentMeans/cac:CardAccount", 1))
_invoice.check(
    "UBL-SR-55",
    Flag.FATAL,
    terms=("BG-19",),
    en="An invoice contains at most one payment mandate.",
    de="Eine Rechnung enthält höchstens ein Lastschriftmandat.",
)(_COUNTS.at_most("UBL-SR-55", "cac:PaymentMeans/cac:PaymentMandate", 1))

# --- Invoice lines (BG-25) ------------------------------------------------------------------------------------

_line = UBL_SYNTAX.context("cac:InvoiceLine | cac:CreditNoteLine")
_LINE_COUNTS = Cardinality(_NS)
_line.check(
    "UBL-SR-34",
    Flag.FATAL,
    terms=("BT-127",),
    en="An invoice line note occurs at most once.",
    de="Eine Positionsanmerkung darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-34", "cbc:Note", 1))
_line.check(
    "UBL-SR-35",
    Flag.FATAL,
    terms=("BT-132",),
    en="The referenced purchase order line occurs at most once.",
    de="Die referenzierte Bestellposition darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-35", "cac:OrderLineReference/cbc:LineID", 1))
_line.check(
    "UBL-SR-36",
    Flag.FATAL,
    terms=("BG-26",),
    en="The invoice line period occurs at most once.",
    de="Der Abrechnungszeitraum der Position darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-36", "cac:InvoicePeriod", 1))
_line.check(
    "UBL-SR-37",
    Flag.FATAL,
    terms=("BT-147",),
    en="The item price discount occurs at most once.",
    de="Der Rabatt auf den Artikelpreis darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-37", "cac:Price/cac:AllowanceCharge/cbc:Amount", 1))
_line.check(
    "UBL-SR-48",
    Flag.FATAL,
    terms=("BG-30",),
    en="An invoice line has exactly one classified tax category.",
    de="Eine Rechnungsposition hat genau eine Umsatzsteuerkategorie.",
)(_LINE_COUNTS.exactly("UBL-SR-48", "cac:Item/cac:ClassifiedTaxCategory", 1))
_line.check(
    "UBL-SR-50",
    Flag.FATAL,
    terms=("BT-154",),
    en="The item description occurs at most once.",
    de="Die Artikelbeschreibung darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-50", "cac:Item/cbc:Description", 1))
_line.check(
    "UBL-SR-52",
    Flag.FATAL,
    terms=("BT-128",),
    en="The line document reference occurs at most once.",
    de="Die Objektkennung der Position darf höchstens einmal vorkommen.",
)(_LINE_COUNTS.at_most("UBL-SR-52", "cac:DocumentReference", 1))

# --- Payee (BG-10) --------------------------------------------------------------------------------------------
# These apply when the payee differs from the seller; XPath 2.0 ``!=`` between two sequences
# is true only when some pair differs, so a missing payee name or seller name makes them fail.


def _payee_differs(node: etree._Element) -> bool:
    names = [_text(n) for n in _xp.nodes(node, "cac:PartyName/cbc:Name")]
    seller = [
        _text(n)
        for n in _xp.nodes(node, "../cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")
    ]
    return any(a != b for a in names for b in seller)


_payee = UBL_SYNTAX.context("cac:PayeeParty")
_payee.check(
    "UBL-SR-19",
    Flag.FATAL,
    terms=("BT-59",),
    en="The payee name occurs at most once, if the payee is different from the seller.",
    de="Der Name des Zahlungsempfängers darf höchstens einmal vorkommen, wenn er nicht der Verkäufer ist.",
)(lambda node: len(_xp.nodes(node, "cac:PartyName/cbc:Name")) <= 1 and _payee_differs(node))
_payee.check(
    "UBL-SR-20",
    Flag.FATAL,
    terms=("BT-60",),
    en="The payee identifier occurs at most once, if the payee is different from the seller.",
    de="Die Kennung des Zahlungsempfängers darf höchstens einmal vorkommen, wenn er nicht der Verkäufer ist.",
)(
    lambda node: (
        sum(1 for i in _xp.nodes(node, "cac:PartyIdentification/cbc:ID") if _upper_scheme(i) != "SEPA") <= 1
        and _payee_differs(node)
    )
)
_payee.check(
    "UBL-SR-21",
    Flag.FATAL,
    terms=("BT-61",),
    en="The payee legal registration identifier occurs at most once, if the payee is different from the seller.",
    de="Die Registernummer des Zahlungsempfängers darf höchstens einmal vorkommen, wenn er nicht der Verkäufer ist.",
)(lambda node: len(_xp.nodes(node, "cac:PartyLegalEntity/cbc:CompanyID")) <= 1 and _payee_differs(node))

# --- Payment instructions (BG-16) -----------------------------------------------------------------------------

_payment = UBL_SYNTAX.context("cac:PaymentMeans")
_PAYMENT_COUNTS = Cardinality(_NS)
_payment.check(
    "UBL-SR-26",
    Flag.FATAL,
    terms=("BT-83",),
    en="The payment reference occurs at most once.",
    de="Der Verwendungszweck darf höchstens einmal vorkommen.",
)(_PAYMENT_COUNTS.at_most("UBL-SR-26", "cbc:PaymentID", 1))
_payment.check(
    "UBL-SR-27",
    Flag.FATAL,
    terms=("BT-81",),
    en="The payment means code occurs at most once.",
    de="Der Zahlungsart-Code darf höchstens einmal vorkommen.",
)(_PAYMENT_COUNTS.at_most("UBL-SR-27", "cbc:PaymentMeansCode", 1))
_payment.check(
    "UBL-SR-28",
    Flag.FATAL,
    terms=("BT-89",),
    en="The mandate reference identifier occurs at most once.",
    de="Die Mandatsreferenz darf höchstens einmal vorkommen.",
)(_PAYMENT_COUNTS.at_most("UBL-SR-28", "cac:PaymentMandate/cbc:ID", 1))

# --- Preceding invoice reference (BG-3) -----------------------------------------------------------------------

_preceding = UBL_SYNTAX.context("cac:BillingReference")
_preceding.check(
    "UBL-SR-06",
    Flag.FATAL,
    terms=("BG-3",),
    en="The preceding invoice reference occurs at most once.",
    de="Die Referenz auf eine vorausgegangene Rechnung darf höchstens einmal vorkommen.",
)(_at_most_one("cac:InvoiceDocumentReference"))
_preceding.check(
    "UBL-SR-07",
    Flag.FATAL,
    terms=("BT-25",),
    en="A preceding invoice reference states the preceding invoice number.",
    de="Eine Referenz auf eine vorausgegangene Rechnung nennt deren Nummer.",
)(
    lambda node: any(
        first_child(r, _CBC + "ID") is not None for r in child_elements(node, _CAC + "InvoiceDocumentReference")
    )
)

# --- Seller tax representative (BG-11) ------------------------------------------------------------------------

_tax_rep = UBL_SYNTAX.context("cac:TaxRepresentativeParty")
_TAX_REP_COUNTS = Cardinality(_NS)
_tax_rep.check(
    "UBL-SR-22",
    Flag.FATAL,
    terms=("BT-62",),
    en="The seller tax representative name occurs at most once.",
    de="Der Name des Steuervertreters darf höchstens einmal vorkommen.",
)(_TAX_REP_COUNTS.at_most("UBL-SR-22", "cac:PartyName/cbc:Name", 1))
# As officially written, with a Party step UBL does not have below TaxRepresentativeParty.
_tax_rep.check(
    "UBL-SR-23",
    Flag.FATAL,
    terms=("BT-63",),
    en="The seller tax representative VAT identifier occurs at most once.",
    de="Die Umsatzsteuer-Identifikationsnummer des Steuervertreters darf höchstens einmal vorkommen.",
)(_TAX_REP_COUNTS.at_most("UBL-SR-23", "cac:Party/cac:PartyTaxScheme/cbc:CompanyID", 1))

# --- VAT breakdown (BG-23) ------------------------------------------------------------------------------------

_subtotal = UBL_SYNTAX.context("cac:TaxSubtotal")
_subtotal.check(
    "UBL-SR-32",
    Flag.FATAL,
    terms=("BT-120",),
    en="The VAT exemption reason text occurs at most once.",
    de="Der Text zum Befreiungsgrund darf höchstens einmal vorkommen.",
)(_at_most_one("cac:TaxCategory/cbc:TaxExemptionReason"))
