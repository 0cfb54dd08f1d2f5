"""The XRechnung helpers' shortcuts answer exactly as the plain forms they replace."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
from lxml import etree

from validators.rules import Session
from validators.rules._session import activate, child_path, children_reader, further, per_check
from validators.rules.xrechnung._patterns import cii_steps, ubl_steps
from validators.rules.xrechnung._xpath2 import (
    DynamicError,
    decimal_or_none,
    iban_checksum_ok,
    normalize_space,
    skonto_ok,
    telephone_ok,
    xs_decimal,
)

_XML_WS = re.compile(r"[ \t\r\n]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Characters that sit on the edges of the shortcuts: the XML whitespace, other Unicode spaces and
# line breaks, non-ASCII digits, signs and points.
_ALPHABET = " \t\n\ra10.+-#\u00a0\u2003\u0663\u00b2\u00e9\x85"


def _texts(count: int, longest: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(longest + 1))) for _ in range(count)]


def test_normalize_space_is_the_regular_expression() -> None:
    for text in _texts(100_000, 7, 1):
        assert normalize_space(text) == _XML_WS.sub(" ", text).strip(" "), repr(text)


def test_telephone_pattern_is_the_official_one() -> None:
    official = re.compile(r".*([0-9].*){3,}.*")
    for text in _texts(50_000, 10, 2):
        assert telephone_ok(text) == (official.search(text) is not None), repr(text)


def test_decimal_cast_accepts_exactly_the_lexical_space() -> None:
    for text in [*_texts(50_000, 6, 3), "12.50", "12.", ".5", ".", "", " 7 ", "\u0663", "1_0", "1e3", "NaN"]:
        lexical = text.strip(" \t\r\n")
        if _DECIMAL.fullmatch(lexical):
            assert xs_decimal(text) == Decimal(lexical)
            assert str(xs_decimal(text)) == str(Decimal(lexical))
        else:
            with pytest.raises(DynamicError):
                xs_decimal(text)


def test_decimal_of_a_sequence() -> None:
    element = etree.fromstring("<a><b>1.50</b><c>2<!-- x -->5</c><d/></a>")
    b, c, d = element
    assert decimal_or_none([]) is None
    assert str(decimal_or_none([b])) == "1.50"
    assert decimal_or_none([c]) == Decimal(25)  # the text around a comment is one string value
    assert decimal_or_none(["3"]) == Decimal(3)
    with pytest.raises(DynamicError, match="a sequence of 2 items where at most one decimal is allowed"):
        decimal_or_none([b, c])
    with pytest.raises(DynamicError):
        decimal_or_none([d])
    with pytest.raises(DynamicError):
        decimal_or_none([""])


def test_iban_ignores_whitespace_anywhere() -> None:
    account = etree.fromstring("<ID>DE75 5121\t0800\n1245 1261 99\r</ID>")
    assert iban_checksum_ok(account)
    assert not iban_checksum_ok(etree.fromstring("<ID>DE75 5121 0800 1245 1261 98</ID>"))
    assert not iban_checksum_ok(None)


def test_cash_discount_texts_without_a_hash_pass() -> None:
    notes = [etree.fromstring("<Note>Zahlbar innerhalb 30 Tagen netto.\n</Note>"), etree.fromstring("<Note/>")]
    assert skonto_ok(notes)
    assert not skonto_ok([etree.fromstring("<Note>#SKONTO#TAGE=7#PROZENT=2.00</Note>")])


_CII = (
    "<rsm:CrossIndustryInvoice xmlns:rsm='urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'"
    " xmlns:ram='urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100'>"
    "<rsm:SupplyChainTradeTransaction>"
    "<ram:IncludedSupplyChainTradeLineItem><ram:X>1</ram:X></ram:IncludedSupplyChainTradeLineItem>"
    "<ram:IncludedSupplyChainTradeLineItem><ram:X>2</ram:X><!-- c --><ram:X>3</ram:X>"
    "</ram:IncludedSupplyChainTradeLineItem>"
    "</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>"
)


def test_walk_in_and_outside_a_run() -> None:
    root = etree.fromstring(_CII)
    tags = cii_steps("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem/ram:X")
    outside = [x.text for x in child_path(root, tags)]
    with activate(Session(root)):
        inside = [x.text for x in child_path(root, tags)]
        assert child_path(root, cii_steps("ram:Missing/ram:X")) == []
    assert outside == inside == ["1", "2", "3"]
    lines = child_path(root, tags[:2])
    assert [x.text for x in further(children_reader(), lines, tags[2:])] == ["1", "2", "3"]
    with pytest.raises(ValueError, match="not a path of child steps"):
        ubl_steps("cac:Item[1]")


def test_per_check_once_per_check_of_that_document() -> None:
    root, other = etree.fromstring(_CII), etree.fromstring(_CII)
    calls: list[etree._Element] = []

    def compute(node: etree._Element) -> int:
        calls.append(node)
        return len(calls)

    assert per_check(root, "k", compute) == 1  # no run: every time
    assert per_check(root, "k", compute) == 2
    with activate(Session(root)):
        assert per_check(root[0], "k", compute) == 3
        assert per_check(root, "k", compute) == 3
        assert per_check(other, "k", compute) == 4  # another document: not this check's fact
