"""German and English for the web pages: the labels, the statuses, and choosing the language.

The language is ``?lang=`` when given, else the best of ``Accept-Language``, else German (the
people reading invoices here mostly work in German).
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["DEFAULT_LANG", "EVENT_LABELS", "LABELS", "STATUS_LABELS", "Lang", "negotiate", "translator"]

Lang = Literal["de", "en"]
DEFAULT_LANG: Final[Lang] = "de"
_SUPPORTED: Final[tuple[Lang, ...]] = ("de", "en")
_BY_TAG: Final[dict[str, Lang]] = {lang: lang for lang in _SUPPORTED}

LABELS: Final[dict[str, tuple[str, str]]] = {
    # key: (de, en)
    "app": ("Eingang", "Eingang"),
    "documents": ("Belege", "Documents"),
    "document": ("Beleg", "Document"),
    "all": ("Alle", "All"),
    "filter_status": ("Status", "Status"),
    "status": ("Status", "Status"),
    "supplier": ("Lieferant", "Supplier"),
    "invoice_number": ("Rechnungsnummer", "Invoice number"),
    "gross_total": ("Bruttobetrag", "Gross total"),
    "verdict": ("Prüfergebnis", "Verdict"),
    "received_at": ("Eingegangen am", "Received at"),
    "file": ("Datei", "File"),
    "source": ("Kanal", "Channel"),
    "sender": ("Absender", "Sender"),
    "issue_date": ("Rechnungsdatum", "Issue date"),
    "due_date": ("Fällig am", "Due date"),
    "reason": ("Grund", "Reason"),
    "no_documents": ("Keine Belege.", "No documents."),
    "shown": ("{n} Belege, neueste zuerst", "{n} documents, newest first"),
    "verdict_accepted": ("gültig", "valid"),
    "verdict_rejected": ("ungültig", "invalid"),
    "verdict_none": ("–", "–"),
    "invoice": ("Rechnung", "Invoice"),
    "no_view": (
        "Für diesen Beleg gibt es keine Lesefassung (keine lesbare Rechnung).",
        "There is no reading copy for this document (no readable invoice).",
    ),
    "open_view": ("Lesefassung in eigenem Fenster", "Reading copy in its own window"),
    "findings": ("Prüfbefunde", "Findings"),
    "no_findings": ("Keine Befunde.", "No findings."),
    "rule": ("Regel", "Rule"),
    "level": ("Stufe", "Level"),
    "message": ("Meldung", "Message"),
    "terms": ("Geschäftsbegriffe", "Business terms"),
    "location": ("Stelle", "Location"),
    "history": ("Verlauf", "History"),
    "history_note": (
        "Unveränderliches Ereignisprotokoll in Reihenfolge der Hash-Kette.",
        "Append-only event log in hash-chain order.",
    ),
    "at": ("Zeit", "Time"),
    "actor": ("Akteur", "Actor"),
    "event": ("Ereignis", "Event"),
    "hash": ("Hash", "Hash"),
    "original": ("Original herunterladen", "Download original"),
    "json": ("JSON", "JSON"),
    "report": ("Prüfbericht", "Validation report"),
    "scenario": ("Szenario", "Scenario"),
    "rule_sets": ("Regelwerke", "Rule sets"),
    "notes": ("Hinweise", "Notes"),
    "duplicate_of": ("Duplikat von", "Duplicate of"),
    "members": ("Enthaltene Belege", "Documents inside"),
    "parent": ("Aus ZIP-Archiv", "From ZIP archive"),
    "size": ("Größe", "Size"),
    "bytes": ("Bytes", "bytes"),
    "back": ("Zur Liste", "Back to the list"),
    "level_error": ("Fehler", "error"),
    "level_warning": ("Warnung", "warning"),
    "level_information": ("Hinweis", "information"),
    "not_found": ("Nicht gefunden", "Not found"),
    "bad_request": ("Ungültige Anfrage", "Invalid request"),
    "unavailable": ("Dienst nicht erreichbar", "Service unavailable"),
    "server_error": ("Interner Fehler", "Internal error"),
    "language": ("Sprache", "Language"),
    "api_docs": ("API-Dokumentation", "API docs"),
}

STATUS_LABELS: Final[dict[str, tuple[str, str]]] = {
    "received": ("eingegangen", "received"),
    "processing": ("in Verarbeitung", "processing"),
    "accepted": ("angenommen", "accepted"),
    "rejected": ("abgelehnt", "rejected"),
    "duplicate": ("Duplikat", "duplicate"),
    "no-invoice": ("keine Rechnung", "no invoice"),
    "failed": ("fehlgeschlagen", "failed"),
    "in-approval": ("in Freigabe", "in approval"),
    "approved": ("freigegeben", "approved"),
    "returned": ("zurückgegeben", "returned"),
    "exported": ("exportiert", "exported"),
}


EVENT_LABELS: Final[dict[str, tuple[str, str]]] = {
    "finding": ("Befund", "finding"),
    "reclaimed": ("erneut übernommen", "reclaimed"),
}


class translator:  # lower case: templates call it like gettext's ``_``
    """``t("key")`` → the label in this language; ``t.status("accepted")`` → the status's name."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._i = _SUPPORTED.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = LABELS[key][self._i]  # a missing key is a programming error: raise
        return text.format(**values) if values else text

    def status(self, status: str) -> str:
        names = STATUS_LABELS.get(status)
        return names[self._i] if names else status

    def kind(self, kind: str) -> str:
        names = EVENT_LABELS.get(kind)
        return names[self._i] if names else kind

    def level(self, level: str) -> str:
        key = f"level_{level}"
        return self(key) if key in LABELS else level


def negotiate(query_lang: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` wins; else the highest-weighted supported language in ``Accept-Language``."""
    if query_lang is not None and query_lang in _BY_TAG:
        return _BY_TAG[query_lang]
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = _BY_TAG.get(tag.strip().lower().split("-")[0])
        if lang is None:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        # Higher weight first; on a tie, the one the browser listed first.
        if weight > 0 and (best is None or (weight, -position) > best[:2]):
            best = (weight, -position, lang)
    return best[2] if best else DEFAULT_LANG
