"""XPath 2.0 dynamic errors, which stop the official stylesheets, reproduced by the native rules.

The official Schematron is XSLT 2 (Saxon). Where a test passes a sequence of several items to something
that takes at most one (``xs:decimal(ram:LineTotalAmount)``, ``normalize-space(path)``,
``substring-after(path, '.')``, an arithmetic operand) or casts a value that has no such lexical form,
Saxon raises a dynamic error and the whole stylesheet stops: the reference gives no verdict, which the
configuration counts as not accepted. A schema-valid CII document can repeat many elements the model
has once, so this happens on real input. A rule raises ``DynamicError`` at the same place; the engine
stops the rule set, and the check rejects the document with a finding that names the error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["DynamicError", "opt"]

T = TypeVar("T")


class DynamicError(ValueError):
    """An XPath dynamic error (failed cast, cardinality): the official stylesheet aborts on it."""


def opt(items: Sequence[T], what: str = "value") -> T | None:
    """An argument typed ``item()?``: None for the empty sequence, an error for more than one item."""
    if not items:
        return None
    if len(items) > 1:
        raise DynamicError(f"a sequence of {len(items)} items where at most one {what} is allowed")
    return items[0]
