"""Which failures of the database and the object store are worth retrying.

Only this package knows the exception types of psycopg, minio and urllib3; the rest of the
pipeline asks ``is_transient`` or wraps a unit of work in ``transient_guard`` and sees a
``TransientError`` it can hand to the flow layer's retry with backoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg_pool
import urllib3.exceptions
from minio.error import S3Error, ServerError

__all__ = ["TransientError", "is_transient", "transient_guard"]

# S3 error codes that mean "the server is busy or restarting", not "your request is wrong".
_TRANSIENT_S3 = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "ServerBusy"})


class TransientError(RuntimeError):
    """The database or object store could not be reached; the same call later may well succeed."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError):
        return True
    # OperationalError covers lost connections, deadlocks and serialization failures;
    # PoolTimeout means no connection could be had in time.
    if isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
        return True
    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError | ServerError):
        return True
    return isinstance(exc, S3Error) and exc.code in _TRANSIENT_S3


@contextmanager
def transient_guard(what: str) -> Iterator[None]:
    """Turn an unreachable service into ``TransientError``; let every other exception through."""
    try:
        yield
    except TransientError:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise TransientError(f"{what}: {type(exc).__name__}: {exc}") from exc
        raise
