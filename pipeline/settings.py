"""Eingang's settings, read once from the environment into a frozen model and passed down.

No other module reads ``os.environ``: commands call ``load_settings()`` and hand the value
to the code that needs it. Every setting has an embedded default, so a fresh machine runs
with nothing configured: services are started by ``eingang up`` under the data directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["Settings", "load_settings"]


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "eingang"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(default_factory=_default_data_dir)
    # Empty means "the embedded server eingang up starts under data_dir".
    database_url: str | None = None
    s3_endpoint: str | None = None  # host:port; empty means the embedded SeaweedFS
    s3_access_key: SecretStr = SecretStr("eingang")
    s3_secret_key: SecretStr = SecretStr("eingang-secret-key")
    s3_secure: bool = False
    s3_bucket: str = "eingang-documents"
    retention_years: int = 10
    prefect_api_url: str | None = None  # empty means the local Prefect server eingang up starts
    web_host: str = "127.0.0.1"
    web_port: int = 8088
    rules_dir: Path | None = None  # installed rule pack (official XML Schemas, optional XSLT)
    require_xsd: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    max_zip_members: int = 200
    max_unzipped_bytes: int = 200 * 1024 * 1024
    batch_size: int = 50

    @property
    def resolved_rules_dir(self) -> Path:
        return self.rules_dir or self.data_dir / "rules"


_ENV: Mapping[str, str] = {
    "EINGANG_DATA_DIR": "data_dir",
    "DATABASE_URL": "database_url",
    "S3_ENDPOINT": "s3_endpoint",
    "AWS_ACCESS_KEY_ID": "s3_access_key",
    "AWS_SECRET_ACCESS_KEY": "s3_secret_key",
    "S3_SECURE": "s3_secure",
    "EINGANG_S3_BUCKET": "s3_bucket",
    "EINGANG_RETENTION_YEARS": "retention_years",
    "PREFECT_API_URL": "prefect_api_url",
    "EINGANG_WEB_HOST": "web_host",
    "EINGANG_WEB_PORT": "web_port",
    "EINGANG_RULES_DIR": "rules_dir",
    "EINGANG_REQUIRE_XSD": "require_xsd",
    "EINGANG_MAX_UPLOAD_BYTES": "max_upload_bytes",
    "EINGANG_BATCH_SIZE": "batch_size",
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from the environment (``environ`` for tests), then explicit overrides (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {field: env[name] for name, field in _ENV.items() if env.get(name)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings.model_validate(values)
