"""The platform services of one data directory: PostgreSQL, the S3 object store, Prefect, the web app, the flow runner.

Each service is either configured from outside (``DATABASE_URL``, ``S3_ENDPOINT``,
``PREFECT_API_URL``), in which case we only check it, or started by ``eingang up`` under the data
directory and recorded in ``DATA_DIR/run/services.json``; ``eingang down`` stops exactly those.
One module per service (``postgres``, ``objectstore``, ``prefect_server``, ``webapp``,
``flowrunner``), each with ``start(settings, state)``, ``stop`` and ``health``.
"""

from __future__ import annotations

from pipeline.services._environment import service_env
from pipeline.services._lifecycle import Health, ServiceError, ServiceSkipped, redact_url
from pipeline.services._platform import SERVICES, Service, ServiceStatus, bring_down, bring_up, platform_status
from pipeline.services.prefect_server import ui_url
from pipeline.services.state import ServiceRecord, ServiceState, load_state, locked_state, state_path

__all__ = [
    "SERVICES",
    "Health",
    "Service",
    "ServiceError",
    "ServiceRecord",
    "ServiceSkipped",
    "ServiceState",
    "ServiceStatus",
    "bring_down",
    "bring_up",
    "load_state",
    "locked_state",
    "platform_status",
    "redact_url",
    "service_env",
    "state_path",
    "ui_url",
]
