"""EN 16931 model in, UBL or CII bytes out: the reader's bindings walked the other way.

``write_invoice(read_tree(root, syntax), syntax)`` reads back to the same model, and writing
the other syntax converts (the result is schema-valid wherever the model is complete enough
for the schema). What the target syntax cannot carry raises ``WriteError`` naming the term,
never a silent loss: CII has no binding for the XRechnung Extension's third party payments
(BG-DEX-09), a UBL CreditNote line has no ``cac:SubInvoiceLine``, and CII D16B carries one
preceding invoice reference (BG-3).
"""

from __future__ import annotations

from lxml import etree

from schemas.binding import cii, ubl
from schemas.binding._writer import WriteError, write_tree
from schemas.model import Invoice

__all__ = ["SYNTAXES", "WriteError", "write_invoice"]

_ROOT_OF = {syntax: tag for tag, syntax in {**ubl.ROOTS, **cii.ROOTS}.items()}
SYNTAXES = tuple(_ROOT_OF)
"""The syntaxes ``write_invoice`` writes: the names ``open_document`` gives them."""
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def write_invoice(invoice: Invoice, syntax: str) -> bytes:
    """The invoice as a UTF-8 XML document in ``syntax`` ("ubl-invoice", "ubl-creditnote" or "cii")."""
    root_tag = _ROOT_OF.get(syntax)
    if root_tag is None:
        raise ValueError(f"unknown syntax {syntax!r}: expected one of {', '.join(SYNTAXES)}")
    binding = cii if syntax == "cii" else ubl
    try:
        root = write_tree(invoice, root_tag, binding.INVOICE, binding.NAMESPACES, binding.WRITE_HINTS)
    except WriteError as exc:
        raise WriteError(f"cannot write {syntax}: {exc}") from None
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)
