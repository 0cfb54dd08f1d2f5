"""Mail intake end to end: a supplier's mail in a real dovecot → the ``poll-mailboxes`` flow under a real
Prefect server → verdicts in PostgreSQL, the raw mail and invoices in SeaweedFS → the mail moved to the
folder for its outcome → a rejection notice by SMTP (aiosmtpd) with the original attached.
And the same through ``eingang mail poll`` as an operator runs it, and the ``watch-folder`` flow."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prefect import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
from prefect.client.schemas.objects import State
from prefect.testing.utilities import prefect_test_harness

from flows.intake import poll_mailboxes, watch_folder
from pipeline.settings import Settings
from pipeline.store import close_pools, migrate

# The mail servers and helpers live beside the connector tests (tests/ has no packages, so the
# folder goes on the path; running this file alone must work as well as the whole suite).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from imap_server import (
    PASSWORD_ENV,
    ImapAccount,
    SmtpSink,
    corpus_invoice,
    docs_of,
    folders,
    mail,
    write_config,
)

pytest_plugins = ["imap_server"]

REPO = Path(__file__).resolve().parents[2]
# The variables load_settings() reads: the flow sees only the ones this module sets.
_SETTINGS_VARS = (
    "EINGANG_DATA_DIR", "DATABASE_URL", "S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_SECURE",
    "EINGANG_S3_BUCKET", "EINGANG_RULES_DIR", "EINGANG_BATCH_SIZE",
)  # fmt: skip


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


def _environ(settings: Settings) -> dict[str, str]:
    return {
        "EINGANG_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url or "",
        "S3_ENDPOINT": settings.s3_endpoint or "",
        "S3_SECURE": "false",
        "AWS_ACCESS_KEY_ID": settings.s3_access_key.get_secret_value(),
        "AWS_SECRET_ACCESS_KEY": settings.s3_secret_key.get_secret_value(),
    }


@pytest.fixture(scope="module")
def prefect(settings: Settings) -> Iterator[None]:
    """A real Prefect server for this module, and the environment the served flow would have."""
    with pytest.MonkeyPatch.context() as mp, prefect_test_harness(server_startup_timeout=60):
        for name in _SETTINGS_VARS:
            mp.delenv(name, raising=False)
        for name, value in _environ(settings).items():
            mp.setenv(name, value)
        yield


def _body(msg: Any) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    return str(part.get_payload(decode=True).decode("utf-8"))


def test_supplier_mail_is_judged_filed_and_a_rejection_answered(
    prefect: None, settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_config(tmp_path, imap_account, smtp_server)
    monkeypatch.setenv(PASSWORD_ENV, imap_account.password)  # what the served flow's environment holds
    sender = f"{imap_account.user}@lieferant.example"
    good = corpus_invoice("01.03a-INVOICE_ubl.xml")
    bad = corpus_invoice("01.04a-INVOICE_ubl.xml").replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")
    imap_account.append(mail("Rechnung 1", sender=sender, attachments=(("gut.xml", good, "application/xml"),)))
    imap_account.append(mail("Rechnung 2", sender=sender, attachments=(("falsch.xml", bad, "application/xml"),)))

    state: State[Any] = asyncio.run(poll_mailboxes(config_path=str(tmp_path / "mailboxes.toml"), return_state=True))

    assert state.is_completed(), state.message
    counts = state.result()
    assert counts[config.mailbox[0].name] == {"skipped": 0, "new": 2, "processed": 1, "rejected": 1}
    assert counts["_notices"] == {"sent": 1, "failed": 0}
    assert folders(imap_account) == {"INBOX": 0, "Processed": 1, "Rejected": 1, "NoInvoice": 0, "Failed": 0}
    assert sorted((d.filename, d.status) for d in docs_of(settings, config)) == [
        ("falsch.xml", "rejected"), ("gut.xml", "accepted")
    ]  # fmt: skip
    (notice,) = smtp_server.wait_for(sender, 1)
    assert "falsch.xml" in notice["Subject"] and "BR-CL-01" in _body(notice)
    attached = next(p for p in notice.walk() if p.get_filename() == "falsch.xml")
    assert attached.get_payload(decode=True) == bad

    # The next scheduled run finds nothing new and sends nothing again.
    again: State[Any] = asyncio.run(poll_mailboxes(config_path=str(tmp_path / "mailboxes.toml"), return_state=True))
    assert again.result()[config.mailbox[0].name] == {"skipped": 0, "new": 0}
    assert len(docs_of(settings, config)) == 2 and len(smtp_server.messages(sender)) == 1


def test_unreachable_mailbox_is_retried_and_a_refused_login_is_not(
    prefect: None, settings: Settings, imap_account: ImapAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows import intake
    from pipeline.services.ports import free_ports

    (closed,) = free_ports(1)
    path = tmp_path / "mailboxes.toml"
    path.write_text(
        f'[[mailbox]]\nname = "weg"\nhost = "127.0.0.1"\nport = {closed}\nsecurity = "plain"\nuser = "x"\n'
        f'password_env = "{PASSWORD_ENV}"\n\n'
        f'[[mailbox]]\nname = "falsch"\nhost = "{imap_account.host}"\nport = {imap_account.port}\n'
        f'security = "plain"\nuser = "{imap_account.user}"\npassword_env = "{PASSWORD_ENV}"\n'
    )
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    # Retried like any run, only without the production waits.
    monkeypatch.setattr(intake.poll_one, "retry_delay_seconds", [0] * intake.RETRIES)

    state: State[Any] = asyncio.run(intake.poll_mailboxes(config_path=str(path), return_state=True))

    assert state.is_failed() and "2 of 2 mailbox(es) could not be polled" in (state.message or "")
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run_id])))
    attempts = {r.name: r.run_count for r in runs}
    assert attempts["poll-mailbox-weg"] == intake.RETRIES + 1  # connection refused: worth retrying
    assert attempts["poll-mailbox-falsch"] == 1  # a wrong password stays wrong


def test_watch_folder_flow_takes_in_a_dropped_file(
    prefect: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "rechnung.xml").write_bytes(corpus_invoice("01.05a-INVOICE_ubl.xml"))
    path = tmp_path / "mailboxes.toml"
    path.write_text(f'[[folder]]\nname = "scanner-{tmp_path.name[-12:]}"\npath = "{drop}"\nmin_age = 0\n')

    state: State[Any] = asyncio.run(watch_folder(config_path=str(path), return_state=True))

    assert state.is_completed(), state.message
    assert list(state.result().values()) == [{"processed": 1, "failed": 0, "waiting": 0}]
    assert (drop / "processed" / "rechnung.xml").exists()


def test_eingang_mail_poll_command(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    imap_account.append(mail("Rechnung", sender=sender, attachments=(("r.xml", corpus_invoice(), "application/xml"),)))
    imap_account.append(mail("Hallo", sender=sender))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EINGANG_", "DATABASE_URL", "S3_", "AWS_"))}
    env.update(_environ(settings))
    env[PASSWORD_ENV] = imap_account.password

    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "mail", "poll", "--config", str(tmp_path / "mailboxes.toml")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    name = config.mailbox[0].name
    assert [(w[0], w[2], w[3], w[4]) for w in lines[:2]] == [(name, "processed", "Processed", "1"),
                                                            (name, "no-invoice", "NoInvoice", "0")]  # fmt: skip
    assert done.stdout.splitlines()[2] == f"{name}: 2 mail(s), 2 new, 0 left alone by the filter"
    assert folders(imap_account)["INBOX"] == 0

    missing = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "mail", "poll", "--config", str(tmp_path / "mailboxes.toml")],
        capture_output=True, text=True, cwd=REPO, env={k: v for k, v in env.items() if k != PASSWORD_ENV},
        timeout=300,
    )  # fmt: skip
    assert missing.returncode == 2 and f"environment variable {PASSWORD_ENV}" in missing.stderr, missing.stderr
