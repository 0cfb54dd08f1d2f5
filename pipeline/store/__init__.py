"""Storage: PostgreSQL for metadata and the event log, an S3 object store for the bytes.

The only package that imports psycopg and minio. SQL lives here as plain functions taking a
``Connection``; the rest of the pipeline calls them inside its own transactions.
"""

from __future__ import annotations

from pipeline.store import documents, events, invoices, suppliers
from pipeline.store.db import (
    Connection,
    MissingServiceError,
    close_pools,
    connect,
    create_pool,
    migrate,
    migrations,
    pending,
    pool_for,
    xact_lock,
)
from pipeline.store.errors import TransientError, is_transient, transient_guard
from pipeline.store.objects import ObjectStore, Retention, objects_for, original_key

__all__ = [
    "Connection",
    "MissingServiceError",
    "ObjectStore",
    "Retention",
    "TransientError",
    "close_pools",
    "connect",
    "create_pool",
    "documents",
    "events",
    "invoices",
    "is_transient",
    "migrate",
    "migrations",
    "objects_for",
    "original_key",
    "pending",
    "pool_for",
    "suppliers",
    "transient_guard",
    "xact_lock",
]
