"""The web app: documents, verdicts, findings and history for accounts payable, and a JSON API.

``uvicorn --factory pipeline.web:create_app`` (``eingang up`` starts it that way).
"""

from __future__ import annotations

from pipeline.web._app import create_app

__all__ = ["create_app"]
