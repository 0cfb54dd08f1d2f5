"""The patterns of this family, created once so every module attaches to the same objects.

Pattern order within a rule set does not change what fires (each pattern sees every node);
context order within a pattern does, and each syntax module registers its contexts in the
official order.
"""

from __future__ import annotations

from validators.rules.sets import EN16931_CII, EN16931_UBL

__all__ = ["CII_CODES", "CII_SYNTAX", "UBL_CODES", "UBL_SYNTAX"]

UBL_SYNTAX = EN16931_UBL.pattern("syntax")
UBL_CODES = EN16931_UBL.pattern("codes")
CII_SYNTAX = EN16931_CII.pattern("syntax")
CII_CODES = EN16931_CII.pattern("codes")
