"""The whole platform of one data directory: bring it up in dependency order, down in reverse, report.

Order: PostgreSQL, object store, Prefect, then the web app and the flow runner, which are given
the environment of the first three. ``up`` and ``down`` hold the data directory's lock, so two of
them never interleave; ``status`` only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import psycopg

from pipeline.services import flowrunner, objectstore, postgres, prefect_server, webapp
from pipeline.services._environment import absolute
from pipeline.services._lifecycle import Health, ServiceSkipped
from pipeline.services.state import ServiceRecord, ServiceState, load_state, locked_state
from pipeline.settings import Settings
from pipeline.store import migrate

__all__ = ["SERVICES", "Service", "ServiceStatus", "bring_down", "bring_up", "platform_status"]


class Service(Protocol):
    """What each service module provides (modules satisfy protocols too)."""

    NAME: str

    def start(self, settings: Settings, state: ServiceState) -> ServiceRecord: ...
    def stop(self, settings: Settings, state: ServiceState) -> ServiceRecord | None: ...
    def health(self, settings: Settings, state: ServiceState) -> Health: ...


SERVICES: tuple[Service, ...] = (postgres, objectstore, prefect_server, webapp, flowrunner)
# Services whose code other engineers are still writing: missing code means "skipped", not an error.
_INSTALLED: dict[str, Callable[[], bool]] = {webapp.NAME: webapp.available, flowrunner.NAME: flowrunner.available}


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # "healthy", "unhealthy", "stopped" (not running), "skipped" (code not installed)
    url: str | None
    port: int | None
    pid: int | None
    started_by_us: bool
    detail: str
    log: str | None


def bring_up(settings: Settings, *, warn: Callable[[str], None]) -> list[tuple[ServiceRecord, bool]]:
    """Start what is not running and wait until each service is healthy.

    Returns each service's record with True when this call started it (False: it already ran,
    or is configured from outside). Raises ``ServiceError`` naming the failed service and its log;
    services started before it keep running and are recorded, so ``down`` stops them.
    """
    settings = absolute(settings)
    results: list[tuple[ServiceRecord, bool]] = []
    with locked_state(settings) as state:
        for service in SERVICES:
            before = state.get(service.NAME)
            try:
                record = service.start(settings, state)
            except ServiceSkipped as skipped:
                warn(str(skipped))
                continue
            results.append((record, record.started_by_us and (before is None or before.pid != record.pid)))
            if service is postgres and record.url:
                # The web app and the flow runner start next and need the current schema.
                _migrate(record.url)
    return results


def _migrate(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)


def bring_down(settings: Settings) -> list[ServiceRecord]:
    """Stop, in reverse order, exactly the services this data directory's ``up`` started."""
    settings = absolute(settings)
    stopped: list[ServiceRecord] = []
    with locked_state(settings) as state:
        for service in reversed(SERVICES):
            record = service.stop(settings, state)
            if record is not None:
                stopped.append(record)
    return stopped


def platform_status(settings: Settings) -> list[ServiceStatus]:
    settings = absolute(settings)
    state = load_state(settings)
    return [_status(service, settings, state) for service in SERVICES]


def _status(service: Service, settings: Settings, state: ServiceState) -> ServiceStatus:
    record = state.get(service.NAME)
    health = service.health(settings, state)
    installed = _INSTALLED.get(service.NAME, lambda: True)
    if record is None and not installed():
        label = "skipped"
    elif record is None and not health.ok:
        label = "stopped"
    else:
        label = "healthy" if health.ok else "unhealthy"
    return ServiceStatus(
        name=service.NAME,
        state=label,
        url=record.url if record is not None else _configured_url(service, settings),
        port=record.port if record is not None else None,
        pid=record.pid if record is not None else None,
        started_by_us=record.started_by_us if record is not None else False,
        detail=health.detail,
        log=record.log if record is not None else None,
    )


def _configured_url(service: Service, settings: Settings) -> str | None:
    """The URL a service has from the settings alone (configured from outside, ``up`` not run yet)."""
    if service.NAME == postgres.NAME:
        return settings.database_url
    if service.NAME == objectstore.NAME and settings.s3_endpoint:
        return f"{'https' if settings.s3_secure else 'http'}://{settings.s3_endpoint}"
    if service.NAME == prefect_server.NAME:
        return settings.prefect_api_url
    return None
