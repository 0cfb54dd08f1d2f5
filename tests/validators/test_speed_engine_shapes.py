"""Shapes whose candidates come by their parent's name select what lxml's XPath selects.

``_Branch.shaped`` takes such candidates from the session's index by parent and checks only the
ancestors above the parent; these patterns put elements of the candidate's name under other
parents, under the right parent with the wrong grandparent, and nested in themselves.
"""

from __future__ import annotations

import pytest
from lxml import etree

from validators.rules import Session
from validators.rules._match import compile_pattern, match_xpath
from validators.rules._session import activate

NS = {"a": "urn:test:a", "b": "urn:test:b"}

DOCUMENT = b"""<a:Doc xmlns:a="urn:test:a" xmlns:b="urn:test:b">
  <b:ID>top</b:ID>
  <a:Line><b:ID>1</b:ID><a:Tax><b:ID>S</b:ID><a:Scheme><b:ID>VAT</b:ID></a:Scheme></a:Tax></a:Line>
  <a:Head><a:Tax><b:ID>Z</b:ID><a:Scheme><b:ID>VAT</b:ID></a:Scheme></a:Tax></a:Head>
  <a:Line><b:ID>2</b:ID><!-- c --><a:Tax><b:ID>Z</b:ID></a:Tax>
    <a:Charge><a:Line><b:ID>nested</b:ID><a:Tax><b:ID>S</b:ID></a:Tax></a:Line></a:Charge></a:Line>
  <a:Tax><b:ID>E</b:ID><a:Scheme><b:ID>vat</b:ID></a:Scheme></a:Tax>
</a:Doc>"""


@pytest.mark.parametrize(
    "pattern",
    [
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
    ],
)
def test_a_shape_by_parent_selects_what_xpath_selects(pattern: str) -> None:
    root = etree.fromstring(DOCUMENT)
    expected = etree.XPath(match_xpath(pattern), namespaces=NS)(root)
    session = Session(root)
    with activate(session):
        assert compile_pattern(pattern, NS).select(session, set()) == expected, pattern
