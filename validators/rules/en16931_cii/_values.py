"""The XPath 2.0 value semantics the CII model rules depend on, done in Python.

The official tests mix three kinds of arithmetic, and parity needs each one exactly:

* ``xs:decimal`` (explicit casts): exact; ``round`` goes half towards positive infinity;
* ``xs:double`` (untyped values compared with or multiplied by numbers, ``sum`` of untyped
  values): IEEE binary floating point, so ``0.1 + 0.2`` is not ``0.3`` there either;
* string comparison (untyped against untyped, e.g. two dates).

A value that cannot be cast is a dynamic error in XPath; here it is ``None``, and every
comparison with ``None`` is false, so the assert that needed the value fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from typing import Final

from lxml import etree

from validators.rules._session import (
    Children,
    child_elements,
    child_path,
    children_reader,
    first_child,
    further,
)
from validators.rules._xpath import XPathFunction, compile_xpath
from validators.rules.sets import EN16931_CII

__all__ = [
    "NS",
    "Children",
    "Names",
    "XPath",
    "as_boolean",
    "as_decimal",
    "as_double",
    "below",
    "below_first",
    "cents",
    "child_elements",
    "child_steps",
    "children_reader",
    "dadd",
    "dec_to_double",
    "dmul",
    "dsub",
    "first",
    "first_child",
    "further",
    "max_two_decimals",
    "norm_space",
    "ram",
    "round_decimal",
    "round_double",
    "rsm",
    "select",
    "sum_decimals",
    "sum_doubles",
    "text",
    "texts",
    "udt",
]

NS: dict[str, str] = dict(EN16931_CII.namespaces)


class Names:
    """The Clark names of one namespace as attributes: ``ram.LineID`` is ``{urn:...}LineID``.

    Each name is made once and kept as an attribute, so rules name elements without building
    (and hashing) a new string per lookup in the session's child index.
    """

    def __init__(self, uri: str) -> None:
        self._prefix = "{" + uri + "}"

    def __getattr__(self, local: str) -> str:
        name = self._prefix + local
        setattr(self, local, name)
        return name


ram = Names(NS["ram"])
rsm = Names(NS["rsm"])
udt = Names(NS["udt"])

# Wide enough that no sum of amounts, nor the exact expansion of a double, is ever rounded.
_EXACT = Context(prec=1100, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)
_HALF = Decimal("0.5")
_HUNDRED = Decimal(100)
_INFINITIES: Final = (math.inf, -math.inf)
_SHIFTABLE: Final = 10**1000

# XML Schema lexical forms, after the whitespace collapse a cast applies.
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_XML_SPACE_CHARS = " \t\r\n"
_COMPILED: dict[str, XPathFunction] = {}


def XPath(expr: str) -> XPathFunction:
    """A compiled XPath 1.0 expression over the CII namespaces (compiled once, at import)."""
    return compile_xpath(expr, NS)


def select(node: etree._Element, path: str) -> list[etree._Element]:
    """The elements a relative or absolute location path selects (compiled once per path)."""
    compiled = _COMPILED.get(path)
    if compiled is None:
        compiled = _COMPILED[path] = XPath(path)
    return compiled(node)  # type: ignore[no-any-return]


def first(node: etree._Element, path: str) -> etree._Element | None:
    """The first element in document order that the path selects, if any."""
    found = select(node, path)
    return found[0] if found else None


_NONE: Final[list[etree._Element]] = []


def below(node: etree._Element, *tags: str) -> list[etree._Element]:
    """The elements the child steps ``tags`` (Clark names) select from ``node``, in document order.

    The list must not be changed.
    """
    return child_path(node, tags)


@cache
def child_steps(path: str) -> tuple[str, ...] | None:
    """The Clark names of a relative path of plain child steps (``ram:A/ram:B``), else None.

    None for anything else (an absolute path, predicates, attributes, wildcards, functions, ``.``/``..``):
    such paths need an XPath evaluator.
    """
    steps = path.split("/")
    tags = []
    for step in steps:
        prefix, colon, local = step.partition(":")
        if not colon or prefix not in NS or not _NCNAME.fullmatch(prefix) or not _NCNAME.fullmatch(local):
            return None
        tags.append("{" + NS[prefix] + "}" + local)
    return tuple(tags)


_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def below_first(node: etree._Element, *tags: str) -> etree._Element | None:
    """The first element in document order that the child steps ``tags`` select from ``node``, if any."""
    found = below(node, *tags)
    return found[0] if found else None


def text(node: etree._Element | str) -> str:
    """The string value of an element (its descendant text, comments left out) or attribute."""
    if isinstance(node, str):
        return node
    if not len(node):  # no children, not even comments: the text is the whole value
        return node.text or ""
    return "".join(node.itertext())


def texts(nodes: Iterable[etree._Element | str]) -> list[str]:
    return [text(n) for n in nodes]


def norm_space(value: str) -> str:
    """``normalize-space``: only the four XML whitespace characters count."""
    return _XML_SPACE.sub(" ", value).strip(" ")


def as_decimal(value: str | None) -> Decimal | None:
    """``xs:decimal($value)`` or None where the cast would fail."""
    if value is None:
        return None
    lexical = value.strip(_XML_SPACE_CHARS)
    if not _DECIMAL_RE.fullmatch(lexical):
        return None
    return Decimal(lexical)


def as_double(value: str | None) -> float | None:
    """``xs:double($value)`` or None where the cast would fail (Python's float() is laxer)."""
    if value is None:
        return None
    lexical = value.strip(_XML_SPACE_CHARS)
    if not _DOUBLE_RE.fullmatch(lexical):
        return None
    return float(lexical) if lexical[-1] != "F" else float(lexical.replace("INF", "inf"))


def as_boolean(value: str) -> bool | None:
    """``xs:boolean($value)`` or None where the cast would fail."""
    lexical = value.strip(_XML_SPACE_CHARS)
    if lexical in ("true", "1"):
        return True
    if lexical in ("false", "0"):
        return False
    return None


def dadd(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.add(a, b)


def dsub(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.subtract(a, b)


def dmul(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


def round_decimal(value: Decimal) -> Decimal:
    """``round()`` on xs:decimal: to the nearest integer, halves towards positive infinity."""
    return _EXACT.add(value, _HALF).to_integral_value(rounding=ROUND_FLOOR)


def round_double(value: float) -> float:
    """``round()`` on xs:double, halves towards positive infinity, without float error in +0.5."""
    if value != value or value in _INFINITIES or value == 0 or value.is_integer():
        return value
    # |value| < 2**52 here, so value - floor is exact except for value in (-0.5, 0), where it
    # still lands on the right side of 0.5: the same integer as floor(value + 0.5) in xs:decimal.
    below = math.floor(value)
    return float(below + 1 if value - below >= 0.5 else below)


def cents(value: Decimal) -> Decimal:
    """``round($value * 10 * 10) div 100`` in xs:decimal: rounded to two decimals, halves up."""
    whole = round_decimal(_EXACT.multiply(value, _HUNDRED))
    if whole.is_finite():
        number = int(whole)
        # A division at the context's precision costs several times what it shifts; below this size
        # ``whole`` has exponent 0, and the exact quotient keeps the fewest decimals that hold it.
        if number and -_SHIFTABLE < number < _SHIFTABLE:
            if number % 100 == 0:
                return Decimal(number // 100)
            if number % 10 == 0:
                return Decimal(number // 10).scaleb(-1, _EXACT)
            return whole.scaleb(-2, _EXACT)
    return _EXACT.divide(whole, _HUNDRED)


def dec_to_double(value: Decimal) -> float:
    """Promotion of xs:decimal to xs:double (nearest double)."""
    return float(value)


def sum_decimals(values: Iterable[Decimal | None]) -> Decimal | None:
    total = Decimal(0)
    for value in values:
        if value is None:
            return None
        total = _EXACT.add(total, value)
    return total


def sum_doubles(values: Iterable[str]) -> float | None:
    """``sum()`` of untyped values: each cast to xs:double, added left to right."""
    total = 0.0
    for raw in values:
        value = as_double(raw)
        if value is None:
            return None
        total += value
    return total


def max_two_decimals(value: str | None) -> bool:
    """``string-length(substring-after($value, '.')) <= 2`` on the raw text (no trimming)."""
    return value is None or len(value.partition(".")[2]) <= 2
