"""The patterns of XRechnung Schematron 2.5.0, in the order its compiled stylesheets run them.

The build merges the whitelisted PEPPOL-EN16931-R* rules (Peppol BIS Billing 3.0.x) in front of
the XRechnung patterns. Every XRechnung scenario (CIUS, Extension, CVD) runs this one stylesheet;
the Extension and CVD patterns gate themselves on the specification identifier (BT-24) inside
their contexts, so no scenario needs a separate rule set.

Each pattern's contexts are registered by a single module (``ubl_*.py`` / ``cii_*.py``) in the
official order, because within a pattern the first matching context claims the node.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from lxml import etree

from validators.rules._session import child_elements, child_path
from validators.rules._xpath import XPaths
from validators.rules.sets import XRECHNUNG_CII, XRECHNUNG_UBL

__all__ = [
    "CII_CIUS",
    "CII_CVD",
    "CII_EXTENSION",
    "CII_IS_CVD",
    "CII_IS_EXTENSION",
    "CII_PATHS",
    "CII_PEPPOL",
    "CII_PEPPOL_EMPTY",
    "CII_PEPPOL_GROSS_PRICE",
    "UBL_CIUS",
    "UBL_CVD",
    "UBL_EXTENSION",
    "UBL_IS_CVD",
    "UBL_IS_EXTENSION",
    "UBL_PATHS",
    "UBL_PEPPOL",
    "UBL_PEPPOL_EMPTY",
    "XR_CIUS_ID",
    "XR_CVD_ID",
    "XR_EXTENSION_ID",
    "cii_nodes",
    "cii_steps",
    "gated",
    "ubl_nodes",
    "ubl_steps",
]

# Compiled-once relative paths for the rule tests (faster than ElementPath for multi-step paths).
UBL_PATHS = XPaths(XRECHNUNG_UBL.namespaces)
CII_PATHS = XPaths(XRECHNUNG_CII.namespaces)

_STEP: Final = re.compile(r"([A-Za-z_][\w.-]*):([A-Za-z_][\w.-]*)")
_NOT_CHILD_STEPS: Final = ()


def _child_tags(path: str, namespaces: Mapping[str, str]) -> tuple[str, ...]:
    """The Clark names of a path of prefixed child steps (``cac:Price/cbc:BaseQuantity``); () for any other path."""
    tags = []
    for step in path.split("/"):
        match = _STEP.fullmatch(step)
        if match is None or match[1] not in namespaces:
            return _NOT_CHILD_STEPS
        tags.append(f"{{{namespaces[match[1]]}}}{match[2]}")
    return tuple(tags)


def _steps(path: str, namespaces: Mapping[str, str]) -> tuple[str, ...]:
    tags = _child_tags(path, namespaces)
    if not tags:
        raise ValueError(f"not a path of child steps: {path}")
    return tags


def ubl_steps(path: str) -> tuple[str, ...]:
    """The Clark names of a UBL path of child steps, for ``child_path``; made once, where the rule is defined."""
    return _steps(path, XRECHNUNG_UBL.namespaces)


def cii_steps(path: str) -> tuple[str, ...]:
    """The Clark names of a CII path of child steps, for ``child_path``; made once, where the rule is defined."""
    return _steps(path, XRECHNUNG_CII.namespaces)


_NONE: Final[list[etree._Element]] = []


_UBL_TAGS: dict[str, tuple[str, ...]] = {}


def ubl_nodes(node: etree._Element, path: str) -> list[etree._Element]:
    """``UBL_PATHS.nodes(node, path)``; a path of child steps is walked straight through the child index.

    The rule tests read a few dozen such paths hundreds of times per document. The list must not be changed.
    """
    tags = _UBL_TAGS.get(path)
    if tags is None:
        tags = _UBL_TAGS[path] = _child_tags(path, XRECHNUNG_UBL.namespaces)
    if len(tags) == 1:
        return child_elements(node, tags[0])
    if not tags:
        return UBL_PATHS.nodes(node, path)
    return child_path(node, tags)


_CII_TAGS: dict[str, tuple[str, ...]] = {}


def cii_nodes(node: etree._Element, path: str) -> list[etree._Element]:
    """The nodes the child steps ``path`` (``ram:A/ram:B``) select from ``node``, through the child index.

    The list must not be changed (the rules only read it).
    """
    tags = _CII_TAGS.get(path)
    if tags is None:
        tags = _CII_TAGS[path] = cii_steps(path)
    return child_elements(node, tags[0]) if len(tags) == 1 else child_path(node, tags)


# Specification identifiers (BT-24) the XRechnung 3.0 rules recognise.
XR_CIUS_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
XR_EXTENSION_ID = XR_CIUS_ID + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
XR_CVD_ID = XR_CIUS_ID + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"

# $isExtension / $isCVD as XPath 1.0 predicates: a text node of BT-24 equal to the identifier.
UBL_IS_EXTENSION = (
    f"(/ubl:Invoice/cbc:CustomizationID[text() = '{XR_EXTENSION_ID}']"
    f" or /cn:CreditNote/cbc:CustomizationID[text() = '{XR_EXTENSION_ID}'])"
)
UBL_IS_CVD = f"((/ubl:Invoice | /cn:CreditNote)/cbc:CustomizationID/text() = '{XR_CVD_ID}')"
_CII_GUIDELINE = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter"
CII_IS_EXTENSION = f"({_CII_GUIDELINE}/ram:ID[text() = '{XR_EXTENSION_ID}'])"
CII_IS_CVD = f"({_CII_GUIDELINE}/ram:ID/text() = '{XR_CVD_ID}')"


def gated(gate: str, pattern: str) -> str:
    """The official context ``pattern[$gate]`` for a document-wide ``gate`` ($isExtension, $isCVD).

    The gate does not depend on the node, so it is tested once on the document node instead of on
    every candidate; the selected nodes are the same. Each union branch is gated on its own.
    """
    branches = []
    for branch in (b.strip() for b in _split_union(pattern)):
        branches.append(
            f"/self::node()[{gate}]{branch}" if branch.startswith("/") else f"/self::node()[{gate}]//{branch}"
        )
    return " | ".join(branches)


_Test = Callable[[etree._Element], bool]


def _one_code(code: str) -> Callable[[_Test], _Test]:
    """A decorator for the tests of a payment means context, which tests ``normalize-space(code)``.

    A repeated code (schema-invalid) makes that a type error, and XSLT takes an error while matching a
    context as no match: such a payment means passes every rule of the context (no other context of the
    pattern selects it). ``code`` is the Clark name of the code element, a child of the payment means.
    """

    def one_code(test: _Test) -> _Test:
        def guarded(node: etree._Element) -> bool:
            return len(child_elements(node, code)) > 1 or test(node)

        return guarded

    return one_code


def _split_union(pattern: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


UBL_PEPPOL_EMPTY = XRECHNUNG_UBL.pattern("peppol-ubl-pattern-1")
UBL_PEPPOL = XRECHNUNG_UBL.pattern("peppol-ubl-pattern-2")
UBL_CIUS = XRECHNUNG_UBL.pattern("ubl-pattern")
UBL_EXTENSION = XRECHNUNG_UBL.pattern("ubl-extension-pattern")
UBL_CVD = XRECHNUNG_UBL.pattern("ubl-cvd-pattern")

CII_PEPPOL = XRECHNUNG_CII.pattern("peppol-cii-pattern-1")
CII_PEPPOL_EMPTY = XRECHNUNG_CII.pattern("peppol-cii-pattern-0-a")
CII_PEPPOL_GROSS_PRICE = XRECHNUNG_CII.pattern("peppol-cii-pattern-0-b")
CII_CIUS = XRECHNUNG_CII.pattern("cii-pattern")
CII_EXTENSION = XRECHNUNG_CII.pattern("cii-extension-pattern")
CII_CVD = XRECHNUNG_CII.pattern("cii-cvd-pattern")

one_ubl_payment_code = _one_code(_child_tags("cbc:PaymentMeansCode", XRECHNUNG_UBL.namespaces)[0])
one_cii_payment_code = _one_code(_child_tags("ram:TypeCode", XRECHNUNG_CII.namespaces)[0])
