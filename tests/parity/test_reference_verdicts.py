"""Eingang's verdicts against the reference verdicts of ../shared/corpus (KoSIT + XRechnung configuration).

Runs the shared acceptance tool, ``../shared/tools/parity.py``, once per corpus folder and once on
the ZUGFeRD/Factur-X corpus (``--zugferd``), with this checkout's CLI (``<venv python> -m
pipeline.cli``). The tool cannot pass ``--schemas``, so the official schemas from ``../shared/schemas``
are installed as a rule pack first (``eingang rules install``) and found through ``EINGANG_RULES_DIR``,
exactly as a user's installation would be. Every run must report ``disagreements: 0``; the XML
Schema layer alone must agree with the reference on every document too.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.reader import ReadError, open_document
from validators import xsd
from validators.scenario import default_scenarios

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PARITY = SHARED / "tools" / "parity.py"
CORPUS = SHARED / "corpus"
SCHEMAS = SHARED / "schemas"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not (PARITY.is_file() and CORPUS.is_dir() and SCHEMAS.is_dir()), reason="../shared is not present"
    ),
]

FOLDERS = ["kosit-testsuite", "en16931-examples", "kosit-config-tests", "en16931-unit"]


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("eingang-rules") / "pack"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "rules", "install", str(SCHEMAS), "--rules-dir", str(target)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return target


def parity(rules_dir: Path, *args: str) -> None:
    env = {**os.environ, "EINGANG_RULES_DIR": str(rules_dir)}
    command = f"{shlex.quote(sys.executable)} -m pipeline.cli"
    done = subprocess.run(
        [sys.executable, str(PARITY), *args, "-v", "--cmd", command],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=1800,
    )
    summary = done.stdout.strip().splitlines()
    shown = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0 and summary and summary[-1] == "disagreements: 0", shown


@pytest.mark.parametrize("folder", FOLDERS)
def test_verdicts_and_fired_rules_agree_with_the_reference(folder: str, rules_dir: Path) -> None:
    parity(rules_dir, "--folders", folder)


@pytest.mark.skipif(not (CORPUS / "zugferd" / "expected.json").is_file(), reason="../shared/corpus/zugferd is absent")
def test_zugferd_and_factur_x_verdicts_agree_with_the_verdict_that_applies(rules_dir: Path) -> None:
    """KoSIT's verdict where the reference has one, else that of the official Factur-X / Order-X artefacts.

    MINIMUM and BASIC WL (no invoice under §14 UStG) and Order-X documents (orders) are accepted when
    their artefacts pass: what they are is a warning next to the verdict, never the verdict.
    """
    parity(rules_dir, "--zugferd")


def test_the_xml_schema_layer_alone_agrees_with_the_reference_on_every_document() -> None:
    """Valid/invalid per document, including documents KoSIT never schema-checks (their ``ungated`` result)."""
    expected = json.loads((CORPUS / "expected.json").read_text())
    scenarios = default_scenarios()
    schema_of = {s.syntax: SCHEMAS / s.xsd for s in scenarios.scenarios if s.family == "kosit"}
    checked = not_well_formed = 0
    wrong = []
    for key, entry in expected.items():
        try:
            doc = open_document((CORPUS / key).read_bytes())
        except ReadError:
            not_well_formed += 1
            assert entry["syntax"] == "unknown" and not entry["xsd_errors"], key
            continue
        gated = entry.get("ungated")
        reference_invalid = bool((gated or entry)["xsd_errors"])
        result = xsd.validate(doc.root, schema_of[doc.syntax])
        checked += 1
        if result.valid == reference_invalid:
            wrong.append((key, reference_invalid, [e.text() for e in result.errors[:2]]))
    assert wrong == []
    assert checked == len(expected) - not_well_formed
    assert not_well_formed == 2
