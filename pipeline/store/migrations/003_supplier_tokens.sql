-- Supplier uploads: the accounts that may upload invoices, their API tokens and their web sessions.
--
-- Upload accounts are a table of their own, not rows of `suppliers`: processing creates and merges
-- supplier rows from what invoices say (VAT id, tax number, address), while an upload account is a
-- login that exists before its first invoice and that one billing service may use for several
-- sellers. The two meet through the VAT id (one supplier per VAT id), not through a foreign key.

CREATE TABLE upload_accounts (
    id           uuid PRIMARY KEY,
    -- The account's handle, part of every upload's source ("upload:{name}") and idempotency key
    -- ("upload:{name}:{key}"): no colon, so one account's keys can never spell another's.
    name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    display_name text NOT NULL,
    vat_id       text,                    -- BT-31 the account invoices under, upper-case without spaces
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL
);

CREATE TABLE upload_tokens (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES upload_accounts (id),
    -- The token's first characters: shown in lists and accepted by `token revoke`, never enough to log in.
    prefix       text NOT NULL UNIQUE,
    -- SHA-256 of the whole token. Tokens are 32 random bytes, so a plain hash cannot be brute-forced
    -- and a database leak gives no usable token; lookups by hash need no secret comparison.
    token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,             -- revoked tokens stay listed: who had access, and until when
    revoked_by   text
);
CREATE INDEX upload_tokens_account ON upload_tokens (account_id, created_at);

-- Upload page sessions. The cookie holds a random session id; only its hash is stored, so the table
-- is useless to whoever reads it. A session belongs to the token it was opened with: revoking the
-- token ends its sessions at once, without anyone having to find and delete them.
CREATE TABLE upload_sessions (
    id_hash    text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    token_id   uuid NOT NULL REFERENCES upload_tokens (id),
    csrf_hash  text NOT NULL CHECK (csrf_hash ~ '^[0-9a-f]{64}$'),  -- binds the double-submit cookie to the session
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at);

-- A supplier's own submissions are its documents with source "upload:{name}" (ZIP members carry
-- their archive's source): listed newest first on every page view, so index exactly that.
CREATE INDEX documents_source_received ON documents (source, received_at DESC);
