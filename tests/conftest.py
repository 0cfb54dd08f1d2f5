"""Shared test fixtures: where the read-only corpus lives, and how to run the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Real PostgreSQL and SeaweedFS for the platform tests, started and stopped by the session.
pytest_plugins = ["service_fixtures"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SCHEMAS = SHARED / "schemas"


def _run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO
    )


@pytest.fixture(scope="session")
def cli():
    """Run ``eingang`` as a user would, in a fresh interpreter: ``cli("inspect", path)``."""
    return _run_cli


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present on this machine")
    return CORPUS
