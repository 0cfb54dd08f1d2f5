"""SQL for ``suppliers`` and ``supplier_bank_accounts``: who sent an invoice, and where they want the money.

A supplier is matched by the strongest identifier the invoice carries: VAT id (BT-31), then tax
number (BT-32), then electronic address (BT-34), unless the match has a different VAT id or tax
number. Only an invoice carrying none of them is matched by name, because two companies can share
a name (or a billing address) but not a VAT id. Callers serialise matching
(see ``pipeline.processing``), so "look up, else insert" cannot create the same supplier twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID, uuid4

from pipeline.store.db import Connection

__all__ = ["SupplierIdentity", "find_supplier", "known_ibans", "match_or_create", "normalize_iban", "record_iban"]

_SPACE = re.compile(r"\s+")


def _compact(value: str | None) -> str | None:
    text = _SPACE.sub("", value or "").upper()
    return text or None


def normalize_iban(value: str) -> str:
    return _SPACE.sub("", value).upper()


@dataclass(frozen=True)
class SupplierIdentity:
    name: str | None
    vat_id: str | None
    tax_number: str | None
    electronic_address: str | None  # "scheme:id"

    @classmethod
    def of(
        cls, name: str | None, vat_id: str | None, tax_number: str | None, electronic_address: str | None
    ) -> SupplierIdentity:
        return cls(
            (name or "").strip() or None,
            _compact(vat_id),
            _compact(tax_number),
            (electronic_address or "").strip() or None,
        )

    @property
    def name_key(self) -> str | None:
        return _SPACE.sub(" ", self.name).strip().lower() if self.name else None

    @property
    def has_identifier(self) -> bool:
        return bool(self.vat_id or self.tax_number or self.electronic_address)


def _conflicts(row: dict[str, object], who: SupplierIdentity) -> bool:
    # Two different VAT ids or tax numbers are two different companies, whatever else they share
    # (the e-mail address of a billing service, a name).
    return any(
        row[column] is not None and value is not None and row[column] != value
        for column, value in (("vat_id", who.vat_id), ("tax_number", who.tax_number))
    )


def find_supplier(conn: Connection, who: SupplierIdentity) -> UUID | None:
    """The known supplier with the strongest matching identifier that no other identifier contradicts."""
    if who.vat_id:
        row = conn.execute("SELECT id FROM suppliers WHERE vat_id = %s", (who.vat_id,)).fetchone()
        if row:
            return UUID(str(row["id"]))  # the VAT id is authoritative: one supplier per VAT id
    for column, value in (("tax_number", who.tax_number), ("electronic_address", who.electronic_address)):
        if value:
            rows = conn.execute(
                f"SELECT id, vat_id, tax_number FROM suppliers WHERE {column} = %s ORDER BY created_at, id",
                (value,),
            ).fetchall()
            for row in rows:
                if not _conflicts(row, who):
                    return UUID(str(row["id"]))
    if not who.has_identifier and who.name_key:
        row = conn.execute(
            "SELECT id FROM suppliers WHERE name_key = %s ORDER BY created_at, id LIMIT 1", (who.name_key,)
        ).fetchone()
        if row:
            return UUID(str(row["id"]))
    return None


def match_or_create(conn: Connection, who: SupplierIdentity) -> tuple[UUID, bool]:
    """The supplier's id and whether it was created now; identifiers it lacked are filled in."""
    found = find_supplier(conn, who)
    if found is None:
        new_id = uuid4()
        conn.execute(
            "INSERT INTO suppliers (id, name, name_key, vat_id, tax_number, electronic_address)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (new_id, who.name, who.name_key, who.vat_id, who.tax_number, who.electronic_address),
        )
        return new_id, True
    # Learn identifiers the supplier did not have yet; a VAT id only if no other supplier holds it.
    if who.vat_id:
        conn.execute(
            "UPDATE suppliers SET vat_id = %s, updated_at = now() WHERE id = %s AND vat_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM suppliers WHERE vat_id = %s)",
            (who.vat_id, found, who.vat_id),
        )
    conn.execute(
        "UPDATE suppliers SET tax_number = COALESCE(tax_number, %s),"
        " electronic_address = COALESCE(electronic_address, %s), updated_at = now() WHERE id = %s"
        " AND ((tax_number IS NULL AND %s::text IS NOT NULL) OR (electronic_address IS NULL AND %s::text IS NOT NULL))",
        (who.tax_number, who.electronic_address, found, who.tax_number, who.electronic_address),
    )
    if who.name:
        conn.execute(
            "UPDATE suppliers SET name = %s, name_key = %s WHERE id = %s AND name IS NULL",
            (who.name, who.name_key, found),
        )
    return found, False


def known_ibans(conn: Connection, supplier_id: UUID) -> list[str]:
    rows = conn.execute(
        "SELECT iban FROM supplier_bank_accounts WHERE supplier_id = %s ORDER BY first_seen_at, iban", (supplier_id,)
    ).fetchall()
    return [r["iban"] for r in rows]


def record_iban(conn: Connection, supplier_id: UUID, iban: str, document_id: UUID) -> bool:
    """Remember the account; True when the supplier never named it before."""
    row = conn.execute(
        "INSERT INTO supplier_bank_accounts (supplier_id, iban, first_seen_document) VALUES (%s, %s, %s)"
        " ON CONFLICT (supplier_id, iban) DO NOTHING RETURNING iban",
        (supplier_id, normalize_iban(iban), document_id),
    ).fetchone()
    return row is not None
