"""An invoice as a self-contained, printable HTML page for accounts-payable staff.

``render_invoice`` turns a read invoice into a view model of plain, already formatted
strings (this module) and lays it out with ``templates/invoice.html.j2`` (autoescaped, so
every value a supplier wrote arrives as text, never as markup). The page loads nothing
from outside: CSS is inline and embedded attachments become ``data:`` links.

Everything a reader sees goes through ``LABELS`` or the code tables below, in German or
English; each field can show its business term id, with the official term name as tooltip.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined

from schemas.model import (
    Address,
    AllowanceCharge,
    Contact,
    DocumentAllowance,
    DocumentCharge,
    Identifier,
    Invoice,
    InvoiceLine,
    LineAllowance,
    PaymentInstructions,
)
from schemas.profile import Profile, profile_of
from schemas.terms import term_name

if TYPE_CHECKING:
    from schemas.reader import ReadResult, Source

__all__ = [
    "LABELS",
    "LANGUAGES",
    "PaymentTerm",
    "describe_payment_term",
    "format_amount",
    "format_date",
    "format_iban",
    "format_number",
    "format_percent",
    "label",
    "parse_payment_terms",
    "render_invoice",
]

LANGUAGES: Final = ("de", "en")

LABELS: Final[dict[str, dict[str, str]]] = {
    # page frame
    "page_note": {
        "de": ("Lesefassung der elektronischen Rechnung für die Rechnungsprüfung; maßgeblich sind die XML-Daten."),
        "en": "Reading copy of the electronic invoice for accounts payable; the XML data is authoritative.",
    },
    "profile": {"de": "Profil", "en": "Profile"},
    "source": {"de": "Quelle", "en": "Source"},
    "source_pdf": {"de": "PDF-Anhang", "en": "PDF attachment"},
    "syntax": {"de": "Syntax", "en": "Syntax"},
    "type_code": {"de": "Rechnungsart", "en": "Document type"},
    "doc_invoice": {"de": "Rechnung", "en": "Invoice"},
    "doc_credit": {"de": "Gutschrift", "en": "Credit note"},
    "type_n": {"de": "Typ {code}", "en": "type {code}"},
    # header
    "number_invoice": {"de": "Rechnungsnummer", "en": "Invoice number"},
    "number_credit": {"de": "Gutschriftsnummer", "en": "Credit note number"},
    "issue_date": {"de": "Rechnungsdatum", "en": "Issue date"},
    "due_date": {"de": "Fällig am", "en": "Due date"},
    "tax_point_date": {"de": "Steuerzeitpunkt", "en": "VAT point date"},
    "tax_point_code": {"de": "Steuerzeitpunkt (Code)", "en": "VAT point date code"},
    "currency": {"de": "Währung", "en": "Currency"},
    "vat_currency": {"de": "USt-Abrechnungswährung", "en": "VAT accounting currency"},
    "leitweg_id": {"de": "Leitweg-ID / Käuferreferenz", "en": "Leitweg-ID / buyer reference"},
    "amount_due_head": {"de": "Zahlbetrag", "en": "Amount due"},
    "credit_amount_head": {"de": "Gutschriftsbetrag", "en": "Credit amount"},
    # parties
    "seller": {"de": "Verkäufer (Rechnungssteller)", "en": "Seller (supplier)"},
    "buyer": {"de": "Käufer (Rechnungsempfänger)", "en": "Buyer (customer)"},
    "payee": {"de": "Zahlungsempfänger", "en": "Payee"},
    "tax_representative": {"de": "Steuervertreter des Verkäufers", "en": "Seller's tax representative"},
    "trading_name": {"de": "Handelsname", "en": "Trading name"},
    "party_id": {"de": "Kennung", "en": "Identifier"},
    "legal_registration": {"de": "Registernummer", "en": "Legal registration"},
    "vat_id": {"de": "USt-IdNr.", "en": "VAT ID"},
    "tax_number": {"de": "Steuernummer", "en": "Tax number"},
    "legal_info": {"de": "Rechtliche Angaben", "en": "Legal information"},
    "electronic_address": {"de": "Elektronische Adresse", "en": "Electronic address"},
    "contact_point": {"de": "Kontakt", "en": "Contact"},
    "telephone": {"de": "Telefon", "en": "Telephone"},
    "email": {"de": "E-Mail", "en": "Email"},
    "address": {"de": "Anschrift", "en": "Address"},
    # references and delivery
    "references": {"de": "Referenzen", "en": "References"},
    "purchase_order": {"de": "Bestellnummer", "en": "Purchase order"},
    "contract": {"de": "Vertragsnummer", "en": "Contract"},
    "project": {"de": "Projektnummer", "en": "Project"},
    "sales_order": {"de": "Auftragsnummer", "en": "Sales order"},
    "receiving_advice": {"de": "Wareneingangsmeldung", "en": "Receiving advice"},
    "despatch_advice": {"de": "Lieferschein / Versandanzeige", "en": "Despatch advice"},
    "tender": {"de": "Vergabe / Los", "en": "Tender or lot"},
    "invoiced_object": {"de": "Abrechnungsobjekt", "en": "Invoiced object"},
    "buyer_accounting": {"de": "Kontierung des Käufers", "en": "Buyer accounting reference"},
    "business_process": {"de": "Geschäftsprozess", "en": "Business process"},
    "specification": {"de": "Spezifikation", "en": "Specification"},
    "preceding_invoice": {"de": "Vorausgegangene Rechnung", "en": "Preceding invoice"},
    "dated": {"de": "vom", "en": "of"},
    "delivery": {"de": "Lieferung", "en": "Delivery"},
    "deliver_to": {"de": "Empfänger", "en": "Deliver to"},
    "delivery_location": {"de": "Lieferort-Kennung", "en": "Delivery location"},
    "delivery_date": {"de": "Lieferdatum", "en": "Delivery date"},
    "invoicing_period": {"de": "Leistungszeitraum", "en": "Invoicing period"},
    "to": {"de": "bis", "en": "to"},
    # notes
    "notes": {"de": "Bemerkungen", "en": "Notes"},
    # lines
    "lines": {"de": "Rechnungspositionen", "en": "Invoice lines"},
    "pos": {"de": "Pos.", "en": "Pos."},
    "item": {"de": "Artikel / Leistung", "en": "Item"},
    "quantity": {"de": "Menge", "en": "Quantity"},
    "net_price": {"de": "Einzelpreis netto", "en": "Net unit price"},
    "vat": {"de": "USt", "en": "VAT"},
    "net_amount": {"de": "Betrag netto", "en": "Net amount"},
    "order_line": {"de": "Bestellpos.", "en": "PO line"},
    "seller_item_id": {"de": "Art.-Nr.", "en": "Item no."},
    "buyer_item_id": {"de": "Art.-Nr. Käufer", "en": "Buyer item no."},
    "standard_item_id": {"de": "Standard-ID", "en": "Standard ID"},
    "classification": {"de": "Klassifizierung", "en": "Classification"},
    "origin": {"de": "Herkunftsland", "en": "Country of origin"},
    "line_note": {"de": "Hinweis", "en": "Note"},
    "line_object": {"de": "Objekt", "en": "Object"},
    "line_period": {"de": "Zeitraum", "en": "Period"},
    "per": {"de": "je", "en": "per"},
    "gross_price": {"de": "Bruttopreis", "en": "Gross price"},
    "price_discount": {"de": "Rabatt", "en": "Discount"},
    "no_lines": {"de": "Keine Rechnungspositionen.", "en": "No invoice lines."},
    "sub_line": {"de": "Unterposition", "en": "Sub line"},
    # allowances and charges
    "allowance": {"de": "Nachlass", "en": "Allowance"},
    "charge": {"de": "Zuschlag", "en": "Charge"},
    "allowances_charges": {"de": "Nachlässe und Zuschläge", "en": "Allowances and charges"},
    "reason": {"de": "Grund", "en": "Reason"},
    "base_amount": {"de": "Basisbetrag", "en": "Base amount"},
    "percentage": {"de": "Prozent", "en": "Percent"},
    "amount": {"de": "Betrag", "en": "Amount"},
    "of": {"de": "von", "en": "of"},
    # VAT and totals
    "vat_breakdown": {"de": "Umsatzsteuer", "en": "VAT breakdown"},
    "vat_category": {"de": "Kategorie", "en": "Category"},
    "vat_rate": {"de": "Satz", "en": "Rate"},
    "taxable_amount": {"de": "Bemessungsgrundlage", "en": "Taxable amount"},
    "tax_amount": {"de": "Steuerbetrag", "en": "Tax amount"},
    "exemption": {"de": "Befreiungsgrund", "en": "Exemption reason"},
    "totals": {"de": "Summen", "en": "Totals"},
    "sum_lines": {"de": "Summe Positionen netto", "en": "Sum of line net amounts"},
    "sum_allowances": {"de": "Summe Nachlässe", "en": "Sum of allowances"},
    "sum_charges": {"de": "Summe Zuschläge", "en": "Sum of charges"},
    "total_net": {"de": "Gesamtbetrag netto", "en": "Total without VAT"},
    "total_vat": {"de": "Umsatzsteuer", "en": "VAT"},
    "total_vat_accounting": {"de": "Umsatzsteuer in Abrechnungswährung", "en": "VAT in accounting currency"},
    "total_gross": {"de": "Gesamtbetrag brutto", "en": "Total with VAT"},
    "paid": {"de": "Bereits gezahlt", "en": "Paid amount"},
    "rounding": {"de": "Rundung", "en": "Rounding"},
    "third_party": {"de": "Zahlung an Dritte", "en": "Third party payment"},
    "amount_due": {"de": "Zahlbetrag", "en": "Amount due for payment"},
    # payment
    "payment": {"de": "Zahlung", "en": "Payment"},
    "means": {"de": "Zahlungsart", "en": "Payment means"},
    "remittance": {"de": "Verwendungszweck", "en": "Remittance information"},
    "iban": {"de": "IBAN / Konto", "en": "IBAN / account"},
    "account_name": {"de": "Kontoinhaber", "en": "Account name"},
    "bic": {"de": "BIC", "en": "BIC"},
    "card": {"de": "Zahlungskarte", "en": "Payment card"},
    "card_holder": {"de": "Karteninhaber", "en": "Card holder"},
    "mandate": {"de": "Mandatsreferenz", "en": "Mandate reference"},
    "creditor_id": {"de": "Gläubiger-ID", "en": "Creditor ID"},
    "debited_account": {"de": "Belastetes Konto", "en": "Debited account"},
    "payment_terms": {"de": "Zahlungsbedingungen", "en": "Payment terms"},
    # payment term sentences; {percent} {days} {base} are filled in
    "skonto": {
        "de": "{percent} Skonto bei Zahlung innerhalb von {days}",
        "en": "{percent} discount if paid within {days}",
    },
    "verzug": {
        "de": "{percent} Verzugszinsen bei Zahlung nach {days}",
        "en": "{percent} late payment interest if paid after {days}",
    },
    "on_base": {"de": " auf einen Basisbetrag von {base}", "en": " on a base amount of {base}"},
    "day": {"de": "{n} Tag", "en": "{n} day"},
    "days": {"de": "{n} Tagen", "en": "{n} days"},
    "until": {"de": "bis {date}", "en": "by {date}"},
    "after": {"de": "ab {date}", "en": "from {date}"},
    "counted": {"de": "(gerechnet ab Rechnungsdatum)", "en": "(counted from the issue date)"},
    "deduction": {"de": "Abzug {amount}, zu zahlen {pay}", "en": "deduction {amount}, pay {pay}"},
    # attachments
    "attachments": {"de": "Anlagen", "en": "Attachments"},
    "attachment_ref": {"de": "Kennung", "en": "Reference"},
    "description": {"de": "Beschreibung", "en": "Description"},
    "file": {"de": "Datei", "en": "File"},
    "mime": {"de": "Typ", "en": "Type"},
    "size": {"de": "Größe", "en": "Size"},
    "external": {"de": "Externer Verweis", "en": "External location"},
    "download": {"de": "herunterladen", "en": "download"},
}

# UNTDID 1001, the codes EN 16931 invoices and credit notes use in practice.
_DOCUMENT_TYPES: Final[dict[str, tuple[str, str]]] = {
    "380": ("Rechnung", "Invoice"),
    "381": ("Gutschrift", "Credit note"),
    "384": ("Rechnungskorrektur", "Corrected invoice"),
    "389": ("Gutschrift (Selbstfakturierung)", "Self-billed invoice"),
    "326": ("Teilrechnung", "Partial invoice"),
    "386": ("Vorauszahlungsrechnung", "Prepayment invoice"),
    "875": ("Abschlagsrechnung (Bauleistung)", "Partial construction invoice"),
    "876": ("Teilschlussrechnung (Bauleistung)", "Partial final construction invoice"),
    "877": ("Schlussrechnung (Bauleistung)", "Final construction invoice"),
    "383": ("Belastungsanzeige", "Debit note"),
    "261": ("Gutschrift (Selbstfakturierung)", "Self-billed credit note"),
    "262": ("Sammelgutschrift", "Consolidated credit note"),
    "396": ("Factoring-Gutschrift", "Factored credit note"),
    "393": ("Factoring-Rechnung", "Factored invoice"),
    "751": ("Rechnungsinformation für Buchhaltungszwecke", "Invoice information for accounting purposes"),
}
# UNTDID 1001 codes of credit notes: their amounts reduce what the buyer owes.
_CREDIT_TYPES: Final = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})

# UNTDID 4461
_PAYMENT_MEANS: Final[dict[str, tuple[str, str]]] = {
    "1": ("nicht definiert", "Instrument not defined"),
    "10": ("Barzahlung", "In cash"),
    "20": ("Scheck", "Cheque"),
    "30": ("Überweisung", "Credit transfer"),
    "31": ("Lastschrift", "Debit transfer"),
    "42": ("Zahlung auf Bankkonto", "Payment to bank account"),
    "48": ("Bankkarte", "Bank card"),
    "49": ("Lastschrift", "Direct debit"),
    "54": ("Kreditkarte", "Credit card"),
    "55": ("Debitkarte", "Debit card"),
    "57": ("Dauerauftrag", "Standing agreement"),
    "58": ("SEPA-Überweisung", "SEPA credit transfer"),
    "59": ("SEPA-Lastschrift", "SEPA direct debit"),
    "68": ("Online-Zahlungsdienst", "Online payment service"),
    "97": ("Verrechnung", "Clearing between partners"),
    "ZZZ": ("individuell vereinbart", "Mutually defined"),
}

# UNTDID 5305 as EN 16931 restricts it
_VAT_CATEGORIES: Final[dict[str, tuple[str, str]]] = {
    "S": ("Normalsatz", "Standard rate"),
    "Z": ("Nullsatz", "Zero rated"),
    "E": ("steuerbefreit", "Exempt from VAT"),
    "AE": ("Steuerschuldnerschaft des Leistungsempfängers", "VAT reverse charge"),
    "K": ("innergemeinschaftliche Lieferung", "Intra-community supply"),
    "G": ("Ausfuhr in Drittländer", "Export outside the EU"),
    "O": ("nicht steuerbar", "Not subject to VAT"),
    "L": ("IGIC (Kanaren)", "Canary Islands IGIC"),
    "M": ("IPSI (Ceuta, Melilla)", "Ceuta and Melilla IPSI"),
}

# UNTDID 4451, the subject codes seen on German invoices
_NOTE_SUBJECTS: Final[dict[str, tuple[str, str]]] = {
    "AAI": ("Allgemeine Information", "General information"),
    "AAB": ("Zahlungsbedingungen", "Payment terms"),
    "AAK": ("Preisbedingungen", "Price conditions"),
    "ADU": ("Hinweis", "Note"),
    "CUS": ("Zollangaben", "Customs information"),
    "PMT": ("Zahlungsinformation", "Payment information"),
    "REG": ("Regulatorische Angaben", "Regulatory information"),
    "SUR": ("Anmerkung des Lieferanten", "Supplier remarks"),
    "TXD": ("Steuerangaben", "Tax declaration"),
}

# UN/ECE Recommendation 20, the units AP staff meet every day; others show as their code.
_UNITS: Final[dict[str, tuple[str, str]]] = {
    "C62": ("Stück", "pcs"),
    "H87": ("Stück", "pcs"),
    "EA": ("Stück", "each"),
    "XPP": ("Stück", "pcs"),
    "PR": ("Paar", "pair"),
    "SET": ("Satz", "set"),
    "LS": ("pauschal", "lump sum"),
    "HUR": ("Std.", "h"),
    "MIN": ("Min.", "min"),
    "DAY": ("Tag(e)", "day(s)"),
    "WEE": ("Woche(n)", "week(s)"),
    "MON": ("Monat(e)", "month(s)"),
    "ANN": ("Jahr(e)", "year(s)"),
    "KGM": ("kg", "kg"),
    "GRM": ("g", "g"),
    "TNE": ("t", "t"),
    "MTR": ("m", "m"),
    "KMT": ("km", "km"),
    "MTK": ("m²", "m²"),
    "MTQ": ("m³", "m³"),
    "LTR": ("l", "l"),
    "KWH": ("kWh", "kWh"),
    "P1": ("%", "%"),
}

_CURRENCY_SYMBOLS: Final = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_SYNTAXES: Final = {"ubl-invoice": "UBL Invoice", "ubl-creditnote": "UBL CreditNote", "cii": "UN/CEFACT CII"}

# The MIME types XRechnung allows for BT-125. Anything else is offered as a plain download,
# so a stranger's attachment cannot become an HTML page opened from this one.
_SAFE_MIME: Final = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "text/xml",
        "application/xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)

NBSP: Final = "\u00a0"


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (expected one of {', '.join(LANGUAGES)})")
    return lang


def label(key: str, lang: str) -> str:
    """The label ``key`` in ``lang``; a missing key is a programming error, so it raises."""
    return LABELS[key][_check_lang(lang)]


def _coded(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str | None:
    if code is None:
        return None
    names = table.get(code.strip())
    return names[LANGUAGES.index(lang)] if names else None


# ---------------------------------------------------------------- formatting ---


def _group(digits: str, lang: str) -> str:
    """Swap the separators of a number Python formatted the English way."""
    if lang == "de":
        return digits.replace(",", "_").replace(".", ",").replace("_", ".")
    return digits


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_number(value: Decimal, lang: str, *, places: int | None = None) -> str:
    """A decimal with grouping; without ``places``, as many decimals as it needs and no more."""
    _check_lang(lang)
    if places is None:
        # Quantities and rates are written with arbitrary scale ("10.000"); trailing zeros
        # would read as thousands in the other language.
        places = _places(value.normalize()) if value != value.to_integral_value() else 0
    return _group(f"{value:,.{places}f}", lang)


def format_amount(value: Decimal, currency: str | None, lang: str) -> str:
    """An amount in the language's style: de ``1.234,56 €``, en ``€1,234.56``; scale kept, at least 2."""
    _check_lang(lang)
    digits = _group(f"{abs(value):,.{max(2, _places(value))}f}", lang)
    sign = "-" if value < 0 else ""
    code = (currency or "").strip().upper()
    if not code:
        return sign + digits
    symbol = _CURRENCY_SYMBOLS.get(code)
    if lang == "de":
        return f"{sign}{digits}{NBSP}{symbol or code}"
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code}{NBSP}{digits}"


def format_percent(value: Decimal, lang: str, *, places: int | None = None) -> str:
    """A percentage: de ``19 %`` (DIN 5008 spacing), en ``19%``."""
    number = format_number(value, lang, places=places)
    return f"{number}{NBSP}%" if lang == "de" else f"{number}%"


def format_date(value: date, lang: str) -> str:
    """de ``31.01.2024``, en ``2024-01-31``."""
    return value.strftime("%d.%m.%Y") if _check_lang(lang) == "de" else value.isoformat()


_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}")


def format_iban(value: str) -> str:
    """An IBAN in groups of four; anything that is not IBAN-shaped is returned as written."""
    compact = re.sub(r"\s+", "", value).upper()
    if not _IBAN.fullmatch(compact):
        return value
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _format_size(size: int, lang: str) -> str:
    if size < 1024:
        return f"{size}{NBSP}B"
    # Attachments are bounded by the reader's document limit (50 MB), so MB is the largest unit.
    value, unit = size / 1024, "KB"
    if value >= 1024:
        value, unit = value / 1024, "MB"
    return f"{format_number(Decimal(f'{value:.1f}'), lang)}{NBSP}{unit}"


# ------------------------------------------------------------- payment terms ---


@dataclass(frozen=True)
class PaymentTerm:
    """One XRechnung structured payment term line: ``#SKONTO#TAGE=14#PROZENT=2.00#``."""

    kind: str  # "SKONTO" or "VERZUG"
    days: int
    percent: Decimal
    base_amount: Decimal | None = None


# XRechnung (BT-20) demands upper case and no whitespace; the match is lenient about case
# because a reader is better served by a sentence than by the raw code either way.
_PAYMENT_TERM = re.compile(
    r"#(?P<kind>SKONTO|VERZUG)#TAGE=(?P<days>[0-9]+)#PROZENT=(?P<percent>[0-9]+(?:\.[0-9]+)?)#"
    r"(?:BASISBETRAG=(?P<base>-?[0-9]+(?:\.[0-9]+)?)#)?",
    re.IGNORECASE,
)


def parse_payment_terms(text: str | None) -> list[PaymentTerm | str]:
    """BT-20 split into structured Skonto/Verzug terms and the free text lines around them, in order."""
    if not text:
        return []
    items: list[PaymentTerm | str] = []

    def free(chunk: str) -> None:
        items.extend(line.strip() for line in chunk.splitlines() if line.strip())

    position = 0
    for match in _PAYMENT_TERM.finditer(text):
        free(text[position : match.start()])
        base = match["base"]
        items.append(
            PaymentTerm(
                kind=match["kind"].upper(),
                days=int(match["days"]),
                percent=Decimal(match["percent"]),
                base_amount=Decimal(base) if base is not None else None,
            )
        )
        position = match.end()
    free(text[position:])
    return items


def _days(n: int, lang: str) -> str:
    return label("day" if n == 1 else "days", lang).format(n=n)


def describe_payment_term(term: PaymentTerm, lang: str, currency: str | None = None) -> str:
    """The term as a sentence: ``2,00 % Skonto bei Zahlung innerhalb von 14 Tagen``."""
    # Percentages are shown with the two decimals XRechnung prescribes for them.
    percent = format_percent(term.percent, lang, places=max(2, _places(term.percent)))
    sentence = label("skonto" if term.kind == "SKONTO" else "verzug", lang).format(
        percent=percent, days=_days(term.days, lang)
    )
    if term.base_amount is not None:
        sentence += label("on_base", lang).format(base=format_amount(term.base_amount, currency, lang))
    return sentence


# ---------------------------------------------------------------- view model ---


@dataclass(frozen=True)
class Field:
    """One labelled value; ``term`` is the business term id shown beside the label."""

    label: str
    value: str
    term: str | None = None
    term_title: str = ""
    css: str = ""
    href: str | None = None


@dataclass(frozen=True)
class Party:
    title: str
    term: str
    name: str | None
    address: list[str]
    fields: list[Field]


@dataclass(frozen=True)
class LineRow:
    depth: int
    position: str
    name: str
    description: str | None
    details: list[Field]
    quantity: str
    unit: str
    unit_code: str
    price: str
    price_details: list[str]
    vat: str
    vat_title: str
    amount: str
    order_line: str
    sub_line: bool


@dataclass(frozen=True)
class AcRow:
    """A line or document allowance or charge, already formatted."""

    kind: str
    term: str
    reason: str
    basis: str
    vat: str
    amount: str
    allowance: bool


@dataclass(frozen=True)
class VatRow:
    category: str
    category_name: str
    rate: str
    taxable: str
    tax: str
    exemption: str


@dataclass(frozen=True)
class Account:
    """One credit transfer account (BG-17)."""

    identifier: str
    name: str
    bic: str


@dataclass(frozen=True)
class TermRow:
    sentence: str
    detail: str | None
    structured: bool


@dataclass(frozen=True)
class Attachment:
    fields: list[Field]
    name: str
    href: str | None
    download_name: str | None


@dataclass(frozen=True)
class Page:
    lang: str
    title: str
    is_credit: bool
    head: list[Field]
    leitweg: Field | None
    due: Field | None
    meta: list[Field]
    parties: list[Party]
    references: list[Field]
    delivery: list[Field]
    notes: list[Field]
    lines: list[LineRow]
    line_allowances: dict[int, list[AcRow]]
    allowances: list[AcRow]
    vat: list[VatRow]
    totals: list[Field]
    payment: list[Field]
    accounts: list[Account]
    terms: list[TermRow]
    attachments: list[Attachment]
    labels: dict[str, str] = field(default_factory=dict)


class _Builder:
    """Builds the ``Page`` for one invoice in one language."""

    def __init__(self, invoice: Invoice, lang: str) -> None:
        self.inv = invoice
        self.lang = lang
        self.currency = invoice.currency_code

    # small helpers ---------------------------------------------------------

    def t(self, key: str) -> str:
        return label(key, self.lang)

    def field(self, key: str, value: str | None, term: str | None = None, **extra: Any) -> Field | None:
        if value is None or not str(value).strip():
            return None
        title = term_name(term, self.lang) if term else ""
        return Field(label=self.t(key), value=str(value), term=term, term_title=title, **extra)

    @staticmethod
    def keep(fields: Iterable[Field | None]) -> list[Field]:
        return [f for f in fields if f is not None]

    def money(self, value: Decimal | None, currency: str | None = None) -> str | None:
        return None if value is None else format_amount(value, currency or self.currency, self.lang)

    def day(self, value: date | None) -> str | None:
        return None if value is None else format_date(value, self.lang)

    def percent(self, value: Decimal | None) -> str | None:
        return None if value is None else format_percent(value, self.lang)

    def identifier(self, ident: Identifier | None) -> str | None:
        if ident is None:
            return None
        return f"{ident.id} ({ident.scheme})" if ident.scheme else ident.id

    def coded(self, table: dict[str, tuple[str, str]], code: str | None) -> str | None:
        """``58 – SEPA-Überweisung``, or the code alone when the table does not know it."""
        if code is None:
            return None
        name = _coded(table, code, self.lang)
        return f"{code} – {name}" if name else code

    def period(self, start: date | None, end: date | None) -> str | None:
        if start is None and end is None:
            return None
        return f"{self.day(start) or '…'} {self.t('to')} {self.day(end) or '…'}"

    # sections -------------------------------------------------------------

    def address(self, address: Address | None) -> list[str]:
        if address is None:
            return []
        town = " ".join(p for p in (address.post_code, address.city) if p)
        region = ", ".join(p for p in (address.country_subdivision, address.country_code) if p)
        return [p for p in (address.line_1, address.line_2, address.line_3, town, region) if p]

    def contact(self, contact: Contact | None, terms: tuple[str, str, str]) -> list[Field | None]:
        if contact is None:
            return []
        return [
            self.field("contact_point", contact.point, terms[0]),
            self.field("telephone", contact.telephone, terms[1]),
            self.field("email", contact.email, terms[2]),
        ]

    def party(
        self, key: str, group: str, name: str | None, address: Address | None, fields: list[Field | None]
    ) -> Party:
        return Party(
            title=self.t(key),
            term=group,
            name=name,
            address=self.address(address),
            fields=self.keep(fields),
        )

    def parties(self) -> list[Party]:
        inv = self.inv
        out: list[Party] = []
        if inv.seller:
            s = inv.seller
            out.append(
                self.party(
                    "seller",
                    "BG-4",
                    s.name,
                    s.address,
                    [
                        self.field("trading_name", s.trading_name, "BT-28"),
                        *(self.field("party_id", self.identifier(i), "BT-29") for i in s.identifiers),
                        self.field("vat_id", s.vat_identifier, "BT-31", css="mono"),
                        self.field("tax_number", s.tax_registration_identifier, "BT-32", css="mono"),
                        self.field("legal_registration", self.identifier(s.legal_registration_identifier), "BT-30"),
                        self.field("legal_info", s.additional_legal_information, "BT-33"),
                        self.field("electronic_address", self.identifier(s.electronic_address), "BT-34"),
                        *self.contact(s.contact, ("BT-41", "BT-42", "BT-43")),
                    ],
                )
            )
        if inv.buyer:
            b = inv.buyer
            out.append(
                self.party(
                    "buyer",
                    "BG-7",
                    b.name,
                    b.address,
                    [
                        self.field("trading_name", b.trading_name, "BT-45"),
                        self.field("party_id", self.identifier(b.identifier), "BT-46"),
                        self.field("vat_id", b.vat_identifier, "BT-48", css="mono"),
                        self.field("legal_registration", self.identifier(b.legal_registration_identifier), "BT-47"),
                        self.field("electronic_address", self.identifier(b.electronic_address), "BT-49"),
                        *self.contact(b.contact, ("BT-56", "BT-57", "BT-58")),
                    ],
                )
            )
        if inv.payee:
            p = inv.payee
            out.append(
                self.party(
                    "payee",
                    "BG-10",
                    p.name,
                    None,
                    [
                        self.field("party_id", self.identifier(p.identifier), "BT-60"),
                        self.field("legal_registration", self.identifier(p.legal_registration_identifier), "BT-61"),
                    ],
                )
            )
        if inv.tax_representative:
            r = inv.tax_representative
            out.append(
                self.party(
                    "tax_representative",
                    "BG-11",
                    r.name,
                    r.address,
                    [self.field("vat_id", r.vat_identifier, "BT-63", css="mono")],
                )
            )
        return out

    def references(self) -> list[Field]:
        inv = self.inv
        fields = [
            self.field("purchase_order", inv.purchase_order_reference, "BT-13", css="strong"),
            self.field("contract", inv.contract_reference, "BT-12"),
            self.field("project", inv.project_reference, "BT-11"),
            self.field("sales_order", inv.sales_order_reference, "BT-14"),
            self.field("despatch_advice", inv.despatch_advice_reference, "BT-16"),
            self.field("receiving_advice", inv.receiving_advice_reference, "BT-15"),
            self.field("tender", inv.tender_or_lot_reference, "BT-17"),
            self.field("invoiced_object", self.identifier(inv.invoiced_object_identifier), "BT-18"),
            self.field("buyer_accounting", inv.buyer_accounting_reference, "BT-19"),
        ]
        for preceding in inv.preceding_invoices:
            value = preceding.reference or "?"
            if preceding.issue_date:
                value += f" {self.t('dated')} {self.day(preceding.issue_date)}"
            fields.append(self.field("preceding_invoice", value, "BT-25"))
        return self.keep(fields)

    def delivery(self) -> list[Field]:
        inv = self.inv
        fields: list[Field | None] = []
        if inv.delivery:
            d = inv.delivery
            fields += [
                self.field("deliver_to", d.deliver_to_name, "BT-70"),
                self.field("address", "\n".join(self.address(d.address)), "BG-15"),
                self.field("delivery_date", self.day(d.actual_delivery_date), "BT-72", css="strong"),
                self.field("delivery_location", self.identifier(d.location_identifier), "BT-71"),
            ]
        if inv.invoicing_period:
            p = inv.invoicing_period
            fields.append(self.field("invoicing_period", self.period(p.start_date, p.end_date), "BG-14", css="strong"))
        return self.keep(fields)

    def notes(self) -> list[Field]:
        out = []
        for note in self.inv.notes:
            if not note.text:
                continue
            subject = self.coded(_NOTE_SUBJECTS, note.subject_code) if note.subject_code else None
            out.append(
                Field(
                    label=subject or "",
                    value=note.text.strip(),
                    term="BT-21" if subject else "BT-22",
                    term_title=term_name("BT-21" if subject else "BT-22", self.lang),
                )
            )
        return out

    def unit(self, code: str | None) -> str:
        if not code:
            return ""
        return _coded(_UNITS, code, self.lang) or code

    def line_details(self, line: InvoiceLine) -> list[Field]:
        item = line.item
        classifications = []
        for c in item.classifications if item else []:
            scheme = " ".join(p for p in (c.scheme, c.scheme_version) if p)
            classifications.append(self.field("classification", f"{c.id} ({scheme})" if scheme else c.id, "BT-158"))
        attributes = [
            Field(
                label=a.name or "",
                value=a.value or "",
                term="BG-32",
                term_title=term_name("BG-32", self.lang),
            )
            for a in (item.attributes if item else [])
        ]
        period = self.period(line.period.start_date, line.period.end_date) if line.period else None
        return self.keep(
            [
                self.field("seller_item_id", item.sellers_identifier if item else None, "BT-155"),
                self.field("buyer_item_id", item.buyers_identifier if item else None, "BT-156"),
                self.field("standard_item_id", self.identifier(item.standard_identifier) if item else None, "BT-157"),
                *classifications,
                self.field("origin", item.country_of_origin if item else None, "BT-159"),
                *attributes,
                self.field("line_note", line.note, "BT-127"),
                self.field("line_object", self.identifier(line.object_identifier), "BT-128"),
                self.field("line_period", period, "BG-26"),
                self.field("buyer_accounting", line.buyer_accounting_reference, "BT-133"),
            ]
        )

    def price_details(self, line: InvoiceLine) -> list[str]:
        price = line.price
        if price is None:
            return []
        details = []
        if price.base_quantity is not None and price.base_quantity != 1:
            quantity = format_number(price.base_quantity, self.lang)
            details.append(f"{self.t('per')} {quantity} {self.unit(price.base_quantity_unit_code)}".strip())
        if price.gross_price is not None:
            details.append(f"{self.t('gross_price')} {self.money(price.gross_price)}")
        if price.discount is not None:
            details.append(f"{self.t('price_discount')} {self.money(price.discount)}")
        return details

    def line_rows(
        self, lines: Sequence[InvoiceLine], depth: int, rows: list[LineRow], acs: dict[int, list[AcRow]]
    ) -> None:
        """Flatten lines and their sub lines (BG-DEX-01) into rows, depth first, as they are read."""
        for line in lines:
            item, price, vat = line.item, line.price, line.vat
            rows.append(
                LineRow(
                    depth=depth,
                    position=line.identifier or "",
                    name=(item.name if item and item.name else ""),
                    # Many suppliers repeat the name as description; once is enough to read.
                    description=item.description if item and item.description != item.name else None,
                    details=self.line_details(line),
                    quantity=format_number(line.quantity, self.lang) if line.quantity is not None else "",
                    unit=self.unit(line.quantity_unit_code),
                    unit_code=line.quantity_unit_code or "",
                    price=(self.money(price.net_price) or "") if price else "",
                    price_details=self.price_details(line),
                    vat=(self.percent(vat.rate) or vat.category_code or "") if vat else "",
                    vat_title=(self.coded(_VAT_CATEGORIES, vat.category_code) or "") if vat else "",
                    amount=self.money(line.net_amount) or "",
                    order_line=line.order_line_reference or "",
                    sub_line=depth > 0,
                )
            )
            line_acs = [self.ac(a, "BG-27") for a in line.allowances]
            line_acs += [self.ac(c, "BG-28") for c in line.charges]
            if line_acs:
                acs[len(rows) - 1] = line_acs
            self.line_rows(line.sub_lines, depth + 1, rows, acs)

    def ac(self, ac: AllowanceCharge, group: str) -> AcRow:
        allowance = isinstance(ac, (DocumentAllowance, LineAllowance))
        reason = " – ".join(p for p in (ac.reason_code, ac.reason) if p)
        basis = ""
        if ac.percentage is not None:
            basis = self.percent(ac.percentage) or ""
            if ac.base_amount is not None:
                basis += f" {self.t('of')} {self.money(ac.base_amount)}"
        elif ac.base_amount is not None:
            basis = f"{self.t('base_amount')} {self.money(ac.base_amount)}"
        vat = ""
        if isinstance(ac, (DocumentAllowance, DocumentCharge)):
            rate = self.percent(ac.vat_rate)
            vat = " ".join(p for p in (ac.vat_category_code, rate) if p)
        amount = self.money(ac.amount) or ""
        return AcRow(
            kind=self.t("allowance" if allowance else "charge"),
            term=group,
            reason=reason,
            basis=basis,
            vat=vat,
            amount=f"-{amount}" if allowance and amount and not amount.startswith("-") else amount,
            allowance=allowance,
        )

    def vat(self) -> list[VatRow]:
        return [
            VatRow(
                category=v.category_code or "",
                category_name=_coded(_VAT_CATEGORIES, v.category_code, self.lang) or "",
                rate=self.percent(v.rate) or "",
                taxable=self.money(v.taxable_amount) or "",
                tax=self.money(v.tax_amount) or "",
                exemption=" – ".join(p for p in (v.exemption_reason_code, v.exemption_reason) if p),
            )
            for v in self.inv.vat_breakdown
        ]

    def totals(self) -> list[Field]:
        t = self.inv.totals
        if t is None:
            return []
        fields = [
            self.field("sum_lines", self.money(t.sum_of_line_net_amounts), "BT-106"),
            self.field("sum_allowances", self.money(t.sum_of_allowances), "BT-107"),
            self.field("sum_charges", self.money(t.sum_of_charges), "BT-108"),
            self.field("total_net", self.money(t.total_without_vat), "BT-109", css="sum"),
            self.field("total_vat", self.money(t.total_vat), "BT-110"),
            self.field(
                "total_vat_accounting",
                self.money(t.total_vat_in_accounting_currency, self.inv.vat_accounting_currency_code),
                "BT-111",
            ),
            self.field("total_gross", self.money(t.total_with_vat), "BT-112", css="sum strong"),
            self.field("paid", self.money(t.paid_amount), "BT-113"),
            self.field("rounding", self.money(t.rounding_amount), "BT-114"),
        ]
        for third in self.inv.third_party_payments:
            what = " – ".join(p for p in (third.type_code, third.description) if p)
            fields.append(
                Field(
                    label=f"{self.t('third_party')}{': ' + what if what else ''}",
                    value=self.money(third.amount) or "",
                    term="BG-DEX-09",
                    term_title=term_name("BG-DEX-09", self.lang),
                )
            )
        fields.append(self.field("amount_due", self.money(t.amount_due), "BT-115", css="due"))
        return self.keep(fields)

    def payment(self) -> tuple[list[Field], list[Account]]:
        pi: PaymentInstructions | None = self.inv.payment_instructions
        if pi is None:
            return [], []
        fields = [
            self.field("means", self.coded(_PAYMENT_MEANS, pi.means_type_code), "BT-81", css="strong"),
            self.field("means", pi.means_text, "BT-82"),
            self.field("remittance", pi.remittance_information, "BT-83", css="mono strong"),
        ]
        if pi.card:
            fields += [
                self.field("card", pi.card.primary_account_number, "BT-87", css="mono"),
                self.field("card_holder", pi.card.holder_name, "BT-88"),
            ]
        if pi.direct_debit:
            dd = pi.direct_debit
            fields += [
                self.field("mandate", dd.mandate_reference, "BT-89", css="mono"),
                self.field("creditor_id", dd.creditor_identifier, "BT-90", css="mono"),
                self.field(
                    "debited_account",
                    format_iban(dd.debited_account_identifier) if dd.debited_account_identifier else None,
                    "BT-91",
                    css="mono",
                ),
            ]
        accounts = [
            Account(
                identifier=format_iban(ct.account_identifier) if ct.account_identifier else "",
                name=ct.account_name or "",
                bic=ct.service_provider_identifier or "",
            )
            for ct in pi.credit_transfers
        ]
        return self.keep(fields), accounts

    def payment_terms(self) -> list[TermRow]:
        rows = []
        due = self.inv.totals.amount_due if self.inv.totals else None
        for item in parse_payment_terms(self.inv.payment_terms):
            if isinstance(item, str):
                rows.append(TermRow(sentence=item, detail=None, structured=False))
                continue
            details = []
            if self.inv.issue_date is not None:
                # XRechnung does not say where TAGE counts from; the issue date is the usual
                # reading, and the page says so rather than presenting it as the supplier's date.
                deadline = format_date(self.inv.issue_date + timedelta(days=item.days), self.lang)
                key = "until" if item.kind == "SKONTO" else "after"
                details.append(f"{self.t(key).format(date=deadline)} {self.t('counted')}")
            if item.kind == "SKONTO" and item.percent > 0 and due is not None:
                base = item.base_amount if item.base_amount is not None else due
                deduction = (base * item.percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                details.append(
                    self.t("deduction").format(amount=self.money(deduction), pay=self.money(due - deduction))
                )
            rows.append(
                TermRow(
                    sentence=describe_payment_term(item, self.lang, self.currency),
                    detail="; ".join(details) or None,
                    structured=True,
                )
            )
        return rows

    def attachments(self) -> list[Attachment]:
        out = []
        for doc in self.inv.additional_documents:
            att = doc.attachment
            name = (att.filename if att else None) or doc.reference or "attachment"
            href = download = None
            fields: list[Field | None] = [
                self.field("attachment_ref", doc.reference, "BT-122"),
                self.field("description", doc.description, "BT-123"),
            ]
            if att is not None:
                mime = (att.mime_code or "").strip().lower()
                safe = mime if mime in _SAFE_MIME else "application/octet-stream"
                href = f"data:{safe};base64,{base64.b64encode(att.content).decode('ascii')}"
                download = name
                fields += [
                    self.field("file", att.filename, "BT-125-2"),
                    self.field("mime", att.mime_code, "BT-125-1"),
                    self.field("size", _format_size(len(att.content), self.lang), "BT-125"),
                ]
            if doc.external_location:
                url = doc.external_location.strip()
                # Only web links become links: a javascript: or file: URL from a stranger stays text.
                link = url if re.match(r"https?://", url, re.IGNORECASE) else None
                fields.append(self.field("external", url, "BT-124", href=link))
            out.append(Attachment(fields=self.keep(fields), name=name, href=href, download_name=download))
        return out

    def build(self, profile: Profile | None, source: str | None, syntax: str | None) -> Page:
        inv = self.inv
        code = (inv.type_code or "").strip()
        is_credit = code in _CREDIT_TYPES
        title = _coded(_DOCUMENT_TYPES, code, self.lang) or self.t("doc_credit" if is_credit else "doc_invoice")
        if code and code not in _DOCUMENT_TYPES:
            title += f" ({self.t('type_n').format(code=code)})"
        head = self.keep(
            [
                self.field("number_credit" if is_credit else "number_invoice", inv.number, "BT-1", css="strong mono"),
                self.field("issue_date", self.day(inv.issue_date), "BT-2", css="strong"),
                self.field("type_code", self.coded(_DOCUMENT_TYPES, code) if code else None, "BT-3"),
                self.field("tax_point_date", self.day(inv.value_added_tax_point_date), "BT-7"),
                self.field("tax_point_code", inv.value_added_tax_point_date_code, "BT-8"),
                self.field("currency", inv.currency_code, "BT-5"),
                self.field("vat_currency", inv.vat_accounting_currency_code, "BT-6"),
            ]
        )
        pc = inv.process_control
        meta = self.keep(
            [
                self.field("profile", profile.value if profile and profile is not Profile.UNKNOWN else None),
                self.field("syntax", _SYNTAXES.get(syntax or "", syntax)),
                self.field("source", source),
                self.field("specification", pc.specification_identifier if pc else None, "BT-24", css="mono small"),
                self.field("business_process", pc.business_process_type if pc else None, "BT-23", css="mono small"),
            ]
        )
        rows: list[LineRow] = []
        line_acs: dict[int, list[AcRow]] = {}
        self.line_rows(inv.lines, 0, rows, line_acs)
        payment, accounts = self.payment()
        return Page(
            lang=self.lang,
            title=title,
            is_credit=is_credit,
            head=head,
            leitweg=self.field("leitweg_id", inv.buyer_reference, "BT-10", css="mono"),
            due=self.field("due_date", self.day(inv.due_date), "BT-9", css="strong"),
            meta=meta,
            parties=self.parties(),
            references=self.references(),
            delivery=self.delivery(),
            notes=self.notes(),
            lines=rows,
            line_allowances=line_acs,
            allowances=[self.ac(a, "BG-20") for a in inv.allowances] + [self.ac(c, "BG-21") for c in inv.charges],
            vat=self.vat(),
            totals=self.totals(),
            payment=payment,
            accounts=accounts,
            terms=self.payment_terms(),
            attachments=self.attachments(),
            labels={key: names[self.lang] for key, names in LABELS.items()},
        )


# ------------------------------------------------------------------ rendering ---


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pipeline", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _source_text(source: Source | str | None, lang: str) -> str | None:
    if source is None or isinstance(source, str):
        return source
    if source.kind == "pdf":
        return f"{label('source_pdf', lang)} {source.attachment or '?'}"
    return None


def render_invoice(
    result_or_invoice: ReadResult | Invoice, *, lang: str = "de", source: Source | str | None = None
) -> str:
    """The invoice as one self-contained HTML page, in German (``de``) or English (``en``).

    Given a ``ReadResult``, its profile and source (the PDF attachment the XML came from)
    are shown too; ``source`` overrides the latter, and may be any text.
    """
    _check_lang(lang)
    syntax: str | None = None
    if isinstance(result_or_invoice, Invoice):
        invoice = result_or_invoice
        pc = invoice.process_control
        profile = profile_of(pc.specification_identifier if pc else None)
    else:
        invoice = result_or_invoice.invoice
        profile = result_or_invoice.profile
        syntax = result_or_invoice.document.syntax
        if source is None:
            source = result_or_invoice.document.source
    page = _Builder(invoice, lang).build(profile, _source_text(source, lang), syntax)
    return (
        _environment()
        .get_template("invoice.html.j2")
        .render(page=page, L=page.labels, term_title=lambda term_id: term_name(term_id, lang))
    )
