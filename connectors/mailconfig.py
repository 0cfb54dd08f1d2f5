"""The connectors' configuration file: IMAP mailboxes, the SMTP server for notices, drop folders.

One TOML file, by default ``settings.data_dir / "mailboxes.toml"``::

    [smtp]                                   # optional: without it no notices are sent
    host = "mail.example.com"
    port = 587
    security = "starttls"                    # tls | starttls | plain (plain: loopback hosts only)
    user = "rechnungseingang@example.com"    # optional: no AUTH without it
    password_env = "EINGANG_SMTP_PW"         # or password_file = "/run/secrets/smtp"
    sender = "Rechnungseingang <rechnungseingang@example.com>"
    templates = "notice-templates"           # optional: a directory overriding the packaged templates

    [[mailbox]]
    name = "ap"                              # part of every idempotency key: never rename a mailbox in use
    host = "imap.example.com"
    port = 993
    security = "tls"
    user = "rechnungen@example.com"
    password_env = "EINGANG_MAIL_PW_AP"
    folder = "INBOX"
    processed_folder = "Eingang-Verarbeitet"     # the defaults; flat, as separators differ
    rejected_folder = "Eingang-Abgelehnt"
    no_invoice_folder = "Eingang-Keine-Rechnung"
    failed_folder = "Eingang-Fehler"
    notify = true                            # rejection notices to the sender (default: when [smtp] is set)

    [mailbox.filter]                         # like a mail rule; a mail that does not match is left alone
    senders = ["*@lieferant.example"]        # From address globs, any may match (empty: all)
    subjects = ["Rechnung", "Invoice"]       # the subject contains any of these (empty: all)
    ignore_senders = ["noreply@*"]
    ignore_subjects = ["Mahnung"]

    [[folder]]
    name = "scanner"
    path = "/srv/eingang/drop"
    min_age = 60                             # seconds: an older file is taken without a second look
    settle = 2                               # seconds between the two looks at a younger file

Passwords never appear in the file: ``password_env`` NAMES an environment variable, which the
command layer reads and passes in as ``environ`` (this module never looks at ``os.environ``), and
``password_file`` names a secret file. Relative paths are relative to the configuration file.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import tomllib
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from pipeline.settings import Settings

__all__ = [
    "CONFIG_NAME",
    "ConnectorConfig",
    "FolderConfig",
    "MailConfigError",
    "MailFilter",
    "MailboxConfig",
    "Security",
    "SmtpConfig",
    "default_config_path",
    "is_loopback",
    "load_config",
]

CONFIG_NAME = "mailboxes.toml"

Security = Literal["tls", "starttls", "plain"]


class MailConfigError(ValueError):
    """The configuration file is missing, malformed, or names a secret that is not there."""


def default_config_path(settings: Settings) -> Path:
    return settings.data_dir / CONFIG_NAME


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: only there may credentials and mail travel unencrypted.

    Names other than ``localhost`` are not resolved: what DNS says today is no guarantee.
    """
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Secret(_Strict):
    """Fields shared by everything that logs in: where its password comes from."""

    password_env: str | None = None
    password_file: Path | None = None
    # Filled in by load_config from the environment or the file; never written in the TOML.
    password: SecretStr | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _one_source(self) -> _Secret:
        if self.password_env and self.password_file:
            raise ValueError("give password_env or password_file, not both")
        return self


def _check_security(host: str, security: Security, what: str) -> None:
    if security == "plain" and not is_loopback(host):
        raise ValueError(
            f'{what}: security = "plain" is only allowed for a loopback host, not {host!r}: use tls or starttls'
        )


class MailFilter(_Strict):
    """Which mails a mailbox takes, like a mail client's rule; all lists are case-insensitive."""

    senders: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    ignore_senders: tuple[str, ...] = ()
    ignore_subjects: tuple[str, ...] = ()

    def matches(self, sender: str | None, subject: str | None) -> bool:
        address = (parseaddr(sender or "")[1] or sender or "").lower()
        title = (subject or "").lower()
        if any(fnmatch.fnmatchcase(address, pattern.lower()) for pattern in self.ignore_senders):
            return False
        if any(word.lower() in title for word in self.ignore_subjects):
            return False
        if self.senders and not any(fnmatch.fnmatchcase(address, pattern.lower()) for pattern in self.senders):
            return False
        return not self.subjects or any(word.lower() in title for word in self.subjects)

    @property
    def empty(self) -> bool:
        return not (self.senders or self.subjects or self.ignore_senders or self.ignore_subjects)


class MailboxConfig(_Secret):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "tls"
    user: str  # a mailbox always logs in
    folder: str = "INBOX"
    # Flat names by default: the hierarchy separator differs between servers ("/" or ".").
    processed_folder: str = "Eingang-Verarbeitet"
    rejected_folder: str = "Eingang-Abgelehnt"
    no_invoice_folder: str = "Eingang-Keine-Rechnung"
    failed_folder: str = "Eingang-Fehler"
    notify: bool | None = None  # None: notices when an [smtp] section exists
    filter: MailFilter = MailFilter()
    timeout: float = Field(default=60.0, gt=0)
    max_message_bytes: int = Field(default=60 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def _safe(self) -> MailboxConfig:
        _check_security(self.host, self.security, f"mailbox {self.name}")
        targets = {self.processed_folder, self.rejected_folder, self.no_invoice_folder, self.failed_folder}
        if self.folder in targets:
            raise ValueError(f"mailbox {self.name}: the folder read from cannot also be a folder mail is moved to")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @property
    def source(self) -> str:
        """The ``source`` of every document taken in from this mailbox."""
        return f"imap:{self.name}"


class SmtpConfig(_Secret):
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Security = "starttls"
    user: str | None = None  # no AUTH without it
    sender: str
    templates: Path | None = None
    timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _safe(self) -> SmtpConfig:
        _check_security(self.host, self.security, "smtp")
        if not parseaddr(self.sender)[1]:
            raise ValueError(f"smtp: sender {self.sender!r} is not a mail address")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "plain": 25}[self.security]


class FolderConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    path: Path
    min_age: float = Field(default=60.0, ge=0)
    settle: float = Field(default=2.0, ge=0)


class ConnectorConfig(_Strict):
    smtp: SmtpConfig | None = None
    mailbox: tuple[MailboxConfig, ...] = ()
    folder: tuple[FolderConfig, ...] = ()
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> ConnectorConfig:
        for kind, names in (("mailbox", [m.name for m in self.mailbox]), ("folder", [f.name for f in self.folder])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{kind} names must be unique: {', '.join(repeated)}")
        for box in self.mailbox:
            if box.notify and self.smtp is None:
                raise ValueError(f"mailbox {box.name}: notify = true needs an [smtp] section")
        return self

    def mailboxes(self, only: tuple[str, ...] | list[str] | None = None) -> list[MailboxConfig]:
        if not only:
            return list(self.mailbox)
        known = {m.name: m for m in self.mailbox}
        unknown = [n for n in only if n not in known]
        if unknown:
            raise MailConfigError(f"no mailbox named {', '.join(unknown)} in {self.path or 'the configuration'}")
        return [known[n] for n in only]

    def folders(self, only: tuple[str, ...] | list[str] | None = None) -> list[FolderConfig]:
        if not only:
            return list(self.folder)
        known = {f.name: f for f in self.folder}
        unknown = [n for n in only if n not in known]
        if unknown:
            raise MailConfigError(f"no folder named {', '.join(unknown)} in {self.path or 'the configuration'}")
        return [known[n] for n in only]

    def notifies(self, box: MailboxConfig) -> bool:
        return self.smtp is not None if box.notify is None else box.notify


def _password(entry: dict[str, Any], environ: Mapping[str, str], base: Path, what: str) -> str | None:
    name = entry.get("password_env")
    if name:
        value = environ.get(str(name))
        if not value:
            # Name the variable, never a value: this message ends up in logs.
            raise MailConfigError(f"{what}: environment variable {name} (password_env) is not set")
        return value
    file = entry.get("password_file")
    if file:
        path = Path(str(file)).expanduser()
        path = path if path.is_absolute() else base / path
        try:
            return path.read_text(encoding="utf-8").strip("\r\n")
        except OSError as exc:
            raise MailConfigError(f"{what}: cannot read password_file {path}: {exc.strerror}") from None
    return None


def _resolve(raw: dict[str, Any], environ: Mapping[str, str], base: Path) -> dict[str, Any]:
    data = dict(raw)
    for key in ("password",):
        for entry in [data.get("smtp"), *data.get("mailbox", []), *data.get("folder", [])]:
            if isinstance(entry, dict) and key in entry:
                raise MailConfigError("passwords do not belong in the file: use password_env or password_file")
    if isinstance(data.get("smtp"), dict):
        smtp = dict(data["smtp"])
        smtp["password"] = _password(smtp, environ, base, "smtp")
        if smtp.get("templates"):
            templates = Path(str(smtp["templates"])).expanduser()
            smtp["templates"] = templates if templates.is_absolute() else base / templates
        data["smtp"] = smtp
    boxes = []
    for entry in data.get("mailbox", []):
        if not isinstance(entry, dict):
            raise MailConfigError("every [[mailbox]] must be a table")
        box = dict(entry)
        box["password"] = _password(box, environ, base, f"mailbox {box.get('name', '?')}")
        boxes.append(box)
    data["mailbox"] = boxes
    folders = []
    for entry in data.get("folder", []):
        if not isinstance(entry, dict):
            raise MailConfigError("every [[folder]] must be a table")
        folder = dict(entry)
        if "path" in folder:
            path = Path(str(folder["path"])).expanduser()
            folder["path"] = path if path.is_absolute() else base / path
        folders.append(folder)
    data["folder"] = folders
    return data


def load_config(path: Path, environ: Mapping[str, str]) -> ConnectorConfig:
    """Read and check the configuration; ``environ`` supplies the variables ``password_env`` names."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailConfigError(f"no connector configuration at {path} (see connectors/mailconfig.py)") from None
    except OSError as exc:
        raise MailConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MailConfigError(f"{path}: not valid TOML: {exc}") from None
    data = _resolve(raw, environ, path.parent)
    try:
        config = ConnectorConfig.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors())
        raise MailConfigError(f"{path}: {problems}") from None
    for box in config.mailbox:
        if box.password is None:
            raise MailConfigError(f"mailbox {box.name}: give password_env or password_file")
    if config.smtp and config.smtp.user and config.smtp.password is None:
        raise MailConfigError("smtp: a user needs password_env or password_file")
    return config
