"""Validation of e-invoices: parse → scenario → XML Schema → rules → report → verdict.

Pure: bytes and paths in, frozen reports out; no database, network or environment reads.
"""

from __future__ import annotations

from validators.check import Artefacts, Checker, Options, check
from validators.report import Finding, Report
from validators.scenario import Scenario, ScenarioSet, default_scenarios

__all__ = [
    "Artefacts",
    "Checker",
    "Finding",
    "Options",
    "Report",
    "Scenario",
    "ScenarioSet",
    "check",
    "default_scenarios",
]
