"""Names of the EN 16931 business terms and groups, in English and German.

English names are those of EN 16931-1; German names follow the German-language XRechnung /
ZUGFeRD documentation (buyer = "Käufer", as in the XRechnung visualisation). The XRechnung
Extension ids (BG-DEX-…, BT-DEX-…) have no official German names; the German ones here are
plain translations. Sub-ids such as BT-29-1 name the scheme attribute of their term.
"""

from __future__ import annotations

import json
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__ = ["LANGUAGES", "TERMS", "term_name"]

LANGUAGES: Final = ("en", "de")
_DATA_FILE = "terms.json"


def _load() -> MappingProxyType[str, MappingProxyType[str, str]]:
    text = resources.files(__package__ or "schemas").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    raw: dict[str, dict[str, str]] = json.loads(text)
    # Read-only views: TERMS is shared module state, and a caller mutating it would
    # silently change every later rendering in the process.
    return MappingProxyType({term_id: MappingProxyType(dict(names)) for term_id, names in raw.items()})


TERMS: Final = _load()


def term_name(term_id: str, lang: str = "en") -> str:
    """The name of a business term or group; the id itself when the term or language is unknown."""
    names = TERMS.get(term_id)
    if names is None:
        return term_id
    return names.get(lang) or term_id
