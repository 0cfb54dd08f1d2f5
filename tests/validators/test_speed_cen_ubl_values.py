"""The shortcuts of the EN 16931 UBL value helpers answer exactly as the general paths they skip."""

from __future__ import annotations

import random
import re
from decimal import Context, Decimal, getcontext, localcontext

import pytest

from validators.rules.en16931_ubl import _values
from validators.rules.en16931_ubl._values import decimal_of, double_of, exact
from validators.rules.en16931_ubl.vat_categories import _between

_XML_SPACE = " \t\r\n"
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DOUBLE = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|INF)|NaN")

_TEXTS = [
    "",
    "0",
    "12",
    "12.50",
    "12.",
    ".5",
    "1.2.3",
    " 12.50 ",
    "\t7\n",
    "+3.1",
    "-0.00",
    "1e5",
    "1E-2",
    "INF",
    "-INF",
    "NaN",
    "nan",
    "inf",
    "1_000",
    "1 000",
    "12,50",
    "١٢٫٥",  # Arabic-Indic digits with the Arabic decimal separator
    "١٢.٥",  # Arabic-Indic digits with a full stop: Unicode Nd digits
    "²",  # a superscript digit is not in Nd
    "0x10",
    "1" * 60 + "." + "9" * 60,
    ".",
    "-",
]


def _decimal_reference(text: str) -> Decimal | None:
    text = text.strip(_XML_SPACE)
    return Decimal(text) if _DECIMAL.fullmatch(text) else None


def _double_reference(text: str) -> float | None:
    text = text.strip(_XML_SPACE)
    if not _DOUBLE.fullmatch(text):
        return None
    return float(text.replace("INF", "inf"))


@pytest.mark.parametrize("text", _TEXTS)
def test_decimal_of_answers_as_the_pattern_does(text: str) -> None:
    expected = _decimal_reference(text)
    got = decimal_of(text)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("text", _TEXTS)
def test_double_of_answers_as_the_pattern_does(text: str) -> None:
    expected = _double_reference(text)
    got = double_of(text)
    if expected is not None and expected != expected:  # NaN
        assert got is not None and got != got
    else:
        assert repr(got) == repr(expected)


def test_exact_runs_with_exact_arithmetic_and_restores_the_callers_context() -> None:
    long = Decimal("1" * 40)

    @exact
    def add(a: Decimal) -> Decimal:
        return a + a

    with localcontext(Context(prec=5)) as caller:
        assert add(long) == Decimal("2" * 40)
        assert getcontext() is caller

    @exact
    def fails(a: Decimal) -> Decimal:
        raise ValueError(a)

    before = getcontext()
    with pytest.raises(ValueError):
        fails(long)
    assert getcontext() is before
    assert _values._EXACT.prec == 1000


def _between_reference(low: float, value: Decimal, high: float) -> bool:
    return Decimal(low) < value < Decimal(high)


def test_between_is_the_exact_comparison() -> None:
    rng = random.Random(5)
    cases: list[tuple[float, Decimal, float]] = []
    for _ in range(4000):
        taxable = rng.choice([rng.uniform(-1e6, 1e6), round(rng.uniform(-1e4, 1e4), 2), float(rng.randint(-99, 99))])
        low, high = taxable - 1.0, taxable + 1.0
        near = rng.choice([low, high, taxable])
        value = rng.choice(
            [
                Decimal(near),  # exactly a bound
                Decimal(near) + Decimal("1e-30"),
                Decimal(near) - Decimal("1e-30"),
                Decimal(repr(near)),
                Decimal(f"{rng.uniform(-1e6, 1e6):.2f}"),
                Decimal(taxable).quantize(Decimal("0.01")),
            ]
        )
        cases.append((low, value, high))
    big = 2.0**60  # past 2**53 the bounds round back onto the taxable amount
    cases += [(big - 1.0, Decimal(big), big + 1.0), (big - 1.0, Decimal(big) + 1, big + 1.0)]
    cases += [(0.0, Decimal("1e400"), 2.0), (-2.0, Decimal("-1e400"), 0.0), (-1.0, Decimal("-0"), 1.0)]
    with localcontext(Context(prec=1000)):
        for low, value, high in cases:
            assert _between(low, value, high) == _between_reference(low, value, high), (low, value, high)
