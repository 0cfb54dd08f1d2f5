"""Syntax bindings of EN 16931: UBL 2.1 and UN/CEFACT CII D16B, as tables of term → path."""

from schemas.binding import cii, ubl
from schemas.binding._core import Bind, BindingError, Group, Table, read_group

__all__ = ["Bind", "BindingError", "Group", "Table", "cii", "read_group", "ubl"]
