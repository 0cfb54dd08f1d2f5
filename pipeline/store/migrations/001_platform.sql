-- The pipeline platform: documents and their lifecycle, what was read from them, their validation
-- reports, suppliers with their bank accounts, and the append-only, hash-chained event log.
-- Applied once, in one transaction, by pipeline.store.db.migrate.

CREATE TABLE suppliers (
    id                 uuid PRIMARY KEY,
    name               text,
    name_key           text,           -- lower-cased, whitespace collapsed: only matched when no identifier is given
    vat_id             text,           -- BT-31, upper-case without spaces
    tax_number         text,           -- BT-32
    electronic_address text,           -- BT-34 as "scheme:id"
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
-- One supplier per VAT id. Tax numbers and electronic addresses only help matching: a tax number
-- is not unique across countries, and one billing service's address can serve several suppliers.
CREATE UNIQUE INDEX suppliers_vat_id_key ON suppliers (vat_id) WHERE vat_id IS NOT NULL;
CREATE INDEX suppliers_tax_number ON suppliers (tax_number) WHERE tax_number IS NOT NULL;
CREATE INDEX suppliers_electronic_address ON suppliers (electronic_address) WHERE electronic_address IS NOT NULL;
CREATE INDEX suppliers_name_key ON suppliers (name_key);

CREATE TABLE documents (
    id            uuid PRIMARY KEY,
    source        text NOT NULL,                 -- submit, imap, upload, folder, zip …
    source_key    text NOT NULL UNIQUE,          -- the idempotency key: a second intake of it is "already in"
    sender        text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size          bigint NOT NULL CHECK (size >= 0),
    media_type    text NOT NULL,
    filename      text,
    object_key    text NOT NULL,                 -- the original in the object store: originals/{sha256}
    status        text NOT NULL DEFAULT 'received' CHECK (status IN (
                      'received', 'processing', 'accepted', 'rejected', 'duplicate', 'no-invoice', 'failed',
                      'in-approval', 'approved', 'returned', 'exported')),
    status_reason text,
    duplicate_of  uuid REFERENCES documents (id),
    parent_id     uuid REFERENCES documents (id),  -- the ZIP archive a member came from
    attempts      integer NOT NULL DEFAULT 0,      -- how often a worker claimed it
    claimed_at    timestamptz,                     -- a processing claim older than the timeout is reclaimed
    claimed_by    text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_claimable ON documents (received_at) WHERE status IN ('received', 'processing');
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_parent ON documents (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX documents_status ON documents (status, received_at);

CREATE TABLE invoices (
    document_id              uuid PRIMARY KEY REFERENCES documents (id),  -- one invoice per document
    supplier_id              uuid REFERENCES suppliers (id),
    seller_name              text,           -- BT-27
    seller_vat_id            text,           -- BT-31
    invoice_number           text,           -- BT-1
    type_code                text,           -- BT-3
    issue_date               date,           -- BT-2
    due_date                 date,           -- BT-9
    currency                 text,           -- BT-5
    total_without_vat        numeric,        -- BT-109
    total_vat                numeric,        -- BT-110
    total_with_vat           numeric,        -- BT-112
    amount_due               numeric,        -- BT-115
    buyer_reference          text,           -- BT-10, the Leitweg-ID for public buyers
    purchase_order_reference text,           -- BT-13
    profile                  text,
    syntax                   text NOT NULL,
    source_kind              text NOT NULL,  -- xml, or pdf for a hybrid invoice
    xml_object_key           text,           -- the XML taken out of a hybrid PDF
    html_object_key          text,
    model                    jsonb NOT NULL, -- the whole EN 16931 model as read
    created_at               timestamptz NOT NULL DEFAULT now()
);
-- The duplicate check's key: the same supplier's invoice number on the same day.
CREATE INDEX invoices_business_key ON invoices (supplier_id, invoice_number, issue_date);
CREATE INDEX invoices_number ON invoices (invoice_number);
CREATE INDEX invoices_issue_date ON invoices (issue_date);
CREATE INDEX invoices_buyer_reference ON invoices (buyer_reference);

CREATE TABLE invoice_lines (
    document_id       uuid NOT NULL REFERENCES invoices (document_id) ON DELETE CASCADE,
    position          integer NOT NULL,
    line_id           text,          -- BT-126
    item_name         text,          -- BT-153
    quantity          numeric,       -- BT-129
    unit_code         text,          -- BT-130
    net_price         numeric,       -- BT-146
    net_amount        numeric,       -- BT-131
    vat_category_code text,          -- BT-151
    vat_rate          numeric,       -- BT-152
    PRIMARY KEY (document_id, position)
);

CREATE TABLE vat_breakdown (
    document_id           uuid NOT NULL REFERENCES invoices (document_id) ON DELETE CASCADE,
    position              integer NOT NULL,
    category_code         text,      -- BT-118
    rate                  numeric,   -- BT-119
    taxable_amount        numeric,   -- BT-116
    tax_amount            numeric,   -- BT-117
    exemption_reason      text,      -- BT-120
    exemption_reason_code text,      -- BT-121
    PRIMARY KEY (document_id, position)
);

CREATE TABLE validation_reports (
    id              uuid PRIMARY KEY,
    document_id     uuid NOT NULL UNIQUE REFERENCES documents (id),  -- one report per document
    accepted        boolean NOT NULL,
    scenario        text,
    syntax          text NOT NULL,
    xsd             text NOT NULL,
    rule_sets       text[] NOT NULL,
    notes           text[] NOT NULL,
    eingang_version text NOT NULL,
    input_sha256    text NOT NULL,
    object_key      text,                                             -- reports/{document_id}.json
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE findings (
    report_id uuid NOT NULL REFERENCES validation_reports (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    rule      text NOT NULL,
    flag      text,
    level     text NOT NULL,
    message   jsonb NOT NULL,    -- {"en": …, "de": …}
    terms     text[] NOT NULL,
    location  text,
    value     text,
    PRIMARY KEY (report_id, position)
);
CREATE INDEX findings_rule ON findings (rule);

CREATE TABLE supplier_bank_accounts (
    supplier_id         uuid NOT NULL REFERENCES suppliers (id),
    iban                text NOT NULL,                     -- BT-84, upper-case without spaces
    first_seen_document uuid NOT NULL REFERENCES documents (id),
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (supplier_id, iban)
);

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    document_id uuid REFERENCES documents (id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    from_status text,
    to_status   text,
    reason      text,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash   text NOT NULL,
    hash        text NOT NULL UNIQUE
);
CREATE INDEX events_document ON events (document_id, id);

-- Append-only: the audit trail is only worth something if no one can edit it after the fact.
-- The hash chain makes a change visible; this trigger refuses it in the first place.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'record a new event instead';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
