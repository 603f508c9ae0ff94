"""Churn under faults, at scale: a store of thousands of customers changes *while* syncs run against flaky services,
then a healthy full run must leave every promise of :mod:`tests.e2e.test_world_properties` standing.

Not a test (threads race, so no two runs are alike): a soak run for development, kept because it found bugs that
the small, between-runs histories of the property tests could not: a 404 cut off on its way stopped a run; an older
customer later on a page overwrote the contact a newer one had just taken; a write Zoho applied though its answers
were lost left its data on another customer's contact. Run it from the repository root::

    .venv/bin/python -m tests.soak.churn --seed 1 --rounds 20 --pool 40 --syncs 12

Each round: a quiet first full sync, then syncs (incremental, and every third one full) while a thread edits,
moves, deletes and adds Magento customers, changes their default address and makes web-form contacts in Zoho, with
500s, 429s, dropped connections, lost and cut-off answers and HTML pages in both services; then, with the churn
and the faults stopped, a full run and two reruns. Checked after it:

* every email of the store is held in Zoho by a contact with the data of the customer that wins it (the latest
  updated, then the highest id), unless that customer failed (the store's planted bad data);
* no email is held by more contacts than those made in Zoho plus one;
* a full and an incremental rerun write nothing.

Exit status 1 when a round breaks one, with what the state, the store and Zoho hold for that email.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from magento_zoho_sims.common.faults import FaultPlan
from magento_zoho_sims.magento import MagentoError, MagentoSimulator
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator
from magento_zoho_sync.app import RunResult
from magento_zoho_sync.errors import SyncError
from magento_zoho_sync.state import StateStore
from tests.e2e.conftest import World

CASES = ("lower", "title", "upper")
FAULTS = {"error_rate": 0.05, "throttle_rate": 0.05, "drop_rate": 0.03, "truncated_rate": 0.03, "html_200_rate": 0.02}


def pool_email(index: int, how: str) -> str:
    local = f"person.{index}"
    shown = {"lower": local, "title": local.title(), "upper": local.upper()}[how]
    return f"{shown}@example.com"


class Round:
    def __init__(self, seed: int, customers: int, pool: int, policy: str, folder: Path) -> None:
        rng = random.Random(seed)
        config = ZohoConfig(
            duplicate_match=rng.choice(["oldest", "newest", "error"]), email_case_sensitive=rng.random() < 0.5
        )
        overrides = {"sync.zoho_duplicates": policy, "retry.attempts": 3, "retry.wait_initial": 0, "retry.wait_max": 0}
        self.world = World(
            MagentoSimulator(customers=customers, seed=seed),
            ZohoSimulator(seed=seed, config=config),
            folder / "state.sqlite",
            overrides=overrides,
        )
        self.seed, self.pool = seed, pool
        self.customers = list(self.world.magento.backend.ids())
        self.made_in_zoho: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()
        self.stopped: list[str] = []

    def sync(self, *, full: bool) -> RunResult | None:
        self.world.zoho.clock.advance(700)  # Zoho Accounts gives at most 10 tokens in 10 minutes
        try:
            return self.world.sync(full=full)
        except SyncError as exc:  # a service that kept failing: what Zoho acknowledged is saved
            self.stopped.append(re.sub(r"\d+", "N", str(exc).partition(". ")[0]))  # one line per kind of stop
            return None

    def churn(self, stop: threading.Event) -> None:
        rng = random.Random(self.seed + 1)
        magento, zoho = self.world.magento.backend, self.world.zoho
        while not stop.is_set():
            time.sleep(rng.random() * 0.004)
            roll = rng.random()
            customer_id = rng.choice(self.customers)
            try:
                if roll < 0.45:
                    self.ops["edit"] += 1
                    magento.update_customer(customer_id, lastname=f"Edited{self.ops['edit']}")
                elif roll < 0.6:
                    magento.update_customer(customer_id, email=pool_email(rng.randrange(self.pool), rng.choice(CASES)))
                    self.ops["move"] += 1
                elif roll < 0.7:
                    magento.delete_customer(customer_id)
                    self.customers.remove(customer_id)
                    self.ops["delete"] += 1
                elif roll < 0.85:
                    created = magento.create_customer(
                        email=pool_email(rng.randrange(self.pool), rng.choice(CASES)),
                        firstname="F",
                        lastname=f"Added{len(self.customers)}",
                        website_id=rng.choice([1, 2]),
                    )
                    self.customers.append(int(created["id"]))
                    self.ops["add"] += 1
                elif roll < 0.95:
                    street = [f"{rng.randrange(999)} Rue"]
                    magento.edit_address(
                        customer_id, None, street=street, city="Paris", country_id="FR", postcode="75001",
                        default_billing=True,
                    )  # fmt: skip
                    self.ops["address"] += 1
                else:
                    email = pool_email(rng.randrange(self.pool), rng.choice(CASES))
                    zoho.add_contact(Email=email, Last_Name="Web form")
                    self.made_in_zoho[email.lower()] += 1
                    self.ops["web_form"] += 1
            except MagentoError:  # the email is taken on that website
                continue

    def run(self, syncs: int) -> list[str]:
        world = self.world
        world.zoho.faults = FaultPlan(seed=1, apply_then_drop_rate=0.05, **FAULTS)
        world.magento.faults = FaultPlan(seed=2, **FAULTS)
        self.sync(full=True)
        stop = threading.Event()
        thread = threading.Thread(target=self.churn, args=(stop,), daemon=True)
        thread.start()
        for index in range(syncs):
            self.sync(full=index % 3 == 2)
        stop.set()
        thread.join()
        world.zoho.faults, world.magento.faults = FaultPlan(), FaultPlan()
        last = self.sync(full=True)
        if last is None:
            return [f"the healthy full run stopped: {self.stopped[-1]}"]
        broken = self.check()
        writes = len(world.zoho.writes())
        for full in (True, False):
            if self.sync(full=full) is None:
                broken.append(f"a healthy rerun stopped: {self.stopped[-1]}")
            elif len(world.zoho.writes()) != writes:
                broken.append(f"a {'full' if full else 'incremental'} rerun wrote {len(world.zoho.writes()) - writes}")
        return broken

    def check(self) -> list[str]:
        backend = self.world.magento.backend
        with closing(StateStore.open(self.world.state_path, read_only=True)) as store:
            failed = {failure.customer_id for failure in store.failures()}
        winners: dict[str, dict[str, Any]] = {}
        for customer_id in self.customers:
            customer = backend.get(customer_id)
            assert customer is not None
            key = str(customer["email"]).lower()
            rank = (str(customer["updated_at"]), customer_id)
            if key not in winners or rank > (str(winners[key]["updated_at"]), int(winners[key]["id"])):
                winners[key] = customer
        names: dict[str, list[str]] = {}
        for contact in self.world.zoho.contacts():
            names.setdefault(str(contact.get("Email", "")).lower(), []).append(str(contact.get("Last_Name")))
        broken = [
            f"{key}: customer {customer['id']} ({customer['lastname']}) wins it, Zoho holds {names.get(key)}"
            + self.describe(key)
            for key, customer in winners.items()
            if int(customer["id"]) not in failed and customer["lastname"] not in names.get(key, [])
        ]
        broken += [
            f"{key}: {len(held)} contacts, {self.made_in_zoho[key]} made in Zoho"
            for key, held in names.items()
            if len(held) > self.made_in_zoho[key] + 1
        ]
        return broken

    def describe(self, key: str) -> str:
        backend = self.world.magento.backend
        lines = []
        for customer_id in self.customers:
            customer = backend.get(customer_id)
            if customer is not None and str(customer["email"]).lower() == key:
                lines.append(f"  magento {customer_id}: updated_at {customer['updated_at']}, {customer['lastname']}")
        holders = [c for c in self.world.zoho.contacts() if str(c.get("Email", "")).lower() == key]
        lines += [f"  zoho {c['id']}: {c.get('Last_Name')}" for c in holders]
        names = {str(c.get("Last_Name")) for c in holders}
        with closing(sqlite3.connect(self.world.state_path)) as db:
            query = (
                "SELECT customer_id, email, updated_at, zoho_id, payload_hash IS NOT NULL, deleted FROM links "
                "WHERE email = ? OR zoho_id IN (SELECT value FROM json_each(?))"
            )
            rows = list(db.execute(query, (key, json.dumps([c["id"] for c in holders]))))
        lines += [f"  link {row}" for row in rows]
        for customer_id in sorted({row[0] for row in rows} | set(self.customers)):
            customer = backend.get(customer_id)
            if customer_id in {row[0] for row in rows} or (customer and customer["lastname"] in names):
                shown = "deleted" if customer is None else f"{customer['email']} {customer['lastname']}"
                lines.append(f"  magento {customer_id} now: {shown}")
        return "\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1, help="first seed (each round takes the next one)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--pool", type=int, default=300, help="emails the churn moves customers onto (collisions)")
    parser.add_argument("--syncs", type=int, default=8, help="syncs during the churn, per round")
    parser.add_argument("--policy", choices=["oldest", "skip"], default="oldest", help="sync.zoho_duplicates")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the retries' warnings, by the thousand
    failures = 0
    for seed in range(args.seed, args.seed + args.rounds):
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            round_ = Round(seed, args.customers, args.pool, args.policy, Path(folder))
            broken = round_.run(args.syncs)
        verdict = "broken" if broken else "ok"
        print(
            f"seed {seed}: {verdict} in {time.monotonic() - started:.0f} s; changes {dict(round_.ops)}; "
            f"{len(round_.stopped)} runs stopped by the faults"
        )
        for line in broken:
            print("  " + line)
        for reason, count in Counter(round_.stopped).most_common():
            print(f"  stopped {count} x: {reason}")
        failures += bool(broken)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
