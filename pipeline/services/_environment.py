"""The environment a child process needs to talk to the running platform of one data directory.

The variables are the ones ``load_settings()`` reads, so a child started with them (the web app,
the flow runner, a test running the CLI) gets Settings that point at the running services.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pipeline.services.state import ServiceState, load_state
from pipeline.settings import Settings

__all__ = ["absolute", "code_root", "prefect_home", "s3_endpoint_of", "service_env"]


def absolute(settings: Settings) -> Settings:
    """``settings`` with an absolute data directory: children run elsewhere, and paths go into the state file."""
    resolved = settings.data_dir.expanduser().resolve()
    return settings if resolved == settings.data_dir else settings.model_copy(update={"data_dir": resolved})


def code_root() -> Path:
    """The directory holding Eingang's packages. Children started with ``python -m`` run here, so they
    import the same code as we do even from a source checkout that is not installed."""
    return Path(__file__).resolve().parents[2]


def prefect_home(settings: Settings) -> str:
    """Where the embedded Prefect server keeps its database, and its clients their local results."""
    return str(settings.data_dir / "prefect")


def s3_endpoint_of(url: str) -> tuple[str, bool]:
    """``("host:port", secure)`` from the URL recorded for an object store."""
    parts = urlsplit(url)
    return parts.netloc, parts.scheme == "https"


def service_env(settings: Settings, state: ServiceState | None = None) -> dict[str, str]:
    """``DATABASE_URL``, ``S3_ENDPOINT`` (with keys), ``PREFECT_API_URL``… of the running services.

    Read from the state file of ``settings.data_dir`` (``state`` when the caller holds it);
    a service that is not recorded falls back to its setting, and is left out when that is empty.
    """
    settings = absolute(settings)
    state = load_state(settings) if state is None else state
    env = {"EINGANG_DATA_DIR": str(settings.data_dir)}

    postgres = state.get("postgres")
    database_url = postgres.url if postgres is not None else settings.database_url
    if database_url:
        env["DATABASE_URL"] = database_url

    store = state.get("objectstore")
    endpoint, secure = (None, settings.s3_secure) if store is None or not store.url else s3_endpoint_of(store.url)
    endpoint = endpoint or settings.s3_endpoint
    if endpoint:
        env["S3_ENDPOINT"] = endpoint
        env["S3_SECURE"] = "true" if secure else "false"
        env["AWS_ACCESS_KEY_ID"] = settings.s3_access_key.get_secret_value()
        env["AWS_SECRET_ACCESS_KEY"] = settings.s3_secret_key.get_secret_value()

    prefect = state.get("prefect")
    api_url = prefect.url if prefect is not None else settings.prefect_api_url
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if prefect is not None and prefect.started_by_us:
        # Same home as the server: flow results and Prefect's local files stay under the data directory.
        env["PREFECT_HOME"] = prefect_home(settings)

    web = state.get("web")
    if web is not None and web.url:
        parts = urlsplit(web.url)
        env["EINGANG_WEB_HOST"] = parts.hostname or settings.web_host
        env["EINGANG_WEB_PORT"] = str(parts.port or settings.web_port)
    return env
