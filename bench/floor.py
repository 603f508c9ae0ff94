"""The floor: the least work that does the job with the same concurrency as the tool (benchmark only).

One thread pages through Magento (keyset on entity_id, ``--page-size`` 300 or 200, always page 1) while a pool of
``--concurrency`` threads posts upsert batches of 100 (``POST /crm/v8/Contacts/upsert``,
``duplicate_check_fields: ["Email"]``, ``trigger: []``): reading and writing at the same time. Each batch is built
straight from the page with no mapping layer (top-level names and email, the first address's fields; no
address choice, no validation, no state, no per-record result handling, no report), so the Zoho simulator
receives records of about the same size as the tool sends. JSON goes through orjson, as in the tool, so the
ratio tool / floor measures the tool's own work, not a faster parser. A bounded number of batches waits for a writer,
so memory stays flat.

Reads the same environment variables as ``magento-zoho-sync`` (MAGENTO_BASE_URL, MAGENTO_USERNAME, ...).

    .venv/bin/python bench/floor.py --concurrency 10 --page-size 300 --result floor.json
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import orjson

BATCH = 100


def keyset_query(last: int, page_size: int) -> str:
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
        "searchCriteria[filter_groups][0][filters][0][value]": str(last),
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "gt",
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": str(page_size),
        "searchCriteria[currentPage]": "1",
    }
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())


def record(customer: dict[str, Any]) -> dict[str, Any]:
    out = {
        "Email": customer.get("email"),
        "First_Name": customer.get("firstname"),
        "Last_Name": customer.get("lastname"),
    }
    addresses = customer.get("addresses") or ()
    if addresses:
        a = addresses[0]
        out["Mailing_Street"] = ", ".join(a.get("street") or ())
        out["Mailing_City"] = a.get("city")
        out["Mailing_Zip"] = a.get("postcode")
        out["Mailing_Country"] = a.get("country_id")
        if a.get("telephone"):
            out["Phone"] = a["telephone"]
    return {k: v for k, v in out.items() if v}


def connect(
    env: Mapping[str, str], concurrency: int
) -> tuple[httpx2.Client, httpx2.Client, dict[str, str], dict[str, str]]:
    """HTTP clients for both services and their headers: a Magento admin token, a Zoho access token."""
    magento = httpx2.Client(base_url=env["MAGENTO_BASE_URL"], timeout=120)
    zoho = httpx2.Client(
        base_url=env["ZOHO_API_URL"],
        timeout=120,
        limits=httpx2.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2),
    )
    token = magento.post(
        "/rest/V1/integration/admin/token",
        json={"username": env["MAGENTO_USERNAME"], "password": env["MAGENTO_PASSWORD"]},
    )
    token.raise_for_status()
    magento_headers = {"Authorization": f"Bearer {token.json()}"}
    grant = httpx2.post(
        f"{env['ZOHO_ACCOUNTS_URL']}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": env["ZOHO_REFRESH_TOKEN"],
            "client_id": env["ZOHO_CLIENT_ID"],
            "client_secret": env["ZOHO_CLIENT_SECRET"],
        },
        timeout=60,
    )
    zoho_headers = {
        "Authorization": f"Zoho-oauthtoken {grant.json()['access_token']}",
        "Content-Type": "application/json",
    }
    return magento, zoho, magento_headers, zoho_headers


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.zoho_calls = 0
        self.zoho_429 = 0
        self.zoho_errors = 0
        self.written = 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=300)
    parser.add_argument("--store-code", default="all")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    env = os.environ
    started = time.perf_counter()

    magento, zoho, magento_headers, zoho_headers = connect(env, args.concurrency)
    counters = Counters()

    def upsert(batch: list[dict[str, Any]]) -> None:
        body = {"data": batch, "duplicate_check_fields": ["Email"], "trigger": []}
        for attempt in range(20):
            response = zoho.post("/crm/v8/Contacts/upsert", content=orjson.dumps(body), headers=zoho_headers)
            with counters.lock:
                counters.zoho_calls += 1
                if response.status_code == 429:
                    counters.zoho_429 += 1
            if response.status_code != 429:
                break
            time.sleep(0.05 * (attempt + 1))
        with counters.lock:
            if response.status_code >= 400:
                counters.zoho_errors += 1
            else:
                counters.written += len(batch)

    slots = threading.BoundedSemaphore(2 * args.concurrency)  # batches queued or in flight

    def release(_: Future[None]) -> None:
        slots.release()

    pool = ThreadPoolExecutor(max_workers=args.concurrency)
    futures: list[Future[None]] = []

    def submit(batch: list[dict[str, Any]]) -> None:
        slots.acquire()
        future = pool.submit(upsert, batch)
        future.add_done_callback(release)
        futures.append(future)
        if len(futures) > 4 * args.concurrency:
            for done in [f for f in futures if f.done()]:
                done.result()
                futures.remove(done)

    magento_calls, read, last = 1, 0, 0
    pending: list[dict[str, Any]] = []
    path = f"/rest/{args.store_code}/V1/customers/search"
    read_done_at = 0.0
    while True:
        response = magento.get(f"{path}?{keyset_query(last, args.page_size)}", headers=magento_headers)
        magento_calls += 1
        response.raise_for_status()
        items = orjson.loads(response.content)["items"]
        read += len(items)
        for customer in items:
            pending.append(record(customer))
            if len(pending) == BATCH:
                submit(pending)
                pending = []
        if len(items) < args.page_size:
            break
        last = items[-1]["id"]
    read_done_at = time.perf_counter() - started
    if pending:
        submit(pending)
    pool.shutdown(wait=True)
    for future in futures:
        future.result()
    result = {
        "read": read,
        "written": counters.written,
        "magento_calls": magento_calls,
        "zoho_calls": counters.zoho_calls,
        "zoho_token_calls": 1,
        "zoho_429": counters.zoho_429,
        "zoho_errors": counters.zoho_errors,
        "read_done_at": read_done_at,
        "inner_wall": time.perf_counter() - started,
    }
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
