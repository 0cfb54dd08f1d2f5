"""The compiled context selection and XPath helpers select exactly what lxml's XPath selects.

The engine no longer runs a whole-document XPath per context: ``_match`` compiles match patterns
and predicates into Python, and ``_xpath.compile_xpath`` walks child paths itself. These tests hold
both to lxml (libxml2), the engine the reference verdicts were made with: every context of every
rule set on every corpus document, and a battery of predicates on documents made to be awkward
(comments and PIs among children, mixed content, whitespace, repeated and nested names).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from schemas.xml import parse_xml
from validators.rules import RULE_SETS, Session
from validators.rules._match import _XPathSelector, compile_pattern, match_xpath
from validators.rules._session import activate
from validators.rules._xpath import compile_xpath

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

NS = {
    "a": "urn:test:a",
    "b": "urn:test:b",
}

# Awkward on purpose: a comment and a PI between children, mixed content, blank and spaced text,
# the same names at several depths, attributes with and without values, an element in no namespace.
AWKWARD = b"""<?xml version="1.0"?>
<a:Doc xmlns:a="urn:test:a" xmlns:b="urn:test:b">
  <a:Head><b:ID>  AE </b:ID><b:ID schemeID="VA">DE123</b:ID><!-- note --><b:Code>vat</b:Code></a:Head>
  <a:Line><b:ID>1</b:ID><a:Tax><b:ID>S</b:ID><a:Scheme><b:ID> VAT</b:ID></a:Scheme></a:Tax>
    <a:Charge><b:Flag> false </b:Flag><b:Amount currencyID="EUR">10.00</b:Amount></a:Charge></a:Line>
  <a:Line><b:ID>2</b:ID><a:Tax><b:ID>Z</b:ID><?pi x?><a:Scheme><b:ID>vat</b:ID></a:Scheme></a:Tax>
    <a:Charge><b:Flag>1</b:Flag><b:Amount>5</b:Amount><a:Line><b:ID>nested</b:ID></a:Line></a:Charge></a:Line>
  <a:Empty/><a:Blank>  </a:Blank><a:Mixed>x<b:ID>y</b:ID>z<!--c-->w</a:Mixed>
  <plain>no namespace</plain>
  <b:Note listID="">tab&#9;and&#10;newline</b:Note>
</a:Doc>"""

PREDICATES = [
    "b:ID",
    "b:ID = 'AE'",
    "b:ID = 'S'",
    "normalize-space(b:ID) = 'AE'",
    "normalize-space(b:ID) = 'S' or normalize-space(b:ID) = 'Z'",
    "b:ID != 'S'",
    "b:ID[@schemeID]",
    "b:ID[@schemeID = 'VA']",
    "@currencyID",
    "@listID",
    "@listID = ''",
    "not(@currencyID)",
    "not(*)",
    "*",
    "b:*",
    "not(b:ID) and b:Flag",
    "b:Flag[normalize-space() = 'false' or normalize-space() = '0']",
    "b:Flag[normalize-space(.) = 'true' or normalize-space(.) = '1']",
    "a:Scheme[normalize-space(translate(b:ID, 'vat', 'VAT')) = 'VAT']",
    "translate(../b:Code, 'vat', 'VAT') = 'VAT'",
    ". = '1'",
    "text() = 'x'",
    "text()",
    "normalize-space()",
    "not(normalize-space())",
    "not(*) and not(normalize-space())",
    "ancestor::a:Charge",
    "not(ancestor::a:Line/a:Charge)",
    "ancestor-or-self::a:Line",
    "../b:ID = '1'",
    "b:ID = ../b:ID",
    "b:ID != ../b:ID",
    "b:Amount = /a:Doc/a:Line/a:Charge/b:Amount",
    "/a:Doc/a:Head/b:ID[@schemeID='VA']",
    "(/a:Doc/a:Head | /a:Doc/a:Line)/b:ID = '2'",
    "boolean(b:Code)",
    "string(b:ID) = 'AE'",
    "starts-with(normalize-space(b:ID), 'A')",
    "contains(b:Note, 'and')",
    "concat(b:ID, '-') = '1-'",
    "substring(local-name(), string-length(local-name()) - 1) = 'ID'",
    "not(self::b:Amount)",
    "local-name() = 'Tax' and b:ID",
    "true()",
    "false() or b:ID",
    "b:ID = true()",
    "plain",
    "(b:ID | b:Flag) = '1'",
    "boolean(b:Code | b:Flag)",
    "not(b:Nothing | b:Other)",
    "(../b:ID | b:ID) != '2'",
]


def _elements(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(etree.Element))


@pytest.mark.parametrize("predicate", PREDICATES)
def test_a_compiled_predicate_selects_what_xpath_selects(predicate: str) -> None:
    root = etree.fromstring(AWKWARD)
    for pattern in (f"*[{predicate}]", f"a:Line/*[{predicate}]", f"b:*[{predicate}]"):
        selector = compile_pattern(pattern, NS)
        expected = [n for n in etree.XPath(match_xpath(pattern), namespaces=NS)(root) if isinstance(n, etree._Element)]
        session = Session(root)
        with activate(session):
            assert selector.select(session, set()) == expected, pattern
        # outside a session too (no memo): the same
        assert selector.select(Session(root), set()) == expected, pattern


# Candidates that come by their parent's name (``_Branch.shaped`` checks only the ancestors above the
# parent): elements of the candidate's name under other parents, under the right parent with the wrong
# grandparent, and nested in themselves.
BY_PARENT = b"""<a:Doc xmlns:a="urn:test:a" xmlns:b="urn:test:b">
  <b:ID>top</b:ID>
  <a:Line><b:ID>1</b:ID><a:Tax><b:ID>S</b:ID><a:Scheme><b:ID>VAT</b:ID></a:Scheme></a:Tax></a:Line>
  <a:Head><a:Tax><b:ID>Z</b:ID><a:Scheme><b:ID>VAT</b:ID></a:Scheme></a:Tax></a:Head>
  <a:Line><b:ID>2</b:ID><!-- c --><a:Tax><b:ID>Z</b:ID></a:Tax>
    <a:Charge><a:Line><b:ID>nested</b:ID><a:Tax><b:ID>S</b:ID></a:Tax></a:Line></a:Charge></a:Line>
  <a:Tax><b:ID>E</b:ID><a:Scheme><b:ID>vat</b:ID></a:Scheme></a:Tax>
</a:Doc>"""


# Patterns with their documents: AWKWARD for the general machinery, BY_PARENT for the shapes whose
# candidates come by their parent's name.
COMPILED = [
    *(
        (AWKWARD, pattern)
        for pattern in [
            "a:Line",
            "a:Line/a:Tax/b:ID",
            "/a:Doc/a:Line",
            "/*/a:Line/b:ID",
            "a:Line//b:ID",
            "//a:Line/a:Charge/a:Line",
            "a:Line | a:Head",
            "b:ID | a:Line/b:ID",
            "a:Tax[b:ID = 'S']/a:Scheme | a:Tax[b:ID = 'Z']/a:Scheme",
            "/self::node()[/a:Doc/a:Head/b:Code = 'vat']//b:ID",
            "/self::node()[/a:Doc/a:Head/b:Code = 'VAT']//b:ID",
            "/a:Doc[(/a:Doc | /b:Doc)/a:Head/b:Code/text() = 'vat']/a:Line",
            "a:Line[b:ID = '2']/a:Charge/b:Amount",
            "a:Line[1]",
            "b:ID[last()]",
            "*[string-length(local-name())]",
        ]
    ),
    *(
        (BY_PARENT, pattern)
        for pattern in [
            "a:Tax/b:ID",
            "a:Line/a:Tax/b:ID",
            "a:Line/a:Tax[b:ID = 'S']/a:Scheme/b:ID",
            "a:Line[b:ID = '2']/a:Tax/b:ID",
            "a:Line[b:ID = 'nested']/a:Tax/b:ID",
            "a:Charge/a:Line/a:Tax/b:ID",
            "*/a:Tax/b:ID",
            "a:Line/b:ID",
            "/a:Doc/a:Tax/a:Scheme/b:ID",
            "//a:Line/a:Tax/b:ID",
            "a:Tax[b:ID = 'S']/a:Scheme/b:ID | a:Tax[b:ID = 'E']/a:Scheme/b:ID",
        ]
    ),
]


@pytest.mark.parametrize(("document", "pattern"), COMPILED)
def test_a_compiled_pattern_selects_what_xpath_selects(document: bytes, pattern: str) -> None:
    root = etree.fromstring(document)
    selector = compile_pattern(pattern, NS)
    expected = [n for n in etree.XPath(match_xpath(pattern), namespaces=NS)(root) if isinstance(n, etree._Element)]
    session = Session(root)
    with activate(session):
        assert selector.select(session, set()) == expected, pattern


# Blank and not-quite-blank leaves for PEPPOL-EN16931-R008's ``//*[not(*) and not(normalize-space())]``:
# comments and PIs only, text split around them, a no-break space (not XML whitespace), CDATA.
BLANK_LEAVES = b"""<?xml version="1.0"?>
<a:Doc xmlns:a="urn:test:a" xmlns:b="urn:test:b">
  <a:Empty/><a:Spaces> \t\r\n </a:Spaces><a:Comment><!-- c --></a:Comment><a:Pi>  <?p x?>  </a:Pi>
  <a:Split> <!-- c --> x </a:Split><a:Tail><!-- c -->y</a:Tail><a:Nbsp>&#160;</a:Nbsp><a:Cdata><![CDATA[ ]]></a:Cdata>
  <a:Holder><b:ID/> </a:Holder><a:Holder2><!-- c --><b:ID>z</b:ID></a:Holder2>
</a:Doc>"""


@pytest.mark.parametrize("pattern", ["//*[not(*) and not(normalize-space())]", "*[not(*)][not(normalize-space())]"])
@pytest.mark.parametrize("document", [AWKWARD, BLANK_LEAVES])
def test_blank_leaves_are_selected_as_xpath_selects_them(pattern: str, document: bytes) -> None:
    root = etree.fromstring(document)
    selector = compile_pattern(pattern, NS)
    assert not isinstance(selector, _XPathSelector)
    expected = [n for n in etree.XPath(match_xpath(pattern), namespaces=NS)(root) if isinstance(n, etree._Element)]
    assert expected
    session = Session(root)
    assert selector.select(session, set()) == expected
    assert selector.select(session, {expected[0]}) == expected[1:]


def test_positional_predicates_are_left_to_xpath() -> None:
    for pattern in ("a:Line[1]", "b:ID[last()]", "*[string-length(local-name())]", "b:ID[position() = 2]"):
        assert isinstance(compile_pattern(pattern, NS), _XPathSelector), pattern


def test_claimed_nodes_are_not_selected_again() -> None:
    root = etree.fromstring(AWKWARD)
    selector = compile_pattern("a:Line/b:ID | a:Tax/b:ID", NS)
    session = Session(root)
    with activate(session):
        every = selector.select(session, set())
        assert selector.select(session, {every[0]}) == every[1:]


@pytest.mark.parametrize(
    "expr",
    [
        "b:ID",
        "a:Line/b:ID",
        "a:Line/a:Tax/a:Scheme/b:ID",
        "b:*",
        "*",
        "a:Line/*/b:ID",
        "b:ID/@schemeID",
        "/a:Doc/a:Line/b:ID",
        "/a:Doc/a:Head/b:ID/@schemeID",
        "/a:Other/a:Line",
        "boolean(//a:Charge)",
        "count(//b:ID)",
        "string(/a:Doc/a:Head/b:Code)",
        "not(//a:Nothing)",
        "//b:ID[@schemeID]",
        "//a:Line | //a:Head",
        "//b:ID",
        "//a:Line/b:ID",
        "//a:Line/a:Charge/a:Line",
        "//a:Doc/a:Line/a:Tax/b:ID",
        "//a:Tax/b:Missing",
        "boolean(//a:Charge/b:Amount)",
        "not(//a:Head/b:Code)",
        "count(//a:Tax/b:ID)",
        "//plain",
    ],
)
def test_compiled_xpaths_return_what_lxml_returns(expr: str) -> None:
    root = etree.fromstring(AWKWARD)
    lxml = etree.XPath(expr, namespaces=NS, smart_strings=False)
    ours = compile_xpath(expr, NS)
    for node in [root, *_elements(root)]:
        assert ours(node) == lxml(node), (expr, node.tag)
        with activate(Session(root)):
            assert ours(node) == lxml(node), (expr, node.tag)


def _corpus_documents() -> Iterator[tuple[str, etree._Element]]:
    for path in sorted(CORPUS.rglob("*.xml")):
        try:
            root = parse_xml(path.read_bytes())
        except Exception:  # not well-formed on purpose
            continue
        if root.tag.endswith("}CrossIndustryInvoice") or "ubl:schema" in root.tag:
            yield str(path.relative_to(CORPUS)), root


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
def test_every_context_selects_what_its_xpath_selects_on_the_corpus() -> None:
    """Every context of every rule set, on every corpus document, claims taken into account."""
    compiled = {}
    for rule_set in RULE_SETS.values():
        for pattern in rule_set.patterns:
            for ctx in pattern.contexts:
                key = (ctx.pattern, tuple(sorted(rule_set.namespaces.items())))
                if key not in compiled:
                    compiled[key] = (
                        compile_pattern(ctx.pattern, rule_set.namespaces),
                        etree.XPath(match_xpath(ctx.pattern), namespaces=dict(rule_set.namespaces)),
                    )
    checked = 0
    for name, root in _corpus_documents():
        session = Session(root)
        with activate(session):
            for rule_set in RULE_SETS.values():
                for pattern in rule_set.patterns:
                    claimed: set[etree._Element] = set()
                    for ctx in pattern.contexts:
                        selector, xpath = compiled[(ctx.pattern, tuple(sorted(rule_set.namespaces.items())))]
                        expected = [n for n in xpath(root) if isinstance(n, etree._Element) and n not in claimed]
                        got = selector.select(session, claimed)
                        assert got == expected, (name, ctx.pattern)
                        # The engine's own shortcuts for bare names and predicate-free chains.
                        if selector.tag is not None:
                            by_tag = session.by_tag.get(selector.tag, [])
                            assert [n for n in by_tag if n not in claimed] == expected, (name, ctx.pattern)
                        if selector.shape is not None:
                            shaped = selector.shaped(session)
                            assert [n for n in shaped if n not in claimed] == expected, (name, ctx.pattern)
                        claimed.update(got)
                        checked += 1
    assert checked > 100_000
