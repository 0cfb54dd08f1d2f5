"""XPath 2.0 value semantics the CEN rules rely on, written out for lxml elements.

The official tests are XPath 2.0: untyped text compared with a number is cast to xs:double,
``xs:decimal(...)`` is exact decimal arithmetic, ``round`` goes half towards positive infinity,
and a comparison with an empty sequence is false. These helpers give exactly that, so the rule
modules can read like the rule statements. A value that would make the official stylesheet
stop with a cast error (e.g. ``12,50`` in an amount) is treated here as absent: such documents
are schema-invalid, and an absent value makes the rule fire instead of aborting the whole run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Context, Decimal, getcontext, setcontext
from functools import cache, wraps
from typing import Any, Final, TypeVar

from lxml import etree

from validators.rules._session import ACTIVE, Session, child_elements, read_children
from validators.rules._text import string_value

__all__ = [
    "CAC",
    "CBC",
    "boolean_values",
    "child_index",
    "children",
    "clark",
    "decimal_in",
    "decimal_of",
    "descendants",
    "double_of",
    "exact",
    "first_decimal",
    "first_text",
    "has",
    "is_vat_scheme",
    "normalized",
    "normalized_first",
    "round_2",
    "round_half_up",
    "string_value",
    "text_in",
    "xs_date",
]

_CAC_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC: Final = "{" + _CAC_NS + "}"
CBC: Final = "{" + _CBC_NS + "}"

_PREFIXES: Final = {"cac": CAC, "cbc": CBC}
_ELEMENT: Final = etree.Element
_TAX_SCHEME: Final = CAC + "TaxScheme"
_ID: Final = CBC + "ID"
_XML_SPACE: Final = " \t\r\n"
_SPACE_RUN = re.compile(r"[ \t\r\n]+")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DOUBLE = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|INF)|NaN")
_DATE = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?")
_HALF: Final = Decimal("0.5")
_HUNDRED: Final = Decimal(100)


@cache
def clark(path: str) -> str:
    """``cac:Price/cbc:PriceAmount`` in Clark notation, for ``find``/``findall``/``iter``."""
    return "/".join(_PREFIXES[step[:3]] + step[4:] if step[3:4] == ":" else step for step in path.split("/"))


def normalized(text: str) -> str:
    """``normalize-space``: only the four XML whitespace characters count."""
    if text.isalnum():  # codes and numbers: no whitespace to collapse
        return text
    return _SPACE_RUN.sub(" ", text.strip(_XML_SPACE)) if text else ""


@cache
def _child_tags(path: str) -> tuple[str, ...] | None:
    """The Clark names of a path of ``cac:``/``cbc:`` child steps; None for any other path."""
    tags = []
    for step in path.split("/"):
        prefix = _PREFIXES.get(step[:3])
        if prefix is None or step[3:4] != ":" or not step[4:].isidentifier():
            return None
        tags.append(prefix + step[4:])
    return tuple(tags)


def child_index(el: etree._Element) -> dict[Any, list[etree._Element]]:
    """The element children of ``el`` by Clark name, in document order; the index must not be changed.

    A rule that reads several children of its node asks for this once and then only looks names up,
    instead of a path walk per child.
    """
    session = ACTIVE.get()
    if session is None:
        return read_children(el)
    found = session._children.get(el)  # Session.children, inlined for the commonest case
    return session.children(el) if found is None else found


def text_in(index: dict[Any, list[etree._Element]], tag: str) -> str | None:
    """String value of the first child named ``tag`` of a ``child_index``, None when there is none."""
    found = index.get(tag)
    return None if found is None else string_value(found[0])


def decimal_in(index: dict[Any, list[etree._Element]], tag: str) -> Decimal | None:
    """``xs:decimal`` of the first child named ``tag`` of a ``child_index`` (None: absent or not a decimal)."""
    found = index.get(tag)
    return None if found is None else decimal_of(string_value(found[0]))


def children(el: etree._Element, path: str) -> list[etree._Element]:
    """``el.findall(path)``, walked through the run's child index (the same elements, in the same order)."""
    tags = _child_tags(path)
    session = ACTIVE.get()
    if tags is None or session is None:
        return el.findall(clark(path))
    return _below(session, [el], tags)


def _first(el: etree._Element, path: str) -> etree._Element | None:
    """``el.find(path)``: the first element at ``path`` in document order."""
    tags = _child_tags(path)
    session = ACTIVE.get()
    if tags is None or session is None:
        return el.find(clark(path))
    index = session._children.get(el)  # Session.children, inlined for the commonest case
    found = (session.children(el) if index is None else index).get(tags[0])
    if found is not None and len(tags) > 1:
        found = _below(session, found, tags[1:])
    return found[0] if found else None


def _below(session: Session, items: list[etree._Element], tags: tuple[str, ...]) -> list[etree._Element]:
    """The elements at the child steps ``tags`` below ``items`` (a new list), in document order: taken level
    by level and parent by parent, as the parents of a level are in document order."""
    known = session._children
    for tag in tags:
        found: list[etree._Element] = []
        for item in items:
            index = known.get(item)
            below = (session.children(item) if index is None else index).get(tag)
            if below is not None:
                found += below
        if not found:
            return found
        items = found
    return items


def descendants(root: etree._Element, tag: str) -> list[etree._Element]:
    """``root.iter(tag)`` (the root included), from the run's tag index; the list must not be changed."""
    session = ACTIVE.get()
    if session is None or session.root is not root:
        return list(root.iter(tag))
    return session.by_tag.get(tag, _NONE)


_NONE: Final[list[etree._Element]] = []


def has(el: etree._Element, path: str) -> bool:
    return _first(el, path) is not None


def first_text(el: etree._Element, path: str) -> str | None:
    """String value of the first node at ``path``, None when there is none."""
    found = _first(el, path)
    return None if found is None else string_value(found)


def normalized_first(el: etree._Element, path: str) -> str:
    """``normalize-space(path)`` on the first node (the empty string when absent)."""
    found = _first(el, path)
    return "" if found is None else normalized(string_value(found))


def decimal_of(text: str | None) -> Decimal | None:
    """``xs:decimal(text)``: no exponent, no NaN/INF, surrounding whitespace allowed."""
    if text is None:
        return None
    # Digits, or digits on both sides of one point (``12``, ``12.50``), are almost every amount: such text
    # passes the pattern unchanged (``isdecimal`` accepts exactly the characters of its ``\d``, Unicode
    # category Nd), so the pattern is skipped for it.
    head, point, tail = text.partition(".")
    if head.isdecimal() and (not point or tail.isdecimal()):
        return Decimal(text)
    text = text.strip(_XML_SPACE)
    return Decimal(text) if _DECIMAL.fullmatch(text) else None


def first_decimal(el: etree._Element, path: str) -> Decimal | None:
    return decimal_of(first_text(el, path))


def double_of(text: str | None) -> float | None:
    """``xs:double(text)``, the cast applied when untyped text meets a number in a comparison."""
    if text is None:
        return None
    head, point, tail = text.partition(".")
    if head.isdecimal() and (not point or tail.isdecimal()):  # as in decimal_of
        return float(text)
    text = text.strip(_XML_SPACE)
    if not _DOUBLE.fullmatch(text):
        return None
    return float(text.replace("INF", "inf"))


# xs:decimal arithmetic does not round; 1000 digits is exact for any amount an invoice can carry
# (the default 28 would silently round sums of very long amounts).
_EXACT: Final = Context(prec=1000)


_R = TypeVar("_R")


def exact(test: Callable[[etree._Element], _R]) -> Callable[[etree._Element], _R]:
    """Run a rule test with exact decimal arithmetic, as xs:decimal has."""

    # Setting the context itself costs a third of ``localcontext``, which copies it on every call.
    @wraps(test)
    def run(el: etree._Element) -> _R:
        caller = getcontext()
        setcontext(_EXACT)
        try:
            return test(el)
        finally:
            setcontext(caller)

    return run


def round_half_up(value: Decimal) -> Decimal:
    """XPath ``round``: halves go towards positive infinity (round(-2.5) = -2)."""
    return (value + _HALF).to_integral_value(rounding=ROUND_FLOOR)


def round_2(value: Decimal) -> Decimal:
    """The rules' ``round(x * 10 * 10) div 100``."""
    return round_half_up(value * _HUNDRED) / _HUNDRED


def boolean_values(indicators: Iterable[etree._Element]) -> set[bool]:
    """The xs:boolean values of ChargeIndicator elements; unreadable ones compare as nothing."""
    values = set()
    for el in indicators:
        text = normalized(string_value(el))
        if text in ("true", "1"):
            values.add(True)
        elif text in ("false", "0"):
            values.add(False)
    return values


def is_vat_scheme(el: etree._Element) -> bool:
    """``cac:TaxScheme/normalize-space(upper-case(cbc:ID)) = 'VAT'`` on a category or PartyTaxScheme."""
    for scheme in child_elements(el, _TAX_SCHEME):
        ids = child_elements(scheme, _ID)
        if ids and normalized(string_value(ids[0]).upper()) == "VAT":
            return True
    return False


def xs_date(text: str | None) -> timedelta | None:
    """``xs:date(text)`` as the instant its day starts (a date without zone counts as UTC), for ordering."""
    if text is None:
        return None
    match = _DATE.fullmatch(text.strip(_XML_SPACE))
    if not match:
        return None
    year, month, day, zone = match.groups()
    try:
        start = timedelta(days=date(int(year), int(month), int(day)).toordinal())
    except ValueError:
        return None
    if zone in (None, "Z"):
        return start
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    # Midnight at +02:00 is two hours before midnight UTC.
    return start - offset if zone[0] == "+" else start + offset
