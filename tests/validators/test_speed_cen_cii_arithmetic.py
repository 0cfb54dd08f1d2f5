"""The arithmetic shortcuts of the CEN CII model rules give exactly what the plain xs:decimal computation gives.

``cents`` shifts the rounded hundredths instead of dividing at the context's 1100 digits, and
``round_double`` rounds a double without a round trip through xs:decimal. Both must agree with the
plain computation in value, sign, exponent and representation (the values end up in messages).
"""

from __future__ import annotations

import math
import random
import struct
from decimal import Decimal

from validators.rules.en16931_cii._values import _EXACT, _HUNDRED, cents, round_decimal, round_double


def _plain_cents(value: Decimal) -> Decimal:
    return _EXACT.divide(round_decimal(_EXACT.multiply(value, _HUNDRED)), _HUNDRED)


def _plain_round_double(value: float) -> float:
    if value != value or value in (math.inf, -math.inf) or value == 0:
        return value
    return float(round_decimal(Decimal(value)))


_DECIMAL_EDGES = [
    "0", "-0", "0.005", "-0.005", "0.004", "-0.004", "0.995", "-0.995", "1313.455", "-1313.455", "100", "-100",
    "12.30", "12.3", "1E+5", "1E-5", "1.5E+1098", "1e1200", "-1e1200", "0." + "4" * 1200, "9" * 1100, "9" * 1105,
    "-" + "9" * 1105 + ".5",
]  # fmt: skip


def _decimals() -> list[Decimal]:
    rng = random.Random(5)
    values = [Decimal(v) for v in _DECIMAL_EDGES]
    for _ in range(20_000):
        kind = rng.random()
        if kind < 0.4:
            values.append(Decimal(rng.randint(-(10**8), 10**8)).scaleb(-rng.randint(0, 6)))
        elif kind < 0.6:
            values.append(Decimal(rng.uniform(-1e6, 1e6)))
        elif kind < 0.8:
            values.append(Decimal(rng.randint(-(10**30), 10**30)).scaleb(rng.randint(-40, 40)))
        else:
            values.append(Decimal(rng.randint(-1000, 1000)) * Decimal(rng.randint(1, 30)) / 100)
    return values


def test_cents_is_the_plain_division() -> None:
    for value in _decimals():
        expected = _plain_cents(value)
        got = cents(value)
        assert str(got) == str(expected) and got.as_tuple() == expected.as_tuple(), value


def _doubles() -> list[float]:
    rng = random.Random(1)
    values = [
        0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, -0.5000000000000001,
        -0.9999999999999999, -1.0000000000000002, -1e-300, 5e-324, -5e-324, 2.0**52 + 0.5, -(2.0**52) - 0.5,
        4503599627370495.5, -4503599627370495.5, 2.0**53, 1e300, -1e300, 0.0, -0.0, math.inf, -math.inf, math.nan,
    ]  # fmt: skip
    for _ in range(20_000):
        kind = rng.random()
        if kind < 0.3:
            values.append(rng.uniform(-1e6, 1e6))
        elif kind < 0.5:
            values.append(round(rng.uniform(-1e5, 1e5), rng.randint(0, 4)) * rng.choice([1, 10, 100, 0.01]))
        elif kind < 0.7:
            values.append(struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0])
        elif kind < 0.8:
            values.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 0))
        else:
            half = rng.choice([0.5, 0.49999999999999994, 0.5000000000000001, 0.25])
            values.append((rng.randint(-(10**7), 10**7) + half) * rng.choice([1, -1]))
    return values


def test_round_double_is_the_decimal_rounding() -> None:
    for value in _doubles():
        expected = _plain_round_double(value)
        got = round_double(value)
        if expected != expected:
            assert got != got
        else:
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected), value
