"""EN 16931 business rules BR-01 … BR-65 in the UBL binding (mandatory elements and simple conditions).

The 1.3.15 artefacts check "at most one payment card / mandate" as syntax rules UBL-SR-54 and UBL-SR-55
(validators/rules/syntax/ubl_syntax.py), not as BR-66 / BR-67.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from validators.rules._dynamic import opt
from validators.rules._engine import Fail, Flag
from validators.rules._session import child_elements, first_child
from validators.rules.en16931_ubl._patterns import ctx
from validators.rules.en16931_ubl._values import (
    CAC,
    CBC,
    child_index,
    children,
    descendants,
    double_of,
    has,
    is_vat_scheme,
    normalized,
    normalized_first,
    string_value,
    xs_date,
)
from validators.rules.syntax._codelists import CODE_LIST_TEXT

FATAL = Flag.FATAL
_XML_SPACE: Final = " \t\r\n"

_ID: Final = CBC + "ID"
_CUSTOMIZATION_ID: Final = CBC + "CustomizationID"
_ISSUE_DATE: Final = CBC + "IssueDate"
_INVOICE_TYPE_CODE: Final = CBC + "InvoiceTypeCode"
_CREDIT_NOTE_TYPE_CODE: Final = CBC + "CreditNoteTypeCode"
_DOCUMENT_CURRENCY_CODE: Final = CBC + "DocumentCurrencyCode"
_INVOICE_LINE: Final = CAC + "InvoiceLine"
_CREDIT_NOTE_LINE: Final = CAC + "CreditNoteLine"
_LINE_EXTENSION_AMOUNT: Final = CBC + "LineExtensionAmount"
_TAX_EXCLUSIVE_AMOUNT: Final = CBC + "TaxExclusiveAmount"
_TAX_INCLUSIVE_AMOUNT: Final = CBC + "TaxInclusiveAmount"
_PAYABLE_AMOUNT: Final = CBC + "PayableAmount"
_TAXABLE_AMOUNT: Final = CBC + "TaxableAmount"
_TAX_AMOUNT: Final = CBC + "TaxAmount"
_INVOICED_QUANTITY: Final = CBC + "InvoicedQuantity"
_CREDITED_QUANTITY: Final = CBC + "CreditedQuantity"


def _filled(el: etree._Element, path: str) -> bool:
    """``normalize-space(path) != ''``: the node at ``path`` has some non-blank text; several are a
    ``DynamicError``."""
    found = opt(children(el, path), "element")
    return found is not None and string_value(found).strip(_XML_SPACE) != ""


def _filled_child(el: etree._Element, tag: str) -> bool:
    """``_filled`` for the first child named ``tag``."""
    found = child_index(el).get(tag)
    return found is not None and string_value(found[0]).strip(_XML_SPACE) != ""


def _reason_given(el: etree._Element) -> bool:
    return has(el, "cbc:AllowanceChargeReason") or has(el, "cbc:AllowanceChargeReasonCode")


def _not_negative(values: list[etree._Element]) -> bool:
    """``(path) >= 0`` on the nodes at a path: some value, read as xs:double, is at least zero."""
    for node in values:
        value = double_of(string_value(node))
        if value is not None and value >= 0:
            return True
    return False


def _vat_categories(el: etree._Element) -> list[etree._Element]:
    return [c for c in child_elements(el, CAC + "TaxCategory") if is_vat_scheme(c)]


def _period_in_order(period: etree._Element) -> bool:
    start, end = first_child(period, CBC + "StartDate"), first_child(period, CBC + "EndDate")
    if start is None or end is None:
        return True
    start_at, end_at = xs_date(string_value(start)), xs_date(string_value(end))
    return start_at is not None and end_at is not None and end_at >= start_at


# --- the invoice as a whole -------------------------------------------------------------------------

inv = ctx.invoice


@inv.check(
    "BR-01",
    FATAL,
    terms=("BT-24",),
    en="The Specification identifier is missing.",
    de="Die Spezifikationskennung fehlt.",
)
def specification_identifier(el: etree._Element) -> bool:
    return _filled_child(el, _CUSTOMIZATION_ID)


@inv.check("BR-02", FATAL, terms=("BT-1",), en="The Invoice number is missing.", de="Die Rechnungsnummer fehlt.")
def invoice_number(el: etree._Element) -> bool:
    return _filled_child(el, _ID)


@inv.check("BR-03", FATAL, terms=("BT-2",), en="The Invoice issue date is missing.", de="Das Rechnungsdatum fehlt.")
def issue_date(el: etree._Element) -> bool:
    return _filled_child(el, _ISSUE_DATE)


@inv.check(
    "BR-04", FATAL, terms=("BT-3",), en="The Invoice type code is missing.", de="Der Code für den Rechnungstyp fehlt."
)
def type_code(el: etree._Element) -> bool:
    return _filled_child(el, _INVOICE_TYPE_CODE) or _filled_child(el, _CREDIT_NOTE_TYPE_CODE)


@inv.check(
    "BR-05",
    FATAL,
    terms=("BT-5",),
    en="The Invoice currency code is missing.",
    de="Der Code für die Rechnungswährung fehlt.",
)
def currency_code(el: etree._Element) -> bool:
    return _filled_child(el, _DOCUMENT_CURRENCY_CODE)


@inv.check("BR-06", FATAL, terms=("BT-27",), en="The Seller name is missing.", de="Der Name des Verkäufers fehlt.")
def seller_name(el: etree._Element) -> bool:
    return _filled(el, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")


@inv.check("BR-07", FATAL, terms=("BT-44",), en="The Buyer name is missing.", de="Der Name des Käufers fehlt.")
def buyer_name(el: etree._Element) -> bool:
    return _filled(el, "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName")


@inv.check(
    "BR-08",
    FATAL,
    terms=("BG-5",),
    en="The Seller postal address is missing.",
    de="Die Postanschrift des Verkäufers fehlt.",
)
def seller_address(el: etree._Element) -> bool:
    return has(el, "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress")


@inv.check(
    "BR-10",
    FATAL,
    terms=("BG-8",),
    en="The Buyer postal address is missing.",
    de="Die Postanschrift des Käufers fehlt.",
)
def buyer_address(el: etree._Element) -> bool:
    return has(el, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress")


@inv.check(
    "BR-16",
    FATAL,
    terms=("BG-25",),
    en="An Invoice needs at least one Invoice line.",
    de="Eine Rechnung braucht mindestens eine Rechnungsposition.",
)
def has_line(el: etree._Element) -> bool:
    invoice = child_index(el)
    return _INVOICE_LINE in invoice or _CREDIT_NOTE_LINE in invoice


@inv.check(
    "BR-53",
    FATAL,
    terms=("BT-6", "BT-111"),
    en="With a VAT accounting currency, the total VAT amount in that currency must be given.",
    de="Ist eine Steuerwährung angegeben, muss der Umsatzsteuergesamtbetrag in dieser Währung angegeben sein.",
)
def vat_accounting_total(el: etree._Element) -> bool:
    wanted = [string_value(c) for c in child_elements(el, CBC + "TaxCurrencyCode")]
    if not wanted:
        return True
    present = {
        a.get("currencyID") for t in descendants(el, CAC + "TaxTotal") for a in child_elements(t, CBC + "TaxAmount")
    }
    return all(code in present for code in wanted)


# --- parties and addresses --------------------------------------------------------------------------


@ctx.seller_address.check(
    "BR-09",
    FATAL,
    terms=("BT-40",),
    en="The Seller postal address needs a country code.",
    de="Die Postanschrift des Verkäufers braucht einen Ländercode.",
)
def seller_country(el: etree._Element) -> bool:
    return _filled(el, "cac:Country/cbc:IdentificationCode")


@ctx.buyer_address.check(
    "BR-11",
    FATAL,
    terms=("BT-55",),
    en="The Buyer postal address needs a country code.",
    de="Die Postanschrift des Käufers braucht einen Ländercode.",
)
def buyer_country(el: etree._Element) -> bool:
    return _filled(el, "cac:Country/cbc:IdentificationCode")


@ctx.payee.check(
    "BR-17",
    FATAL,
    terms=("BT-59",),
    en="A Payee different from the Seller needs a Payee name.",
    de="Ein vom Verkäufer abweichender Zahlungsempfänger braucht einen Namen.",
)
def payee_name(el: etree._Element) -> bool:
    names = {string_value(n) for n in children(el, "cac:PartyName/cbc:Name")}
    if not names:
        return False
    parent = el.getparent()
    seller = children(parent, "cac:AccountingSupplierParty/cac:Party") if parent is not None else []
    seller_names = {string_value(n) for p in seller for n in children(p, "cac:PartyName/cbc:Name")}
    seller_ids = {string_value(n) for p in seller for n in children(p, "cac:PartyIdentification/cbc:ID")}
    payee_ids = {string_value(n) for n in children(el, "cac:PartyIdentification/cbc:ID")}
    # As written, the rule also rejects a payee that shares the seller's name or identifier.
    return not (names & seller_names) and not (payee_ids & seller_ids)


rep = ctx.tax_representative


@rep.check(
    "BR-18",
    FATAL,
    terms=("BT-62",),
    en="The Seller tax representative name is missing.",
    de="Der Name des Steuervertreters des Verkäufers fehlt.",
)
def representative_name(el: etree._Element) -> bool:
    return _filled(el, "cac:PartyName/cbc:Name")


@rep.check(
    "BR-19",
    FATAL,
    terms=("BG-12",),
    en="The Seller tax representative postal address is missing.",
    de="Die Postanschrift des Steuervertreters fehlt.",
)
def representative_address(el: etree._Element) -> bool:
    return has(el, "cac:PostalAddress")


@rep.check(
    "BR-56",
    FATAL,
    terms=("BT-63",),
    en="The Seller tax representative VAT identifier is missing.",
    de="Die Umsatzsteuer-Identifikationsnummer des Steuervertreters fehlt.",
)
def representative_vat_id(el: etree._Element) -> bool:
    return any(
        is_vat_scheme(s) and first_child(s, CBC + "CompanyID") is not None
        for s in child_elements(el, CAC + "PartyTaxScheme")
    )


@ctx.tax_representative_address.check(
    "BR-20",
    FATAL,
    terms=("BT-69",),
    en="The Seller tax representative postal address needs a country code.",
    de="Die Postanschrift des Steuervertreters braucht einen Ländercode.",
)
def representative_country(el: etree._Element) -> bool:
    return _filled(el, "cac:Country/cbc:IdentificationCode")


@ctx.deliver_to_address.check(
    "BR-57",
    FATAL,
    terms=("BT-80",),
    en="The Deliver to address needs a country code.",
    de="Die Lieferanschrift braucht einen Ländercode.",
)
def delivery_country(el: etree._Element) -> bool:
    return has(el, "cac:Country/cbc:IdentificationCode")


@ctx.seller_endpoint.check(
    "BR-62",
    FATAL,
    terms=("BT-34",),
    en="The Seller electronic address needs a scheme identifier.",
    de="Die elektronische Adresse des Verkäufers braucht eine Schemakennung.",
)
def seller_endpoint_scheme(el: etree._Element) -> bool:
    return el.get("schemeID") is not None


@ctx.buyer_endpoint.check(
    "BR-63",
    FATAL,
    terms=("BT-49",),
    en="The Buyer electronic address needs a scheme identifier.",
    de="Die elektronische Adresse des Käufers braucht eine Schemakennung.",
)
def buyer_endpoint_scheme(el: etree._Element) -> bool:
    return el.get("schemeID") is not None


# --- totals -------------------------------------------------------------------------------------------

tot = ctx.totals


@tot.check(
    "BR-12",
    FATAL,
    terms=("BT-106",),
    en="The Sum of Invoice line net amount is missing.",
    de="Die Summe der Nettobeträge der Rechnungspositionen fehlt.",
)
def line_total_present(el: etree._Element) -> bool:
    return _LINE_EXTENSION_AMOUNT in child_index(el)


@tot.check(
    "BR-13",
    FATAL,
    terms=("BT-109",),
    en="The Invoice total amount without VAT is missing.",
    de="Der Rechnungsgesamtbetrag ohne Umsatzsteuer fehlt.",
)
def total_without_vat_present(el: etree._Element) -> bool:
    return _TAX_EXCLUSIVE_AMOUNT in child_index(el)


@tot.check(
    "BR-14",
    FATAL,
    terms=("BT-112",),
    en="The Invoice total amount with VAT is missing.",
    de="Der Rechnungsgesamtbetrag einschließlich Umsatzsteuer fehlt.",
)
def total_with_vat_present(el: etree._Element) -> bool:
    return _TAX_INCLUSIVE_AMOUNT in child_index(el)


@tot.check(
    "BR-15",
    FATAL,
    terms=("BT-115",),
    en="The Amount due for payment is missing.",
    de="Der fällige Zahlungsbetrag fehlt.",
)
def amount_due_present(el: etree._Element) -> bool:
    return _PAYABLE_AMOUNT in child_index(el)


# --- lines --------------------------------------------------------------------------------------------

line = ctx.line


@line.check(
    "BR-21",
    FATAL,
    terms=("BT-126",),
    en="The Invoice line identifier is missing.",
    de="Die Kennung der Rechnungsposition fehlt.",
)
def line_id(el: etree._Element) -> bool:
    return _filled_child(el, _ID)


@line.check(
    "BR-22",
    FATAL,
    terms=("BT-129",),
    en="The Invoiced quantity is missing.",
    de="Die in Rechnung gestellte Menge fehlt.",
)
def line_quantity(el: etree._Element) -> bool:
    line = child_index(el)
    return _INVOICED_QUANTITY in line or _CREDITED_QUANTITY in line


@line.check(
    "BR-23",
    FATAL,
    terms=("BT-130",),
    en="The Invoiced quantity unit of measure code is missing.",
    de="Die Maßeinheit der in Rechnung gestellten Menge fehlt.",
)
def line_unit(el: etree._Element) -> bool:
    line = child_index(el)
    return any(q.get("unitCode") is not None for q in line.get(_INVOICED_QUANTITY, ())) or any(
        q.get("unitCode") is not None for q in line.get(_CREDITED_QUANTITY, ())
    )


@line.check(
    "BR-24",
    FATAL,
    terms=("BT-131",),
    en="The Invoice line net amount is missing.",
    de="Der Nettobetrag der Rechnungsposition fehlt.",
)
def line_net_amount(el: etree._Element) -> bool:
    return _LINE_EXTENSION_AMOUNT in child_index(el)


@line.check("BR-25", FATAL, terms=("BT-153",), en="The Item name is missing.", de="Der Artikelname fehlt.")
def item_name(el: etree._Element) -> bool:
    return _filled(el, "cac:Item/cbc:Name")


@line.check(
    "BR-26", FATAL, terms=("BT-146",), en="The Item net price is missing.", de="Der Nettopreis des Artikels fehlt."
)
def net_price_present(el: etree._Element) -> bool:
    return has(el, "cac:Price/cbc:PriceAmount")


@line.check(
    "BR-27",
    FATAL,
    terms=("BT-146",),
    en="The Item net price must not be negative.",
    de="Der Nettopreis des Artikels darf nicht negativ sein.",
)
def net_price_not_negative(el: etree._Element) -> bool:
    return _not_negative(children(el, "cac:Price/cbc:PriceAmount"))


@line.check(
    "BR-28",
    FATAL,
    terms=("BT-148",),
    en="The Item gross price must not be negative.",
    de="Der Bruttopreis des Artikels darf nicht negativ sein.",
)
def gross_price_not_negative(el: etree._Element) -> bool:
    base_amounts = children(el, "cac:Price/cac:AllowanceCharge/cbc:BaseAmount")
    return not base_amounts or _not_negative(base_amounts)


@ctx.invoice_period.check(
    "BR-29",
    FATAL,
    terms=("BT-73", "BT-74"),
    en="The Invoicing period end date must not be before its start date.",
    de="Das Ende des Rechnungszeitraums darf nicht vor seinem Beginn liegen.",
)
def invoice_period_order(el: etree._Element) -> bool:
    return _period_in_order(el)


@ctx.line_period.check(
    "BR-30",
    FATAL,
    terms=("BT-134", "BT-135"),
    en="The Invoice line period end date must not be before its start date.",
    de="Das Ende des Abrechnungszeitraums der Position darf nicht vor seinem Beginn liegen.",
)
def line_period_order(el: etree._Element) -> bool:
    return _period_in_order(el)


# --- allowances and charges -----------------------------------------------------------------------------

doc_allowance = ctx.document_allowance
doc_charge = ctx.document_charge


@doc_allowance.check(
    "BR-31",
    FATAL,
    terms=("BT-92",),
    en="The Document level allowance amount is missing.",
    de="Der Betrag des Nachlasses auf Dokumentenebene fehlt.",
)
def allowance_amount(el: etree._Element) -> bool:
    return has(el, "cbc:Amount")


@doc_allowance.check(
    "BR-32",
    FATAL,
    terms=("BT-95",),
    en="The Document level allowance VAT category code is missing.",
    de="Der Umsatzsteuerkategoriecode des Nachlasses auf Dokumentenebene fehlt.",
)
def allowance_category(el: etree._Element) -> bool:
    return any(first_child(c, CBC + "ID") is not None for c in _vat_categories(el))


@doc_allowance.check(
    "BR-33",
    FATAL,
    terms=("BT-97", "BT-98"),
    en="The Document level allowance needs a reason or a reason code.",
    de="Der Nachlass auf Dokumentenebene braucht einen Grund oder einen Grundcode.",
)
def allowance_reason(el: etree._Element) -> bool:
    return _reason_given(el)


@doc_charge.check(
    "BR-36",
    FATAL,
    terms=("BT-99",),
    en="The Document level charge amount is missing.",
    de="Der Betrag des Zuschlags auf Dokumentenebene fehlt.",
)
def charge_amount(el: etree._Element) -> bool:
    return has(el, "cbc:Amount")


@doc_charge.check(
    "BR-37",
    FATAL,
    terms=("BT-102",),
    en="The Document level charge VAT category code is missing.",
    de="Der Umsatzsteuerkategoriecode des Zuschlags auf Dokumentenebene fehlt.",
)
def charge_category(el: etree._Element) -> bool:
    return any(first_child(c, CBC + "ID") is not None for c in _vat_categories(el))


@doc_charge.check(
    "BR-38",
    FATAL,
    terms=("BT-104", "BT-105"),
    en="The Document level charge needs a reason or a reason code.",
    de="Der Zuschlag auf Dokumentenebene braucht einen Grund oder einen Grundcode.",
)
def charge_reason(el: etree._Element) -> bool:
    return _reason_given(el)


@ctx.line_allowance.check(
    "BR-41",
    FATAL,
    terms=("BT-136",),
    en="The Invoice line allowance amount is missing.",
    de="Der Betrag des Nachlasses auf Positionsebene fehlt.",
)
def line_allowance_amount(el: etree._Element) -> bool:
    return has(el, "cbc:Amount")


@ctx.line_allowance.check(
    "BR-42",
    FATAL,
    terms=("BT-139", "BT-140"),
    en="The Invoice line allowance needs a reason or a reason code.",
    de="Der Nachlass auf Positionsebene braucht einen Grund oder einen Grundcode.",
)
def line_allowance_reason(el: etree._Element) -> bool:
    return _reason_given(el)


@ctx.line_charge.check(
    "BR-43",
    FATAL,
    terms=("BT-141",),
    en="The Invoice line charge amount is missing.",
    de="Der Betrag des Zuschlags auf Positionsebene fehlt.",
)
def line_charge_amount(el: etree._Element) -> bool:
    return has(el, "cbc:Amount")


@ctx.line_charge.check(
    "BR-44",
    FATAL,
    terms=("BT-144", "BT-145"),
    en="The Invoice line charge needs a reason or a reason code.",
    de="Der Zuschlag auf Positionsebene braucht einen Grund oder einen Grundcode.",
)
def line_charge_reason(el: etree._Element) -> bool:
    return _reason_given(el)


# --- VAT breakdown --------------------------------------------------------------------------------------

vat = ctx.vat_breakdown


@vat.check(
    "BR-45",
    FATAL,
    terms=("BT-116",),
    en="The VAT category taxable amount is missing.",
    de="Der Steuerbasisbetrag der Umsatzsteuerkategorie fehlt.",
)
def taxable_amount(el: etree._Element) -> bool:
    return _TAXABLE_AMOUNT in child_index(el)


@vat.check(
    "BR-46",
    FATAL,
    terms=("BT-117",),
    en="The VAT category tax amount is missing.",
    de="Der Steuerbetrag der Umsatzsteuerkategorie fehlt.",
)
def tax_amount(el: etree._Element) -> bool:
    return _TAX_AMOUNT in child_index(el)


@vat.check(
    "BR-47",
    FATAL,
    terms=("BT-118",),
    en="The VAT category code of the VAT breakdown is missing.",
    de="Der Code der Umsatzsteuerkategorie in der Aufschlüsselung fehlt.",
)
def breakdown_category(el: etree._Element) -> bool:
    return any(first_child(c, CBC + "ID") is not None for c in _vat_categories(el))


@vat.check(
    "BR-48",
    FATAL,
    terms=("BT-119",),
    en="The VAT breakdown needs a VAT category rate unless the category is 'Not subject to VAT'.",
    de="Die Umsatzsteueraufschlüsselung braucht einen Steuersatz, außer bei 'nicht steuerbar'.",
)
def breakdown_rate(el: etree._Element) -> bool:
    categories = _vat_categories(el)
    return any(first_child(c, CBC + "Percent") is not None for c in categories) or any(
        normalized_first(c, "cbc:ID") == "O" for c in categories
    )


# --- payment ------------------------------------------------------------------------------------------


@ctx.payment_means.check(
    "BR-49",
    FATAL,
    terms=("BT-81",),
    en="The Payment means type code is missing.",
    de="Der Code für die Zahlungsart fehlt.",
)
def payment_means_code(el: etree._Element) -> bool:
    return has(el, "cbc:PaymentMeansCode")


@ctx.payment_means.check(
    "BR-61",
    FATAL,
    terms=("BT-81", "BT-84"),
    en="A credit transfer (code 30 or 58) needs the Payment account identifier.",
    de="Eine Überweisung (Code 30 oder 58) braucht die Kennung des Zahlungskontos.",
)
def credit_transfer_account(el: etree._Element) -> bool:
    code = normalized_first(el, "cbc:PaymentMeansCode")
    return code not in ("30", "58") or has(el, "cac:PayeeFinancialAccount/cbc:ID")


@ctx.credit_transfer_account.check(
    "BR-50",
    FATAL,
    terms=("BT-84",),
    en="The Payment account identifier of the credit transfer is missing.",
    de="Die Kennung des Zahlungskontos der Überweisung fehlt.",
)
def payment_account_id(el: etree._Element) -> bool:
    return _filled_child(el, _ID)


@ctx.card_number.check(
    "BR-51",
    Flag.WARNING,
    terms=("BT-87",),
    en="A Payment card primary account number should never appear in full (at most 10 digits).",
    de="Die Nummer der Zahlungskarte sollte nie vollständig angegeben werden (höchstens 10 Ziffern).",
)
def card_number_masked(el: etree._Element) -> bool:
    return len(normalized(string_value(el))) <= 10


# --- references and item details ----------------------------------------------------------------------


@ctx.additional_document.check(
    "BR-52",
    FATAL,
    terms=("BT-122",),
    en="The Supporting document reference is missing.",
    de="Die Kennung der rechnungsbegründenden Unterlage fehlt.",
)
def supporting_document_id(el: etree._Element) -> bool:
    return _filled_child(el, _ID)


@ctx.item_attribute.check(
    "BR-54",
    FATAL,
    terms=("BT-160", "BT-161"),
    en="An Item attribute needs both a name and a value.",
    de="Eine Artikeleigenschaft braucht einen Namen und einen Wert.",
)
def item_attribute(el: etree._Element) -> bool:
    return has(el, "cbc:Name") and has(el, "cbc:Value")


@ctx.preceding_invoice.check(
    "BR-55",
    FATAL,
    terms=("BT-25",),
    en="The Preceding Invoice reference is missing.",
    de="Die Nummer der vorausgegangenen Rechnung fehlt.",
)
def preceding_invoice_id(el: etree._Element) -> bool:
    return has(el, "cac:InvoiceDocumentReference/cbc:ID")


@ctx.item_standard_id.check(
    "BR-64",
    FATAL,
    terms=("BT-157",),
    en="The Item standard identifier needs a scheme identifier.",
    de="Die Standardkennung des Artikels braucht eine Schemakennung.",
)
def item_standard_scheme(el: etree._Element) -> bool:
    return el.get("schemeID") is not None


@ctx.item_classification.check(
    "BR-65",
    FATAL,
    terms=("BT-158",),
    en="The Item classification identifier needs a scheme identifier.",
    de="Die Klassifizierungskennung des Artikels braucht eine Schemakennung.",
)
def item_classification_scheme(el: etree._Element) -> bool:
    return el.get("listID") is not None


# In UBL the note subject code rule sits in the model pattern (CII checks ram:SubjectCode as a code list).
_NOTE_SUBJECTS = CODE_LIST_TEXT["UNTDID_4451_UBL"]


@ctx.note.check(
    "BR-CL-08",
    FATAL,
    terms=("BT-21",),
    en="A note subject code (between the first two '#' of a note) is a UNTDID 4451 code.",
    de="Ein Betreff-Code einer Bemerkung (zwischen den ersten beiden '#') ist ein Code aus UNTDID 4451.",
)
def note_subject_code(el: etree._Element) -> bool | Fail:
    # substring-before(substring-after(., '#'), '#'): empty unless a second '#' follows the first.
    text = string_value(el)
    after = text.partition("#")[2]
    code = after.partition("#")[0] if "#" in after else ""
    if "#" not in text or len(code) != 3:
        return True
    # contains() on the list text, not a token match: any three characters found in it pass.
    return code in _NOTE_SUBJECTS or Fail(value=code)
