"""Rejection notices by SMTP (a real aiosmtpd), written to the outbox with the mail's decision (real PostgreSQL).

A sender whose invoice is rejected gets exactly one reply per document, in German and English, with
the rule ids, messages and business-term names, and the rejected file attached as it was received,
however often notices are run, also from two senders at once, and across a failed SMTP delivery.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from imap_server import ImapAccount, SmtpSink, corpus_invoice, docs_of, mail, write_config

from connectors.mailbox import poll
from connectors.mailconfig import ConnectorConfig, load_config
from connectors.notices import send_pending
from pipeline.services.ports import free_ports
from pipeline.settings import Settings
from pipeline.store import close_pools, connect, migrate, outbox
from schemas.terms import term_name

pytest_plugins = ["imap_server"]


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


def broken_invoice() -> bytes:
    """An invoice with an invoice type code outside UNTDID 1001: rejected by BR-CL-01 (BT-3)."""
    return corpus_invoice().replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")


def deliver_rejected(settings: Settings, account: ImapAccount, config: ConnectorConfig, sender: str) -> bytes:
    """A mail with a rejected invoice, taken in without sending notices yet; returns the invoice bytes."""
    invoice = broken_invoice()
    account.append(mail("Rechnung 2024-17", sender=sender, message_id="<r-2024-17@lieferant.example>",
                        attachments=(("rechnung-2024-17.xml", invoice, "application/xml"),)))  # fmt: skip
    poll(settings, config, send_notices=False)
    (doc,) = docs_of(settings, config)
    assert doc.status == "rejected"
    return invoice


def body_of(msg: Message) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain" and not p.get_filename())
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def test_notice_explains_the_rejection_in_german_and_english_with_the_original_attached(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    invoice = deliver_rejected(settings, imap_account, config, sender)
    assert config.smtp is not None

    result = send_pending(settings, config.smtp)

    assert result.sent >= 1 and result.failed == 0  # other tests' pending notices go out too
    (notice,) = smtp_server.wait_for(sender, 1)
    assert notice["Subject"] == "Rechnung abgelehnt / Invoice rejected: rechnung-2024-17.xml"
    assert notice["From"] == "Rechnungseingang <rechnungseingang@example.com>"
    assert notice["In-Reply-To"] == "<r-2024-17@lieferant.example>"
    assert notice["Auto-Submitted"] == "auto-replied"  # so the supplier's auto-responder stays quiet
    text = body_of(notice)
    assert "die Rechnung „rechnung-2024-17.xml“ aus Ihrer E-Mail „Rechnung 2024-17“" in text
    assert 'the invoice "rechnung-2024-17.xml" from your e-mail "Rechnung 2024-17"' in text
    assert "BR-CL-01: Der Rechnungstyp-Code ist ein Rechnungs- oder Gutschriftcode aus UNTDID 1001." in text
    assert "BR-CL-01: The document type code is a UNTDID 1001 invoice or credit note code." in text
    assert f"BT-3 {term_name('BT-3', 'de')}" in text and f"BT-3 {term_name('BT-3', 'en')}" in text
    assert term_name("BT-3", "de") != term_name("BT-3", "en")
    attachment = next(p for p in notice.walk() if p.get_filename() == "rechnung-2024-17.xml")
    assert attachment.get_payload(decode=True) == invoice


def test_notices_run_twice_and_at_once_send_exactly_one_message(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    deliver_rejected(settings, imap_account, config, sender)
    assert config.smtp is not None
    smtp = config.smtp

    # Two senders at the same moment (two flow runs overlapping), then once more afterwards.
    threads = [threading.Thread(target=send_pending, args=(settings, smtp)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = send_pending(settings, smtp)

    assert again.sent == 0
    assert len(smtp_server.wait_for(sender, 2, timeout=1.0)) == 1
    # A new pass over the mailbox (the decision retried) adds no second outbox row either.
    poll(settings, config)
    (doc,) = docs_of(settings, config)
    with connect(settings) as conn:
        (row,) = outbox.for_document(conn, doc.id)
    assert row.status == "sent" and row.sent_at is not None
    assert len(smtp_server.messages(sender)) == 1


def test_smtp_down_keeps_the_notice_pending_and_a_later_pass_sends_it(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    deliver_rejected(settings, imap_account, config, sender)
    assert config.smtp is not None
    (closed,) = free_ports(1)
    down = config.smtp.model_copy(update={"port": closed})

    failed = send_pending(settings, down)

    assert failed.sent == 0 and failed.failed == 1 and "ConnectionRefusedError" in failed.errors[0]
    (doc,) = docs_of(settings, config)
    with connect(settings) as conn:
        (row,) = outbox.for_document(conn, doc.id)
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert send_pending(settings, config.smtp).sent == 0  # not due yet: the retry waits a while
        conn.execute("UPDATE outbox SET next_attempt_at = now() WHERE id = %s", (row.id,))  # time passes

    assert send_pending(settings, config.smtp).sent == 1
    (notice,) = smtp_server.wait_for(sender, 1)
    assert notice["Message-ID"] == row.message_id  # fixed when queued: a repeat would be recognisable


def test_automatic_mail_gets_no_notice(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    imap_account.append(mail("Rechnung", sender=sender, headers={"Auto-Submitted": "auto-generated"},
                             attachments=(("r.xml", broken_invoice(), "application/xml"),)))  # fmt: skip

    poll(settings, config)

    (doc,) = docs_of(settings, config)
    assert doc.status == "rejected"
    with connect(settings) as conn:
        assert outbox.for_document(conn, doc.id) == []
    assert smtp_server.messages(sender) == []


def test_a_rejection_for_eingangs_own_trouble_is_not_sent_to_the_supplier(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    # The schema check is required, but no rule pack is installed: every invoice is rejected for that.
    strict = settings.model_copy(update={"require_xsd": True, "rules_dir": tmp_path / "no-rule-pack"})
    invoice = corpus_invoice()
    imap_account.append(mail("Rechnung", sender=sender, attachments=(("gut.xml", invoice, "application/xml"),)))
    poll(strict, config, send_notices=False)
    (doc,) = docs_of(settings, config)
    assert doc.status == "rejected"
    assert config.smtp is not None

    result = send_pending(settings, config.smtp)

    assert result.withheld >= 1
    with connect(settings) as conn:
        (row,) = outbox.for_document(conn, doc.id)
    assert row.status == "withheld" and "own trouble" in (row.last_error or "")
    assert smtp_server.wait_for(sender, 1, timeout=0.5) == []


def test_templates_can_be_replaced_by_a_directory_in_the_configuration(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "rejection-notice.subject.j2").write_text("Abgelehnt: {{ document.filename }} ({{ errors|length }})")
    write_config(tmp_path, imap_account, smtp_server)
    path = tmp_path / "mailboxes.toml"
    path.write_text(path.read_text().replace("[smtp]\n", '[smtp]\ntemplates = "templates"\n'))
    config = load_config(path, {"EINGANG_MAIL_PW_TEST": imap_account.password})
    sender = f"{imap_account.user}@lieferant.example"
    deliver_rejected(settings, imap_account, config, sender)
    assert config.smtp is not None

    send_pending(settings, config.smtp)

    (notice,) = smtp_server.wait_for(sender, 1)
    assert notice["Subject"] == "Abgelehnt: rechnung-2024-17.xml (1)"
    assert "BR-CL-01" in body_of(notice)  # the body template not replaced: the packaged one


def test_public_surface_of_notices_and_the_outbox_is_deliberate() -> None:
    import connectors.notices

    assert sorted(connectors.notices.__all__) == [
        "NoticeResult", "REJECTION", "enqueue_rejections", "render_notice", "send_pending"
    ]  # fmt: skip
    assert sorted(outbox.__all__) == [
        "OutboxRow", "claim_due", "enqueue", "for_document", "mark_sent", "mark_withheld", "pending_count",
        "record_failure",
    ]  # fmt: skip
