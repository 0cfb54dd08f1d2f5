"""The upload page's words in German and English, and which language a request wants."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

__all__ = ["LANGS", "TEXTS", "Lang", "format_amount", "format_date", "format_datetime", "negotiate", "text"]

Lang = Literal["de", "en"]
LANGS: Final[tuple[Lang, ...]] = ("de", "en")
DEFAULT_LANG: Final[Lang] = "de"  # German buyers, mostly German suppliers

TEXTS: Final[Mapping[str, Mapping[Lang, str]]] = {
    "title": {"de": "Rechnungen hochladen", "en": "Upload invoices"},
    "intro": {
        "de": "Hier laden Sie E-Rechnungen (XRechnung, ZUGFeRD/Factur-X) für uns hoch und sehen sofort, ob wir sie"
        " annehmen können.",
        "en": "Upload your e-invoices (XRechnung, ZUGFeRD/Factur-X) here and see at once whether we can accept them.",
    },
    "login_heading": {"de": "Anmelden", "en": "Sign in"},
    "login_help": {
        "de": "Melden Sie sich mit dem Upload-Token an, das Sie von unserer Kreditorenbuchhaltung erhalten haben.",
        "en": "Sign in with the upload token our accounts-payable team gave you.",
    },
    "token": {"de": "Upload-Token", "en": "Upload token"},
    "login": {"de": "Anmelden", "en": "Sign in"},
    "logout": {"de": "Abmelden", "en": "Sign out"},
    "login_failed": {
        "de": "Dieses Token ist unbekannt oder wurde widerrufen. Bitte prüfen Sie es oder fragen Sie nach einem neuen.",
        "en": "This token is unknown or was revoked. Please check it or ask us for a new one.",
    },
    "signed_in_as": {"de": "Angemeldet als", "en": "Signed in as"},
    "upload_heading": {"de": "Rechnung hochladen", "en": "Upload an invoice"},
    "upload_help": {
        "de": "XML, PDF mit eingebetteter Rechnung oder ZIP mit mehreren Rechnungen, höchstens {size}.",
        "en": "XML, PDF with an embedded invoice, or a ZIP of several invoices; at most {size}.",
    },
    "file": {"de": "Datei", "en": "File"},
    "upload": {"de": "Hochladen und prüfen", "en": "Upload and check"},
    "submissions": {"de": "Ihre bisherigen Einreichungen", "en": "Your earlier submissions"},
    "no_submissions": {"de": "Sie haben noch nichts hochgeladen.", "en": "You have not uploaded anything yet."},
    "received_at": {"de": "Eingegangen", "en": "Received"},
    "invoice_number": {"de": "Rechnungsnummer", "en": "Invoice number"},
    "issue_date": {"de": "Rechnungsdatum", "en": "Invoice date"},
    "total": {"de": "Gesamtbetrag", "en": "Total"},
    "status": {"de": "Status", "en": "Status"},
    "details": {"de": "Details", "en": "Details"},
    "back": {"de": "Zurück zur Übersicht", "en": "Back to the overview"},
    "in_archive": {"de": "aus ZIP-Archiv", "en": "from ZIP archive"},
    "archive_members": {"de": "Rechnungen in diesem Archiv", "en": "Invoices in this archive"},
    "must_fix": {"de": "Das müssen Sie korrigieren", "en": "What you must fix"},
    "should_check": {
        "de": "Hinweise (die Rechnung wird deshalb nicht abgelehnt)",
        "en": "Notes (these do not make us reject the invoice)",
    },
    "concerns": {"de": "Betrifft", "en": "Concerns"},
    "rule": {"de": "Regel", "en": "Rule"},
    "where": {"de": "Stelle in der Datei", "en": "Place in the file"},
    "value": {"de": "Wert", "en": "Value"},
    "scenario": {"de": "Geprüft nach", "en": "Checked against"},
    "not_found": {"de": "Diese Einreichung gibt es nicht.", "en": "There is no such submission."},
    "session_over": {
        "de": "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
        "en": "Your session has ended. Please sign in again.",
    },
    "csrf_failed": {
        "de": "Das Formular war veraltet. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "en": "The form had expired. Please reload the page and try again.",
    },
    "unavailable": {
        "de": "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten noch einmal.",
        "en": "The service is unavailable right now. Please try again in a few minutes.",
    },
    "error_too_large": {"de": "Die Datei ist größer als {size}.", "en": "The file is larger than {size}."},
    "error_empty": {"de": "Die Datei ist leer.", "en": "The file is empty."},
    "error_no_file": {"de": "Bitte wählen Sie eine Datei aus.", "en": "Please choose a file."},
    "error_bad_form": {"de": "Das Formular kam unvollständig an.", "en": "The form arrived incomplete."},
    # Statuses as a supplier needs them: what happened and what to do now.
    "status_received": {"de": "Eingegangen", "en": "Received"},
    "status_processing": {"de": "In Prüfung", "en": "Being checked"},
    "status_accepted": {"de": "Angenommen", "en": "Accepted"},
    "status_rejected": {"de": "Abgelehnt", "en": "Rejected"},
    "status_duplicate": {"de": "Bereits vorhanden", "en": "Already received"},
    "status_no-invoice": {"de": "Keine E-Rechnung", "en": "No e-invoice"},
    "status_failed": {"de": "Prüfung gestört", "en": "Check failed"},
    "status_unpacked": {"de": "ZIP entpackt", "en": "ZIP unpacked"},
    "explain_received": {
        "de": "Die Rechnung ist eingegangen und wird gleich geprüft.",
        "en": "The invoice has arrived and will be checked shortly.",
    },
    "explain_processing": {"de": "Die Rechnung wird gerade geprüft.", "en": "The invoice is being checked."},
    "explain_accepted": {
        "de": "Ihre Rechnung ist formal in Ordnung und wurde angenommen. Sie müssen nichts weiter tun.",
        "en": "Your invoice is formally correct and has been accepted. There is nothing more for you to do.",
    },
    "explain_rejected": {
        "de": "Ihre Rechnung erfüllt die Regeln der E-Rechnung (EN 16931, XRechnung) nicht und wurde abgelehnt."
        " Bitte korrigieren Sie die unten genannten Angaben in Ihrer Rechnungssoftware und laden Sie die"
        " korrigierte Rechnung erneut hoch.",
        "en": "Your invoice does not meet the e-invoicing rules (EN 16931, XRechnung) and has been rejected."
        " Please correct the items listed below in your invoicing software and upload the corrected invoice.",
    },
    "explain_duplicate": {
        "de": "Diese Rechnung liegt uns bereits vor (dieselbe Datei oder dieselbe Rechnungsnummer und dasselbe Datum)."
        " Sie müssen sie nicht erneut senden.",
        "en": "We already have this invoice (the same file, or the same invoice number and date)."
        " You do not need to send it again.",
    },
    "explain_no-invoice": {
        "de": "Die Datei enthält keine E-Rechnung, die wir lesen können, zum Beispiel ein PDF ohne eingebettete"
        " Rechnungsdaten. Bitte senden Sie eine XRechnung oder eine ZUGFeRD/Factur-X-Rechnung.",
        "en": "The file holds no e-invoice we can read, for example a PDF without embedded invoice data."
        " Please send an XRechnung or a ZUGFeRD/Factur-X invoice.",
    },
    "explain_failed": {
        "de": "Bei der Prüfung ist bei uns ein Fehler aufgetreten. Wir kümmern uns darum; Sie müssen nichts tun.",
        "en": "Something went wrong on our side while checking. We are looking into it; you need not do anything.",
    },
    "explain_unpacked": {
        "de": "Das ZIP-Archiv wurde entpackt; jede Rechnung darin wurde einzeln geprüft.",
        "en": "The ZIP archive was unpacked; each invoice in it was checked on its own.",
    },
    "reason": {"de": "Begründung", "en": "Reason"},
}


def text(key: str, lang: Lang, **values: object) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return entry[lang].format(**values) if values else entry[lang]


def _accept_language(header: str) -> list[tuple[float, str]]:
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag:
            # Equal weights keep the client's order: the earlier entry is preferred.
            ranked.append((quality - position * 1e-6, tag.strip().lower()))
    return sorted(ranked, reverse=True)


def negotiate(asked: str | None, remembered: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` first, then the language chosen earlier (cookie), then Accept-Language, then German."""
    for choice in (asked, remembered):
        if choice in LANGS:
            return choice
    for quality, tag in _accept_language(accept_language or ""):
        primary = tag.split("-")[0]
        if quality > 0 and primary in LANGS:
            return primary
    return DEFAULT_LANG


def format_date(value: date | None, lang: Lang) -> str:
    if value is None:
        return "–"
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()


def format_datetime(value: datetime | None, lang: Lang) -> str:
    if value is None:
        return "–"
    local = value.astimezone()
    return local.strftime("%d.%m.%Y %H:%M") if lang == "de" else local.strftime("%Y-%m-%d %H:%M")


def format_amount(value: Decimal | None, currency: str | None, lang: Lang) -> str:
    if value is None:
        return "–"
    text_ = f"{value:,.2f}"
    if lang == "de":
        text_ = text_.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return f"{text_} {currency or ''}".strip()
