"""``eingang validate PATH... [--format text|json|html] [--lang de|en] [--rules all|en16931] …``.

Validates invoices the way the KoSIT validator with its XRechnung configuration does (Factur-X /
ZUGFeRD documents with the official Factur-X artefacts) and prints one verdict per file. All files
go through one ``Checker`` in this process, so schemas and stylesheets are compiled once.

Order-X documents are judged by their official artefacts as well; they are never invoices, and an
``EINGANG-NOT-AN-INVOICE`` warning says so next to the verdict (as ``EINGANG-NOT-VAT-INVOICE`` does
for Factur-X MINIMUM and BASIC WL, which are no invoices under §14 UStG).

Exit status: 0 every file accepted, 1 at least one rejected, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment

from pipeline.commands.rules import rules_dir_from
from validators.check import Artefacts, Checker, Options
from validators.official import facturx_artefacts
from validators.report import Lang, Report, finding_record, report_record
from validators.rulepack import verify

__all__ = ["register", "run"]

SUFFIXES = (".xml", ".pdf")


def register(sub: Any) -> None:
    parser = sub.add_parser("validate", help="validate invoices (XRechnung, EN 16931, Factur-X/ZUGFeRD)")
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="files, or folders searched for *.xml/*.pdf"
    )
    parser.add_argument("--format", choices=("text", "json", "html"), default="text")
    parser.add_argument("--lang", choices=("de", "en"), default="de", help="language of messages and term names")
    parser.add_argument(
        "--rules",
        choices=("all", "en16931"),
        default="all",
        help="all: the matched scenario's rules; en16931: only the EN 16931 rules of the root's syntax",
    )
    parser.add_argument("--no-xsd", action="store_true", help="skip the XML Schema check")
    parser.add_argument("--require-xsd", action="store_true", help="reject when the XML Schema cannot be checked")
    parser.add_argument("--schemas", type=Path, metavar="DIR", help="folder with ubl-2.1/ and cii-d16b/ schemas")
    parser.add_argument(
        "--rules-dir", type=Path, metavar="DIR", help="installed rule pack (default: see `rules where`)"
    )
    parser.add_argument(
        "--engine",
        choices=("native", "official", "both"),
        default="native",
        help="native rules, the official compiled Schematron of the rule pack, or both (differences are reported)",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="OUT", help="write the report here instead of stdout")
    parser.set_defaults(run=run)


def _usage(message: str) -> int:
    sys.stderr.write(f"eingang: error: {message}\n")
    return 2


def _files(paths: list[Path], errors: list[str]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                errors.append(f"no *.xml or *.pdf files in {path}")
            yield from found
        elif path.is_file():
            yield path
        else:
            errors.append(f"no such file or directory: {path}")


def _artefacts(args: argparse.Namespace) -> Artefacts:
    rules_dir = rules_dir_from(args.rules_dir)
    problems = verify(rules_dir)
    pack = rules_dir if not problems else None
    if args.schemas is not None:
        return Artefacts(schemas=args.schemas, rule_pack=pack, facturx=facturx_artefacts())
    missing = None
    if pack is None:
        found = f"rule pack at {rules_dir}: {problems[0]}" if rules_dir.exists() else f"no rule pack at {rules_dir}"
        missing = f"{found}; install the official schemas with `eingang rules install SOURCE` or pass --schemas DIR"
    return Artefacts(schemas=pack, rule_pack=pack, facturx=facturx_artefacts(), schemas_missing=missing)


class _Progress:
    """A one-line progress bar on stderr, only for a person watching a terminal."""

    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty() and total > 1

    def step(self, done: int, name: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {name[-40:]:<40}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    if args.no_xsd and args.require_xsd:
        return _usage("--no-xsd and --require-xsd exclude each other")
    if args.rules == "en16931" and args.engine != "native":
        return _usage("--rules en16931 runs the native EN 16931 rules only; drop --engine")
    if args.schemas is not None and not args.schemas.is_dir():
        return _usage(f"--schemas {args.schemas} is not a directory")

    errors: list[str] = []
    files = list(_files(args.paths, errors))
    options = Options(rules=args.rules, xsd=not args.no_xsd, require_xsd=args.require_xsd, engine=args.engine)
    lang: Lang = args.lang
    out: IO[str] = sys.stdout
    if args.output is not None:
        try:
            out = args.output.open("w", encoding="utf-8")
        except OSError as exc:
            return _usage(f"cannot write {args.output}: {exc.strerror}")
    reports: list[Report] = []
    verdicts: list[bool] = []
    progress = _Progress(len(files), sys.stderr)
    try:
        with Checker(artefacts=_artefacts(args), options=options) as checker:
            for n, path in enumerate(files, start=1):
                progress.step(n, str(path))
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    errors.append(f"cannot read {path}: {exc.strerror}")
                    continue
                report = checker.check(data, str(path))
                verdicts.append(report.accepted)
                if args.format == "json":
                    out.write(json.dumps(report_record(report, lang), ensure_ascii=False) + "\n")
                elif args.format == "text":
                    out.write(render_text(report, lang))
                    out.flush()
                else:
                    reports.append(report)
        progress.close()
        if args.format == "html":
            out.write(render_html(reports, lang))
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            out.flush()
    for message in errors:
        sys.stderr.write(f"eingang: error: {message}\n")
    if errors:
        return 2
    return 0 if verdicts and all(verdicts) else 1


_WORDS = {
    "en": {
        True: "ACCEPTED",
        False: "REJECTED",
        "no_scenario": "no scenario",
        "xsd": "XML Schema",
        "note": "note",
        "at": "at",
        "value": "value",
    },
    "de": {
        True: "ANGENOMMEN",
        False: "ABGELEHNT",
        "no_scenario": "kein Szenario",
        "xsd": "XML-Schema",
        "note": "Hinweis",
        "at": "an",
        "value": "Wert",
    },
}
_XSD_STATE = {
    "en": {"valid": "valid", "invalid": "invalid", "not-checked": "not checked"},
    "de": {"valid": "gültig", "invalid": "ungültig", "not-checked": "nicht geprüft"},
}
_LEVEL = {
    "en": {"error": "error", "warning": "warning", "information": "info"},
    "de": {"error": "Fehler", "warning": "Warnung", "information": "Info"},
}


def render_text(report: Report, lang: Lang) -> str:
    w = _WORDS[lang]
    lines = [
        f"{report.file}: {w[report.accepted]}  ({report.scenario or w['no_scenario']}, "
        f"{w['xsd']} {_XSD_STATE[lang][report.xsd]})"
    ]
    lines.extend(f"  {w['note']}: {note}" for note in report.notes)
    for f in report.findings:
        rec = finding_record(f, lang)
        terms = ", ".join(t["id"] if t["name"] == t["id"] else f"{t['id']} {t['name']}" for t in rec["terms"])
        line = f"  {_LEVEL[lang][f.level]:<8} {f.rule} [{f.flag or '-'}] {rec['message']}"
        if terms:
            line += f" ({terms})"
        if f.location:
            line += f"\n           {w['at']} {f.location}"
        if f.value:
            line += f"  {w['value']}: {f.value!r}"
        lines.append(line)
    return "\n".join(lines) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<title>{{ t.title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; }
section { border: 1px solid #ccc; border-radius: 6px; margin: 1.5rem 0; padding: 0.8rem 1.2rem; }
.verdict { font-weight: bold; padding: 0.1rem 0.5rem; border-radius: 4px; }
.accepted { background: #d8f0d8; color: #14532d; }
.rejected { background: #f8d7da; color: #7f1d1d; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem; text-align: left; vertical-align: top; }
td.error { color: #7f1d1d; font-weight: bold; }
td.warning { color: #92400e; }
code { font-size: 0.85em; word-break: break-all; }
.meta { color: #555; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>{{ t.title }}</h1>
<p>{{ t.summary.format(total=reports|length, accepted=accepted) }}</p>
{% for r in reports %}
<section>
<h2><code>{{ r.file }}</code></h2>
<p><span class="verdict {{ 'accepted' if r.accepted else 'rejected' }}">
{{- t.accepted if r.accepted else t.rejected }}</span>
 {{ t.recommend_accept if r.accepted else t.recommend_reject }}</p>
<p class="meta">{{ t.scenario }}: {{ r.scenario or t.no_scenario }} · {{ t.xsd }}: {{ xsd_state[r.xsd] }}
 · {{ t.rule_sets }}: {{ r.rule_sets|join(', ') or '-' }} · SHA-256 <code>{{ r.input_sha256[:16] }}…</code>
 · Eingang {{ r.eingang_version }}</p>
{% for note in r.notes %}<p>{{ t.note }}: {{ note }}</p>{% endfor %}
{% if r.findings %}
<table>
<tr><th>{{ t.level }}</th><th>{{ t.rule }}</th><th>{{ t.message }}</th><th>{{ t.terms }}</th>
<th>{{ t.location }}</th></tr>
{% for f in records[loop.index0] %}
<tr><td class="{{ f.level }}">{{ levels[f.level] }}</td>
<td><code>{{ f.rule }}</code><br><small>{{ f.flag or '-' }}</small></td>
<td>{{ f.message }}{% if f.value %}<br><small>{{ t.value }}: <code>{{ f.value }}</code></small>{% endif %}</td>
<td>{% for term in f.terms %}<code>{{ term.id }}</code>
 {{ term.name if term.name != term.id else '' }}<br>{% endfor %}</td>
<td><code>{{ f.location or '' }}</code></td></tr>
{% endfor %}
</table>
{% else %}<p>{{ t.no_findings }}</p>{% endif %}
</section>
{% endfor %}
</body>
</html>
"""
_HTML_WORDS = {
    "en": {
        "title": "Eingang validation report",
        "summary": "{total} file(s), {accepted} accepted.",
        "accepted": "Accepted",
        "rejected": "Rejected",
        "recommend_accept": "Recommendation: accept the invoice for processing.",
        "recommend_reject": "Recommendation: reject the invoice and ask the supplier for a corrected one.",
        "scenario": "Scenario",
        "no_scenario": "none",
        "xsd": "XML Schema",
        "rule_sets": "Rule sets",
        "note": "Note",
        "level": "Level",
        "rule": "Rule",
        "message": "Message",
        "terms": "Business terms",
        "location": "Location",
        "value": "Value",
        "no_findings": "No findings.",
    },
    "de": {
        "title": "Eingang-Prüfbericht",
        "summary": "{total} Datei(en), {accepted} angenommen.",
        "accepted": "Angenommen",
        "rejected": "Abgelehnt",
        "recommend_accept": "Empfehlung: Rechnung zur Bearbeitung annehmen.",
        "recommend_reject": "Empfehlung: Rechnung zurückweisen und beim Lieferanten eine korrigierte anfordern.",
        "scenario": "Szenario",
        "no_scenario": "keines",
        "xsd": "XML-Schema",
        "rule_sets": "Regelwerke",
        "note": "Hinweis",
        "level": "Stufe",
        "rule": "Regel",
        "message": "Meldung",
        "terms": "Geschäftsbegriffe",
        "location": "Fundstelle",
        "value": "Wert",
        "no_findings": "Keine Meldungen.",
    },
}


def render_html(reports: list[Report], lang: Lang) -> str:
    """A self-contained page (inline CSS, no scripts, no external resources) for the given reports."""
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_HTML)
    return template.render(
        lang=lang,
        t=_HTML_WORDS[lang],
        reports=reports,
        records=[[finding_record(f, lang) for f in r.findings] for r in reports],
        accepted=sum(r.accepted for r in reports),
        xsd_state=_XSD_STATE[lang],
        levels=_LEVEL[lang],
    )
