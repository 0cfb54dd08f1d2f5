"""IMAP intake against a real dovecot, PostgreSQL and SeaweedFS (and aiosmtpd for notices): nothing replaced.

Each test has an IMAP user of its own; mail is delivered with IMAP APPEND, read by
``connectors.mailbox`` exactly as from a production server, and checked in the folders and the
database afterwards. The one fault injected (a crash between commit and move) wraps the real
mailbox and makes its first MOVE raise.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from email import message_from_bytes
from pathlib import Path

import psycopg
import pytest
from imap_server import (
    KOSIT,
    PASSWORD_ENV,
    ImapAccount,
    SmtpSink,
    corpus_invoice,
    docs_of,
    folders,
    mail,
    mails_of,
    write_config,
)

from connectors.mailbox import (
    ImapMailbox,
    MailHeader,
    MailRef,
    mail_outcome,
    notify_address,
    parts_of,
    poll,
    poll_mailbox,
)
from connectors.mailconfig import MailConfigError, load_config
from pipeline.settings import Settings
from pipeline.store import close_pools, connect, migrate, objects_for, outbox
from pipeline.store import mail as mail_store

pytest_plugins = ["imap_server"]

CORPUS = KOSIT.parents[2]
HYBRID_PDF = CORPUS / "zugferd" / "csharp-zf24" / "EN16931_Photovoltaik_fx.pdf"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol9;</ID></Invoice>
"""


@pytest.fixture(scope="module")
def settings(platform_settings: Settings) -> Iterator[Settings]:
    with psycopg.connect(platform_settings.database_url or "") as conn:
        migrate(conn)
    yield platform_settings
    close_pools()


# -- what a mail holds (pure) ----------------------------------------------------------------------


def test_attachments_and_an_xml_body_are_candidates_but_html_and_images_are_not() -> None:
    raw = mail(
        "Rechnung",
        attachments=(
            ("rechnung.xml", b"<Invoice/>", "application/xml"),
            ("logo.png", b"\x89PNG....", "image/png"),
            ("scan.PDF", b"%PDF-1.4 ...", "application/octet-stream"),
            ("archiv.zip", b"PK\x03\x04...", "application/zip"),
            ("agb.docx", b"PK\x03\x04...", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
    )
    names = [p.filename for p in parts_of(message_from_bytes(raw))]
    assert names == ["rechnung.xml", "scan.PDF", "archiv.zip"]
    body_invoice = mail("Rechnung", body='<?xml version="1.0"?>\n<ubl:Invoice xmlns:ubl="urn:x">…</ubl:Invoice>\n')
    (part,) = parts_of(message_from_bytes(body_invoice))
    assert part.filename == "message-body-0.xml" and part.data.lstrip().startswith(b"<?xml")
    assert parts_of(message_from_bytes(mail("Hallo", body="<b>nur Text</b> ohne Rechnung"))) == []


def test_outcome_is_the_worst_verdict_and_waits_for_unfinished_documents() -> None:
    assert mail_outcome([]) == "no-invoice"
    assert mail_outcome(["accepted", "no-invoice"]) == "processed"
    assert mail_outcome(["duplicate"]) == "processed"
    assert mail_outcome(["accepted", "rejected"]) == "rejected"
    assert mail_outcome(["rejected", "failed"]) == "failed"
    assert mail_outcome(["accepted"], refused=1) == "failed"
    assert mail_outcome(["accepted", "processing"]) is None
    assert mail_outcome(["received"]) is None


def test_automatic_mail_gets_no_notice_and_reply_to_wins_over_from() -> None:
    def addr(**headers: str) -> str | None:
        return notify_address(message_from_bytes(mail("x", headers=headers)))

    assert addr() == "rechnung@lieferant.example"
    assert addr(**{"Reply-To": "Buchhaltung <buha@lieferant.example>"}) == "buha@lieferant.example"
    assert addr(**{"Auto-Submitted": "auto-generated"}) is None
    assert addr(Precedence="bulk") is None
    assert notify_address(message_from_bytes(mail("x", sender="MAILER-DAEMON@mx.example"))) is None


# -- configuration ---------------------------------------------------------------------------------


def test_plain_imap_is_refused_for_a_remote_host_and_passwords_come_from_the_named_variable(tmp_path: Path) -> None:
    path = tmp_path / "mailboxes.toml"
    base = '[[mailbox]]\nname = "ap"\nuser = "ap@example.com"\npassword_env = "EINGANG_MAIL_PW_AP"\n'
    path.write_text(base + 'host = "imap.example.com"\nsecurity = "plain"\n')
    with pytest.raises(MailConfigError, match="only allowed for a loopback host"):
        load_config(path, {"EINGANG_MAIL_PW_AP": "x"})
    path.write_text(base + 'host = "imap.example.com"\n')
    with pytest.raises(MailConfigError, match="EINGANG_MAIL_PW_AP"):
        load_config(path, {})
    config = load_config(path, {"EINGANG_MAIL_PW_AP": "geheim"})
    (box,) = config.mailbox
    assert box.password is not None and box.password.get_secret_value() == "geheim"
    assert box.effective_port == 993 and "geheim" not in repr(config)
    path.write_text(base + 'host = "imap.example.com"\npassword = "geheim"\n')
    with pytest.raises(MailConfigError, match="do not belong in the file"):
        load_config(path, {"EINGANG_MAIL_PW_AP": "x"})
    (tmp_path / "secret").write_text("aus-datei\n")
    path.write_text('[[mailbox]]\nname = "ap"\nuser = "u"\nhost = "::1"\nsecurity = "plain"\n'
                    'password_file = "secret"\n')  # fmt: skip
    (box,) = load_config(path, {}).mailbox
    assert box.password is not None and box.password.get_secret_value() == "aus-datei"


# -- intake from a real mailbox --------------------------------------------------------------------


def test_mail_with_one_xml_invoice_is_taken_in_accepted_and_moved(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    invoice = corpus_invoice()
    raw = mail("Rechnung 4711", attachments=(("rechnung-4711.xml", invoice, "application/xml"),))
    imap_account.append(raw)

    result = poll(settings, config)

    (box,) = result.mailboxes
    assert box.error is None and [m.status for m in box.mails] == ["processed"]
    assert folders(imap_account) == {"INBOX": 0, "Processed": 1, "Rejected": 0, "NoInvoice": 0, "Failed": 0}
    (doc,) = docs_of(settings, config)
    assert doc.status == "accepted" and doc.filename == "rechnung-4711.xml"
    assert doc.sender == "rechnung@lieferant.example"
    (row,) = mails_of(settings, config)
    assert doc.source_key == f"imap:{config.mailbox[0].name}/{row.uidvalidity}/{row.uid}/0"
    assert row.status == "processed" and row.moved_to == "Processed" and row.moved_at is not None
    # The raw .eml is in the object store under its SHA-256, byte for byte as the server had it.
    stored = objects_for(settings).get_original(row.sha256)
    assert stored == imap_account.messages("Processed")[0]
    assert objects_for(settings).get_original(doc.sha256) == invoice


def test_mail_with_a_hybrid_pdf_invoice_is_accepted(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    if not HYBRID_PDF.is_file():
        pytest.skip(f"{HYBRID_PDF} is not present on this machine")
    config = write_config(tmp_path, imap_account)
    pdf = HYBRID_PDF.read_bytes()
    imap_account.append(mail("Ihre Rechnung", attachments=(("rechnung.pdf", pdf, "application/pdf"),)))

    poll(settings, config)

    (doc,) = docs_of(settings, config)
    assert doc.media_type == "application/pdf" and doc.status in {"accepted", "duplicate"}
    assert folders(imap_account)["Processed"] == 1


def test_zip_with_two_invoices_becomes_two_accepted_documents(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a-ubl.xml", corpus_invoice("01.01a-INVOICE_ubl.xml"))
        archive.writestr("b-cii.xml", corpus_invoice("01.02a-INVOICE_uncefact.xml"))
    archive_bytes = buffer.getvalue()
    imap_account.append(mail("Zwei Rechnungen", attachments=(("rechnungen.zip", archive_bytes, "application/zip"),)))

    poll(settings, config)

    docs = docs_of(settings, config)
    archive_doc = next(d for d in docs if d.parent_id is None)
    members = sorted((d for d in docs if d.parent_id == archive_doc.id), key=lambda d: d.filename or "")
    assert archive_doc.media_type == "application/zip" and archive_doc.status == "no-invoice"
    assert [(m.filename, m.status) for m in members] == [("a-ubl.xml", "accepted"), ("b-cii.xml", "accepted")]
    assert folders(imap_account)["Processed"] == 1


def test_plain_text_mail_is_moved_to_the_no_invoice_folder(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    imap_account.append(mail("Frage zur Lieferung", body="Wann kommt die Ware?\n"))

    poll(settings, config)

    assert docs_of(settings, config) == []
    (row,) = mails_of(settings, config)
    assert row.status == "no-invoice" and row.moved_to == "NoInvoice"
    assert folders(imap_account)["NoInvoice"] == 1 and folders(imap_account)["INBOX"] == 0


def test_xml_invoice_sent_as_the_body_is_taken_in(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    imap_account.append(mail("XRechnung", body=corpus_invoice().decode("utf-8")))

    poll(settings, config)

    (doc,) = docs_of(settings, config)
    assert doc.status == "accepted" and doc.filename == "message-body-0.xml"


def test_hostile_xml_is_rejected_kept_and_answered_once_with_the_original(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}@lieferant.example"
    imap_account.append(mail("Rechnung", sender=sender, attachments=(("lol.xml", BILLION_LAUGHS, "application/xml"),)))

    result = poll(settings, config)

    (doc,) = docs_of(settings, config)
    assert doc.status == "rejected" and "DTD" in (doc.status_reason or "")
    assert objects_for(settings).get_original(doc.sha256) == BILLION_LAUGHS  # kept as received
    assert folders(imap_account)["Rejected"] == 1
    assert result.notices is not None and result.notices.sent == 1
    (notice,) = smtp_server.wait_for(sender, 1)
    attachment = next(p for p in notice.walk() if p.get_filename() == "lol.xml")
    assert attachment.get_payload(decode=True) == BILLION_LAUGHS
    # Polling again sends nothing more: the outbox row is sent, and the mail is out of the inbox.
    poll(settings, config)
    assert len(smtp_server.messages(sender)) == 1


def test_the_same_mail_polled_twice_or_delivered_twice_is_one_document(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    raw = mail("Rechnung doppelt", attachments=(("r.xml", corpus_invoice(), "application/xml"),))
    imap_account.append(raw)
    poll(settings, config)
    poll(settings, config)
    assert len(docs_of(settings, config)) == 1
    # The same message delivered again (a new UID, an extra Received header): the same row, no new document.
    imap_account.append(b"Received: from mx2.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n" + raw)
    result = poll(settings, config)
    assert [m.status for m in result.mailboxes[0].mails] == ["processed"]
    assert len(docs_of(settings, config)) == 1 and len(mails_of(settings, config)) == 1
    assert folders(imap_account) == {"INBOX": 0, "Processed": 2, "Rejected": 0, "NoInvoice": 0, "Failed": 0}


def test_two_different_mails_reusing_one_message_id_are_both_taken_in(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    for n in (1, 2):
        imap_account.append(mail(f"Rechnung {n}", message_id="<always-the-same@billing.example>",
                                 attachments=((f"r{n}.xml", corpus_invoice(), "application/xml"),)))  # fmt: skip
    poll(settings, config)
    assert [d.status for d in docs_of(settings, config)] == ["accepted", "accepted"]


class SimulatedCrash(RuntimeError):
    pass


class CrashOnFirstMove:
    """The real mailbox, except that the first MOVE raises: the process dying right after the commit."""

    def __init__(self, inner: ImapMailbox) -> None:
        self.inner = inner
        self.name = inner.name
        self.folder = inner.folder
        self.crashed = False

    def list_new(self) -> list[MailHeader]:
        return self.inner.list_new()

    def fetch_raw(self, refs: Sequence[MailRef]) -> Iterator[tuple[MailRef, bytes]]:
        return self.inner.fetch_raw(refs)

    def move(self, refs: Sequence[MailRef], folder: str) -> None:
        if not self.crashed:
            self.crashed = True
            raise SimulatedCrash("killed between commit and move")
        self.inner.move(refs, folder)


def test_crash_between_commit_and_move_never_creates_a_second_document(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    (box,) = config.mailbox
    imap_account.append(mail("Rechnung", attachments=(("r.xml", corpus_invoice(), "application/xml"),)))

    with ImapMailbox.open(box) as real, pytest.raises(SimulatedCrash):
        poll_mailbox(settings, config, box, CrashOnFirstMove(real))

    (row,) = mails_of(settings, config)
    assert row.status == "processed" and row.moved_at is None  # committed, not moved
    assert folders(imap_account)["INBOX"] == 1
    first = docs_of(settings, config)

    result = poll(settings, config)

    assert [(m.status, m.moved_to) for m in result.mailboxes[0].mails] == [("processed", "Processed")]
    assert [d.id for d in docs_of(settings, config)] == [d.id for d in first] and len(first) == 1
    assert folders(imap_account)["INBOX"] == 0 and folders(imap_account)["Processed"] == 1
    (row,) = mails_of(settings, config)
    assert row.moved_to == "Processed" and row.moved_at is not None


def test_failed_mail_stays_retryable_when_moved_back(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    invoice = corpus_invoice()
    imap_account.append(mail("Große Rechnung", attachments=(("gross.xml", invoice, "application/xml"),)))
    small = settings.model_copy(update={"max_upload_bytes": len(invoice) - 1})

    poll(small, config)  # the attachment is over the limit: nothing taken in, the mail fails

    (row,) = mails_of(settings, config)
    assert row.status == "failed" and "more than the limit" in (row.status_reason or "")
    assert docs_of(settings, config) == [] and folders(imap_account)["Failed"] == 1
    # Someone raises the limit and moves the mail back: its row says failed, so it is tried again.
    with imap_account.connect("Failed") as admin:
        admin.move(admin.uids(), "INBOX")

    poll(settings, config)

    (row,) = mails_of(settings, config)
    assert row.status == "processed" and row.moved_to == "Processed"
    assert [d.status for d in docs_of(settings, config)] == ["accepted"]
    assert folders(imap_account)["Processed"] == 1 and folders(imap_account)["Failed"] == 0


def test_filter_leaves_other_mail_alone(settings: Settings, imap_account: ImapAccount, tmp_path: Path) -> None:
    config = write_config(
        tmp_path, imap_account,
        extra='\n[mailbox.filter]\nsenders = ["*@lieferant.example"]\nignore_subjects = ["Newsletter"]\n',
    )  # fmt: skip
    imap_account.append(mail("Rechnung", attachments=(("r.xml", corpus_invoice(), "application/xml"),)))
    imap_account.append(mail("Newsletter März"))
    imap_account.append(mail("Rechnung", sender="fremd@anderswo.example"))

    result = poll(settings, config)

    assert result.mailboxes[0].skipped == 2
    assert folders(imap_account)["INBOX"] == 2 and folders(imap_account)["Processed"] == 1
    assert len(mails_of(settings, config)) == 1


def test_a_second_poller_of_the_same_mailbox_steps_aside(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    (box,) = config.mailbox
    with connect(settings) as conn, mail_store.mailbox_lock(conn, box.name) as held:
        assert held
        result = poll(settings, config)
    assert result.mailboxes[0].busy


def test_unreachable_mailbox_is_a_transient_error_and_other_mailboxes_go_on(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    from pipeline.services.ports import free_ports

    (closed,) = free_ports(1)
    good = write_config(tmp_path, imap_account)
    text = (tmp_path / "mailboxes.toml").read_text() + (
        f'\n[[mailbox]]\nname = "down"\nhost = "127.0.0.1"\nport = {closed}\nsecurity = "plain"\nuser = "x"\n'
        f'password_env = "{PASSWORD_ENV}"\n'
    )
    (tmp_path / "mailboxes.toml").write_text(text)
    config = load_config(tmp_path / "mailboxes.toml", {PASSWORD_ENV: imap_account.password})
    imap_account.append(mail("Rechnung", attachments=(("r.xml", corpus_invoice(), "application/xml"),)))

    result = poll(settings, config)

    down = next(m for m in result.mailboxes if m.mailbox == "down")
    assert down.transient and "ConnectionRefusedError" in (down.error or "")
    assert [d.status for d in docs_of(settings, good)] == ["accepted"]
    from connectors.mailbox import MailboxUnavailable

    with pytest.raises(MailboxUnavailable):
        result.raise_for_errors()


def test_notices_are_queued_once_per_rejected_document(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}-q@lieferant.example"
    broken = corpus_invoice().replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")
    imap_account.append(mail("Rechnung", sender=sender, attachments=(("kaputt.xml", broken, "application/xml"),)))

    poll(settings, config, send_notices=False)

    (doc,) = docs_of(settings, config)
    assert doc.status == "rejected"
    with connect(settings) as conn:
        (queued,) = outbox.for_document(conn, doc.id)
    assert queued.status == "pending" and queued.recipient == sender
    assert smtp_server.messages(sender) == []
    # The next pass decides nothing anew (the mail is filed) and sends what is queued, once.
    poll(settings, config)
    poll(settings, config)
    assert len(smtp_server.wait_for(sender, 2, timeout=1.0)) == 1


def test_the_same_broken_invoice_sent_again_is_filed_with_the_rejected_ones(
    settings: Settings, imap_account: ImapAccount, smtp_server: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account, smtp_server)
    sender = f"{imap_account.user}-again@lieferant.example"
    broken = corpus_invoice().replace(b"<cbc:InvoiceTypeCode>380", b"<cbc:InvoiceTypeCode>999")
    imap_account.append(mail("Rechnung", sender=sender, attachments=(("r.xml", broken, "application/xml"),)))
    poll(settings, config)
    imap_account.append(mail("Rechnung, nochmal", sender=sender, attachments=(("r.xml", broken, "application/xml"),)))

    result = poll(settings, config)

    assert [(m.status, m.moved_to) for m in result.mailboxes[0].mails] == [("rejected", "Rejected")]
    assert [d.status for d in docs_of(settings, config)] == ["rejected", "duplicate"]
    assert folders(imap_account)["Rejected"] == 2
    # One notice for the rejected document; the repeat is filed, not answered again.
    assert len(smtp_server.wait_for(sender, 2, timeout=1.0)) == 1


def test_public_surface_of_the_mail_connector_is_deliberate() -> None:
    import connectors
    import connectors.mailbox
    import connectors.mailconfig

    assert connectors.__all__ == ["folder", "mailbox", "mailconfig", "notices", "upload"]
    assert sorted(connectors.mailbox.__all__) == [
        "ImapMailbox", "MAX_ATTEMPTS", "MailHeader", "MailRef", "MailResult", "Mailbox", "MailboxError",
        "MailboxResult", "MailboxUnavailable", "Part", "PollResult", "mail_outcome", "message_key", "notify_address",
        "parts_of", "poll", "poll_mailbox",
    ]  # fmt: skip
    assert sorted(connectors.mailconfig.__all__) == [
        "CONFIG_NAME", "ConnectorConfig", "FolderConfig", "MailConfigError", "MailFilter", "MailboxConfig",
        "Security", "SmtpConfig", "default_config_path", "is_loopback", "load_config",
    ]  # fmt: skip
    assert sorted(mail_store.__all__) == [
        "DECIDED", "MailRow", "NewMail", "attachments", "decide", "document_statuses", "find_by_uids",
        "find_message", "get_message", "insert_message", "link_attachments", "lock_message", "mailbox_lock",
        "mark_moved", "messages", "record_failure",
    ]  # fmt: skip


def test_a_server_without_move_gets_copy_and_uid_expunge(
    settings: Settings, imap_account: ImapAccount, tmp_path: Path
) -> None:
    config = write_config(tmp_path, imap_account)
    (box,) = config.mailbox
    imap_account.append(mail("Rechnung", attachments=(("r.xml", corpus_invoice(), "application/xml"),)))
    imap_account.append(mail("Hallo"))

    with ImapMailbox.open(box) as real:
        assert "MOVE" in real.capabilities and "UIDPLUS" in real.capabilities  # read after login
        real.capabilities = real.capabilities - {"MOVE"}  # as an older server would announce them
        poll_mailbox(settings, config, box, real)

    assert folders(imap_account) == {"INBOX": 0, "Processed": 1, "Rejected": 0, "NoInvoice": 1, "Failed": 0}
