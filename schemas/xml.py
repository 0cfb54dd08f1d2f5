"""Hardened XML parsing: no DTDs, no entities, no network, bounded size and depth.

Invoices come from strangers. libxml2 is asked to resolve nothing and load nothing;
a document that declares a DTD at all is refused, because a receiver never needs one
and every entity attack (billion laughs, external entities) lives there.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from lxml import etree

__all__ = ["DEFAULT_LIMITS", "ParseLimits", "XmlError", "parse_xml"]


class XmlError(ValueError):
    """The bytes are not a document Eingang is willing to read; the message says why."""


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 50 * 1024 * 1024
    # libxml2 itself refuses documents nested deeper than 256 levels (without XML_PARSE_HUGE);
    # a lower limit costs one walk over the tree.
    max_depth: int = 256


DEFAULT_LIMITS = ParseLimits()
_LIBXML2_MAX_DEPTH = 256
_DTD_REFUSED = "document declares a DTD, which e-invoices never need (refused for safety)"


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


_PER_THREAD = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's hardened parser: created once, as libxml2's parser context is then reused.

    An lxml parser must not be shared between threads, hence one per thread. Its options are
    fixed at creation, so reuse cannot weaken them.
    """
    parser: etree.XMLParser | None = getattr(_PER_THREAD, "parser", None)
    if parser is None:
        parser = _PER_THREAD.parser = _new_parser()
    return parser


_FIRST_TAG = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_UTF16 = ("<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


def _declares_dtd(data: bytes) -> bool:
    """A DOCTYPE before the root element, found before libxml2 sees (and expands) anything."""
    first = _FIRST_TAG.search(data)
    # Without an ASCII-compatible start tag the document may be UTF-16: look at all of it.
    prolog = data[: first.start()] if first else data
    return b"<!DOCTYPE" in prolog or any(marker in prolog for marker in _DOCTYPE_UTF16)


def _depth_exceeds(root: etree._Element, max_depth: int) -> bool:
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in el)
    return False


def parse_xml(data: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise XmlError with a one-line reason."""
    if len(data) > limits.max_bytes:
        raise XmlError(f"document too large ({len(data)} bytes, limit {limits.max_bytes})")
    if not data or data.isspace():  # not data.strip(), which copies the whole document
        raise XmlError("empty document")
    if _declares_dtd(data):
        raise XmlError(_DTD_REFUSED)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"not well-formed XML: {exc.msg}") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise XmlError(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlError(_DTD_REFUSED)
    if limits.max_depth < _LIBXML2_MAX_DEPTH and _depth_exceeds(root, limits.max_depth):
        raise XmlError(f"document nests deeper than {limits.max_depth} levels")
    return root
