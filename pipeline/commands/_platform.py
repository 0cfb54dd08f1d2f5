"""What the platform commands (db, audit, submit, list, show, reprocess) share: finding the services.

Settings come from ``load_settings(data_dir=…)``. When ``DATABASE_URL`` and ``S3_ENDPOINT`` are set
they are used as they are; otherwise the services ``eingang up`` started for the data directory
are looked up in its state file (``pipeline.services.service_env``).
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from pipeline.intake import IntakeRefused
from pipeline.lifecycle import DocumentNotFound
from pipeline.processing import NotReprocessable
from pipeline.settings import Settings, load_settings
from pipeline.store import MissingServiceError, TransientError, close_pools, connect, pending

__all__ = [
    "SchemaNotCurrent",
    "UsageError",
    "actor",
    "add_data_dir",
    "guarded",
    "parse_id",
    "platform_settings",
    "require_schema",
]


class SchemaNotCurrent(RuntimeError):
    pass


class UsageError(ValueError):
    pass


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="the data directory whose services to use (default: see settings)"
    )


def platform_settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(data_dir=getattr(args, "data_dir", None))
    if settings.database_url and settings.s3_endpoint:
        return settings
    try:
        from pipeline.services import service_env
    except ImportError:  # a build without service management: the environment must say where
        raise MissingServiceError(
            "no services configured: set DATABASE_URL and S3_ENDPOINT (and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        ) from None
    found = load_settings(environ=service_env(settings), data_dir=settings.data_dir)
    settings = settings.model_copy(
        update={
            "database_url": settings.database_url or found.database_url,
            "s3_endpoint": settings.s3_endpoint or found.s3_endpoint,
            "s3_secure": settings.s3_secure if settings.s3_endpoint else found.s3_secure,
        }
    )
    missing = [
        name
        for name, value in (("database", settings.database_url), ("object store", settings.s3_endpoint))
        if not value
    ]
    if missing:
        raise MissingServiceError(
            f"no {' and no '.join(missing)} for data directory {settings.data_dir}: start the services with"
            " `eingang up`, or set DATABASE_URL and S3_ENDPOINT"
        )
    return settings


def require_schema(settings: Settings) -> None:
    with connect(settings) as conn:
        todo = pending(conn)
    if todo:
        raise SchemaNotCurrent(
            f"the database schema is not current ({len(todo)} migration(s) pending): run `eingang db migrate`"
        )


def actor() -> str:
    """Who is acting, for the event log: the operating-system user running the command."""
    return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"


def parse_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise UsageError(f"not a document id: {text!r}") from None


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Service trouble becomes one line on stderr and exit status 2, never a traceback."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (
            MissingServiceError,
            SchemaNotCurrent,
            UsageError,
            IntakeRefused,
            NotReprocessable,
            DocumentNotFound,
        ) as exc:
            sys.stderr.write(f"eingang: error: {exc}\n")
            return 2
        except TransientError as exc:
            sys.stderr.write(f"eingang: error: a service is unreachable, try again: {exc}\n")
            return 2
        finally:
            close_pools()

    return wrapper
