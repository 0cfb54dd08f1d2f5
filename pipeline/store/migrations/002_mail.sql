-- Mail intake and notices: every message taken from a configured IMAP mailbox, which of its parts
-- became which document, and the outbox of notices to senders.
-- Applied once, in one transaction, by pipeline.store.db.migrate.

CREATE TABLE mail_messages (
    id            uuid PRIMARY KEY,
    mailbox       text NOT NULL,                  -- the [[mailbox]] name in mailboxes.toml
    folder        text NOT NULL,                  -- the folder it was read from
    uidvalidity   bigint NOT NULL CHECK (uidvalidity > 0),
    uid           bigint NOT NULL CHECK (uid > 0),
    -- "mid:<Message-ID>#<digest of its attachments>", or "sha256:<raw sha256>" for a mail without
    -- Message-ID: the same mail seen again under another UID (redelivered, copied back, the folder
    -- recreated) is this row. The attachments' digest keeps two different mails that reuse one
    -- Message-ID (some billing systems do) from being taken for copies of each other.
    message_key   text NOT NULL,
    message_id    text,                           -- the header as sent, for In-Reply-To of a notice
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),  -- the raw .eml: originals/{sha256}
    size          bigint NOT NULL CHECK (size >= 0),
    sender        text,                           -- the From address
    notify_to     text,                           -- where a notice goes; NULL: auto-submitted, bulk or no address
    subject       text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- received: taken in, not decided yet; the others name the folder the mail goes to. A failed
    -- mail is retried while it is still in the folder read from: the status decides, not the row.
    status        text NOT NULL DEFAULT 'received' CHECK (status IN (
                      'received', 'processed', 'rejected', 'no-invoice', 'failed')),
    status_reason text,
    attempts      integer NOT NULL DEFAULT 0,     -- failed passes over this mail
    decided_at    timestamptz,
    moved_to      text,                           -- the post-action, recorded after the IMAP MOVE succeeded
    moved_at      timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- The idempotency keys: the IMAP identity of the message, and the message itself.
    CONSTRAINT mail_messages_uid_key UNIQUE (mailbox, uidvalidity, uid),
    CONSTRAINT mail_messages_message_key UNIQUE (mailbox, message_key)
);
CREATE INDEX mail_messages_status ON mail_messages (mailbox, status);

CREATE TABLE mail_attachments (
    mail_id     uuid NOT NULL REFERENCES mail_messages (id),
    position    integer NOT NULL CHECK (position >= 0),  -- n in the source key imap:{mailbox}/{uidvalidity}/{uid}/{n}
    document_id uuid NOT NULL REFERENCES documents (id),
    filename    text,
    PRIMARY KEY (mail_id, position)
);
CREATE INDEX mail_attachments_document ON mail_attachments (document_id);

CREATE TABLE outbox (
    id              uuid PRIMARY KEY,
    document_id     uuid NOT NULL REFERENCES documents (id),
    kind            text NOT NULL,                -- rejection-notice
    recipient       text NOT NULL,
    mail_id         uuid REFERENCES mail_messages (id),  -- the mail a notice answers
    -- Fixed when the row is written, so a notice sent again after a crash carries the same id
    -- and the receiving side can recognise the repeat.
    message_id      text NOT NULL UNIQUE,
    -- withheld: never sent because the rejection was Eingang's own trouble (no rule pack, an engine
    -- error), which is for the operators to fix, not for the sender.
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'withheld')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    -- At most one notice of a kind per document, however often the decision is retried.
    CONSTRAINT outbox_document_kind_key UNIQUE (document_id, kind)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
