"""The XPath 1.0 subset the rules use, read and compiled into Python functions of a context node.

Paths on the child, attribute, self, parent and ancestor axes, ``=``/``!=`` on strings and node-sets,
``and``/``or``, ``not``, ``normalize-space``, ``translate`` and a few more string functions are
compiled, with XPath 1.0 semantics: comparisons are existential over node-sets, string values leave
comments and PIs out, ``normalize-space`` knows only the four XML whitespace characters. Numbers,
positions and anything else raise ``Unsupported``; callers then use lxml for that expression.
``tests/validators/test_match.py`` holds the compiled functions to lxml's answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from validators.rules._session import ACTIVE, child_elements
from validators.rules._text import normalize_space, string_value

__all__ = [
    "ChildPath",
    "Compiler",
    "DescendantPath",
    "Shared",
    "Unsupported",
    "child_path",
    "conjunct_texts",
    "depends_on_name_only",
    "descendant_path",
    "document_wide",
    "equality_key",
    "is_path",
    "may_be_number",
    "parse",
    "reads_document_only",
    "reads_position",
]

_ELEMENT: Final = etree.Element


# --- reading XPath 1.0 ---------------------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<literal>"[^"]*"|'[^']*')
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<op>//|::|!=|<=|>=|\.\.|[/()\[\]@,|=<>+*.$-])
      | (?P<name>[A-Za-z_][\w.-]*(?::(?:[A-Za-z_][\w.-]*|\*))?)
    )""",
    re.VERBOSE,
)
_OPERATOR_NAMES: Final = frozenset({"and", "or", "div", "mod"})
_NODE_TYPES: Final = frozenset({"text", "node", "comment", "processing-instruction"})
_AXES: Final = frozenset(
    {"child", "attribute", "self", "parent", "ancestor", "ancestor-or-self", "descendant", "descendant-or-self"}
)


class Unsupported(Exception):
    """The expression uses XPath this module does not evaluate itself."""


@dataclass(frozen=True)
class _Token:
    kind: str  # literal, number, op, name
    value: str
    start: int
    end: int


# After these tokens an operand follows, so ``and``/``or``/``div``/``mod`` are names and ``*`` is a
# name test; after any other token they are operators (the XPath 1.0 lexical disambiguation rule).
_BEFORE_OPERAND: Final = frozenset(
    {"@", "::", "(", "[", ",", "/", "//", "|", "+", "-", "=", "!=", "<", "<=", ">", ">="}
)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise Unsupported(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup or ""
        value = match[kind]
        previous = tokens[-1] if tokens else None
        after_operand = previous is not None and previous.kind != "operator" and previous.value not in _BEFORE_OPERAND
        if after_operand and ((kind == "name" and value in _OPERATOR_NAMES) or value == "*"):
            kind = "operator"
        tokens.append(_Token(kind, value, match.start(match.lastgroup or ""), match.end()))
        pos = match.end()
    return tokens


@dataclass(frozen=True)
class _Literal:
    value: str


@dataclass(frozen=True)
class _Number:
    value: float


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Expr, ...]


@dataclass(frozen=True)
class _Binary:
    op: str  # or, and, =, !=, <, <=, >, >=, +, -, *, div, mod, |
    left: _Expr
    right: _Expr


@dataclass(frozen=True)
class _Step:
    axis: str
    test: str  # a Clark name, "{ns}*", "*", "text()" or "node()"
    predicates: tuple[str, ...] = ()  # source text of each predicate


@dataclass(frozen=True)
class _Path:
    absolute: bool
    steps: tuple[_Step, ...]
    start: _Expr | None = None  # a filter expression the steps continue from, as in ``(a | b)/c``


_Expr = _Literal | _Number | _Call | _Binary | _Path


class _Parser:
    """Recursive descent over the XPath 1.0 expression grammar (without variables)."""

    def __init__(self, text: str, namespaces: Mapping[str, str]) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.ns = namespaces

    def parse(self) -> _Expr:
        expr = self.or_expr()
        if self.pos != len(self.tokens):
            raise Unsupported(f"unexpected {self.peek().value!r}")
        return expr

    def peek(self, offset: int = 0) -> _Token:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else _Token("", "", len(self.text), len(self.text))

    def take(self, value: str | None = None) -> _Token:
        token = self.peek()
        if not token.kind or (value is not None and token.value != value):
            raise Unsupported(f"expected {value!r}, found {token.value!r}")
        self.pos += 1
        return token

    def binary(self, next_level: Callable[[], _Expr], *ops: str) -> _Expr:
        left = next_level()
        while True:
            token = self.peek()
            # Symbols are operators where they stand; words and "*" only when the tokenizer said so.
            is_operator = token.kind == "operator" or (token.kind == "op" and token.value != "*")
            if not (is_operator and token.value in ops):
                return left
            self.take()
            left = _Binary(token.value, left, next_level())

    def or_expr(self) -> _Expr:
        return self.binary(self.and_expr, "or")

    def and_expr(self) -> _Expr:
        return self.binary(self.equality, "and")

    def equality(self) -> _Expr:
        return self.binary(self.relational, "=", "!=")

    def relational(self) -> _Expr:
        return self.binary(self.additive, "<", "<=", ">", ">=")

    def additive(self) -> _Expr:
        return self.binary(self.multiplicative, "+", "-")

    def multiplicative(self) -> _Expr:
        return self.binary(self.unary, "*", "div", "mod")

    def unary(self) -> _Expr:
        if self.peek().kind == "op" and self.peek().value == "-":
            self.take()
            return _Binary("-", _Number(0.0), self.unary())
        return self.binary(self.path_expr, "|")

    def path_expr(self) -> _Expr:
        token = self.peek()
        is_call = token.kind == "name" and self.peek(1).value == "(" and token.value not in _NODE_TYPES
        if token.kind in ("literal", "number") or token.value == "(" or is_call:
            primary = self.primary()
            if self.peek().value in ("/", "//"):
                return _Path(False, self.relative_steps(self.take().value), start=primary)
            if self.peek().value == "[":
                raise Unsupported("predicates on filter expressions")
            return primary
        return self.location_path()

    def primary(self) -> _Expr:
        token = self.take()
        if token.kind == "literal":
            return _Literal(token.value[1:-1])
        if token.kind == "number":
            return _Number(float(token.value))
        if token.value == "(":
            expr = self.or_expr()
            self.take(")")
            return expr
        if token.kind != "name" or ":" in token.value:
            raise Unsupported(f"unexpected {token.value!r}")
        self.take("(")
        args: list[_Expr] = []
        if self.peek().value != ")":
            args.append(self.or_expr())
            while self.peek().value == ",":
                self.take()
                args.append(self.or_expr())
        self.take(")")
        return _Call(token.value, tuple(args))

    def location_path(self) -> _Path:
        first = self.peek()
        if first.kind == "op" and first.value == "/":
            self.take()
            following = self.peek()
            starts_step = following.kind == "name" or following.value in ("*", "@", ".", "..")
            return _Path(True, self.relative_steps("") if starts_step else ())
        if first.kind == "op" and first.value == "//":
            self.take()
            return _Path(True, self.relative_steps("//"))
        return _Path(False, self.relative_steps(""))

    def relative_steps(self, leading: str) -> tuple[_Step, ...]:
        steps: list[_Step] = []
        separator = leading
        while True:
            if separator == "//":
                steps.append(_Step("descendant-or-self", "node()"))
            steps.append(self.step())
            if self.peek().value not in ("/", "//") or self.peek().kind != "op":
                return tuple(steps)
            separator = self.take().value

    def step(self) -> _Step:
        token = self.peek()
        if token.kind == "op" and token.value == ".":
            self.take()
            return _Step("self", "node()")
        if token.kind == "op" and token.value == "..":
            self.take()
            return _Step("parent", "node()")
        axis = "child"
        if token.kind == "op" and token.value == "@":
            self.take()
            axis = "attribute"
        elif token.kind in ("name", "operator") and self.peek(1).value == "::":
            axis = self.take().value
            self.take("::")
            if axis not in _AXES:
                raise Unsupported(f"axis {axis}")
        test = self.node_test()
        predicates = []
        while self.peek().value == "[":
            start = self.take().end
            self.or_expr()
            predicates.append(self.text[start : self.peek().start].strip())
            self.take("]")
        return _Step(axis, test, tuple(predicates))

    def node_test(self) -> str:
        token = self.take()
        if token.value == "*":
            return "*"
        if token.kind not in ("name", "operator"):
            raise Unsupported(f"node test {token.value!r}")
        if token.value in _NODE_TYPES and self.peek().value == "(":
            self.take("(")
            self.take(")")
            if token.value not in ("text", "node"):
                raise Unsupported(f"{token.value}()")
            return f"{token.value}()"
        prefix, _, local = token.value.rpartition(":")
        if not prefix:
            return local  # an unprefixed name is in no namespace (XPath 1.0)
        if prefix not in self.ns:
            raise Unsupported(f"undeclared prefix {prefix}")
        return f"{{{self.ns[prefix]}}}{local}"


def parse(text: str, namespaces: Mapping[str, str]) -> _Expr:
    return _Parser(text, namespaces).parse()


def conjunct_texts(text: str) -> list[str]:
    """The source of each top-level ``and`` operand of an expression."""
    parts, depth, start = [], 0, 0
    for token in _tokenize(text):
        if token.value in ("(", "["):
            depth += 1
        elif token.value in (")", "]"):
            depth -= 1
        elif token.kind == "operator" and token.value == "and" and depth == 0:
            parts.append(text[start : token.start].strip())
            start = token.end
    parts.append(text[start:].strip())
    return parts


# --- what an expression depends on ---------------------------------------------------------------------------

_NAME_CALLS: Final = frozenset(
    {"substring", "string-length", "concat", "starts-with", "contains", "translate", "not", "boolean", "true",
     "false", "local-name", "substring-before", "substring-after"}
)  # fmt: skip
_NUMERIC_CALLS: Final = frozenset(
    {"string-length", "count", "sum", "number", "position", "last", "floor", "ceiling", "round"}
)


def depends_on_name_only(expr: _Expr) -> bool:
    """True when the value depends on nothing but the context element's expanded name."""
    if isinstance(expr, (_Literal, _Number)):
        return True
    if isinstance(expr, _Binary):
        return expr.op != "|" and depends_on_name_only(expr.left) and depends_on_name_only(expr.right)
    if isinstance(expr, _Call):
        if expr.name not in _NAME_CALLS:
            return False
        # Without arguments these read the context node's string value; local-name() reads the name.
        if expr.name == "local-name":
            return not expr.args
        if not expr.args and expr.name not in ("true", "false"):
            return False
        return all(depends_on_name_only(a) for a in expr.args)
    return (  # a path: only ``self::name`` without predicates
        not expr.absolute
        and expr.start is None
        and len(expr.steps) == 1
        and expr.steps[0].axis == "self"
        and expr.steps[0].test not in ("node()", "text()")
        and not expr.steps[0].predicates
    )


def may_be_number(expr: _Expr) -> bool:
    """True when the value may be a number: as a predicate, a position rather than a truth value."""
    if isinstance(expr, _Number):
        return True
    if isinstance(expr, _Binary):
        return expr.op in ("+", "-", "*", "div", "mod")
    if isinstance(expr, _Call):
        return expr.name in _NUMERIC_CALLS
    return False


def reads_position(expr: _Expr) -> bool:
    """True when ``position()`` or ``last()`` is read outside nested predicates."""
    if isinstance(expr, _Call):
        return expr.name in ("position", "last") or any(reads_position(a) for a in expr.args)
    if isinstance(expr, _Binary):
        return reads_position(expr.left) or reads_position(expr.right)
    if isinstance(expr, _Path) and expr.start is not None:
        return reads_position(expr.start)
    return False


# --- compiled expressions ------------------------------------------------------------------------------------
# Items of a node-set: lxml elements, the document (an ``_ElementTree``) or strings (attribute values and
# text nodes, which the rules only compare). Node-sets are produced lazily, so that a test of existence
# stops at the first node. Duplicates are never removed: no compiled use of a node-set depends on them
# (existence, existential comparison and the first node are the same with or without).

_Fn = Callable[[Any], Any]
_Expand = Callable[[Any], Iterable[Any]]  # one step from one item
_MISSING: Final = object()


def _is_document(item: Any) -> bool:
    return isinstance(item, etree._ElementTree)


def _value_of(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, etree._ElementTree):
        return string_value(item.getroot())
    return string_value(item)


def _translation(source: str, target: str) -> dict[int, int | None]:
    table: dict[int, int | None] = {}
    for i, ch in enumerate(source):
        if ord(ch) not in table:  # XPath translate: the first occurrence of a character decides
            table[ord(ch)] = ord(target[i]) if i < len(target) else None
    return table


class Shared:
    """A compiled sub-expression, one object per expression: where several tests use it, its value per
    element is kept in the session memo (nine VAT category contexts compare the same ``ram:CategoryCode``
    with nine codes: its values are read once)."""

    __slots__ = ("fn", "key", "uses")

    def __init__(self, fn: _Fn) -> None:
        self.fn = fn
        self.uses = 0
        # For a conjunct ``X = 'literal'``: the values of X per element and the literal, so that a
        # pattern can look its candidates up by value instead of testing each (_match._Branch.select_keyed).
        self.key: tuple[Shared, str] | None = None

    def __call__(self, node: Any) -> Any:
        if self.uses > 1:
            session = ACTIVE.get()
            if session is not None:
                answers = session.memo
                key = (self, node)
                value = answers.get(key, _MISSING)
                if value is _MISSING:
                    value = answers[key] = self.fn(node)
                return value
        return self.fn(node)


_SHARED: dict[Hashable, Shared] = {}


class Compiler:
    """Compiles an expression into a Python function of the context node; raises Unsupported otherwise."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.ns = namespaces
        self.ns_key = tuple(sorted(namespaces.items()))

    def shared(self, kind: str, expr: _Expr, build: Callable[[], _Fn]) -> Shared:
        """The one compiled function for ``expr`` (as ``kind``), counting this use."""
        key = (kind, expr, self.ns_key)
        found = _SHARED.get(key)
        if found is None:
            found = _SHARED[key] = Shared(build())
        found.uses += 1
        return found

    def compile(self, expr: _Expr) -> tuple[str, _Fn]:
        """The function and the type of its value: "nodes" (an iterable), "string" or "boolean"."""
        if isinstance(expr, _Literal):
            value = expr.value
            return "string", lambda node: value
        if isinstance(expr, _Number):
            raise Unsupported("numbers")
        if isinstance(expr, _Binary):
            if expr.op == "|" and _is_union_of_paths(expr):
                return "nodes", self.union(expr)
            return "boolean", self.binary(expr)
        if isinstance(expr, _Call):
            return self.call(expr)
        return "nodes", self.nodes(expr)

    def boolean(self, expr: _Expr) -> Callable[[Any], bool]:
        if isinstance(expr, _Path):
            return self.exists(expr)
        kind, fn = self.compile(expr)
        if kind == "nodes":  # a union: lazily produced, so it is non-empty if it yields anything
            return lambda node: next(iter(fn(node)), _MISSING) is not _MISSING
        return fn if kind == "boolean" else lambda node: bool(fn(node))

    @staticmethod
    def single_step(expr: _Expr) -> tuple[str, str] | None:
        """("child", tag) or ("attribute", name) for a one-step relative path without predicates.

        Evaluated from a context node, which is always an element here (predicates are never asked
        of attributes or text), such a path is one lookup: these common forms get flat functions.
        """
        if not isinstance(expr, _Path) or expr.absolute or expr.start is not None or len(expr.steps) != 1:
            return None
        step = expr.steps[0]
        if step.predicates or step.test in ("*", "node()", "text()") or step.test.endswith("}*"):
            return None
        if step.axis in ("child", "attribute"):
            return step.axis, step.test
        return None

    def string(self, expr: _Expr) -> Callable[[Any], str]:
        single = self.single_step(expr)
        if single is not None:
            axis, name = single
            if axis == "attribute":
                return lambda node: node.get(name) or ""
            return lambda node: string_value(found[0]) if (found := child_elements(node, name)) else ""
        if isinstance(expr, _Path):
            if not _in_document_order(expr):
                raise Unsupported("the first node of a path that may not be in document order")
            nodes = self.nodes(expr)

            def first(node: Any) -> str:
                item = next(iter(nodes(node)), _MISSING)
                return "" if item is _MISSING else _value_of(item)

            return first
        kind, fn = self.compile(expr)
        if kind == "boolean":
            return lambda node: "true" if fn(node) else "false"
        if kind == "nodes":
            raise Unsupported("the first node of a union")
        return fn

    def binary(self, expr: _Binary) -> Callable[[Any], bool]:
        if expr.op == "or":
            left, right = self.boolean(expr.left), self.boolean(expr.right)
            return lambda node: left(node) or right(node)
        if expr.op == "and":
            left, right = self.boolean(expr.left), self.boolean(expr.right)
            return lambda node: left(node) and right(node)
        if expr.op in ("=", "!="):
            return self.equality(expr)
        raise Unsupported(f"operator {expr.op}")

    def equality(self, expr: _Binary) -> Callable[[Any], bool]:
        equal = expr.op == "="
        left_kind, left = self.compile(expr.left)
        right_kind, right = self.compile(expr.right)
        if "boolean" in (left_kind, right_kind):
            lb, rb = self.boolean(expr.left), self.boolean(expr.right)
            return (lambda n: lb(n) == rb(n)) if equal else (lambda n: lb(n) != rb(n))
        if left_kind == "string" and right_kind == "string":
            if isinstance(expr.right, _Literal) and not isinstance(expr.left, _Literal):
                left = self.shared("string", expr.left, lambda: left)
            elif isinstance(expr.left, _Literal) and not isinstance(expr.right, _Literal):
                right = self.shared("string", expr.right, lambda: right)
            return (lambda n: left(n) == right(n)) if equal else (lambda n: left(n) != right(n))
        if left_kind == "nodes" and right_kind == "nodes":
            return lambda n: _compare_sets(left(n), right(n), equal)
        nodes, other = (left, expr.right) if left_kind == "nodes" else (right, expr.left)
        if isinstance(other, _Literal):
            path = expr.left if left_kind == "nodes" else expr.right
            values = self.shared("values", path, lambda: lambda n: frozenset(_value_of(i) for i in nodes(n)))
            constant = other.value
            if equal:
                return lambda n: constant in values(n)
            # Some value differs from the constant: any value at all, unless the only one is the constant.
            return lambda n: bool(vs := values(n)) and (len(vs) > 1 or constant not in vs)
        text = self.string(other)

        def compare(n: Any) -> bool:
            value = text(n)
            if equal:
                return any(_value_of(i) == value for i in nodes(n))
            return any(_value_of(i) != value for i in nodes(n))

        return compare

    def call(self, expr: _Call) -> tuple[str, _Fn]:
        name, args = expr.name, expr.args
        if name in ("true", "false") and not args:
            constant = name == "true"
            return "boolean", lambda node: constant
        if name == "boolean" and len(args) == 1:
            return "boolean", self.boolean(args[0])
        if name == "not" and len(args) == 1:
            if args[0] == _ANY_CHILD_ELEMENT:
                # not(*), "a leaf": len() counts comments and PIs too, so only a non-empty node is looked into
                return "boolean", lambda node: not len(node) or next(node.iterchildren(_ELEMENT), None) is None
            inner = self.boolean(args[0])
            return "boolean", lambda node: not inner(node)
        if name in ("normalize-space", "string") and len(args) <= 1:
            text = self.string(args[0]) if args else _value_of
            if name == "string":
                return "string", text
            return "string", lambda node: normalize_space(text(node))
        if name == "translate" and len(args) == 3 and isinstance(args[1], _Literal) and isinstance(args[2], _Literal):
            table = _translation(args[1].value, args[2].value)
            source = self.string(args[0])
            return "string", lambda node: source(node).translate(table)
        if name == "local-name" and not args:
            return "string", lambda node: "" if _is_document(node) else etree.QName(node).localname
        if name in ("starts-with", "contains") and len(args) == 2:
            first, second = self.string(args[0]), self.string(args[1])
            if name == "starts-with":
                return "boolean", lambda node: first(node).startswith(second(node))
            return "boolean", lambda node: second(node) in first(node)
        if name == "concat" and len(args) >= 2:
            parts = [self.string(a) for a in args]
            return "string", lambda node: "".join(p(node) for p in parts)
        raise Unsupported(f"function {name}")

    # -- paths

    def steps(self, expr: _Path) -> list[_Expand]:
        if expr.absolute and (not expr.steps or expr.steps[0].axis != "child"):
            raise Unsupported("an absolute path not starting with a child step")
        for step in expr.steps[:-1]:
            if step.axis == "attribute" or step.test == "text()":
                raise Unsupported("steps below an attribute or text node")  # their parent is not kept
        return [self.step(s) for s in expr.steps]

    def nodes(self, expr: _Path) -> Callable[[Any], Iterable[Any]]:
        """The node-set of a path, lazily."""
        single = self.single_step(expr)
        if single is not None:
            axis, name = single
            if axis == "attribute":
                return lambda node: () if (value := node.get(name)) is None else (value,)
            return lambda node: child_elements(node, name)
        flat = self.element_steps(expr)
        if flat is not None:
            return flat
        steps = self.steps(expr)
        if expr.start is not None:
            # ``(/a | /b)/c``: the steps continue from every node of the filter expression.
            if not _is_union_of_paths(expr.start):
                raise Unsupported("a filter expression other than a union of paths")
            origins = self.nodes(expr.start) if isinstance(expr.start, _Path) else self.union(expr.start)

            def from_origins(node: Any) -> Iterable[Any]:
                items = origins(node)
                for step in steps:
                    items = _chain(step, items)
                return items

            return from_origins
        start = _document_of if expr.absolute else None
        if start is None and len(steps) == 1:
            return steps[0]

        def evaluate(node: Any) -> Iterable[Any]:
            items: Iterable[Any] = (start(node),) if start is not None else (node,)
            for step in steps:
                items = _chain(step, items)
            return items

        return evaluate

    def element_steps(self, expr: _Path) -> Callable[[Any], list[Any]] | None:
        """A relative path of named steps from an element, as one loop over lists; None for other paths.

        Predicate tests see the context node as an element, and a step with an exact name never selects
        the document or a text node, so every item stays an element: the generic steps' checks for
        documents and strings, and their generator per item, can go. The items come in the generic
        steps' order (each item's expansion in turn, duplicates kept), so callers see the same sequence.
        """
        if expr.absolute or expr.start is not None or not expr.steps:
            return None
        plan: list[tuple[str, str, tuple[Callable[[Any], bool], ...]]] = []
        for i, step in enumerate(expr.steps):
            last = i == len(expr.steps) - 1
            if step.test in ("*", "node()", "text()") or step.test.endswith("}*"):
                return None
            if step.axis == "attribute":
                if not last or step.predicates:
                    return None
            elif step.axis not in ("child", "parent", "ancestor", "self"):
                return None
            plan.append((step.axis, step.test, tuple(self.predicates(step))))
        steps = tuple(plan)

        def evaluate(node: Any) -> list[Any]:
            items = [node]
            for axis, name, tests in steps:
                if axis == "child":
                    found = [child for item in items for child in child_elements(item, name)]
                elif axis == "attribute":
                    return [value for item in items if (value := item.get(name)) is not None]
                elif axis == "parent":
                    found = [
                        parent for item in items if (parent := item.getparent()) is not None and parent.tag == name
                    ]
                elif axis == "ancestor":
                    found = []
                    for item in items:  # getparent() in a loop: iterancestors(name) sets up a tag matcher per call
                        parent = item.getparent()
                        while parent is not None:
                            if parent.tag == name:
                                found.append(parent)
                            parent = parent.getparent()
                else:
                    found = [item for item in items if item.tag == name]
                for test in tests:
                    found = [item for item in found if test(item)]
                if not found:
                    return found
                items = found
            return items

        return evaluate

    def union(self, expr: _Binary) -> Callable[[Any], Iterable[Any]]:
        """``a | b`` for existence and comparisons (duplicates and order do not matter there)."""
        parts = [self.nodes(p) if isinstance(p, _Path) else self.union(p) for p in (expr.left, expr.right)]  # type: ignore[arg-type]
        return lambda node: (item for part in parts for item in part(node))

    def exists(self, expr: _Path) -> Callable[[Any], bool]:
        """Whether a path selects anything; stops at the first node found."""
        single = self.single_step(expr)
        if single is not None:
            axis, name = single
            if axis == "attribute":
                return lambda node: node.get(name) is not None
            return lambda node: bool(child_elements(node, name))
        flat = self.element_steps(expr)
        if flat is not None:
            return lambda node: bool(flat(node))
        nodes = self.nodes(expr)
        return lambda node: next(iter(nodes(node)), _MISSING) is not _MISSING

    def step(self, step: _Step) -> _Expand:
        expand = self.axis(step)
        if not step.predicates:
            return expand
        tests = self.predicates(step)
        if len(tests) == 1:
            (test,) = tests
            return lambda item: [n for n in expand(item) if test(n)]
        return lambda item: [n for n in expand(item) if all(t(n) for t in tests)]

    def predicates(self, step: _Step) -> list[Callable[[Any], bool]]:
        """The step's predicates as tests of a node; positional ones are not supported."""
        tests = []
        for text in step.predicates:
            expr = parse(text, self.ns)
            if may_be_number(expr) or reads_position(expr):
                raise Unsupported("a positional predicate")
            tests.append(self.boolean(expr))
        return tests

    def axis(self, step: _Step) -> _Expand:
        axis, test = step.axis, step.test
        if (axis == "attribute" or test == "text()") and step.predicates:
            raise Unsupported("predicates on attributes or text nodes")
        if test == "node()" and step.predicates:
            raise Unsupported("predicates on a step that may yield the document")  # they assume elements
        if axis == "attribute":
            if test in ("*", "node()", "text()") or test.endswith("}*"):
                raise Unsupported("attribute wildcards")
            return lambda item: _attribute(item, test)
        if test == "text()":
            if axis != "child":
                raise Unsupported("text() off the child axis")
            return _text_nodes
        if test == "node()" and axis == "child":
            raise Unsupported("child::node()")
        matches = _node_test(test)
        if axis == "child":
            tag: Any = _ELEMENT if test == "*" else test  # iterchildren understands "{ns}*" as well
            return lambda item: _children(item, tag, matches)
        if axis == "self":
            return lambda item: (item,) if not isinstance(item, str) and matches(item) else ()
        if axis == "parent":
            return lambda item: _parent(item, matches)
        if axis in ("ancestor", "ancestor-or-self"):
            with_self = axis == "ancestor-or-self"
            return lambda item: _ancestors(item, matches, with_self)
        raise Unsupported(f"{axis}::{test}")


def _chain(step: _Expand, items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        yield from step(item)


def _document_of(node: Any) -> Any:
    return node if _is_document(node) else node.getroottree()


def _children(item: Any, tag: Any, matches: Callable[[Any], bool]) -> Iterable[Any]:
    if isinstance(item, str):
        return ()
    if _is_document(item):
        root = item.getroot()
        return (root,) if matches(root) else ()
    if tag.__class__ is str and not tag.endswith("*"):
        return child_elements(item, tag)
    return item.iterchildren(tag)


def _attribute(item: Any, name: str) -> Iterable[Any]:
    if isinstance(item, str) or _is_document(item):
        return ()
    value = item.get(name)
    return () if value is None else (value,)


def _text_nodes(item: Any) -> Iterable[Any]:
    if isinstance(item, str) or _is_document(item):
        return ()
    out = [] if item.text is None else [item.text]
    out.extend(child.tail for child in item if child.tail is not None)
    return out


def _parent(item: Any, matches: Callable[[Any], bool]) -> Iterable[Any]:
    if isinstance(item, str) or _is_document(item):
        return ()  # the owner of an attribute is never asked for: see Compiler.steps
    parent = item.getparent()
    parent = item.getroottree() if parent is None else parent
    return (parent,) if matches(parent) else ()


def _ancestors(item: Any, matches: Callable[[Any], bool], with_self: bool) -> Iterator[Any]:
    if isinstance(item, str):
        return
    if _is_document(item):
        if with_self and matches(item):
            yield item
        return
    if with_self and matches(item):
        yield item
    for ancestor in item.iterancestors():
        if matches(ancestor):
            yield ancestor
    document = item.getroottree()
    if matches(document):
        yield document


_ANY_CHILD_ELEMENT: Final = _Path(False, (_Step("child", "*"),))


def _compare_sets(left: Iterable[Any], right: Iterable[Any], equal: bool) -> bool:
    values = {_value_of(i) for i in left}
    if not values:
        return False
    others = (_value_of(i) for i in right)
    if equal:
        return any(o in values for o in others)
    return any(o != v for o in others for v in values)


def _node_test(test: str) -> Callable[[Any], bool]:
    """A node test on a non-attribute axis; the document matches ``node()`` only."""
    if test == "node()":
        return lambda node: True
    if test == "*":
        return lambda node: not _is_document(node) and isinstance(node.tag, str)
    if test.endswith("}*"):
        namespace = test[:-1]
        return lambda node: not _is_document(node) and isinstance(node.tag, str) and node.tag.startswith(namespace)
    return lambda node: not _is_document(node) and node.tag == test


def _is_union_of_paths(expr: _Expr) -> bool:
    if isinstance(expr, _Binary):
        return expr.op == "|" and _is_union_of_paths(expr.left) and _is_union_of_paths(expr.right)
    return isinstance(expr, _Path)


def _in_document_order(path: _Path) -> bool:
    """True when the path yields nodes in document order, so that its first item is the first node.

    Child, attribute, self and parent steps from one node keep all items at one depth, in order
    (the parents of nodes at one depth in document order are in document order too).
    """
    return (
        not path.absolute
        and path.start is None
        and all(s.axis in ("child", "attribute", "self", "parent") for s in path.steps)
    )


def equality_key(expr: _Expr, compiler: Compiler) -> tuple[Shared, str] | None:
    """For ``X = 'literal'`` (X a string or a node-set): a function giving the values of X, and the literal.

    The conjunct holds exactly where the literal is among those values (the existential ``=``).
    """
    if not (isinstance(expr, _Binary) and expr.op == "="):
        return None
    if isinstance(expr.right, _Literal) and not isinstance(expr.left, _Literal):
        other, literal = expr.left, expr.right.value
    elif isinstance(expr.left, _Literal) and not isinstance(expr.right, _Literal):
        other, literal = expr.right, expr.left.value
    else:
        return None
    try:
        kind, _ = compiler.compile(other)
        if kind == "string":
            text = compiler.string(other)
            values = compiler.shared("keys", other, lambda: lambda el: (text(el),))
        elif kind == "nodes":
            _, nodes = compiler.compile(other)
            values = compiler.shared("keys", other, lambda: lambda el: {_value_of(i) for i in nodes(el)})
        else:
            return None
    except Unsupported:
        return None
    return values, literal


def reads_document_only(expr: _Expr) -> bool:
    """True when every path of the expression (outside nested predicates) starts at the document."""
    if isinstance(expr, _Literal):
        return True
    if isinstance(expr, _Binary):
        return reads_document_only(expr.left) and reads_document_only(expr.right)
    if isinstance(expr, _Call):
        return (bool(expr.args) and all(reads_document_only(a) for a in expr.args)) or expr.name in ("true", "false")
    if isinstance(expr, _Path):
        return expr.absolute if expr.start is None else reads_document_only(expr.start)
    return False


@dataclass(frozen=True)
class ChildPath:
    """A location path of child steps without predicates (``cac:Price/cbc:PriceAmount``, ``/a/b/@c``)."""

    absolute: bool
    tags: tuple[str, ...]  # Clark names, "{ns}*" or "*"
    attribute: str | None  # a last attribute step


def child_path(expr: str, namespaces: Mapping[str, str]) -> ChildPath | None:
    """The expression as a ``ChildPath``, or None when it is anything more."""
    try:
        parsed = parse(expr, namespaces)
    except Unsupported:
        return None
    if not isinstance(parsed, _Path) or parsed.start is not None or not parsed.steps:
        return None
    steps = list(parsed.steps)
    attribute = None
    if steps[-1].axis == "attribute":
        last = steps.pop()
        if last.predicates or last.test in ("*", "node()", "text()") or last.test.endswith("}*") or not steps:
            return None
        attribute = last.test
    if any(s.axis != "child" or s.predicates or s.test in ("node()", "text()") for s in steps):
        return None
    return ChildPath(parsed.absolute, tuple(s.test for s in steps), attribute)


@dataclass(frozen=True)
class DescendantPath:
    """``//a/b`` (or ``boolean``, ``not`` or ``count`` of it): named child steps below any element."""

    function: str | None  # None for the node-set itself
    tags: tuple[str, ...]  # Clark names, the selected elements' last


def descendant_path(expr: str, namespaces: Mapping[str, str]) -> DescendantPath | None:
    """The expression as a ``DescendantPath``, or None when it is anything else."""
    try:
        parsed = parse(expr, namespaces)
    except Unsupported:
        return None
    function = None
    if isinstance(parsed, _Call) and parsed.name in ("boolean", "not", "count") and len(parsed.args) == 1:
        function, parsed = parsed.name, parsed.args[0]
    if not isinstance(parsed, _Path) or not parsed.absolute or parsed.start is not None or len(parsed.steps) < 2:
        return None
    anywhere, *steps = parsed.steps
    if anywhere.axis != "descendant-or-self" or anywhere.test != "node()" or anywhere.predicates:
        return None
    if any(s.axis != "child" or s.predicates or s.test.endswith("*") or s.test in ("node()", "text()") for s in steps):
        return None
    return DescendantPath(function, tuple(s.test for s in steps))


def document_wide(expr: str, namespaces: Mapping[str, str]) -> bool:
    """True when the value depends on the document only, not on the context node.

    Recognised forms: an absolute location path (predicates inside are evaluated on the path's
    own nodes), a union of such paths, and ``boolean``, ``not``, ``count`` or ``string`` of one.
    """
    try:
        parsed = parse(expr, namespaces)
    except Unsupported:
        return False
    if isinstance(parsed, _Call) and parsed.name in ("boolean", "not", "count", "string") and len(parsed.args) == 1:
        parsed = parsed.args[0]
    return _absolute_paths(parsed)


def _absolute_paths(expr: _Expr) -> bool:
    if isinstance(expr, _Binary):
        return expr.op == "|" and _absolute_paths(expr.left) and _absolute_paths(expr.right)
    return isinstance(expr, _Path) and expr.absolute and expr.start is None and bool(expr.steps)


def is_path(expr: Any) -> bool:
    """Whether a parsed expression is a location path (not a function call, literal or operator)."""
    return isinstance(expr, _Path)
