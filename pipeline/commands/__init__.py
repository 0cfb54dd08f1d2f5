"""Sub-commands of ``eingang``: each module has ``register(subparsers)``, which sets ``run``."""

from __future__ import annotations

COMMANDS = (
    "inspect",
    "samples",
    "render",
    "validate",
    "rules",
    "up",
    "down",
    "status",
    "db",
    "audit",
    "submit",
    "list",
    "show",
    "reprocess",
    "suppliers",
    "mail",
    "folder",
)

__all__ = ["COMMANDS"]
