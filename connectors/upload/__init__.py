"""Supplier upload: the HTTP API at ``/api/v1/invoices`` and the upload page at ``/upload``.

One router carries both; the web app includes it with ``app.include_router(upload.router(settings))``.
Suppliers authenticate with API tokens created by ``eingang suppliers token create`` (see
``pipeline.store.supplier_access``); every upload goes through ``pipeline.intake.submit`` under the
key ``upload:{account}:{Idempotency-Key or sha256}`` and is processed before the answer is sent.
"""

from __future__ import annotations

from fastapi import APIRouter

from connectors.upload._api import api_router
from connectors.upload._page import page_router
from pipeline.settings import Settings

__all__ = ["router"]


def router(settings: Settings) -> APIRouter:
    """The supplier API and the upload page, bound to ``settings`` (limits, database, object store)."""
    combined = APIRouter()
    combined.include_router(api_router(settings))
    combined.include_router(page_router(settings))
    return combined
