"""The code lists of the BR-CL rules, loaded once from ``codelists.json``, and the membership test they share."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from lxml import etree

from validators.rules._engine import Fail, Test
from validators.rules._text import string_value

__all__ = ["CODE_LISTS", "CODE_LIST_TEXT", "coded", "in_list", "normalize_space"]


def _raw() -> dict[str, str]:
    raw = json.loads(Path(__file__).with_name("codelists.json").read_text(encoding="utf-8"))
    return {name: entry["codes"] for name, entry in raw.items() if name[0] != "_"}


_RAW = _raw()
CODE_LISTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {name: frozenset(codes.split()) for name, codes in _RAW.items()}
)
# Each list as the official test string (' A B C '), for the rules that search it as a substring.
CODE_LIST_TEXT: Mapping[str, str] = MappingProxyType({name: f" {codes} " for name, codes in _RAW.items()})

# XPath's normalize-space collapses XML whitespace only (space, tab, CR, LF), not every Unicode space.
_XML_SPACE = re.compile(r"[ \t\n\r]+")


def normalize_space(text: str) -> str:
    return _XML_SPACE.sub(" ", text).strip(" ")


def in_list(text: str | None, codes: frozenset[str]) -> bool:
    """The official test: the value, whitespace-normalized, is one token of the list.

    An absent attribute counts as the empty string, which no list holds.
    """
    if text in codes:  # a code is one token without whitespace: normalizing would leave it as it is
        return True
    value = normalize_space(text or "")
    return " " not in value and value in codes


def coded(list_name: str, attribute: str | None = None, transform: Callable[[str], str] | None = None) -> Test:
    """A test that the element's text (or one of its attributes) is in the named list."""
    codes = CODE_LISTS[list_name]

    def test(node: etree._Element) -> bool | Fail:
        text = node.get(attribute) if attribute else string_value(node)
        if transform is not None and text is not None:
            text = transform(text)
        return in_list(text, codes) or Fail(value=text)

    return test
