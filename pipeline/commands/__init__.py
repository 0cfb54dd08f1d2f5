"""Sub-commands of ``eingang``: each module has ``register(subparsers)``, which sets ``run``."""

from __future__ import annotations

COMMANDS = ("inspect", "render", "validate", "rules")

__all__ = ["COMMANDS"]
