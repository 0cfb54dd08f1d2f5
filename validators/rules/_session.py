"""One document under check: an index of its elements by tag, and a memo of what rules learn about it.

The engine makes a session per check (``check.py`` shares it between the rule sets of the check)
and activates it only while a run executes. Whatever is memoised is therefore valid for exactly
one document in one state: nothing is kept across checks, and a tree changed between two checks
is looked at afresh. The memo holds document-wide facts (``en16931_ubl._document``), answers of
probes and pattern predicates per element, and the candidate lists of match patterns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, TypeVar

from lxml import etree

__all__ = [
    "ACTIVE",
    "Children",
    "Session",
    "activate",
    "active_session",
    "child_elements",
    "child_path",
    "children_reader",
    "first_child",
    "further",
    "per_check",
    "read_children",
]

T = TypeVar("T")
_ELEMENT: Final = etree.Element


class Session:
    """One document under check: its elements by tag and the facts computed about it.

    Valid for one check only; the tree must not change while the session is in use.
    """

    __slots__ = ("_children", "_positions", "by_tag", "elements", "memo", "root")

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        # Every element in document order, for the few selections that look at all of them.
        self.elements = elements = list(root.iter(_ELEMENT))
        # Rules read the children of nearly every element that has some (69 of 75 in the test suite's
        # invoices), so the children are indexed here in the pass that indexes the tags: one getparent()
        # per element costs less than a getchildren() and a loop per parent later.
        by_tag: dict[str, list[etree._Element]] = {root.tag: [root]}
        children: dict[etree._Element, dict[Any, list[etree._Element]]] = {}
        for el in elements[1:]:
            tag = el.tag
            bucket = by_tag.get(tag)
            if bucket is None:
                by_tag[tag] = [el]
            else:
                bucket.append(el)
            parent = el.getparent()
            siblings = children.get(parent)
            if siblings is None:
                children[parent] = {tag: [el]}
            else:
                bucket = siblings.get(tag)
                if bucket is None:
                    siblings[tag] = [el]
                else:
                    bucket.append(el)
        self.by_tag = by_tag
        self.memo: dict[Hashable, Any] = {}
        # Elements without element children are added on demand (with an empty index).
        self._children = children
        self._positions: dict[etree._Element, int] | None = None

    def fact(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, run once per session for ``key``; keys name what is computed and of which node."""
        memo = self.memo
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        value = memo[key] = compute()
        return value

    def children(self, el: etree._Element) -> dict[Any, list[etree._Element]]:
        """The element children of ``el`` by tag, read once (comments and PIs are not indexed).

        Rules ask for the children of the same few elements again and again; a dictionary lookup is
        twenty times cheaper than lxml's ``iterchildren`` or an XPath call.
        """
        found = self._children.get(el)
        if found is None:
            found = self._children[el] = {}
            for child in el.iterchildren(_ELEMENT):
                tag = child.tag
                bucket = found.get(tag)
                if bucket is None:
                    found[tag] = [child]
                else:
                    bucket.append(child)
        return found

    def by_parent(self, tag: str) -> dict[Any, list[etree._Element]]:
        """The elements named ``tag`` grouped by their parent's tag (None for the root), in document order.

        Patterns ending in the same name under different parents (``cac:TaxCategory/cbc:ID``,
        ``cac:PartyIdentification/cbc:ID`` ...) then each look at their own candidates only.
        """
        key = ("by parent", tag)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = {}
            for el in self.by_tag.get(tag, ()):
                parent = el.getparent()
                parent_tag = None if parent is None else parent.tag
                bucket = found.get(parent_tag)
                if bucket is None:
                    found[parent_tag] = [el]
                else:
                    bucket.append(el)
        return found  # type: ignore[no-any-return]

    def with_tags(self, tags: list[str]) -> list[etree._Element]:
        """The elements carrying any of ``tags``, in document order."""
        if not tags:
            return []
        if len(tags) == 1:
            return self.by_tag[tags[0]]
        return sorted([el for tag in tags for el in self.by_tag[tag]], key=self.positions().__getitem__)

    def in_document_order(self, elements: list[etree._Element]) -> list[etree._Element]:
        """Elements from several selections, each once, in document order."""
        if len(elements) < 2:
            return elements
        return sorted(set(elements), key=self.positions().__getitem__)

    def positions(self) -> dict[etree._Element, int]:
        """Each element's place in document order, numbered on first use.

        Sorting a few lists from the tag index by it is cheaper than a walk of the tree with
        ``iter(*tags)``, which sets up a matcher for the names on every call.
        """
        found = self._positions
        if found is None:
            found = self._positions = {el: i for i, el in enumerate(self.elements)}
        return found


# The session of the run in progress, if any; set only by ``activate``. Hot paths read it directly
# (``ACTIVE.get()``) where ``active_session``'s check of the node's document would cost too much.
ACTIVE: ContextVar[Session | None] = ContextVar("eingang_rules_session", default=None)


@contextmanager
def activate(session: Session) -> Iterator[Session]:
    """Make ``session`` the active one while the block runs (a run executes in one block, never across yields)."""
    token = ACTIVE.set(session)
    try:
        yield session
    finally:
        ACTIVE.reset(token)


def active_session(node: etree._Element) -> Session | None:
    """The session of the run in progress, if ``node`` belongs to its document."""
    session = ACTIVE.get()
    if session is None or session.root is not node.getroottree().getroot():
        return None
    return session


def per_check(node: etree._Element, key: Hashable, compute: Callable[[etree._Element], T]) -> T:
    """``compute(node)`` once per check of ``node``'s document (a global variable of a stylesheet, say);
    outside a run of that document, every time. ``compute`` takes the node, so callers need no closure."""
    session = ACTIVE.get()
    if session is None or session.root is not node.getroottree().getroot():
        return compute(node)
    memo = session.memo
    found = memo.get(key, _MISSING)
    if found is _MISSING:
        found = memo[key] = compute(node)
    return found  # type: ignore[no-any-return]


_MISSING: Final = object()


_NONE: Final[list[etree._Element]] = []


def child_elements(el: etree._Element, tag: str) -> list[etree._Element]:
    """The children of ``el`` named ``tag`` (a Clark name), in document order; the list must not be changed."""
    session = ACTIVE.get()
    if session is None:
        return list(el.iterchildren(tag))
    found = session._children.get(el)  # Session.children, inlined: this is the rules' most frequent call
    if found is None:
        found = session.children(el)
    return found.get(tag, _NONE)


def first_child(el: etree._Element, tag: str) -> etree._Element | None:
    """``el.find(tag)`` for a Clark name: the first child so named, or None."""
    found = child_elements(el, tag)
    return found[0] if found else None


Children = dict[Any, list[etree._Element]]


def read_children(el: etree._Element) -> Children:
    """The element children of ``el`` by tag, as ``Session.children`` reads them (outside a run)."""
    found: Children = {}
    for child in el.iterchildren(_ELEMENT):
        found.setdefault(child.tag, []).append(child)
    return found


def children_reader() -> Callable[[etree._Element], Children]:
    """A function giving the element children of an element by tag (lists not to be changed): the session's
    index in a run.

    Rules that read many elements' children in a row ask for the reader once, not for the session per element.
    """
    session = ACTIVE.get()
    return read_children if session is None else session.children


def further(
    children: Callable[[etree._Element], Children], items: list[etree._Element], tags: tuple[str, ...]
) -> list[etree._Element]:
    """The child steps ``tags`` (Clark names) from each of ``items``, in document order; the list must not be
    changed."""
    for tag in tags:
        if len(items) == 1:  # the common case, without building a list
            items = children(items[0]).get(tag, _NONE)
        elif not items:
            break
        else:
            items = [child for item in items for child in children(item).get(tag, _NONE)]
    return items


def child_path(node: etree._Element, tags: tuple[str, ...]) -> list[etree._Element]:
    """The elements the child steps ``tags`` (Clark names) select from ``node``, in document order; the list
    must not be changed. In a run, one look-up in the session's child index per step."""
    session = ACTIVE.get()
    if session is None:
        return further(read_children, [node], tags)
    # Session.children, inlined: the rules' paths are walked a few hundred times per document.
    index = session._children
    found = index.get(node)
    if found is None:
        found = session.children(node)
    items = found.get(tags[0], _NONE)
    if len(tags) == 1:
        return items
    for tag in tags[1:]:
        if len(items) == 1:  # the common case, without building a list
            item = items[0]
            found = index.get(item)
            if found is None:
                found = session.children(item)
            items = found.get(tag, _NONE)
        elif not items:
            break
        else:
            items = [child for item in items for child in session.children(item).get(tag, _NONE)]
    return items
