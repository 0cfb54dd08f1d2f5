"""The values a validation produces: findings and the report with its verdict.

Both are frozen. A finding keeps the rule's own flag (as SVRL has it) and the level that counts
after the scenario's overrides; the verdict is computed from levels only. Messages are kept in
English and German, and a report is rendered in one language when it is written out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from validators.scenario import Level

__all__ = [
    "EINGANG_ENGINE_DIFF",
    "EINGANG_INTERNAL",
    "EINGANG_NOT_AN_INVOICE",
    "EINGANG_NOT_VAT_INVOICE",
    "EINGANG_NO_ARTEFACTS",
    "EINGANG_NO_RULEPACK",
    "Finding",
    "Lang",
    "Report",
    "XsdState",
    "finding_record",
    "report_record",
    "term_names",
]

Lang = Literal["de", "en"]
XsdState = Literal["valid", "invalid", "not-checked"]
ReportSyntax = Literal["ubl-invoice", "ubl-creditnote", "cii", "order-x", "unknown"]

# Eingang's own finding ids, next to the official rule ids ("BR-CO-15") and "XSD". A document that
# is not well-formed XML has no id of its own: as in KoSIT, the schema step reports it ("XSD").
EINGANG_INTERNAL = "EINGANG-INTERNAL"
EINGANG_NO_RULEPACK = "EINGANG-NO-RULEPACK"
EINGANG_NO_ARTEFACTS = "EINGANG-NO-ARTEFACTS"
EINGANG_ENGINE_DIFF = "EINGANG-ENGINE-DIFF"
# Warnings that inform and never decide the verdict (the official artefacts decide it):
EINGANG_NOT_VAT_INVOICE = "EINGANG-NOT-VAT-INVOICE"  # Factur-X MINIMUM / BASIC WL: no invoice under §14 UStG
EINGANG_NOT_AN_INVOICE = "EINGANG-NOT-AN-INVOICE"  # an Order-X order, order change or order response


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    flag: str | None  # as the rule (or SVRL) states it: fatal, warning, information; None when it has none
    level: Level  # after the scenario's overrides; this is what the verdict reads
    message: Mapping[str, str]  # {"en": …, "de": …}
    terms: tuple[str, ...] = ()
    location: str | None = None  # an XPath to the node
    value: str | None = None

    def text(self, lang: Lang) -> str:
        return self.message.get(lang) or self.message.get("en") or next(iter(self.message.values()), "")


class Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    accepted: bool
    syntax: ReportSyntax
    scenario: str | None
    xsd: XsdState
    findings: tuple[Finding, ...] = ()
    rule_sets: tuple[str, ...] = ()
    eingang_version: str
    input_sha256: str
    # Why the verdict is what it is when no finding says it: no scenario, not an invoice, ….
    notes: tuple[str, ...] = Field(default=())

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")


def _lazy_term_name() -> Callable[[str, str], str]:
    try:
        from schemas.terms import term_name
    except ImportError:  # the term table is optional for validation; fall back on the id
        return lambda term_id, lang: term_id
    return term_name


def term_names(terms: tuple[str, ...], lang: Lang) -> list[dict[str, str]]:
    name = _lazy_term_name()
    return [{"id": t, "name": name(t, lang)} for t in terms]


def finding_record(f: Finding, lang: Lang) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "flag": f.flag,
        "level": f.level,
        "message": f.text(lang),
        "terms": term_names(f.terms, lang),
        "location": f.location,
        "value": f.value,
    }


def report_record(r: Report, lang: Lang) -> dict[str, Any]:
    """The JSON form of a report, one language chosen: the shape `eingang validate --format json` prints."""
    return {
        "file": r.file,
        "accepted": r.accepted,
        "syntax": r.syntax,
        "scenario": r.scenario,
        "xsd": r.xsd,
        "findings": [finding_record(f, lang) for f in r.findings],
        "rule_sets": list(r.rule_sets),
        "notes": list(r.notes),
        "eingang_version": r.eingang_version,
        "input_sha256": r.input_sha256,
    }
