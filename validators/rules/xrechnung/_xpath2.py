"""XPath 2.0 semantics the XRechnung rules rely on, in plain Python.

The official Schematron is XSLT 2 (Saxon): casts to ``xs:decimal`` are strict and a failed cast
(or an argument that is a sequence of several items where one is expected) stops the whole
stylesheet. ``DynamicError`` reproduces that stop; callers must not swallow it. Decimal arithmetic
is exact except for division, which follows Saxon (scale of at least 18 digits, half-down).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_FLOOR, Context, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

from lxml import etree

from validators.rules._dynamic import DynamicError, opt

__all__ = [
    "CODES",
    "DynamicError",
    "add",
    "any_number",
    "blank_leaf",
    "clark",
    "decimal_or",
    "decimal_or_none",
    "div",
    "email_ok",
    "iban_checksum_ok",
    "in_code_string",
    "mul",
    "nonblank",
    "normalize_space",
    "opt",
    "round_half_up",
    "skonto_ok",
    "string_value",
    "telephone_ok",
    "text_children",
    "url_ok",
    "within_slack",
    "xs_date_key",
    "xs_decimal",
    "xs_double",
]


CODES: dict[str, Any] = json.loads((Path(__file__).with_name("codes.json")).read_text(encoding="utf-8"))

# Products and sums are exact in XPath 2.0; a wide context keeps Python's Decimal from rounding them.
_EXACT = Context(prec=200)
_SAXON_DIVIDE_SCALE = 18
_LONG_LIMIT = Decimal(2**63)

_XML_WS = re.compile(r"[ \t\r\n]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")


def clark(namespaces: dict[str, str]) -> Callable[[str], str]:
    """A converter from ``cac:Party/cac:Contact`` to the Clark notation ``find``/``findall`` want."""

    @cache
    def convert(path: str) -> str:
        steps = []
        for step in path.split("/"):
            if ":" in step and not step.startswith("{"):
                prefix, local = step.split(":", 1)
                steps.append(f"{{{namespaces[prefix]}}}{local}")
            else:
                steps.append(step)
        return "/".join(steps)

    return convert


def string_value(node: etree._Element | str) -> str:
    """The XPath string value: attributes and strings as they are, elements as all descendant text."""
    if isinstance(node, str):
        return node
    if not len(node):  # no children at all, so the text is the whole string value
        return node.text or ""
    return "".join(node.itertext())


def text_children(node: etree._Element) -> list[str]:
    """The element's own text nodes (``text()``), which comments and child elements split apart."""
    texts = [node.text] if node.text else []
    texts.extend(child.tail for child in node if child.tail)
    return texts


def normalize_space(text: str) -> str:
    """fn:normalize-space: only the four XML whitespace characters count, unlike ``str.split``."""
    # Most values are codes, names and amounts with nothing to collapse; two C-level checks say so.
    # (Of the four characters only the space is printable.)
    if text.isalnum() or (text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "):
        return text
    return _XML_WS.sub(" ", text).strip(" ")


def nonblank(nodes: Iterable[etree._Element | str]) -> bool:
    """``path[boolean(normalize-space(.))]`` is not empty (stripping suffices; attachments can be huge)."""
    for node in nodes:
        # string_value, inlined for the commonest node: an element with text only
        text = node.text if not isinstance(node, str) and not len(node) else string_value(node)
        if text and text.strip(" \t\r\n"):
            return True
    return False


def blank_leaf(node: etree._Element) -> bool:
    """``not(normalize-space())`` for an element without element children: only its own text counts."""
    if node.text and node.text.strip(" \t\r\n"):
        return False
    # Any children are comments or processing instructions; the text after them is the element's too.
    return not any(child.tail and child.tail.strip(" \t\r\n") for child in node) if len(node) else True


def xs_decimal(text: str) -> Decimal:
    """Cast a string to xs:decimal; no exponent, no NaN/INF, surrounding XML whitespace allowed."""
    lexical = text.strip(" \t\r\n")
    # ASCII digits with at most one point (not the point alone) are the commonest form the pattern allows.
    if not (lexical.isascii() and lexical.replace(".", "", 1).isdigit()) and not _DECIMAL.fullmatch(lexical):
        raise DynamicError(f"cannot cast {text!r} to xs:decimal")
    return Decimal(lexical)


def decimal_or_none(items: Sequence[etree._Element | str]) -> Decimal | None:
    """``xs:decimal(path)``: the empty sequence stays empty (None), one item is cast, more is an error."""
    return decimal_or(items, None)


_D = TypeVar("_D", bound=Decimal | None)


def decimal_or(items: Sequence[etree._Element | str], default: _D) -> Decimal | _D:
    """``if (path) then xs:decimal(path) else default`` on the ``items`` at path; more than one is an error.

    The rules read a few hundred amounts and quantities per document, so the commonest case (an element
    with text only, written as digits and a point) is done here without a call.
    """
    if not items:
        return default
    if len(items) > 1:
        raise DynamicError(f"a sequence of {len(items)} items where at most one decimal is allowed")
    item = items[0]
    text = item.text or "" if not isinstance(item, str) and not len(item) else string_value(item)
    lexical = text.strip(" \t\r\n")
    if lexical.isascii() and lexical.replace(".", "", 1).isdigit():  # as xs_decimal
        return Decimal(lexical)
    return xs_decimal(text)


def xs_double(text: str) -> float:
    """Cast an untyped value to xs:double, as a general comparison with a number does."""
    lexical = text.strip(" \t\r\n")
    if not _DOUBLE.fullmatch(lexical):
        raise DynamicError(f"cannot cast {text!r} to xs:double")
    return float(lexical.replace("INF", "inf"))


def any_number(items: Iterable[etree._Element], accept: Callable[[float], bool]) -> bool:
    """A general comparison of nodes with a number: true if any item, cast to xs:double in order, is accepted.

    A cast fails only when reached, as in Saxon's existential evaluation.
    """
    return any(accept(xs_double(string_value(item))) for item in items)


def div(dividend: Decimal, divisor: Decimal) -> Decimal:
    """xs:decimal division as Saxon 12 computes it on values read from the document: rounded half-down
    to 18 fractional digits more than the dividend's scale exceeds the divisor's (see ``_fraction_digits``),
    and never to fewer than 18.

    Done in integers so the rounding is exact whatever the quotient's length.
    """
    if divisor == 0:
        raise DynamicError("decimal division by zero")
    shift = _POWERS_OF_TEN.get(str(divisor))
    if shift is not None:
        return _divide_by_power_of_ten(dividend, shift)
    return _divide_rounded(dividend, divisor)


# Divisors 1 (written any way: its scale is 0) and 10 … 10**18 written as plain integers (scale 0 too):
# the rules divide by 1 (no base quantity) and by 100 (percentages, cents) all the time.
_POWERS_OF_TEN: Final = {"1": 0, "1.0": 0, "1.00": 0} | {str(10**k): k for k in range(1, _SAXON_DIVIDE_SCALE + 1)}


def _divide_by_power_of_ten(dividend: Decimal, shift: int) -> Decimal:
    """``div(dividend, 10**shift)`` for a divisor of scale 0: ``_divide_rounded`` without its rounding.

    The scale is 18 plus the dividend's fraction digits (if any), so the quotient, which has at most
    ``shift`` (<= 18) more fraction digits than the dividend, is exact at that scale.
    """
    numerator, denominator = dividend.as_integer_ratio()
    fraction_digits = 0 if denominator == 1 else _fraction_digits(dividend, numerator, denominator)
    scale = _SAXON_DIVIDE_SCALE + fraction_digits
    # numerator * 10**(scale - shift) is a multiple of the denominator (2**a * 5**b, a and b <= fraction_digits)
    return Decimal(numerator * 10 ** (scale - shift) // denominator).scaleb(-scale, _EXACT)


def _divide_rounded(dividend: Decimal, divisor: Decimal) -> Decimal:
    """``div`` for any non-zero divisor."""
    numerator_a, denominator_a = dividend.as_integer_ratio()
    numerator_b, denominator_b = divisor.as_integer_ratio()
    scale = max(
        _SAXON_DIVIDE_SCALE,
        _fraction_digits(dividend, numerator_a, denominator_a)
        - _fraction_digits(divisor, numerator_b, denominator_b)
        + _SAXON_DIVIDE_SCALE,
    )
    # dividend / divisor * 10**scale, as one fraction of integers
    numerator = numerator_a * denominator_b * 10**scale
    denominator = denominator_a * numerator_b
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder > denominator:  # half-down: an exact half stays
        quotient += 1
    return Decimal(-quotient if numerator < 0 else quotient).scaleb(-scale, _EXACT)


def _fraction_digits(value: Decimal, numerator: int, denominator: int) -> int:
    """The scale Saxon divides with. A value written with a decimal point (or beyond the range of a
    long) is held with trailing zeros stripped, so "1.50" counts 1 and "660.00" counts -1; any other
    integer counts 0.

    ``numerator / denominator`` is the value in lowest terms. A fraction with denominator 2**a * 5**b
    needs max(a, b) digits after the point, however it was written; only integers ending in a zero
    depend on the written form (``as_tuple`` is several times slower, so it is asked for those only).
    """
    if denominator == 1:
        if numerator % 10:
            return 0  # no trailing zero to strip, and no fraction digits
        return _integer_fraction_digits(value)
    twos = (denominator & -denominator).bit_length() - 1
    rest = denominator >> twos
    fives = 0
    while rest > 1:
        rest //= 5
        fives += 1
    return max(twos, fives)


def _integer_fraction_digits(value: Decimal) -> int:
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or not any(digits):
        return 0
    if exponent >= 0 and abs(value) < _LONG_LIMIT:
        return 0
    count = -exponent
    for digit in reversed(digits):
        if digit:
            break
        count -= 1
    return count


def round_half_up(value: Decimal) -> Decimal:
    """fn:round on a decimal: halves go towards positive infinity (2.5 → 3, -2.5 → -2)."""
    return _EXACT.add(value, Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)


_DECIMAL_ONE: Final = Decimal(1)
_DECIMAL_ZERO: Final = Decimal(0)


def mul(*factors: Decimal | int) -> Decimal:
    result = _DECIMAL_ONE
    multiply = _EXACT.multiply  # converts an int operand exactly
    for factor in factors:
        result = multiply(result, factor)
    return result


def add(*terms: Decimal | int) -> Decimal:
    result = _DECIMAL_ZERO
    plus = _EXACT.add  # converts an int operand exactly
    for term in terms:
        result = plus(result, term)
    return result


def within_slack(expected: Decimal, value: Decimal, slack: Decimal) -> bool:
    """u:slack: ``value`` lies within ``expected ± slack`` (``add(expected, ±slack)``, without its loop)."""
    exact = _EXACT
    start = exact.plus(expected)  # 0 + expected, rounded as ``add`` rounds it
    return exact.add(start, slack) >= value and exact.add(start, -slack) <= value


def in_code_string(codes: str, value: str | None) -> bool:
    """The Schematron code-list idiom ``not(contains(v, ' ')) and contains(list, concat(' ', v, ' '))``.

    Kept literal on purpose: ``v`` is normalised first, an empty code matches wherever two lists were
    concatenated (double space), and a list without a trailing space never matches its last code.
    """
    code = normalize_space(value or "")
    return " " not in code and f" {code} " in codes


# --- XRechnung-specific building blocks ----------------------------------------------------------

_SKONTO_LINE = re.compile(
    r"(?:^|\r?\n)#(SKONTO)#TAGE=([0-9]+#PROZENT=[0-9]+\.[0-9]{2})(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#\Z"
)
_NEWLINE = re.compile(r"\r?\n")
# XPath's "." matches neither line feed nor carriage return (Python's matches a carriage return).
_SKONTO_SEGMENT = re.compile(r"#[^\n\r]+#")
_LEADING_NEWLINE = re.compile(r"[ \t\n\r]*\n")


def _tokenize(text: str, pattern: re.Pattern[str]) -> list[str]:
    """fn:tokenize: the empty string has no tokens; otherwise leading/trailing empty tokens stay."""
    return pattern.split(text) if text else []


def skonto_ok(notes: Sequence[etree._Element]) -> bool:
    """BR-DE-18 over the first payment-terms text of each payment-terms group (``Note[1]`` / ``Description[1]``).

    Every line that starts with ``#`` must be a well-formed Skonto entry, and (tested once per such
    line, so only when there is one) the text after the last ``#…#`` run must begin with a line break.
    """
    texts = [string_value(n) for n in notes]
    if not any("#" in text for text in texts):
        return True  # no line can start with "#"
    lines = [line for text in texts for line in _tokenize(text, _NEWLINE) if normalize_space(line).startswith("#")]
    for line in lines:
        if not _SKONTO_LINE.search(normalize_space(line)):
            return False
        # ``Note[1]/tokenize(., '#.+#')[last()]``: one last token per payment-terms text.
        tails = [tokens[-1] for tokens in (_tokenize(t, _SKONTO_SEGMENT) for t in texts) if tokens]
        if not _LEADING_NEWLINE.match(opt(tails, "payment terms text") or ""):
            return False
    return True


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{0,30}")
_IBAN_WS = re.compile(r"[ \t\n\r]")


def iban_checksum_ok(account: etree._Element | None) -> bool:
    """BR-DE-19/20: the shape check, then ISO 7064 mod 97 exactly as the rule converts characters.

    Every character above ``@`` counts as its code point minus 55, so lower-case letters (allowed by
    the shape after the check digits) give values the banking standard would not; kept as written.
    """
    # Without the XML whitespace characters there is nothing left for the rule's normalize-space to do.
    value = _IBAN_WS.sub("", "" if account is None else string_value(account))
    if not _IBAN_SHAPE.fullmatch(value):
        return False
    rearranged = value[4:] + value[:2].upper() + value[2:4]
    return int(rearranged.translate(_IBAN_DIGITS)) % 97 == 1


# The rule's conversion of each character the shape admits: code point minus 55 above '@', else minus 48.
_IBAN_DIGITS: Final = str.maketrans(
    {ch: str(ord(ch) - 55) if ord(ch) > 64 else str(ord(ch) - 48) for ch in string.ascii_letters + string.digits}
)


def xs_date_key(text: str) -> int:
    """Cast to xs:date and return a comparable instant in minutes (no timezone means UTC)."""
    lexical = text.strip(" \t\r\n")
    match = _DATE.fullmatch(lexical)
    if not match:
        raise DynamicError(f"cannot cast {text!r} to xs:date")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month) or match[1].lstrip("-") == "0000":
        raise DynamicError(f"cannot cast {text!r} to xs:date")
    offset = 0
    zone = match[4]
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if minutes > 59 or hours * 60 + minutes > 14 * 60:
            raise DynamicError(f"cannot cast {text!r} to xs:date")
        offset = (hours * 60 + minutes) * (1 if zone[0] == "+" else -1)
    return _days_from_civil(year, month, day) * 1440 - offset


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    # Proleptic Gregorian day count valid for any year, so no datetime range limits apply.
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe


# $XR-TELEPHONE-REGEX ``.*([0-9].*){3,}.*`` as a search: three digits on one line. Written without the
# nested repetition, which backtracks on every digit.
_TELEPHONE = re.compile(r"[0-9].*[0-9].*[0-9]")
_EMAIL = re.compile(r"^[^@ \t\n\r]+@(?:[^@. \t\n\r]+\.)+[^@. \t\n\r]+\Z")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+:.*")


def telephone_ok(text: str) -> bool:
    """$XR-TELEPHONE-REGEX: at least three digits."""
    return _TELEPHONE.search(text) is not None


def email_ok(text: str) -> bool:
    """$XR-EMAIL-REGEX: one ``@``, no whitespace, a dotted domain without empty labels."""
    return _EMAIL.search(text) is not None


def url_ok(text: str) -> bool:
    """$XR-URL-REGEX: an absolute URL, i.e. a scheme of two or more characters and a colon at the start."""
    return _URL.search(text) is not None
