"""Context selection without a whole-document XPath per context: match patterns compiled to tag checks.

A context's match pattern (``cac:InvoiceLine/cac:Item``, ``/ubl:Invoice/cac:AllowanceCharge[...]``,
``ram:*[substring(local-name(), ...) = 'Amount']``) used to run as one XPath over the whole document
for every context of every pattern. Here each pattern is compiled once into a ``Selector``:

* candidates come from the session's tag index (the elements the last step names);
* the steps above are checked by walking up the parents; the candidates of one *shape* (the same
  names up the same chain) are worked out once per document for all patterns of that shape;
* predicates run on those candidates only. Each ``and`` operand is compiled by ``_xpath_subset``
  where it can be; one that depends on nothing but the element's name is asked of lxml once per
  tag; one that reads the document only (a ``$isCVD`` gate) is asked of lxml once per document;
  anything else is asked of lxml per candidate, which is exact because an operand of ``and`` is a
  truth value, never a position;
* an operand ``X = 'literal'`` picks its candidates from an index of X's values, so the nine VAT
  category contexts that differ only in the code read each candidate's code once.

Patterns this module cannot read, positional predicates, and patterns whose candidates would be
every element (``//*[...]``, where one libxml2 walk beats Python) run as the XPath they always were;
the one such pattern of the rule sets, PEPPOL-EN16931-R008's blank leaves, has a selector of its own.
The nodes selected are those of the XPath, in document order: ``tests/validators/test_match.py``
holds every context of every rule set to that on the corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from validators.rules._session import ACTIVE, Session
from validators.rules._xpath_subset import (
    Compiler,
    Shared,
    Unsupported,
    conjunct_texts,
    depends_on_name_only,
    equality_key,
    is_path,
    may_be_number,
    parse,
    reads_document_only,
    reads_position,
)

__all__ = ["Selector", "compile_pattern", "match_xpath", "split_top"]

_NONE: Final[list[etree._Element]] = []


def split_top(text: str, separator: str) -> list[str]:
    """Split at a one-character separator outside brackets, parentheses and string literals."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


# --- predicates of pattern steps -----------------------------------------------------------------------------

# Name-only conjuncts are remembered per tag; a hostile document could name very many tags, so the
# cache stops growing at this size (past it the conjunct is evaluated each time).
_TAG_CACHE_LIMIT: Final = 4096


class _Predicate:
    """The conjuncts of one step predicate: those that depend on the name only, and the others."""

    def __init__(self, text: str, namespaces: Mapping[str, str]) -> None:
        self.text = text
        self.by_name: list[Callable[[etree._Element], bool]] = []
        self.by_node: list[Shared] = []
        expr = parse(text, namespaces)  # raises Unsupported where the grammar is not understood
        conjuncts = conjunct_texts(text)
        if len(conjuncts) == 1 and (may_be_number(expr) or reads_position(expr)):
            raise Unsupported("a positional predicate")
        compiler = Compiler(namespaces)
        for part in conjuncts:
            conjunct = parse(part, namespaces)
            if reads_position(conjunct):
                raise Unsupported("position() inside a conjunct")
            if depends_on_name_only(conjunct):
                self.by_name.append(_lxml_boolean(part, namespaces))
                continue
            if reads_document_only(conjunct):
                # A gate on the document (``$isCVD``): one libxml2 call per check is cheaper than
                # walking its absolute paths in Python, and its answer holds for every candidate.
                test = _document_fact(f"boolean({part})", namespaces)
            else:
                try:
                    test = compiler.boolean(conjunct)
                except Unsupported:
                    test = _lxml_boolean(part, namespaces)
            shared = compiler.shared("conjunct", conjunct, lambda test=test: test)  # type: ignore[misc]
            if shared.key is None:
                shared.key = equality_key(conjunct, compiler)
            self.by_node.append(shared)


def _lxml_boolean(text: str, namespaces: Mapping[str, str]) -> Callable[[etree._Element], bool]:
    xpath = etree.XPath(f"boolean({text})", namespaces=dict(namespaces))
    return lambda el: bool(xpath(el))


_PREDICATES: dict[tuple[str, tuple[tuple[str, str], ...]], _Predicate] = {}


def _predicate(text: str, namespaces: Mapping[str, str]) -> _Predicate:
    """Compiled once per text and namespaces, so that contexts sharing a predicate share its answers."""
    key = (text, tuple(sorted(namespaces.items())))
    found = _PREDICATES.get(key)
    if found is None:
        found = _PREDICATES[key] = _Predicate(text, namespaces)
    return found


class _NameFilter:
    """The name test of a step and its name-only conjuncts, answered once per tag."""

    __slots__ = ("accepted", "by_name", "cache", "test")

    def __init__(self, test: str, by_name: tuple[Callable[[etree._Element], bool], ...]) -> None:
        self.test = test
        self.by_name = by_name
        self.cache: dict[Any, bool] = {}
        self.accepted: set[Any] = set()  # the tags the cache says yes to

    def __call__(self, el: etree._Element) -> bool:
        tag = el.tag
        answer = self.cache.get(tag)
        if answer is None:
            test = self.test
            if test == "*":
                answer = isinstance(tag, str)
            elif test.endswith("}*"):
                answer = isinstance(tag, str) and tag.startswith(test[:-1])
            else:
                answer = tag == test
            answer = answer and all(p(el) for p in self.by_name)
            if len(self.cache) < _TAG_CACHE_LIMIT:
                self.cache[tag] = answer
                if answer:
                    self.accepted.add(tag)
        return answer


@dataclass(frozen=True)
class _ElementStep:
    """One child step of a pattern: its name filter and the conjuncts to test on each element."""

    accept: _NameFilter
    by_node: tuple[Shared, ...]


# --- selectors -----------------------------------------------------------------------------------------------


class Selector:
    """The elements a context's match pattern selects in a document, in document order."""

    pattern: str
    # The tags the selected elements can carry, when the pattern names them: a document without any
    # of them has nothing to select.
    tags: frozenset[str] | None = None
    # For the commonest patterns the engine selects without a call: ``tag`` when the pattern is one
    # element name anywhere (its elements are the selection), ``shape`` when it is a chain of names
    # without predicates (the selection is the shape's candidates, see ``shaped``).
    tag: str | None = None
    shape: tuple[Any, ...] | None = None
    requires: frozenset[str] = frozenset()

    def select(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        raise NotImplementedError

    def shaped(self, session: Session) -> list[Any]:
        raise NotImplementedError


class _XPathSelector(Selector):
    """The pattern run as one XPath over the document.

    For patterns this module cannot read, and for those whose candidates are all elements (``//*[...]``):
    libxml2 walks the whole tree faster than Python can look at each element.
    """

    def __init__(self, pattern: str, namespaces: Mapping[str, str]) -> None:
        self.pattern = pattern
        self.xpath = etree.XPath(match_xpath(pattern), namespaces=dict(namespaces))

    def select(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        result = self.xpath(session.root)
        if not isinstance(result, list):
            return []
        return [n for n in result if isinstance(n, etree._Element) and n not in claimed]


# The conjuncts of ``//*[not(*) and not(normalize-space())]`` (PEPPOL-EN16931-R008), whitespace removed.
_BLANK_LEAF: Final = frozenset({"not(*)", "not(normalize-space())"})
_XML_SPACE: Final = " \t\r\n"


class _BlankLeafSelector(Selector):
    """``//*[not(*) and not(normalize-space())]``: the elements without element children whose text is blank.

    One pass over the session's elements costs a quarter of the XPath call. The string value of an
    element without element children is its own text and the tails of its comments and PIs (the
    hardened parser leaves no entity references); ``normalize-space`` empties it when only the four
    XML whitespace characters are in it.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def select(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        out = []
        for el in session.elements:
            if len(el):  # children, perhaps only comments and PIs (an element child comes first, mostly)
                if el[0].tag.__class__ is str or any(child.tag.__class__ is str for child in el):
                    continue
                text = "".join([el.text or "", *(child.tail or "" for child in el)])
            else:
                text = el.text
            if (not text or not text.strip(_XML_SPACE)) and el not in claimed:
                out.append(el)
        return out


def _blank_leaves(pattern: str, namespaces: Mapping[str, str]) -> bool:
    """Whether the pattern is ``//*[not(*) and not(normalize-space())]``, however spaced or bracketed."""
    if len(split_top(pattern, "|")) != 1:
        return False
    try:
        expr = parse(pattern if pattern.startswith("/") else "//" + pattern, namespaces)
    except Unsupported:
        return False
    if not is_path(expr) or not expr.absolute or expr.start is not None or len(expr.steps) != 2:
        return False
    anywhere, step = expr.steps
    if anywhere.axis != "descendant-or-self" or anywhere.test != "node()" or anywhere.predicates:
        return False
    if step.axis != "child" or step.test != "*" or not step.predicates:
        return False
    conjuncts = {"".join(c.split()) for p in step.predicates for c in conjunct_texts(p)}
    return conjuncts == _BLANK_LEAF


class _Branch:
    """One ``|`` branch: element steps, each joined to the one above by ``/`` (parent) or ``//`` (ancestor).

    The first step hangs below the document: by ``/`` it is the root element, by ``//`` any element.
    """

    def __init__(self, steps: list[_ElementStep], joins: list[str], document_test: _DocumentFact | None) -> None:
        self.steps = steps
        self.joins = joins
        self.document_test = document_test
        last = steps[-1].accept
        self.tag: str | None = None if last.test.endswith("*") else last.test
        # Only parent joins below the first step: the shape is a fixed chain of ancestors.
        self.chain = all(j == "/" for j in joins[1:])
        self.anchored = joins[0] == "/"  # the first step is the root element
        # Per ancestor, nearest first: its tag where that is all the step asks, else its name filter.
        self.up: tuple[str | _NameFilter, ...] = tuple(
            s.accept.test if _exact(s.accept) else s.accept for s in reversed(steps[:-1])
        )
        self.by_node = tuple(s.by_node for s in reversed(steps))  # conjuncts, the candidate's first
        self.lines = any(self.by_node[1:])  # predicates above the candidate: keep its ancestors
        self.plain = not any(self.by_node)
        # A candidate conjunct ``X = 'literal'`` picks the candidates from an index of X's values;
        # the other conjuncts are tested as usual.
        keyed = next((c for c in self.by_node[0] if c.key is not None), None)
        self.keyed = keyed
        self.rest = tuple(c for c in self.by_node[0] if c is not keyed)
        # Patterns of one shape (the same tags up the same chain) select from the same candidates:
        # the chain is walked once per document for all of them.
        last_key: str | _NameFilter = last.test if _exact(last) else last
        self.shape = ("shape", last_key, self.up, self.anchored, self.lines)
        # Wildcard candidates come by tags that passed the name filter; by one tag, only name-only
        # conjuncts of the last step are left to check.
        self.check_last = self.tag is not None and not _exact(last)
        # Every element name the branch needs in the document: without one of them it selects nothing.
        self.requires = frozenset(s.accept.test for s in steps if not s.accept.test.endswith("*"))
        # A chain of names from the root element (``/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID``)
        # is walked down through the session's child index: a few lookups instead of checking the
        # ancestors of every element of the last name.
        self.down: tuple[str, ...] | None = None
        if self.anchored and self.chain and self.tag is not None and all(t.__class__ is str for t in self.up):
            self.down = (*reversed(self.up), self.tag)  # type: ignore[arg-type]

    def candidates(self, session: Session) -> list[etree._Element]:
        if self.tag is not None:
            return session.by_tag.get(self.tag, _NONE)
        # A wildcard: the tags present that pass the filter, answered from its cache where it can
        # (by set operations: a document holds a hundred tags, and most patterns ask of the same ones).
        accept = self.steps[-1].accept
        by_tag = session.by_tag
        present = by_tag.keys()
        tags = present & accept.accepted
        unknown = present - accept.cache.keys()
        if unknown:
            tags.update(t for t in unknown if accept(by_tag[t][0]))
        return session.with_tags(list(tags))

    def shaped(self, session: Session) -> list[Any]:
        """The candidates whose ancestors have the tags of the pattern (as lines up the chain, if needed)."""
        if self.down is not None and session.root.getparent() is None:
            return self.descend(session, self.down)
        accept = self.steps[-1].accept
        check_last = self.check_last
        up, anchored, lines = self.up, self.anchored, self.lines
        out: list[Any] = []
        if self.tag is not None and up and up[0].__class__ is str:
            # The parent's tag is known: only the elements under such parents are candidates, and their
            # parents need no second look (reading a tag builds a new string each time).
            candidates = session.by_parent(self.tag).get(up[0], _NONE)
            known = 1
        else:
            candidates = self.candidates(session)
            known = 0
        above = up[known:]
        for el in candidates:
            if check_last and not accept(el):
                continue
            node = el.getparent() if known else el
            line = [el, node] if known else [el]
            for test in above:
                node = node.getparent()
                if node is None or not (node.tag == test if test.__class__ is str else test(node)):  # type: ignore[operator]
                    break
                if lines:
                    line.append(node)
            else:
                if anchored and node.getparent() is not None:
                    continue
                out.append(tuple(line) if lines else el)
        return out

    def descend(self, session: Session, down: tuple[str, ...]) -> list[Any]:
        """``shaped`` for a chain of names from the root element, walked down level by level.

        The elements of one level are in document order, so their children, taken parent by parent,
        are too. Lines hold each element with its ancestors, nearest first, as ``shaped`` makes them.
        """
        root = session.root
        if root.tag != down[0]:
            return []
        children = session.children
        lines: list[Any] = [(root,)] if self.lines else [root]
        for tag in down[1:]:
            if self.lines:
                lines = [(child, *line) for line in lines for child in children(line[0]).get(tag, _NONE)]
            else:
                lines = [child for el in lines for child in children(el).get(tag, _NONE)]
            if not lines:
                return lines
        if self.check_last:
            accept = self.steps[-1].accept
            return [line for line in lines if accept(line[0] if self.lines else line)]
        return lines

    def select(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        if self.document_test is not None and not self.document_test.holds(session):
            return []
        if not self.chain:
            return [
                el for el in self.candidates(session) if el not in claimed and self.matches(el, len(self.steps) - 1)
            ]
        answers = session.memo
        shaped = answers.get(self.shape)
        if shaped is None:
            shaped = answers[self.shape] = self.shaped(session)
        if self.plain:
            return [el for el in shaped if el not in claimed]
        if self.keyed is not None and shaped:
            return self.select_keyed(session, shaped, claimed)
        if not self.lines:
            tests = self.by_node[0]
            if len(tests) == 1:
                (test,) = tests
                return [el for el in shaped if el not in claimed and test(el)]
            return [el for el in shaped if el not in claimed and all(t(el) for t in tests)]
        levels = self.by_node
        return [
            line[0]
            for line in shaped
            if line[0] not in claimed and all(t(n) for tests, n in zip(levels, line, strict=False) for t in tests)
        ]

    def select_keyed(self, session: Session, shaped: list[Any], claimed: set[etree._Element]) -> list[Any]:
        """The candidates whose value of the keyed conjunct is its literal, looked up in an index.

        The index (value -> candidates in document order) is built once per shape and expression,
        for all patterns that differ only in the literal (a VAT category code, a payment means code).
        """
        values, literal = self.keyed.key  # type: ignore[union-attr]
        answers = session.memo
        index_key = (self.shape, values)
        index = answers.get(index_key)
        if index is None:
            index = answers[index_key] = {}
            at = values.fn
            for item in shaped:
                for value in at(item[0] if self.lines else item):
                    bucket = index.get(value)
                    if bucket is None:
                        index[value] = [item]
                    else:
                        bucket.append(item)
        found = index.get(literal)
        if not found:
            return _NONE
        rest = self.rest
        if not self.lines:
            return [el for el in found if el not in claimed and all(t(el) for t in rest)]
        levels = (rest, *self.by_node[1:])
        return [
            line[0]
            for line in found
            if line[0] not in claimed and all(t(n) for tests, n in zip(levels, line, strict=False) for t in tests)
        ]

    def matches(self, el: etree._Element, i: int) -> bool:
        """Whether ``el`` is selected by steps 0..i (general joins, backtracking over ``//``)."""
        step = self.steps[i]
        if not step.accept(el) or not all(t(el) for t in step.by_node):
            return False
        if i == 0:
            return not self.anchored or el.getparent() is None
        parent = el.getparent()
        if self.joins[i] == "/":
            return parent is not None and self.matches(parent, i - 1)
        while parent is not None:
            if self.matches(parent, i - 1):
                return True
            parent = parent.getparent()
        return False


def _exact(accept: _NameFilter) -> bool:
    """True when the filter only compares the tag with one name."""
    return not accept.test.endswith("*") and not accept.by_name


def _document_test(predicates: tuple[str, ...], namespaces: Mapping[str, str]) -> _DocumentFact:
    """``/self::node()[p]...`` as a test of the document, given any of its elements."""
    gates = "".join(f"[{p}]" for p in predicates)
    return _document_fact(f"boolean(/self::node(){gates})", namespaces)


class _DocumentFact:
    """A boolean XPath whose value depends on the document only, given any of its elements.

    Run by lxml (one libxml2 call beats walking absolute paths in Python) once per session: one
    object per expression and namespaces, so the contexts that repeat a gate (``$isCVD``, the
    extension's CustomizationID) share its answer.
    """

    __slots__ = ("xpath",)

    def __init__(self, text: str, namespaces: Mapping[str, str]) -> None:
        self.xpath = etree.XPath(text, namespaces=dict(namespaces))

    def __call__(self, el: etree._Element) -> bool:
        session = ACTIVE.get()
        if session is None or session.root is not el.getroottree().getroot():
            return bool(self.xpath(el))
        return self.holds(session)

    def holds(self, session: Session) -> bool:
        """The answer for the session's document, asked once per session."""
        memo = session.memo
        answer = memo.get(self)
        if answer is None:
            answer = memo[self] = bool(self.xpath(session.root))
        return answer  # type: ignore[no-any-return]


_DOCUMENT_FACTS: dict[tuple[str, tuple[tuple[str, str], ...]], _DocumentFact] = {}


def _document_fact(text: str, namespaces: Mapping[str, str]) -> _DocumentFact:
    key = (text, tuple(sorted(namespaces.items())))
    found = _DOCUMENT_FACTS.get(key)
    if found is None:
        found = _DOCUMENT_FACTS[key] = _DocumentFact(text, namespaces)
    return found


class _StepSelector(Selector):
    def __init__(self, pattern: str, branches: list[_Branch]) -> None:
        self.pattern = pattern
        self.branches = branches
        tags = {b.tag for b in branches}
        self.tags = None if None in tags else frozenset(t for t in tags if t is not None)
        # Names the document must hold for the pattern to select anything: those all branches need.
        self.requires = frozenset.intersection(*(b.requires for b in branches))
        # ``cbc:Amount | cbc:BaseAmount | ...``, ``cbc:InvoicedQuantity[@unitCode] | cbc:BaseQuantity[@unitCode]``:
        # names anywhere, tested on the element only, are one walk of the document for the names present
        # rather than a selection and a merge per branch. An element is selected when any branch of its
        # name accepts it.
        self.by_name: dict[str, list[tuple[Shared, ...]]] = {}
        if len(branches) > 1 and all(
            b.chain and b.document_test is None and b.tag is not None and not b.up and not b.anchored for b in branches
        ):
            for b in branches:
                self.by_name.setdefault(b.tag, []).append(b.by_node[0])  # type: ignore[arg-type]
            self.select = self.select_names  # type: ignore[method-assign]
        # Every name has a branch without predicates: every element of the names is selected.
        self.names_plain = all(() in alternatives for alternatives in self.by_name.values())
        if len(branches) == 1:
            only = branches[0]
            self.select = only.select  # type: ignore[method-assign]
            if only.plain and only.chain and only.document_test is None and only.tag is not None:
                if not only.up and not only.anchored:
                    self.tag = only.tag
                else:
                    self.shape = only.shape
                    self.shaped = only.shaped  # type: ignore[method-assign]

    def select_names(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        by_name = self.by_name
        by_tag = session.by_tag
        found = session.with_tags([name for name in by_name if name in by_tag])
        if self.names_plain:
            return [el for el in found if el not in claimed] if claimed else found
        return [el for el in found if el not in claimed and any(all(t(el) for t in tests) for tests in by_name[el.tag])]

    def select(self, session: Session, claimed: set[etree._Element]) -> list[etree._Element]:
        # Branches are mostly alternatives of which a document has one (Invoice or CreditNote):
        # only selections from several branches need merging into document order.
        found: list[etree._Element] = []
        merge = False
        present = session.by_tag.keys()
        for branch in self.branches:
            if not present >= branch.requires:
                continue
            selected = branch.select(session, claimed)
            if selected:
                merge = bool(found)
                found = found + selected if found else selected
        return session.in_document_order(found) if merge else found


def _branch(text: str, namespaces: Mapping[str, str]) -> _Branch:
    """Compile one branch; raises Unsupported where the pattern needs the XPath."""
    expr = parse(text if text.startswith("/") else "//" + text, namespaces)
    if not is_path(expr) or not expr.absolute or expr.start is not None or not expr.steps:
        raise Unsupported("not a location path")
    steps = list(expr.steps)
    document_test = None
    if steps[0].axis == "self" and steps[0].test == "node()":  # /self::node()[gate]: a test of the document
        document_test = _document_test(steps[0].predicates, namespaces)
        steps = steps[1:]
    element_steps: list[_ElementStep] = []
    joins: list[str] = []
    join = "/"
    predicates: list[_Predicate] = []
    for step in steps:
        if step.axis == "descendant-or-self" and step.test == "node()" and not step.predicates and join == "/":
            join = "//"
            continue
        if step.axis != "child" or step.test in ("node()", "text()"):
            raise Unsupported(f"{step.axis}::{step.test} in a pattern")
        compiled = [_predicate(p, namespaces) for p in step.predicates]
        predicates.extend(compiled)
        by_name = tuple(t for p in compiled for t in p.by_name)
        by_node = tuple(c for p in compiled for c in p.by_node)
        element_steps.append(_ElementStep(_NameFilter(step.test, by_name), by_node))
        joins.append(join)
        join = "/"
    if not element_steps or join != "/":
        raise Unsupported("a pattern ending in //")
    last = element_steps[-1]
    if last.accept.test == "*" and not last.accept.by_name and last.by_node:
        raise Unsupported("every element a candidate")  # //*[not(*)]: one libxml2 walk is faster
    for predicate in predicates:
        for conjunct in predicate.by_node:
            conjunct.uses += 1  # a second use makes the session keep its answers
    return _Branch(element_steps, joins, document_test)


def match_xpath(pattern: str) -> str:
    """An XPath selecting every node an XSLT match pattern matches."""
    return " | ".join(b if b.startswith("/") else "//" + b for b in split_top(pattern, "|"))


def compile_pattern(pattern: str, namespaces: Mapping[str, str]) -> Selector:
    """The selector for a match pattern: tag-indexed where this module reads it, else the XPath."""
    if _blank_leaves(pattern, namespaces):
        return _BlankLeafSelector(pattern)
    try:
        return _StepSelector(pattern, [_branch(b, namespaces) for b in split_top(pattern, "|")])
    except Unsupported:
        return _XPathSelector(pattern, namespaces)
