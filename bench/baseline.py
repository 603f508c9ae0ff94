"""The original algorithm (Frends template "Adobe Commerce / Magento to Zoho CRM - Customers"), for the benchmark.

Not part of the product. As in ``../shared/reference/anchors.md`` §1.1, sequential and with Zoho API v2 paths:

1. ``POST /rest/V1/integration/admin/token`` (admin user and password);
2. one unpaged read: ``GET /rest/V1/customers/search?searchCriteria`` (no pageSize: the whole table at once);
3. ``POST {accounts}/oauth/v2/token?refresh_token=...&client_id=...&client_secret=...&grant_type=refresh_token``;
4. per customer: ``GET /crm/v2/Contacts/search?email={email}``; on 200 ``PUT /crm/v2/Contacts/{data[0].id}``,
   otherwise (204) ``POST /crm/v2/Contacts``; the fields from ``addresses[0]`` with empty strings when missing,
   ``street[0]`` only, as the template's hard-coded mapping.

Deviations, both in the baseline's favour or neutral: JSON bodies are built with ``json.dumps`` (the template
interpolates strings, which breaks on quotes); a failed search is counted and the loop goes on (the template ends
the whole process on the first one, which the generated store's invalid emails would trigger at once).

``--cap N`` processes only the first N customers (the unpaged read still fetches all of them); the harness
extrapolates the per-customer loop linearly to the whole store, and says so.

    .venv/bin/python bench/baseline.py --cap 1000 --result baseline.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx2


def contact(customer: dict[str, Any]) -> dict[str, Any]:
    addresses = customer.get("addresses") or [{}]
    first = addresses[0]
    street = first.get("street") or [""]
    return {
        "Email": customer.get("email", ""),
        "First_Name": customer.get("firstname", ""),
        "Last_Name": customer.get("lastname", ""),
        "Mailing_City": first.get("city", ""),
        "Mailing_Country": first.get("country_id", ""),
        "Mailing_Street": street[0],
        "Mailing_Zip": first.get("postcode", ""),
        "Phone": first.get("telephone", ""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=int, default=0, help="process only the first N customers (0: all)")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    env = os.environ
    started = time.perf_counter()
    magento_base, zoho_base = env["MAGENTO_BASE_URL"], env["ZOHO_API_URL"]
    client = httpx2.Client(timeout=3600)

    token = client.post(
        f"{magento_base}/rest/V1/integration/admin/token",
        json={"username": env["MAGENTO_USERNAME"], "password": env["MAGENTO_PASSWORD"]},
    )
    if token.status_code != 200:
        raise SystemExit("Magento authentication failed")
    t0 = time.perf_counter()
    response = client.get(
        f"{magento_base}/rest/V1/customers/search?searchCriteria", headers={"Authorization": f"Bearer {token.json()}"}
    )
    if response.status_code != 200:
        raise SystemExit(f"Failed to get product data: {response.status_code}")  # sic, as the template
    items = response.json()["items"]
    read_seconds = time.perf_counter() - t0
    magento_calls = 2

    grant = client.post(
        f"{env['ZOHO_ACCOUNTS_URL']}/oauth/v2/token?refresh_token={env['ZOHO_REFRESH_TOKEN']}"
        f"&client_id={env['ZOHO_CLIENT_ID']}&client_secret={env['ZOHO_CLIENT_SECRET']}&grant_type=refresh_token"
    )
    if grant.status_code != 200 or "access_token" not in grant.json():
        raise SystemExit("Zoho authentication failed")
    headers = {"Authorization": f"Zoho-oauthtoken {grant.json()['access_token']}"}

    total = len(items)
    todo = items[: args.cap] if args.cap else items
    inserted = updated = failed = search_failed = zoho_calls = 0
    loop_started = time.perf_counter()
    for customer in todo:
        email = customer.get("email", "")
        found = client.get(f"{zoho_base}/crm/v2/Contacts/search?email={email}", headers=headers)
        zoho_calls += 1
        body = {"data": [contact(customer)]}
        if found.status_code == 200:
            contact_id = found.json()["data"][0]["id"]
            written = client.put(f"{zoho_base}/crm/v2/Contacts/{contact_id}", json=body, headers=headers)
            zoho_calls += 1
            if written.status_code == 200:
                updated += 1
            else:
                failed += 1
        elif found.status_code == 204:
            written = client.post(f"{zoho_base}/crm/v2/Contacts", json=body, headers=headers)
            zoho_calls += 1
            if written.status_code == 201:
                inserted += 1
            else:
                failed += 1
        else:
            search_failed += 1  # the template would end the whole process here
    loop_seconds = time.perf_counter() - loop_started
    result = {
        "total": total,
        "processed": len(todo),
        "capped": len(todo) < total,
        "inserted": inserted,
        "updated": updated,
        "failed": failed,
        "search_failed": search_failed,
        "magento_calls": magento_calls,
        "zoho_calls": zoho_calls,
        "zoho_token_calls": 1,
        "read_seconds": read_seconds,
        "loop_seconds": loop_seconds,
        "inner_wall": time.perf_counter() - started,
    }
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
