"""Real mail servers for the connector tests: Debian's dovecot (IMAP) and aiosmtpd (SMTP), both on loopback.

Loaded as a pytest plugin by the test modules that need it (``pytest_plugins = ["imap_server"]``).

- ``imap_server`` (session): dovecot with its OWN configuration file in a temporary directory: maildir
  mail under it, a passwd-file of test users, ``ssl = no`` and plaintext login for loopback, base_dir
  and state_dir under it, so it never touches ``/var/run/dovecot`` or the system configuration.
  As root it runs as the unprivileged system user ``eingang-mail`` (created when missing); as
  anyone else it runs entirely as the current user. Stopped at session end.
- ``imap_account`` (per test): a fresh user on that server, so tests never see each other's mail.
- ``smtp_server`` (session): an aiosmtpd ``Controller`` that keeps every message it receives.

(PYTEST_DONT_REWRITE: test modules import helpers from here before pytest loads it as a plugin.)

Nothing here is a stand-in: the connectors talk IMAP and SMTP to these servers exactly as to
production ones, only without TLS (which the connector allows for loopback hosts only).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from pathlib import Path
from threading import Lock

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session
from imap_tools import MailBoxUnencrypted

from connectors.mailconfig import ConnectorConfig, load_config
from pipeline.services.ports import free_ports
from pipeline.settings import Settings
from pipeline.store import connect, documents
from pipeline.store import mail as mail_store

__all__ = [
    "DOVECOT",
    "PASSWORD_ENV",
    "ImapAccount",
    "ImapServer",
    "SmtpSink",
    "corpus_invoice",
    "docs_of",
    "folders",
    "imap_account",
    "imap_server",
    "mail",
    "mails_of",
    "running_dovecot",
    "running_smtp",
    "smtp_server",
    "write_config",
]

DOVECOT = Path("/usr/sbin/dovecot")
MAIL_USER = "eingang-mail"
_STARTUP_TIMEOUT = 20.0


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str

    def connect(self, folder: str = "INBOX") -> MailBoxUnencrypted:
        return MailBoxUnencrypted(self.host, self.port, timeout=30).login(self.user, self.password, folder)

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into a folder with IMAP APPEND, as a mail server's delivery would."""
        with self.connect() as box:
            if not box.folder.exists(folder):
                box.folder.create(folder)
            box.append(raw, folder)

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in a folder (without marking them seen); empty when the folder does not exist."""
        with self.connect() as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder)
            uids = box.uids()
            if not uids:
                return []
            found: list[bytes] = []
            for uid in uids:
                typ, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
                assert typ == "OK"
                found.extend(item[1] for item in data if isinstance(item, tuple))
            return found

    def count(self, folder: str = "INBOX") -> int:
        with self.connect() as box:
            if not box.folder.exists(folder):
                return 0
            status = box.folder.status(folder, ["MESSAGES"])
            return int(status["MESSAGES"])


class ImapServer:
    """A running dovecot and its test users."""

    # Dovecot notices a changed passwd-file at most about once a second, so users are made in
    # advance and handed out; only when they run out does a new one cost that wait.
    PREPARED_USERS = 300

    def __init__(self, host: str, port: int, root: Path, passwd: Path, log: Path) -> None:
        self.host = host
        self.port = port
        self.root = root
        self.passwd = passwd
        self.log = log
        self._lock = Lock()
        self._unused: list[ImapAccount] = []

    def prepare_users(self, count: int) -> None:
        accounts = [ImapAccount(self.host, self.port, f"user-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex)
                    for _ in range(count)]  # fmt: skip
        with self._lock, self.passwd.open("a", encoding="utf-8") as out:
            out.writelines(f"{a.user}:{{PLAIN}}{a.password}::::::\n" for a in accounts)
            self._unused.extend(accounts)

    def add_user(self) -> ImapAccount:
        """A user no one else got; its INBOX is empty."""
        with self._lock:
            if self._unused:
                return self._unused.pop()
        self.prepare_users(1)
        time.sleep(1.5)  # until dovecot has re-read the file
        with self._lock:
            return self._unused.pop()


def _ensure_mail_user() -> tuple[str, int, int]:
    """The account dovecot runs as: ``eingang-mail`` when we are root (created if missing), else ourselves."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me.pw_name, me.pw_uid, me.pw_gid
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", MAIL_USER],
            check=True, capture_output=True,
        )  # fmt: skip
        entry = pwd.getpwnam(MAIL_USER)
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _config(root: Path, port: int, user: str, group: str, uid: int) -> str:
    return f"""\
# Written by tests/connectors/imap_server.py for one test session; nothing else reads it.
protocols = imap
listen = 127.0.0.1
instance_name = eingang-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
namespace inbox {{
  inbox = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users.passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  # The benchmark and the concurrency tests open several sessions per user at once.
  mail_max_userip_connections = 200
}}
"""


def _wait_for_imap(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"dovecot exited with {proc.returncode} during startup: {detail}")
        try:
            with socket.create_connection((host, port), timeout=1) as conn:
                if conn.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"dovecot not answering on {host}:{port} after {_STARTUP_TIMEOUT:.0f}s; see {log}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def running_dovecot() -> Iterator[ImapServer]:
    """Dovecot on a free loopback port with a configuration of its own; stopped and removed on exit."""
    user, uid, gid = _ensure_mail_user()
    group = grp.getgrgid(gid).gr_name
    # Not under pytest's tmp_path: that is private to root (0700), and dovecot's own processes
    # run as the mail user and must reach the mail and socket directories.
    root = Path(tempfile.mkdtemp(prefix="eingang-dovecot-"))
    try:
        root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir()
        os.chown(root / "mail", uid, gid)
        passwd = root / "users.passwd"
        passwd.touch(mode=0o640)
        os.chown(passwd, 0 if os.geteuid() == 0 else uid, gid)
        (port,) = free_ports(1)
        server = ImapServer("127.0.0.1", port, root, passwd, root / "dovecot.log")
        server.prepare_users(ImapServer.PREPARED_USERS)
        config = root / "dovecot.conf"
        config.write_text(_config(root, port, user, group, uid), encoding="utf-8")
        with (root / "stderr.log").open("wb") as stderr:
            proc = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True,  # its own process group: we stop exactly it and its children
            )  # fmt: skip
        try:
            _wait_for_imap("127.0.0.1", port, proc, server.log)
            yield server
        finally:
            _stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    if not DOVECOT.exists():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd; `make test` installs it as root)")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def imap_account(imap_server: ImapServer) -> ImapAccount:
    """A user of its own for one test: an empty INBOX."""
    return imap_server.add_user()


# -- SMTP ---------------------------------------------------------------------------------------


class SmtpSink:
    """Keeps every message the server accepted, in arrival order."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._lock = Lock()
        self._received: list[tuple[tuple[str, ...], bytes]] = []

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._lock:
            self._received.append((tuple(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"

    def messages(self, to: str | None = None) -> list[Message]:
        """Parsed messages, optionally only those addressed to ``to``."""
        with self._lock:
            received = list(self._received)
        return [message_from_bytes(raw) for rcpts, raw in received if to is None or to in rcpts]

    def wait_for(self, to: str, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(to)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@contextlib.contextmanager
def running_smtp() -> Iterator[SmtpSink]:
    """An aiosmtpd server on a free loopback port that keeps what it receives."""
    (port,) = free_ports(1)
    sink = SmtpSink("127.0.0.1", port)
    # decode_data=False keeps the bytes exactly as sent, attachments included.
    controller = Controller(sink, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        yield sink
    finally:
        with contextlib.suppress(Exception):
            controller.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    with running_smtp() as sink:
        yield sink


# -- test mail ----------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
KOSIT = CORPUS / "kosit-testsuite" / "business-cases" / "standard"
_FIRST_UBL_ID = re.compile(rb"(<cbc:ID>)[^<]*(</cbc:ID>)")
_FIRST_CII_ID = re.compile(rb"(<rsm:ExchangedDocument>\s*<ram:ID>)[^<]*(</ram:ID>)")


def corpus_invoice(name: str = "01.01a-INVOICE_ubl.xml", number: str | None = None) -> bytes:
    """A KoSIT test-suite invoice (accepted) with its own invoice number (BT-1), so no two are duplicates.

    Skips the test when ``../shared/corpus`` is not on this machine.
    """
    path = KOSIT / name
    if not path.is_file():
        pytest.skip(f"{path} is not present on this machine")
    data = path.read_bytes()
    number = number or f"MAIL-{uuid.uuid4().hex[:12]}"
    pattern = _FIRST_CII_ID if name.endswith("_uncefact.xml") else _FIRST_UBL_ID
    changed, count = pattern.subn(lambda m: m[1] + number.encode() + m[2], data, count=1)
    assert count == 1, f"no BT-1 found in {name}"
    return changed


def mail(
    subject: str,
    *,
    sender: str = "Lieferant GmbH <rechnung@lieferant.example>",
    to: str = "rechnungseingang@example.com",
    body: str = "Sehr geehrte Damen und Herren,\n\nanbei unsere Rechnung.\n",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A mail as a supplier's system would send it; ``attachments`` are (file name, bytes, media type)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id or make_msgid(domain="lieferant.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, data, media_type in attachments:
        maintype, _, subtype = media_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


# -- configuration and what a test's mailbox produced -------------------------------------------

PASSWORD_ENV = "EINGANG_MAIL_PW_TEST"


def write_config(
    tmp_path: Path, account: ImapAccount, smtp: SmtpSink | None = None, *, name: str | None = None, extra: str = ""
) -> ConnectorConfig:
    """A mailboxes.toml for this test's account, loaded the way the command does."""
    box = name or account.user
    smtp_section = (
        f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\nsecurity = "plain"\n'
        f'sender = "Rechnungseingang <rechnungseingang@example.com>"\n\n'
        if smtp
        else ""
    )
    text = (
        f'{smtp_section}[[mailbox]]\nname = "{box}"\nhost = "{account.host}"\nport = {account.port}\n'
        f'security = "plain"\nuser = "{account.user}"\npassword_env = "{PASSWORD_ENV}"\n'
        'processed_folder = "Processed"\nrejected_folder = "Rejected"\nno_invoice_folder = "NoInvoice"\n'
        f'failed_folder = "Failed"\n{extra}'
    )
    path = tmp_path / "mailboxes.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, {PASSWORD_ENV: account.password})


def docs_of(settings: Settings, config: ConnectorConfig) -> list[documents.DocumentRow]:
    """Every document this test's mailbox created, in the order taken in."""
    source = config.mailbox[0].source
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT id FROM documents WHERE source = %s ORDER BY received_at, source_key", (source,)
        ).fetchall()
        found = [documents.get_document(conn, r["id"]) for r in rows]
    return [d for d in found if d is not None]


def mails_of(settings: Settings, config: ConnectorConfig) -> list[mail_store.MailRow]:
    with connect(settings) as conn:
        return mail_store.messages(conn, config.mailbox[0].name)


def folders(account: ImapAccount) -> dict[str, int]:
    return {f: account.count(f) for f in ("INBOX", "Processed", "Rejected", "NoInvoice", "Failed")}
