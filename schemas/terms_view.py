"""The model as a flat view keyed by business term id (``eingang inspect --format terms``).

Groups become nested objects keyed by their BG id, repeatable groups lists of objects;
amounts keep the scale they were written with, dates are ISO; an identifier's scheme
appears as its ``BT-n-1`` sibling.
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from schemas.model import AttachedBinary, Identifier, ItemClassification

__all__ = ["to_terms"]


def _scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _put(out: dict[str, Any], term: str, value: Any) -> None:
    if isinstance(value, Identifier):
        out[term] = value.id
        if value.scheme is not None:
            out[f"{term}-1"] = value.scheme
    elif isinstance(value, ItemClassification):
        out[term] = value.id
        if value.scheme is not None:
            out[f"{term}-1"] = value.scheme
        if value.scheme_version is not None:
            out[f"{term}-2"] = value.scheme_version
    elif isinstance(value, AttachedBinary):
        out[term] = base64.b64encode(value.content).decode("ascii")
        if value.mime_code is not None:
            out[f"{term}-1"] = value.mime_code
        if value.filename is not None:
            out[f"{term}-2"] = value.filename
    elif isinstance(value, BaseModel):
        out[term] = to_terms(value)
    else:
        out[term] = _scalar(value)


def to_terms(model: BaseModel) -> dict[str, Any]:
    """The model's present values keyed by term id, nested by business group."""
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        extra = info.json_schema_extra
        if not isinstance(extra, dict) or "term" not in extra:
            continue
        term = str(extra["term"])
        value = getattr(model, name)
        if value is None or value == []:
            continue
        if isinstance(value, list) and isinstance(value[0], Identifier | ItemClassification):
            # Repeatable identifiers: parallel lists keep BT-n and its BT-n-1 scheme aligned.
            flat = []
            for item in value:
                holder: dict[str, Any] = {}
                _put(holder, term, item)
                flat.append(holder)
            out[term] = [h[term] for h in flat]
            for suffix in ("-1", "-2"):
                if any(term + suffix in h for h in flat):
                    out[term + suffix] = [h.get(term + suffix) for h in flat]
        elif isinstance(value, list):
            out[term] = [to_terms(item) for item in value]
        else:
            _put(out, term, value)
    return out
