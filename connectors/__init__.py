"""Connectors: where documents come from and where messages go (STYLE.md §9).

- ``connectors.mailbox``: IMAP mailboxes (``poll``), ``connectors.mailconfig`` their TOML configuration;
- ``connectors.folder``: a drop folder (``scan``);
- ``connectors.notices``: rejection notices to senders by SMTP, through the outbox;
- ``connectors.upload``: the supplier upload API and page.

Every connector hands files to ``pipeline.intake.submit`` under an idempotency key and applies its
post-action (move the mail, move the file) only after the database has committed. This
``__init__`` imports nothing, so using one connector never loads the others' libraries (IMAP,
SMTP, the web framework); ``__all__`` names the modules other packages may use.
"""

__all__ = ["folder", "mailbox", "mailconfig", "notices", "upload"]
