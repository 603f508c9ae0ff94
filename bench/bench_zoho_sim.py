"""Benchmark of the Zoho simulator (not a test): upsert throughput on a loopback port, and memory at 1M contacts.

    .venv/bin/python bench/bench_zoho_sim.py [--contacts 200000] [--processes 2] [--threads 3] [--million 1000000]

Targets (issue #2): at zero latency, >= 10,000 contacts/s accepted through upserts of 100; a 1,000,000-contact
org held in under 1.5 GB.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import threading
import time

import httpx2
import psutil

from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator


def _payload(start: int, batch: int) -> bytes:
    records = [
        {
            "First_Name": "Zoë",
            "Last_Name": f"O'Brien-{n}",
            "Email": f"bench.customer{n}@shop{n % 97}.example",
            "Phone": f"+1 555 010 {n % 10000:04d}",
            "Mailing_Street": f"{n % 999} Rue de l'Église",
            "Mailing_City": "Lyon",
            "Mailing_State": "ARA",
            "Mailing_Zip": "69001",
            "Mailing_Country": "France",
            "Lead_Source": "Online Store",
        }
        for n in range(start, start + batch)
    ]
    return json.dumps({"data": records, "trigger": [], "duplicate_check_fields": ["Email"]}).encode()


def _client(url: str, token: str, starts: list[int], batch: int, threads: int) -> tuple[list[str], float, float]:
    """One client process: ``threads`` threads posting the upserts starting at ``starts`` (bodies built first).

    Returns the errors and the wall-clock start and end of the posting.
    """
    bodies = [_payload(start, batch) for start in starts]
    errors: list[str] = []
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}

    def worker(mine: list[bytes]) -> None:
        with httpx2.Client(base_url=url, headers=headers, timeout=60) as client:
            for body in mine:
                response = client.post("/crm/v8/Contacts/upsert", content=body)
                if response.status_code not in (200, 201, 207):
                    errors.append(f"{response.status_code} {response.text[:200]}")

    pool = [threading.Thread(target=worker, args=(bodies[i::threads],)) for i in range(threads)]
    started = time.time()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors, started, time.time()


def upsert_throughput(sim: ZohoSimulator, contacts: int, processes: int, threads: int, rounds: int = 1) -> float:
    """Contacts/s accepted through upserts of 100 (first round inserts, later rounds update).

    The clients run in separate processes so that they do not share the simulator's interpreter lock;
    ``processes * threads`` requests are in flight at most, below the default concurrency limit of 20.
    """
    batch = 100
    best = 0.0
    context = multiprocessing.get_context("spawn")
    with sim.serve() as server, context.Pool(processes) as pool:
        token = sim.issue_access_token()
        starts = list(range(0, contacts, batch))
        pool.starmap(_client, [(server.url, token, [], batch, 1)] * processes)  # warm the processes up
        for _ in range(rounds):
            jobs = [(server.url, token, starts[i::processes], batch, threads) for i in range(processes)]
            results = pool.starmap(_client, jobs)
            errors = [e for errs, _, _ in results for e in errs]
            elapsed = max(end for _, _, end in results) - min(start for _, start, _ in results)
            if errors:
                raise SystemExit(f"{len(errors)} failed upserts, first: {errors[0]}")
            rate = contacts / elapsed
            best = max(best, rate)
            print(f"  {contacts:,} contacts in {elapsed:.2f} s ({processes}x{threads} clients): {rate:,.0f} contacts/s")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--million", type=int, default=1_000_000)
    args = parser.parse_args()

    config = ZohoConfig(credits_per_day=10**9)
    sim = ZohoSimulator(seed=1, config=config)
    print(f"Upserts of 100 at zero latency, simulator on a loopback port ({psutil.cpu_count()} CPUs):")
    rate = upsert_throughput(sim, args.contacts, args.processes, args.threads, rounds=args.rounds)
    print(f"best: {rate:,.0f} contacts/s (target >= 10,000) -> {'OK' if rate >= 10_000 else 'BELOW TARGET'}")

    del sim
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    big = ZohoSimulator(seed=2, config=ZohoConfig(credits_per_day=10**9))
    started = time.perf_counter()
    big.load_bulk_contacts(args.million)
    gc.collect()
    gc.freeze()  # a million long-lived contacts: keep the cyclic GC from re-scanning them on every full pass
    rss = process.memory_info().rss
    print(
        f"{big.count():,} contacts loaded in {time.perf_counter() - started:.1f} s; process RSS {rss / 2**20:,.0f} MiB "
        f"({(rss - before) / 2**20:,.0f} MiB for the contacts; target < 1,536 MiB) -> "
        f"{'OK' if rss < 1.5 * 2**30 else 'ABOVE TARGET'}"
    )
    print("Upserts of 100 (new contacts) against the 1M-contact org:")
    upsert_throughput(big, min(args.contacts, 100_000), args.processes, args.threads, rounds=1)


if __name__ == "__main__":
    main()
