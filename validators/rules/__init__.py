"""Native business and syntax rules, registered into versioned rule sets.

Importing this package loads every rule module; ``RULE_SETS`` maps ``name@version`` to its set.
"""

from __future__ import annotations

from validators.rules import families  # noqa: F401  (registers every rule module)
from validators.rules._engine import Assert, Fail, Fired, Flag, RuleSet, Session, node_path
from validators.rules.sets import EN16931_CII, EN16931_UBL, XRECHNUNG_CII, XRECHNUNG_UBL

RULE_SETS: dict[str, RuleSet] = {s.key: s for s in (EN16931_UBL, EN16931_CII, XRECHNUNG_UBL, XRECHNUNG_CII)}

# Match patterns and predicates are compiled here, once, rather than by the first document checked.
for _rule_set in RULE_SETS.values():
    _rule_set.compile()

__all__ = ["RULE_SETS", "Assert", "Fail", "Fired", "Flag", "RuleSet", "Session", "node_path"]
