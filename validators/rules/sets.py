"""The rule sets Eingang knows, named by syntax and the version of the official artefacts they follow."""

from __future__ import annotations

from schemas.binding import cii, ubl
from validators.rules._engine import RuleSet

__all__ = ["EN16931_CII", "EN16931_UBL", "XRECHNUNG_CII", "XRECHNUNG_UBL"]

_UBL_NS = {**ubl.NAMESPACES, "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"}
_CII_NS = dict(cii.NAMESPACES)

# CEN EN 16931 validation artefacts v1.3.15.
EN16931_UBL = RuleSet("en16931-ubl", "1.3.15", _UBL_NS)
EN16931_CII = RuleSet("en16931-cii", "1.3.15", _CII_NS)
# XRechnung Schematron 2.5.0 (XRechnung 3.0.2), with the PEPPOL-EN16931-R* rules it merges in.
XRECHNUNG_UBL = RuleSet("xrechnung-ubl", "2.5.0", _UBL_NS)
XRECHNUNG_CII = RuleSet("xrechnung-cii", "2.5.0", _CII_NS)
