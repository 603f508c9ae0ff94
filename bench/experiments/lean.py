"""The least a sync must do, on top of the floor: a lower bound for the tool at zero latency (benchmark only).

``bench/floor.py`` posts batches built straight from Magento's pages. A sync that keeps its promises must also, per
customer: map it with the product's mapping (validation, lengths), hash the payload (to skip unchanged customers
next time), read Zoho's answer for the contact's id, and save the link durably (the state's ``links`` and
``contacts`` tables with both email indexes, WAL, ``synchronous=NORMAL``) before the run can move on. This script
does exactly that and nothing else: no failures table, no checkpoint logic beyond one row per transaction, no
merges of shared emails, no incremental lookups, no report, no clock checks, no retries beyond the floor's 429s.
It uses the product's own ``map_customer``, ``payload_hash`` and schema, so it measures the work, not a rewrite.

If this lean client already needs more than 1.3 x the floor's wall time, no implementation of the job meets the
zero-latency target on this machine. Run it with ``bench/ab_zero.py ... floor lean``. ``LEAN_STATE`` in the
environment takes it apart: ``none`` saves nothing (mapping, hashing and reading the answers only), ``ids`` saves
the rows without the two email indexes, ``full`` (the default) saves them as the product's schema does.

    .venv/bin/python bench/experiments/lean.py --state /tmp/lean.db --result lean.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from floor import BATCH, connect, keyset_query

from magento_zoho_sync.mapping import MappedCustomer, map_customer, payload_hash
from magento_zoho_sync.state_schema import create_tables

Row = tuple[int, str, str, str]  # customer id, email, updated_at, payload hash


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("LEAN_CONCURRENCY", "10")))
    parser.add_argument("--page-size", type=int, default=300)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    env = os.environ
    started = time.perf_counter()

    db = sqlite3.connect(args.state, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_autocheckpoint=10000")
    db.execute("BEGIN")
    create_tables(db)
    keep = os.environ.get("LEAN_STATE", "full")
    if keep != "full":
        db.execute("DROP INDEX links_email")
        db.execute("DROP INDEX contacts_email")
    db.execute("COMMIT")

    magento, zoho, magento_headers, zoho_headers = connect(env, args.concurrency)
    calls = {"zoho": 0, "magento": 1, "failed": 0, "saved": 0, "transactions": 0}
    lock = threading.Lock()

    def upsert(batch: list[tuple[Row, dict[str, Any]]]) -> list[tuple[Row, str]]:
        body = {"data": [payload for _, payload in batch], "duplicate_check_fields": ["Email"], "trigger": []}
        for attempt in range(20):
            response = zoho.post("/crm/v8/Contacts/upsert", content=orjson.dumps(body), headers=zoho_headers)
            with lock:
                calls["zoho"] += 1
            if response.status_code != 429:
                break
            time.sleep(0.05 * (attempt + 1))
        answers = orjson.loads(response.content)["data"]
        done: list[tuple[Row, str]] = []
        for (row, _), answer in zip(batch, answers, strict=True):
            if answer.get("status") == "success":
                done.append((row, answer["details"]["id"]))
        return done

    pool = ThreadPoolExecutor(max_workers=args.concurrency)
    in_flight: list[Future[list[tuple[Row, str]]]] = []
    slots = threading.BoundedSemaphore(2 * args.concurrency)

    def save(done: list[Future[list[tuple[Row, str]]]]) -> None:
        """One transaction for every batch acknowledged since the last: the links and contacts, and a checkpoint."""
        if keep == "none":
            for future in done:
                calls["saved"] += len(future.result())
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        links, contacts = [], []
        for future in done:
            for (customer_id, email, updated_at, digest), zoho_id in future.result():
                links.append((customer_id, email, updated_at, zoho_id, digest, now))
                contacts.append((zoho_id, email))
        db.execute("BEGIN")
        db.executemany(
            "INSERT OR REPLACE INTO links(customer_id, email, updated_at, zoho_id, payload_hash, synced_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            links,
        )
        db.executemany("INSERT OR REPLACE INTO contacts(zoho_id, email) VALUES (?, ?)", contacts)
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('checkpoint', ?)", (str(len(links)),))
        db.execute("COMMIT")
        calls["saved"] += len(links)
        calls["transactions"] += 1

    def harvest(wait: bool) -> None:
        nonlocal in_flight
        if wait:
            for future in in_flight:
                future.result()
        done = [f for f in in_flight if f.done()]
        if done:
            in_flight = [f for f in in_flight if not f.done()]
            save(done)

    def submit(batch: list[tuple[Row, dict[str, Any]]]) -> None:
        slots.acquire()
        future = pool.submit(upsert, batch)
        future.add_done_callback(lambda _: slots.release())
        in_flight.append(future)

    read, last = 0, 0
    pending: list[tuple[Row, dict[str, Any]]] = []
    path = "/rest/all/V1/customers/search"
    while True:
        response = magento.get(f"{path}?{keyset_query(last, args.page_size)}", headers=magento_headers)
        calls["magento"] += 1
        response.raise_for_status()
        items = orjson.loads(response.content)["items"]
        read += len(items)
        for customer in items:
            mapped = map_customer(customer)
            if type(mapped) is not MappedCustomer:
                calls["failed"] += 1
                continue
            row = (mapped.customer_id, mapped.email_norm, mapped.updated_at or "", payload_hash(mapped.payload))
            pending.append((row, mapped.payload))
            if len(pending) == BATCH:
                submit(pending)
                pending = []
        harvest(wait=False)
        if len(items) < args.page_size:
            break
        last = items[-1]["id"]
    if pending:
        submit(pending)
    harvest(wait=True)
    pool.shutdown(wait=True)
    result = {"read": read, **calls, "inner_wall": time.perf_counter() - started}
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
