"""Mail intake speed: mails per second through one poll pass, against plain IMAP FETCH in the same run.

Starts its own throwaway PostgreSQL and SeaweedFS under a temporary data directory (the service code
``eingang up`` uses; ``DATABASE_URL`` and friends are ignored, so no real data is touched) and its own
dovecot on a loopback port (the test suite's server, ``tests/connectors/imap_server.py``). Then:

1. APPENDs ``--mails`` messages (default 500) to one mailbox, each with one corpus XRechnung under a
   fresh invoice number (BT-1), so every mail is a new document that is stored, validated and recorded;
2. the baseline: FETCH all of them with imap-tools (``BODY.PEEK[]`` in bulk, nothing else);
3. one pass of ``connectors.mailbox.poll``: each mail fetched, its .eml stored, its row keyed,
   its invoice submitted and processed (validation included), the outcome committed and the mail
   moved; checked afterwards: every document accepted, the inbox empty.

The rule checker is warmed up first (compiling rule sets is a once-per-process cost). With
``--schemas DIR`` (default ``../shared/schemas`` when present) the official XML Schemas are installed as
the rule pack, so validation includes the schema check as in production.

    python bench/mail_bench.py [--mails 500] [--invoice FILE] [--schemas DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_INVOICE = SHARED / "corpus/kosit-testsuite/business-cases/standard/01.01a-INVOICE_ubl.xml"
sys.path.insert(0, str(REPO / "tests" / "connectors"))  # the dovecot the tests use

from imap_server import running_dovecot  # noqa: E402

from connectors.mailbox import poll  # noqa: E402
from connectors.mailconfig import load_config  # noqa: E402
from pipeline.intake import submit  # noqa: E402
from pipeline.processing import process_document  # noqa: E402
from pipeline.services import locked_state, objectstore, postgres, service_env  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402
from pipeline.store import close_pools, connect, migrate  # noqa: E402
from validators.rulepack import RulePackError, install  # noqa: E402


def _invoice(template: str, number: str) -> bytes:
    return re.sub(r"<cbc:ID>[^<]*</cbc:ID>", f"<cbc:ID>{number}</cbc:ID>", template, count=1).encode("utf-8")


def _mail(n: int, invoice: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Lieferant GmbH <rechnung@lieferant.example>"
    msg["To"] = "rechnungseingang@example.com"
    msg["Subject"] = f"Rechnung {n}"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="lieferant.example")
    msg.set_content("Sehr geehrte Damen und Herren,\n\nanbei unsere Rechnung.\n")
    msg.add_attachment(invoice, maintype="application", subtype="xml", filename=f"rechnung-{n}.xml")
    return msg.as_bytes()


def _start_services(data_dir: Path) -> dict[str, str]:
    # environ={}: never the DATABASE_URL or S3_ENDPOINT of whoever runs the bench.
    settings = load_settings(environ={}, data_dir=data_dir)
    with locked_state(settings) as state:
        postgres.start(settings, state)
        objectstore.start(settings, state)
    return service_env(settings)


def _stop_services(data_dir: Path) -> None:
    settings = load_settings(environ={}, data_dir=data_dir)
    with locked_state(settings) as state:
        objectstore.stop(settings, state)
        postgres.stop(settings, state)


def _warm_up(settings: Settings, template: str, run: str) -> None:
    """One invoice through submit and processing, so the measured pass does not pay for compiling rules."""
    result = submit(settings, _invoice(template, f"{run}-warm"), filename="warm.xml", source="bench", sender=None)
    for doc_id in result.document_ids:
        process_document(settings, doc_id)


def _statuses(settings: Settings, source: str) -> dict[str, int]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT status, count(*) AS n FROM documents WHERE source = %s GROUP BY status", (source,)
        ).fetchall()
    return {r["status"]: r["n"] for r in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--invoice", type=Path, default=DEFAULT_INVOICE, help="a UBL XRechnung to send")
    parser.add_argument("--schemas", type=Path, default=SHARED / "schemas", help="official schemas for the rule pack")
    args = parser.parse_args()
    if not args.invoice.is_file():
        raise SystemExit(f"no invoice at {args.invoice} (the corpus lives in ../shared/corpus)")
    template = args.invoice.read_text(encoding="utf-8")
    run = uuid.uuid4().hex[:6]
    data_dir = Path(tempfile.mkdtemp(prefix="eingang-mail-bench-"))
    try:
        print(f"starting PostgreSQL, SeaweedFS and dovecot under {data_dir} …", flush=True)
        settings = load_settings(environ=_start_services(data_dir))
        with psycopg.connect(settings.database_url or "") as conn:
            migrate(conn)
        rule_pack = "none (no XML Schema check)"
        if args.schemas.is_dir():
            try:
                install(args.schemas, settings.resolved_rules_dir)
                rule_pack = f"installed from {args.schemas}"
            except RulePackError as exc:
                rule_pack = f"not installed ({exc})"
        with running_dovecot() as server:
            account = server.add_user()
            config_path = data_dir / "mailboxes.toml"
            config_path.write_text(
                f'[[mailbox]]\nname = "bench"\nhost = "{account.host}"\nport = {account.port}\nsecurity = "plain"\n'
                f'user = "{account.user}"\npassword_env = "BENCH_PW"\n'
            )
            config = load_config(config_path, {"BENCH_PW": account.password})

            mails = [_mail(n, _invoice(template, f"{run}-{n}")) for n in range(args.mails)]
            began = time.perf_counter()
            with account.connect() as box:
                for raw in mails:
                    box.append(raw, "INBOX")
            append_s = time.perf_counter() - began
            size_mb = sum(map(len, mails)) / 1e6

            # Baseline: the IMAP floor under any pass, fetching every message once with imap-tools.
            began = time.perf_counter()
            with account.connect() as box:
                fetched = sum(len(m.obj.as_bytes()) > 0 for m in box.fetch(mark_seen=False, bulk=50))
            fetch_s = time.perf_counter() - began
            assert fetched == args.mails, fetched

            _warm_up(settings, template, run)
            # Second baseline: the same work for the pipeline without any mail around it.
            began = time.perf_counter()
            for k in range(args.mails):
                taken = submit(settings, _invoice(template, f"{run}-direct-{k}"), filename=f"d{k}.xml",
                               source="bench-direct", sender=None)  # fmt: skip
                for doc_id in taken.document_ids:
                    process_document(settings, doc_id)
            direct_s = time.perf_counter() - began

            began = time.perf_counter()
            result = poll(settings, config, send_notices=False)
            poll_s = time.perf_counter() - began

            statuses = _statuses(settings, "imap:bench")
            left = account.count("INBOX")
            ok = (statuses == {"accepted": args.mails} and left == 0
                  and not result.errors and len(result.mailboxes[0].mails) == args.mails)  # fmt: skip

        n = args.mails

        def line(label: str, seconds: float) -> str:
            return f"  {label:<52} {seconds:7.2f} s {n / seconds:8.1f} mails/s {seconds / n * 1e3:7.1f} ms/mail"

        print(f"{os.cpu_count()} CPUs; {n} mails ({size_mb:.1f} MB), one invoice each "
              f"({args.invoice.name}, {len(template.encode()) / 1024:.1f} KB); rule pack: {rule_pack}\n")  # fmt: skip
        print(line(f"APPEND {n} mails (setup)", append_s))
        print(line("baseline: FETCH all with imap-tools", fetch_s))
        print(line("baseline: submit + process the invoices, no mail", direct_s))
        print(line("poll pass: fetch, store, key, submit, process, move", poll_s))
        print()
        print(f"  poll pass vs plain FETCH:            {poll_s / fetch_s:7.1f}x the time")
        print(f"  poll pass vs submit + process alone: {poll_s / direct_s:7.2f}x the time "
              f"(the mail connector adds {(poll_s - direct_s) / n * 1e3:.1f} ms per mail)")  # fmt: skip
        print(f"  outcome: documents {statuses}, {left} mail(s) left in INBOX -> {'ok' if ok else 'NOT OK'}")
        return 0 if ok else 1
    finally:
        close_pools()
        _stop_services(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
