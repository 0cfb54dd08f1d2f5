"""Compiled, cached XPath helpers for writing rule tests compactly.

``compile_xpath`` gives each expression the cheapest exact evaluation: most rule paths are child
steps (``cac:Price/cbc:PriceAmount``), which ``iterchildren`` walks several times faster than an
lxml XPath call costs; an expression that depends on the document only (``boolean(//ram:X)``,
``/rsm:CrossIndustryInvoice/...``) is evaluated once per check; the rest stays lxml's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from lxml import etree

from validators.rules._session import ACTIVE, active_session, child_elements
from validators.rules._text import string_value
from validators.rules._xpath_subset import ChildPath, DescendantPath, child_path, descendant_path, document_wide

__all__ = ["XPaths", "compile_xpath", "to_decimal"]

XPathFunction = Callable[[etree._Element], Any]
_ELEMENT: Final = etree.Element


def compile_xpath(expr: str, namespaces: Mapping[str, str]) -> XPathFunction:
    """``etree.XPath(expr, smart_strings=False)``, as a function returning exactly what lxml returns."""
    xpath = etree.XPath(expr, namespaces=dict(namespaces), smart_strings=False)  # reports syntax errors as before
    path = child_path(expr, namespaces)
    if path is not None and not path.absolute:
        return _child_steps(path)
    key = (expr, tuple(sorted(namespaces.items())))
    shared = _PER_DOCUMENT.get(key)
    if shared is not None:
        return shared
    if path is not None:  # /rsm:CrossIndustryInvoice/...: walked once per check
        shared = _PerDocument(_child_steps(path))
    elif (anywhere := descendant_path(expr, namespaces)) is not None:  # //cbc:PaymentID: read from the tag index
        shared = _PerDocument(_Descendants(anywhere, xpath))
    elif document_wide(expr, namespaces):
        shared = _PerDocument(xpath)
    else:
        return xpath  # type: ignore[no-any-return]
    # One object per expression: rule modules that ask the same of a document share its answer.
    _PER_DOCUMENT[key] = shared
    return shared


class _Descendants:
    """``//a/b`` and ``boolean``, ``not`` or ``count`` of it, from the session's tag index.

    The elements named by the last step whose ancestors carry the other names, in document order:
    what the XPath selects. Outside a session, the XPath itself.
    """

    __slots__ = ("function", "tags", "xpath")

    def __init__(self, path: DescendantPath, xpath: XPathFunction) -> None:
        self.function = path.function
        self.tags = path.tags
        self.xpath = xpath

    def __call__(self, node: etree._Element) -> Any:
        session = active_session(node)
        if session is None:
            return self.xpath(node)
        *up, last = self.tags
        if not up:
            found = list(session.by_tag.get(last, ()))
        else:
            found = []
            for el in session.by_parent(last).get(up[-1], ()):
                parent = el.getparent()
                for tag in reversed(up[:-1]):
                    parent = parent.getparent()
                    if parent is None or parent.tag != tag:
                        break
                else:
                    found.append(el)
        if self.function == "boolean":
            return bool(found)
        if self.function == "not":
            return not found
        if self.function == "count":
            return float(len(found))
        return found


def _child_steps(path: ChildPath) -> XPathFunction:
    """A child path walked through the session's child index: the elements (or attribute values) in document order."""
    wildcard = any(t.endswith("*") for t in path.tags)
    attribute = path.attribute
    if not path.absolute and attribute is None and len(path.tags) == 1 and not wildcard:
        (tag,) = path.tags
        return lambda node: list(child_elements(node, tag))  # a copy: the caller owns what XPath returns
    first = path.tags[0]
    absolute = path.absolute
    tags = path.tags[1:] if absolute else path.tags
    step = _wildcard_step if wildcard else child_elements

    def evaluate(node: etree._Element) -> list[Any]:
        if absolute:
            root = node.getroottree().getroot()
            if not _named(root, first):
                return []
            items = [root]
        else:
            items = [node]
        session = None if wildcard else ACTIVE.get()
        if session is None:
            for tag in tags:
                items = [child for item in items for child in step(item, tag)]
                if not items:
                    return items
        else:
            # child_elements, inlined: the session is looked up once per path, not once per step and item
            index = session._children
            for tag in tags:
                found: list[Any] = []
                for item in items:
                    children = index.get(item)
                    if children is None:
                        children = session.children(item)
                    named = children.get(tag)
                    if named:
                        found.extend(named)
                items = found
                if not items:
                    return items
        if attribute is None:
            return items
        return [value for item in items if (value := item.get(attribute)) is not None]

    return evaluate


def _wildcard_step(el: etree._Element, tag: str) -> list[etree._Element]:
    if tag == "*":
        return list(el.iterchildren(_ELEMENT))
    if tag.endswith("}*"):
        return list(el.iterchildren(tag))  # lxml reads "{ns}*" as any element of that namespace
    return child_elements(el, tag)


def _named(el: etree._Element, test: str) -> bool:
    if test == "*":
        return True
    if test.endswith("}*"):
        return el.tag.startswith(test[:-1])
    return bool(el.tag == test)


class _PerDocument:
    """An expression whose value depends on the document only: evaluated once per check."""

    __slots__ = ("xpath",)

    def __init__(self, xpath: XPathFunction) -> None:
        self.xpath = xpath

    def __call__(self, node: etree._Element) -> Any:
        session = active_session(node)
        if session is None:
            return self.xpath(node)
        value = session.fact(self, lambda: self.xpath(node))
        return list(value) if isinstance(value, list) else value  # a caller may change its list


# Document-wide expressions by text and namespaces, as rule modules compile them.
_PER_DOCUMENT: dict[tuple[str, tuple[tuple[str, str], ...]], _PerDocument] = {}


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
        self._cache: dict[str, XPathFunction] = {}

    def __call__(self, node: etree._Element, expr: str) -> Any:
        xpath = self._cache.get(expr)
        if xpath is None:
            xpath = self._cache[expr] = compile_xpath(expr, self._ns)
        return xpath(node)

    def nodes(self, node: etree._Element, expr: str) -> list[Any]:
        xpath = self._cache.get(expr)
        if xpath is None:
            xpath = self._cache[expr] = compile_xpath(expr, self._ns)
        result = xpath(node)
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
        return first if isinstance(first, str) else string_value(first)

    def texts(self, node: etree._Element, expr: str) -> list[str]:
        return [n if isinstance(n, str) else string_value(n) for n in self.nodes(node, expr)]
