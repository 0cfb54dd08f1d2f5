"""CII-SR-* and CII-DT-*: the CII syntax pattern of the CEN EN 16931 artefacts (1.3.15).

Contexts are registered in the official order: a node is handled by the first context that
matches it, which for instance leaves ``rsm:ExchangedDocument/ram:TypeCode`` to the general
TypeCode context (so CII-DT-010 to 012 never fire, as officially). The "should not be
present" rules of each context are answered by one ``AbsenceProbe`` walk; the others are
written out. Official ``ends-with(name(), ...)`` match patterns are expressed in XPath 1.0
with ``substring`` on the local name, which selects the same elements.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lxml import etree

from validators.rules._engine import Context, Fail, Flag, Guarded, Test
from validators.rules._session import child_elements, first_child
from validators.rules._text import string_value
from validators.rules._xpath import XPaths
from validators.rules.sets import EN16931_CII
from validators.rules.syntax import _cii_restrictions as restrictions
from validators.rules.syntax._absence import AbsenceProbe
from validators.rules.syntax._cardinality import Cardinality
from validators.rules.syntax._patterns import CII_SYNTAX

__all__: list[str] = []

_NS = dict(EN16931_CII.namespaces)
_xp = XPaths(_NS)
_RAM = f"{{{_NS['ram']}}}"
_UDT = f"{{{_NS['udt']}}}"

_ROOT = "/rsm:CrossIndustryInvoice"
_TRANSACTION = _ROOT + "/rsm:SupplyChainTradeTransaction"
_LINE = _TRANSACTION + "/ram:IncludedSupplyChainTradeLineItem"
_SETTLEMENT = _TRANSACTION + "/ram:ApplicableHeaderTradeSettlement"


def _ends_with(suffix: str, prefix: str = "ram:*") -> str:
    """An XPath 1.0 match for ``prefix[ends-with(name(), suffix)]``."""
    return f"{prefix}[substring(local-name(), string-length(local-name()) - {len(suffix) - 1}) = '{suffix}']"


def _text(element: etree._Element) -> str:
    return string_value(element)


def _is_false(element: etree._Element) -> bool:
    """``. = false()`` in XPath 2.0: the text cast to xs:boolean (whitespace collapsed) is false."""
    return _text(element).strip(" \t\n\r") in ("false", "0")


def _children(node: etree._Element, *names: str) -> list[etree._Element]:
    """The elements a path of ``ram:`` child steps selects, in document order."""
    found = [node]
    for name in names:
        found = [child for parent in found for child in child_elements(parent, _RAM + name)]
    return found


def _one_identifier(party: str) -> Test:
    """``ID`` or ``GlobalID`` of the party, not both (the official three-way disjunction says just that).

    ``not(boolean(party/ram:ID) and boolean(party/ram:GlobalID))``, read from the child index.
    """
    return lambda node: not (_children(node, party, "ID") and _children(node, party, "GlobalID"))


def _named_and_departed(party: str) -> Test:
    """``not(party/ram:DefinedTradeContact/ram:PersonName and party/ram:DefinedTradeContact/ram:DepartmentName)``."""
    return lambda node: (
        not (
            _children(node, party, "DefinedTradeContact", "PersonName")
            and _children(node, party, "DefinedTradeContact", "DepartmentName")
        )
    )


def _one_document_of_type(code: str) -> Test:
    """``count(ram:AdditionalReferencedDocument[ram:TypeCode = code]) <= 1``."""

    def test(node: etree._Element) -> bool | Fail:
        found = [
            document
            for document in child_elements(node, _RAM + "AdditionalReferencedDocument")
            if any(_text(t) == code for t in child_elements(document, _RAM + "TypeCode"))
        ]
        return len(found) <= 1 or Fail(node=found[1])

    return test


def _own_attributes(node: etree._Element) -> Mapping[str, str]:
    """The probe of the rules on the context element's own attributes: its attributes, by name."""
    return node.attrib  # type: ignore[return-value]


def _reported_here(node: etree._Element) -> Fail:
    return Fail(node=node)


def _without(attr: str) -> Test:
    """The attribute is absent from the context element; the engine calls the test only where it is present."""
    return Guarded(_own_attributes, attr, _reported_here)


class _Section:
    """One context of the pattern with its absence probe, so asserts register in official order."""

    def __init__(self, match: str, paths: Mapping[str, str] | None = None) -> None:
        self.context: Context = CII_SYNTAX.context(match)
        self.paths = dict(paths or {})
        self.probe = AbsenceProbe(self.paths, _NS)
        # The cardinality rules and other cheap tests of the context, answered in one probe call.
        self.counts = Cardinality(_NS)

    def absent(self, *rule_ids: str, flag: Flag = Flag.WARNING) -> None:
        """Register "should not be present" rules of the table, in the given order (all of them if none given)."""
        for rule_id in rule_ids or tuple(self.paths):
            path = self.paths[rule_id]
            name = _readable(path)
            self.context.check(
                rule_id,
                flag,
                en=f"{name} should not be present.",
                de=f"{name} sollte nicht vorhanden sein.",
            )(self.probe.rule(rule_id))

    def check(self, rule_id: str, flag: Flag, en: str, de: str, terms: tuple[str, ...] = ()) -> Callable[[Test], Test]:
        return self.context.check(rule_id, flag, terms=terms, en=en, de=de)


def _numbered(rows: tuple[tuple[int, str], ...], prefix: str = "CII-SR-{:03d}") -> dict[str, str]:
    return {prefix.format(number): path for number, path in rows}


def _readable(path: str) -> str:
    return path.replace("ram:", "").replace("udt:", "")


def _absent_unless(probe: AbsenceProbe, rule_id: str, allowed: Callable[[etree._Element], bool]) -> Test:
    """Absent, unless the context node is one where the element is allowed."""
    present = probe.rule(rule_id)

    def test(node: etree._Element) -> bool | Fail:
        result = present(node)
        return result if result is True else (allowed(node) or result)

    # Like the probe's own rules, it can fire only where the probe finds the element.
    return Guarded(probe, rule_id, test)


def _always(node: etree._Element) -> bool:
    """``(A or B) or (not(A) and not(B))`` for child paths A and B: true whatever the node holds."""
    return True


# --- Payment instructions (BG-16) -----------------------------------------------------------------------------

_means = _Section("//ram:SpecifiedTradeSettlementPaymentMeans")
# Officially "either both financial institutions or neither or one": always true, so never asked of lxml.
_means.check(
    "CII-SR-464",
    Flag.WARNING,
    en="Only one BT-86 element is allowed on an invoice.",
    de="Nur ein Element BT-86 ist in einer Rechnung erlaubt.",
    terms=("BT-86",),
)(_always)

# --- Document context -----------------------------------------------------------------------------------------

_context = _Section(_ROOT + "/rsm:ExchangedDocumentContext", _numbered(restrictions.DOCUMENT_CONTEXT))
_context.absent("CII-SR-001", "CII-SR-002")
_context.check(
    "CII-SR-003",
    Flag.WARNING,
    en="The business process context occurs at most once.",
    de="Der Geschäftsprozess-Kontext darf höchstens einmal vorkommen.",
    terms=("BT-23",),
)(_context.counts.at_most("CII-SR-003", "ram:BusinessProcessSpecifiedDocumentContextParameter", 1))
_context.absent("CII-SR-006", "CII-SR-007", "CII-SR-008")
_context.check(
    "CII-SR-009",
    Flag.FATAL,
    en="The guideline context parameter occurs exactly once.",
    de="Der Spezifikations-Kontext muss genau einmal vorkommen.",
    terms=("BT-24",),
)(_context.counts.exactly("CII-SR-009", "ram:GuidelineSpecifiedDocumentContextParameter", 1))
_context.check(
    "CII-SR-010",
    Flag.FATAL,
    en="The specification identifier occurs exactly once.",
    de="Die Spezifikationskennung muss genau einmal vorkommen.",
    terms=("BT-24",),
)(_context.counts.exactly("CII-SR-010", "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", 1))
_context.absent("CII-SR-011", "CII-SR-012")

# --- Exchanged document ---------------------------------------------------------------------------------------

_document = _Section(_ROOT + "/rsm:ExchangedDocument", _numbered(restrictions.EXCHANGED_DOCUMENT))
_document.absent("CII-SR-013")
_document.check(
    "CII-SR-014",
    Flag.FATAL,
    en="The invoice type code occurs exactly once.",
    de="Der Rechnungstyp-Code muss genau einmal vorkommen.",
    terms=("BT-3",),
)(_document.counts.exactly("CII-SR-014", "ram:TypeCode", 1))
_document.absent(*(r for r in _document.paths if r != "CII-SR-013"))

_note = _Section(_ROOT + "/rsm:ExchangedDocument/ram:IncludedNote")
_note.check(
    "CII-SR-030",
    Flag.WARNING,
    en="An invoice note has at most one content.",
    de="Eine Bemerkung zur Rechnung hat höchstens einen Inhalt.",
    terms=("BT-22",),
)(_note.counts.at_most("CII-SR-030", "ram:Content", 1))

# --- Invoice line (BG-25) -------------------------------------------------------------------------------------

_line = _Section(_LINE, _numbered(restrictions.LINE))
_line.absent()

_line_document = _Section(_LINE + "/ram:AssociatedDocumentLineDocument", _numbered(restrictions.LINE_DOCUMENT))
_line_document.check(
    "CII-SR-039",
    Flag.WARNING,
    en="An invoice line has at most one note.",
    de="Eine Rechnungsposition hat höchstens eine Bemerkung.",
    terms=("BT-127",),
)(_line_document.counts.at_most("CII-SR-039", "ram:IncludedNote", 1))
_line_document.check(
    "CII-SR-040",
    Flag.WARNING,
    en="An invoice line note has at most one content.",
    de="Eine Bemerkung zur Position hat höchstens einen Inhalt.",
    terms=("BT-127",),
)(_line_document.counts.at_most("CII-SR-040", "ram:IncludedNote/ram:Content", 1))
_line_document.absent()

_product = _Section(_LINE + "/ram:SpecifiedTradeProduct", _numbered(restrictions.PRODUCT))
_product.absent("CII-SR-045")
_product.check(
    "CII-SR-046",
    Flag.FATAL,
    en="An item standard identifier has a scheme identifier.",
    de="Eine Artikelkennung nach registriertem Schema hat eine Schema-Kennung.",
    terms=("BT-157",),
)(
    _product.counts.custom(
        "CII-SR-046",
        # ``not(ram:GlobalID) or ram:GlobalID/@schemeID``
        lambda node: not (ids := child_elements(node, _RAM + "GlobalID")) or any("schemeID" in i.attrib for i in ids),
    )
)
_product.absent(*(r for r in _product.paths if "CII-SR-048" <= r <= "CII-SR-089"))
_product.check(
    "CII-SR-090",
    Flag.FATAL,
    en="The item country of origin has exactly one code.",
    de="Das Ursprungsland des Artikels hat genau einen Code.",
    terms=("BT-159",),
)(
    _product.counts.custom(
        "CII-SR-090",
        lambda node: (
            first_child(node, _RAM + "OriginTradeCountry") is None
            or len(_children(node, "OriginTradeCountry", "ID")) == 1
        ),
    )
)
_product.absent(*(r for r in _product.paths if r >= "CII-SR-091"))

_characteristic = _Section(_LINE + "/ram:SpecifiedTradeProduct/ram:ApplicableProductCharacteristic")
_characteristic.check(
    "CII-SR-069",
    Flag.FATAL,
    en="An item attribute has exactly one name.",
    de="Eine Artikeleigenschaft hat genau einen Namen.",
    terms=("BT-160",),
)(_characteristic.counts.exactly("CII-SR-069", "ram:Description", 1))
_characteristic.check(
    "CII-SR-072",
    Flag.FATAL,
    en="An item attribute has exactly one value.",
    de="Eine Artikeleigenschaft hat genau einen Wert.",
    terms=("BT-161",),
)(_characteristic.counts.exactly("CII-SR-072", "ram:Value", 1))

_agreement = _Section(_LINE + "/ram:SpecifiedLineTradeAgreement", _numbered(restrictions.LINE_AGREEMENT))
_agreement.absent(*(r for r in _agreement.paths if r <= "CII-SR-118"))
_agreement.check(
    "CII-SR-439",
    Flag.FATAL,
    en="The item net price occurs exactly once.",
    de="Der Artikel-Nettopreis muss genau einmal vorkommen.",
    terms=("BT-146",),
)(_agreement.counts.exactly("CII-SR-439", "ram:NetPriceProductTradePrice/ram:ChargeAmount", 1))


def _only_price_allowances(node: etree._Element) -> bool:
    charges = _children(node, "GrossPriceProductTradePrice", "AppliedTradeAllowanceCharge")
    indicators = [i for c in charges for i in child_elements(c, _RAM + "ChargeIndicator")]
    amounts = any(child_elements(c, _RAM + "ActualAmount") for c in charges)
    is_allowance = any(_is_false(i) for c in indicators for i in child_elements(c, _UDT + "Indicator"))
    return (is_allowance and amounts) or (not indicators and not amounts)


_agreement.check(
    "CII-SR-119",
    Flag.WARNING,
    en="Only a price discount (an allowance) may be given on the gross price.",
    de="Am Bruttopreis darf nur ein Rabatt (ein Abschlag) angegeben werden.",
    terms=("BT-147",),
)(_agreement.counts.custom("CII-SR-119", _only_price_allowances))


_agreement.absent(
    *(r for r in _agreement.paths if "CII-SR-120" <= r <= "CII-SR-146" or r in ("CII-SR-445", "CII-SR-446"))
)
_agreement.check(
    "CII-SR-441",
    Flag.FATAL,
    en="The item net price occurs at most once.",
    de="Der Artikel-Nettopreis darf höchstens einmal vorkommen.",
    terms=("BT-146",),
)(_agreement.counts.at_most("CII-SR-441", "ram:NetPriceProductTradePrice/ram:ChargeAmount", 1))
_agreement.absent("CII-SR-147", "CII-SR-148", "CII-SR-149", "CII-SR-150", "CII-SR-447")

_allowance = _Section("//ram:SpecifiedTradeAllowanceCharge")
_allowance.check(
    "CII-SR-463",
    Flag.FATAL,
    en="Each allowance or charge has a charge indicator.",
    de="Jeder Nachlass und jeder Zuschlag hat einen Zuschlag-Indikator.",
    terms=("BG-20", "BG-21"),
)(lambda node: first_child(node, _RAM + "ChargeIndicator") is not None)

_price_allowance = _Section("//ram:GrossPriceProductTradePrice/ram:AppliedTradeAllowanceCharge")
_price_allowance.check(
    "CII-SR-440",
    Flag.FATAL,
    en="The item price discount occurs at most once.",
    de="Der Rabatt auf den Artikelpreis darf höchstens einmal vorkommen.",
    terms=("BT-147",),
)(_price_allowance.counts.at_most("CII-SR-440", "ram:ActualAmount", 1))

_line_delivery = _Section(_LINE + "/ram:SpecifiedLineTradeDelivery", _numbered(restrictions.LINE_DELIVERY))
_line_delivery.absent()

_line_settlement = _Section(_LINE + "/ram:SpecifiedLineTradeSettlement", _numbered(restrictions.LINE_SETTLEMENT))
_line_settlement.absent()
_line_settlement.check(
    "CII-SR-454",
    Flag.WARNING,
    en="An invoice line has exactly one VAT information.",
    de="Eine Rechnungsposition hat genau eine Umsatzsteuerangabe.",
    terms=("BG-30",),
)(_line_settlement.counts.exactly("CII-SR-454", "ram:ApplicableTradeTax", 1))

# --- Header agreement -----------------------------------------------------------------------------------------

_header_agreement = _Section(
    _TRANSACTION + "/ram:ApplicableHeaderTradeAgreement", _numbered(restrictions.HEADER_AGREEMENT)
)
_header_agreement.absent()
_header_agreement.check(
    "CII-SR-450",
    Flag.WARNING,
    en="The buyer has one identifier only (ID or global ID).",
    de="Der Käufer hat nur eine Kennung (ID oder GlobalID).",
    terms=("BT-46",),
)(_header_agreement.counts.custom("CII-SR-450", _one_identifier("BuyerTradeParty")))
_header_agreement.check(
    "CII-SR-455",
    Flag.FATAL,
    en="The seller has at most one contact.",
    de="Der Verkäufer hat höchstens einen Kontakt.",
    terms=("BG-6",),
)(_header_agreement.counts.at_most("CII-SR-455", "ram:SellerTradeParty/ram:DefinedTradeContact", 1))
_header_agreement.check(
    "CII-SR-456",
    Flag.FATAL,
    en="The buyer has at most one contact.",
    de="Der Käufer hat höchstens einen Kontakt.",
    terms=("BG-9",),
)(_header_agreement.counts.at_most("CII-SR-456", "ram:BuyerTradeParty/ram:DefinedTradeContact", 1))
_header_agreement.check(
    "CII-SR-457",
    Flag.WARNING,
    en="At most one referenced document has type code 50.",
    de="Höchstens ein referenziertes Dokument hat den Typcode 50.",
    terms=("BT-17",),
)(_header_agreement.counts.custom("CII-SR-457", _one_document_of_type("50")))
_header_agreement.check(
    "CII-SR-458",
    Flag.WARNING,
    en="At most one referenced document has type code 130.",
    de="Höchstens ein referenziertes Dokument hat den Typcode 130.",
    terms=("BT-18",),
)(_header_agreement.counts.custom("CII-SR-458", _one_document_of_type("130")))
_header_agreement.check(
    "CII-SR-459",
    Flag.FATAL,
    en="The seller has at most one electronic address.",
    de="Der Verkäufer hat höchstens eine elektronische Adresse.",
    terms=("BT-34",),
)(_header_agreement.counts.at_most("CII-SR-459", "ram:SellerTradeParty/ram:URIUniversalCommunication", 1))
_header_agreement.check(
    "CII-SR-460",
    Flag.FATAL,
    en="The buyer has at most one electronic address.",
    de="Der Käufer hat höchstens eine elektronische Adresse.",
    terms=("BT-49",),
)(_header_agreement.counts.at_most("CII-SR-460", "ram:BuyerTradeParty/ram:URIUniversalCommunication", 1))
_header_agreement.check(
    "CII-SR-465",
    Flag.WARNING,
    en="The seller contact names a person or a department, not both (BT-41).",
    de="Der Verkäuferkontakt nennt eine Person oder eine Abteilung, nicht beides (BT-41).",
    terms=("BT-41",),
)(_header_agreement.counts.custom("CII-SR-465", _named_and_departed("SellerTradeParty")))
_header_agreement.check(
    "CII-SR-466",
    Flag.WARNING,
    en="The buyer contact names a person or a department, not both (BT-56).",
    de="Der Käuferkontakt nennt eine Person oder eine Abteilung, nicht beides (BT-56).",
    terms=("BT-56",),
)(_header_agreement.counts.custom("CII-SR-466", _named_and_departed("BuyerTradeParty")))

# --- Header delivery ------------------------------------------------------------------------------------------

_header_delivery = _Section(
    _TRANSACTION + "/ram:ApplicableHeaderTradeDelivery", _numbered(restrictions.HEADER_DELIVERY)
)
_header_delivery.absent()
_header_delivery.check(
    "CII-SR-449",
    Flag.WARNING,
    en="The deliver-to location has one identifier only (ID or global ID).",
    de="Der Lieferort hat nur eine Kennung (ID oder GlobalID).",
    terms=("BT-71",),
)(_header_delivery.counts.custom("CII-SR-449", _one_identifier("ShipToTradeParty")))

# --- Header settlement ----------------------------------------------------------------------------------------

_header_settlement = _Section(_SETTLEMENT, _numbered(restrictions.HEADER_SETTLEMENT))
_header_settlement.absent(*(r for r in _header_settlement.paths if r <= "CII-SR-364"))
_header_settlement.check(
    "CII-SR-451",
    Flag.WARNING,
    en="The payee has one identifier only (ID or global ID).",
    de="Der Zahlungsempfänger hat nur eine Kennung (ID oder GlobalID).",
    terms=("BT-60",),
)(_header_settlement.counts.custom("CII-SR-451", _one_identifier("PayeeTradeParty")))
_header_settlement.absent(*(r for r in _header_settlement.paths if r > "CII-SR-364"))
_header_settlement.check(
    "CII-SR-452",
    Flag.WARNING,
    en="There is at most one payment terms element.",
    de="Es gibt höchstens ein Element für Zahlungsbedingungen.",
    terms=("BT-20",),
)(_header_settlement.counts.at_most("CII-SR-452", "ram:SpecifiedTradePaymentTerms", 1))
_header_settlement.check(
    "CII-SR-453",
    Flag.WARNING,
    en="The payment terms have at most one description.",
    de="Die Zahlungsbedingungen haben höchstens eine Beschreibung.",
    terms=("BT-20",),
)(_header_settlement.counts.at_most("CII-SR-453", "ram:SpecifiedTradePaymentTerms/ram:Description", 1))
_header_settlement.check(
    "CII-SR-461",
    Flag.FATAL,
    en="The VAT point date occurs at most once.",
    de="Das Datum der Steuerfälligkeit darf höchstens einmal vorkommen.",
    terms=("BT-7",),
)(_header_settlement.counts.at_most("CII-SR-461", "ram:ApplicableTradeTax/ram:TaxPointDate", 1))
_header_settlement.check(
    "CII-SR-462",
    Flag.FATAL,
    en="All VAT point date codes of the invoice are equal.",
    de="Alle Codes für das Datum der Steuerfälligkeit sind gleich.",
    terms=("BT-8",),
)(
    _header_settlement.counts.custom(
        "CII-SR-462",
        lambda node: len({_text(e) for e in _xp.nodes(node, "//ram:ApplicableTradeTax/ram:DueDateTypeCode")}) <= 1,
    )
)

_summation = _Section(
    _SETTLEMENT + "/ram:SpecifiedTradeSettlementHeaderMonetarySummation", _numbered(restrictions.HEADER_SUMMATION)
)
_summation.absent()

# --- The invoice ----------------------------------------------------------------------------------------------

_invoice = _Section(_ROOT, _numbered(restrictions.INVOICE))
_invoice.context.check(
    "CII-DT-013",
    Flag.FATAL,
    en="The attribute languageID should not be present.",
    de="Das Attribut languageID sollte nicht vorhanden sein.",
)(_without("languageID"))
_invoice.context.check(
    "CII-DT-014",
    Flag.FATAL,
    en="The attribute languageLocaleID should not be present.",
    de="Das Attribut languageLocaleID sollte nicht vorhanden sein.",
)(_without("languageLocaleID"))
_invoice.absent()

_parameter = _Section(_ends_with("DocumentContextParameter", "*"), _numbered(restrictions.PARAMETER, "CII-SR-{:02d}"))
_parameter.absent()


# --- Data types -----------------------------------------------------------------------------------------------


def _attributes(match: str, rules: tuple[tuple[str, str], ...], flag: Flag) -> None:
    """A context whose rules each forbid one attribute of the context element."""
    context = CII_SYNTAX.context(match)
    for rule_id, attr in rules:
        context.check(
            rule_id,
            flag,
            en=f"The attribute {attr} should not be present.",
            de=f"Das Attribut {attr} sollte nicht vorhanden sein.",
        )(_without(attr))


_attributes(
    " | ".join(
        (
            _ROOT + "/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
            _ROOT + "/rsm:ExchangedDocument/ram:ID",
            _LINE + "/ram:AssociatedDocumentLineDocument/ram:LineID",
            _LINE + "/ram:SpecifiedTradeProduct/ram:SellerAssignedID",
        )
    ),
    (
        ("CII-DT-001", "schemeName"),
        ("CII-DT-002", "schemeAgencyName"),
        ("CII-DT-003", "schemeDataURI"),
        ("CII-DT-004", "schemeURI"),
        ("CII-DT-005", "schemeID"),
        ("CII-DT-006", "schemeAgencyID"),
        ("CII-DT-007", "schemeVersionID"),
    ),
    Flag.FATAL,
)
_attributes(
    _ends_with("ID"),
    (
        ("CII-DT-101", "schemeName"),
        ("CII-DT-102", "schemeAgencyName"),
        ("CII-DT-103", "schemeDataURI"),
        ("CII-DT-104", "schemeURI"),
    ),
    Flag.FATAL,
)
_attributes("//ram:TypeCode", (("CII-DT-008", "name"), ("CII-DT-009", "listURI")), Flag.FATAL)
# Shadowed by the TypeCode context above, as in the official order; registered for completeness.
_attributes(
    _ROOT + "/rsm:ExchangedDocument/ram:TypeCode",
    (("CII-DT-010", "listID"), ("CII-DT-011", "listAgencyID"), ("CII-DT-012", "listVersionID")),
    Flag.FATAL,
)
_attributes(
    _LINE + "/ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode",
    (
        ("CII-DT-045", "listID"),
        ("CII-DT-046", "listAgencyID"),
        ("CII-DT-047", "listVersionID"),
        ("CII-DT-048", "listURI"),
    ),
    Flag.WARNING,
)

# Referenced documents: most parts are not used; a few are allowed on particular documents.
_REFERENCED = {
    "CII-DT-015": "ram:URIID",
    "CII-DT-016": "ram:StatusCode",
    "CII-DT-017": "ram:CopyIndicator",
    "CII-DT-018": "ram:TypeCode",
    "CII-DT-019": "ram:GlobalID",
    "CII-DT-020": "ram:RevisionID",
    "CII-DT-021": "ram:Name",
    "CII-DT-022": "ram:AttachmentBinaryObject",
    "CII-DT-023": "ram:Information",
    "CII-DT-024": "ram:ReferenceTypeCode",
    "CII-DT-025": "ram:SectionName",
    "CII-DT-026": "ram:PreviousRevisionID",
    "CII-DT-027": "ram:FormattedIssueDateTime",
    "CII-DT-028": "ram:EffectiveSpecifiedPeriod",
    "CII-DT-029": "ram:IssuerTradeParty",
    "CII-DT-030": "ram:AttachedSpecifiedBinaryFile",
}
_ADDITIONAL = _RAM + "AdditionalReferencedDocument"


def _additional_with_type(*codes: str) -> Callable[[etree._Element], bool]:
    """``self::ram:AdditionalReferencedDocument and ram:TypeCode = (codes)``."""

    def allowed(node: etree._Element) -> bool:
        return node.tag == _ADDITIONAL and any(_text(t) in codes for t in child_elements(node, _RAM + "TypeCode"))

    return allowed


_REFERENCED_ALLOWED: dict[str, Callable[[etree._Element], bool]] = {
    "CII-DT-015": _additional_with_type("916"),
    "CII-DT-018": _additional_with_type("50", "130", "916"),
    "CII-DT-021": _additional_with_type("916"),
    "CII-DT-022": _additional_with_type("916"),
    "CII-DT-024": _additional_with_type("130"),
    "CII-DT-027": lambda node: node.tag == _RAM + "InvoiceReferencedDocument",
}
_referenced = _Section(_ends_with("ReferencedDocument"), _REFERENCED)
for _rule_id, _path in _REFERENCED.items():
    _allowed = _REFERENCED_ALLOWED.get(_rule_id)
    _referenced.context.check(
        _rule_id,
        Flag.FATAL,
        en=f"{_readable(_path)} should not be present in a referenced document.",
        de=f"{_readable(_path)} sollte in einem referenzierten Dokument nicht vorhanden sein.",
    )(_referenced.probe.rule(_rule_id) if _allowed is None else _absent_unless(_referenced.probe, _rule_id, _allowed))

_attributes(
    f"{_ends_with('Amount')[:-1]} and not(self::ram:TaxTotalAmount)]",
    (("CII-DT-031", "currencyID"), ("CII-DT-032", "currencyCodeListVersionID")),
    Flag.FATAL,
)

_quantity = CII_SYNTAX.context(_ends_with("Quantity"))
# boolean() of the path: the unit codes of the invoiced quantities, read once per check.
_BILLED_UNIT = _LINE + "/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode"
# As officially written: a unit code is accepted on any quantity once some invoiced quantity has one.
_quantity.check(
    "CII-DT-033",
    Flag.FATAL,
    en="The attribute unitCode should not be present.",
    de="Das Attribut unitCode sollte nicht vorhanden sein.",
)(Guarded(_own_attributes, "unitCode", lambda node: _xp.exists(node, _BILLED_UNIT)))
for _rule_id, _attr in (
    ("CII-DT-034", "unitCodeListID"),
    ("CII-DT-035", "unitCodeListAgencyID"),
    ("CII-DT-036", "unitCodeListAgencyName"),
):
    _quantity.check(
        _rule_id,
        Flag.FATAL,
        en=f"The attribute {_attr} should not be present.",
        de=f"Das Attribut {_attr} sollte nicht vorhanden sein.",
    )(_without(_attr))

# Trade tax (BG-23 and the VAT of lines, allowances and charges).
_TRADE_TAX = {
    "CII-DT-038": "ram:CalculatedRate",
    "CII-DT-039": "ram:CalculationSequenceNumeric",
    "CII-DT-040": "ram:BasisQuantity",
    "CII-DT-041": "ram:BasisAmount",
    "CII-DT-042": "ram:UnitBasisAmount",
    "CII-DT-043": "ram:LineTotalBasisAmount",
    "CII-DT-044": "ram:AllowanceChargeBasisAmount",
    "CII-DT-049": "ram:CurrencyCode",
    "CII-DT-050": "ram:Jurisdiction",
    "CII-DT-051": "ram:CustomsDutyIndicator",
    "CII-DT-052": "ram:ExemptionReasonCode",
    "CII-DT-098": "ram:ExemptionReason",
    "CII-DT-053": "ram:TaxBasisAllowanceRate",
    "CII-DT-054": "ram:TaxPointDate",
    "CII-DT-055": "ram:Type",
    "CII-DT-056": "ram:InformationAmount",
    "CII-DT-057": "ram:CategoryName",
    "CII-DT-058": "ram:DueDateTypeCode",
    "CII-DT-059": "ram:RateApplicablePercent/@format",
    "CII-DT-060": "ram:SpecifiedTradeAccountingAccount",
    "CII-DT-061": "ram:ServiceSupplyTradeCountry",
    "CII-DT-062": "ram:BuyerRepayableTaxSpecifiedTradeAccountingAccount",
    "CII-DT-063": "ram:SellerPayableTaxSpecifiedTradeAccountingAccount",
    "CII-DT-064": "ram:SellerRefundableTaxSpecifiedTradeAccountingAccount",
    "CII-DT-065": "ram:BuyerDeductibleTaxSpecifiedTradeAccountingAccount",
    "CII-DT-066": "ram:BuyerNonDeductibleTaxSpecifiedTradeAccountingAccount",
    "CII-DT-067": "ram:PlaceApplicableTradeLocation",
}


def _in_header_settlement(node: etree._Element) -> bool:
    return any(a.tag == _RAM + "ApplicableHeaderTradeSettlement" for a in node.iterancestors())


def _is_applicable_trade_tax(node: etree._Element) -> bool:
    return node.tag == _RAM + "ApplicableTradeTax"


_TRADE_TAX_ALLOWED: dict[str, Callable[[etree._Element], bool]] = {
    "CII-DT-041": _in_header_settlement,
    "CII-DT-052": _is_applicable_trade_tax,
    "CII-DT-098": _is_applicable_trade_tax,
    "CII-DT-054": _in_header_settlement,
    "CII-DT-058": _in_header_settlement,
}
_trade_tax = _Section(_ends_with("TradeTax"), _TRADE_TAX)
_trade_tax.context.check(
    "CII-DT-037",
    Flag.FATAL,
    en="The tax type code is VAT.",
    de="Der Steuertyp-Code ist VAT.",
    terms=("BT-95-0", "BT-102-0", "BT-118-0", "BT-151-0"),
)(lambda node: not (codes := [_text(t) for t in child_elements(node, _RAM + "TypeCode")]) or "VAT" in codes)
for _rule_id, _path in _TRADE_TAX.items():
    _allowed = _TRADE_TAX_ALLOWED.get(_rule_id)
    _trade_tax.context.check(
        _rule_id,
        Flag.WARNING,
        en=f"{_readable(_path)} should not be present in tax information.",
        de=f"{_readable(_path)} sollte in Steuerangaben nicht vorhanden sein.",
    )(_trade_tax.probe.rule(_rule_id) if _allowed is None else _absent_unless(_trade_tax.probe, _rule_id, _allowed))

_period = _Section("//ram:BillingSpecifiedPeriod", _numbered(restrictions.BILLING_PERIOD, "CII-DT-{:03d}"))
_period.absent(flag=Flag.FATAL)

_address = _Section("//ram:PostalTradeAddress", _numbered(restrictions.POSTAL_ADDRESS, "CII-DT-{:03d}"))
_address.absent(flag=Flag.FATAL)

# YYYYMMDD, with XML whitespace around it; \d is any Unicode decimal digit, as in XPath regular expressions.
_DATE_102 = re.compile(r"[ \t\n\r]*\d{4}(?:1[0-2]|0[1-9])(?:3[01]|[12][0-9]|0[1-9])[ \t\n\r]*")
_date = _Section("//udt:DateTimeString[@format = '102']")
_date.context.check(
    "CII-DT-097",
    Flag.FATAL,
    en="A date with format 102 is written YYYYMMDD.",
    de="Ein Datum im Format 102 wird als JJJJMMTT geschrieben.",
)(lambda node: _DATE_102.fullmatch(_text(node)) is not None or Fail(value=_text(node)))
