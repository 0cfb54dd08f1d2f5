"""The mutation tests written into KoSIT's test documents as ``<?xmute …?>`` processing instructions.

KoSIT's configuration tests are templates for its xml-mutate tool: an instruction names a mutator for
the element that follows it (``identity``, ``remove``, ``empty``, ``code`` with comma-separated
``values``; the last three act on an ``attribute`` of it when one is named) and what the Schematron
must then say about named rules: ``schematron-valid="cenubl:BR-CO-15"`` (the rule does not fire),
``schematron-invalid`` (it fires).
The prefix names the Schematron: ``cenubl``/``cencii`` the CEN rules, ``xrubl``/``xrcii``/``xrinv`` the
XRechnung rules of the document's syntax. Each instruction is its own test; the others stay unapplied.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

_ATTRIBUTE = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class Expectation:
    schematron: str  # "cen" or "xrechnung"
    rule: str
    fires: bool


@dataclass(frozen=True)
class Mutation:
    """One mutated document and what the instruction expects of it."""

    name: str  # the instruction's id, or its mutator and position
    document: bytes
    expectations: tuple[Expectation, ...]


def _schematron(prefix: str) -> str:
    if prefix.startswith("cen"):
        return "cen"
    if prefix.startswith("xr"):
        return "xrechnung"
    raise ValueError(f"unknown schematron prefix {prefix!r}")


def _expectations(options: dict[str, str]) -> tuple[Expectation, ...]:
    found = []
    for key, fires in (("schematron-valid", False), ("schematron-invalid", True)):
        for item in shlex.split(options.get(key, "").replace(",", " ")):
            prefix, _, rule = item.partition(":")
            found.append(Expectation(_schematron(prefix), rule, fires))
    return tuple(found)


def _target(instruction: etree._ProcessingInstruction) -> etree._Element:
    node = instruction.getnext()
    while node is not None and not isinstance(node.tag, str):
        node = node.getnext()
    if node is None:
        raise ValueError("an xmute instruction without an element after it")
    return node


def _variants(options: dict[str, str], target: etree._Element) -> Iterator[str]:
    """Apply the mutator to ``target`` in place, once per variant; yields a label after each application."""
    mutator = options.get("mutator", "identity")
    attribute = options.get("attribute")
    if mutator in ("identity", "noop"):
        yield mutator
    elif mutator == "remove" and attribute:
        target.attrib.pop(attribute, None)
        yield f"{mutator} @{attribute}"
    elif mutator == "empty" and attribute:
        target.set(attribute, "")
        yield f"{mutator} @{attribute}"
    elif mutator == "remove":
        parent = target.getparent()
        assert parent is not None
        parent.remove(target)
        yield mutator
    elif mutator == "empty":
        for child in list(target):
            target.remove(child)
        target.text = None
        yield mutator
    elif mutator in ("code", "change-text-content", "ch-txt"):
        separator = options.get("separator", ",")
        for value in options["values"].split(separator):
            value = value.strip()
            if attribute:
                target.set(attribute, value)
            else:
                target.text = value
            yield f"{mutator} {value}"
    else:
        raise ValueError(f"mutator {mutator!r} is not supported here")


def mutations(data: bytes) -> Iterator[Mutation]:
    """Every mutation the document's instructions describe, each applied alone to a fresh copy."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    template = etree.fromstring(data, parser)
    count = sum(1 for pi in template.iter(etree.ProcessingInstruction) if pi.target == "xmute")
    for position in range(count):
        tree = copy.deepcopy(template)
        instructions = [pi for pi in tree.iter(etree.ProcessingInstruction) if pi.target == "xmute"]
        instruction = instructions[position]
        options = dict(_ATTRIBUTE.findall(instruction.text or ""))
        target = _target(instruction)
        for pi in instructions:  # no instruction is left in the document the rules see
            pi.getparent().remove(pi)  # type: ignore[union-attr]
        expectations = _expectations(options)
        name = options.get("id") or f"{options.get('mutator')} #{position + 1}"
        for label in _variants(options, target):
            yield Mutation(f"{name} ({label})", etree.tostring(tree), expectations)
