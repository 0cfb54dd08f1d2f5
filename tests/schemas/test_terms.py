from __future__ import annotations

import inspect
import typing
from types import UnionType
from typing import Any

import pytest
from pydantic import BaseModel

from schemas import model
from schemas.model import AttachedBinary, Identifier, ItemClassification
from schemas.terms import LANGUAGES, TERMS, term_name

# The scheme attributes a value type carries, as the sub-ids EN 16931 gives them.
_SUB_IDS: dict[type, tuple[str, ...]] = {
    Identifier: ("-1",),
    AttachedBinary: ("-1", "-2"),
    ItemClassification: ("-1", "-2"),
}


def _types_in(annotation: Any) -> set[type]:
    origin = typing.get_origin(annotation)
    if origin is list or origin is typing.Union or origin is UnionType:
        return {t for arg in typing.get_args(annotation) for t in _types_in(arg)}
    return {annotation} if isinstance(annotation, type) else set()


def _model_term_ids() -> set[str]:
    ids: set[str] = set()
    for _, cls in inspect.getmembers(model, inspect.isclass):
        if not issubclass(cls, BaseModel) or cls.__module__ != model.__name__:
            continue
        for info in cls.model_fields.values():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or "term" not in extra:
                continue
            term_id = str(extra["term"])
            ids.add(term_id)
            for value_type in _types_in(info.annotation):
                ids.update(term_id + suffix for suffix in _SUB_IDS.get(value_type, ()))
    return ids


MODEL_IDS = sorted(_model_term_ids())


def test_the_walk_finds_the_model() -> None:
    # Guards the walk itself: an empty or partial walk would make the test below vacuous.
    landmarks = {"BT-1", "BT-165", "BG-25", "BG-DEX-01", "BT-DEX-003", "BT-29-1", "BT-125-2", "BT-158-2"}
    assert landmarks <= set(MODEL_IDS)


@pytest.mark.parametrize("term_id", MODEL_IDS)
def test_every_model_term_has_both_names(term_id: str) -> None:
    names = TERMS.get(term_id)
    assert names is not None, f"{term_id} missing from schemas/terms.json"
    for lang in LANGUAGES:
        assert names.get(lang, "").strip(), f"{term_id} has no {lang} name"


def test_all_core_terms_and_groups_are_named() -> None:
    # EN 16931-1 has no BT-4 (withdrawn before publication).
    expected = {f"BT-{n}" for n in range(1, 166) if n != 4} | {f"BG-{n}" for n in range(1, 33)}
    assert expected <= set(TERMS)


def test_term_name() -> None:
    assert term_name("BT-1") == "Invoice number"
    assert term_name("BT-1", "de") == "Rechnungsnummer"
    assert term_name("BT-27", "de") == "Name des Verkäufers"
    assert term_name("BT-27", "en") == "Seller name"


def test_unknown_term_or_language_falls_back_to_the_id() -> None:
    assert term_name("BT-999") == "BT-999"
    assert term_name("BT-1", "fr") == "BT-1"


def test_terms_are_read_only() -> None:
    with pytest.raises(TypeError):
        TERMS["BT-1"] = {}  # type: ignore[index]
