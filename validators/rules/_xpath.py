"""Compiled, cached XPath helpers for writing rule tests compactly."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

__all__ = ["XPaths", "to_decimal"]


def to_decimal(text: str | None) -> Decimal | None:
    """The xs:decimal value of a text, or None where it is not one (as a failed cast)."""
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class XPaths:
    """Evaluate XPath 1.0 expressions with fixed namespaces, compiling each expression once."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self._ns = dict(namespaces)
        self._cache: dict[str, etree.XPath] = {}

    def __call__(self, node: etree._Element, expr: str) -> Any:
        xpath = self._cache.get(expr)
        if xpath is None:
            xpath = self._cache[expr] = etree.XPath(expr, namespaces=self._ns, smart_strings=False)
        return xpath(node)

    def nodes(self, node: etree._Element, expr: str) -> list[Any]:
        result = self(node, expr)
        return result if isinstance(result, list) else [result]

    def exists(self, node: etree._Element, expr: str) -> bool:
        return bool(self.nodes(node, expr))

    def count(self, node: etree._Element, expr: str) -> int:
        return len(self.nodes(node, expr))

    def text(self, node: etree._Element, expr: str) -> str | None:
        """The string value of the first node selected, or None when nothing is selected."""
        found = self.nodes(node, expr)
        if not found:
            return None
        first = found[0]
        return first if isinstance(first, str) else str(etree.XPath("string()")(first))

    def texts(self, node: etree._Element, expr: str) -> list[str]:
        return [n if isinstance(n, str) else str(etree.XPath("string()")(n)) for n in self.nodes(node, expr)]
