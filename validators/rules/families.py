"""Imports every rule family so its rules register; one line per family package."""

from __future__ import annotations

import importlib
import pkgutil

import validators.rules as _rules

_FAMILIES = ("en16931_ubl", "en16931_cii", "syntax", "xrechnung")

for _family in _FAMILIES:
    _package = importlib.import_module(f"{_rules.__name__}.{_family}")
    for _module in sorted(m.name for m in pkgutil.iter_modules(_package.__path__)):
        if not _module.startswith("_"):
            importlib.import_module(f"{_package.__name__}.{_module}")
