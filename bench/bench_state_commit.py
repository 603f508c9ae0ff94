"""What saving links costs the state store, by transaction size: 100,000 written customers, random emails.

Each transaction holds ``--per-commit`` links (the engine commits once per harvest of acknowledged batches,
about 150-300 customers at zero latency). Prints wall time and the process's user and system CPU seconds;
``--rows`` compares the bulk statements (``json_each``) with ``executemany``.

    .venv/bin/python bench/bench_state_commit.py --per-commit 150,2500,20000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from magento_zoho_sync.state import LinkUpdate, StateStore


def run(customers: int, per_commit: int, *, bulk: bool) -> str:
    with tempfile.TemporaryDirectory() as directory:
        store = StateStore.open(Path(directory) / "state.db")
        store._parts.bulk = bulk  # the benchmark compares the two ways of writing
        run_id = store.start_run("full")
        rng = random.Random(1)
        before, started = os.times(), time.perf_counter()
        for start in range(1, customers + 1, per_commit):
            links = [
                LinkUpdate(
                    cid,
                    f"user{rng.getrandbits(40)}@example.com",
                    "2026-01-01 00:00:00",
                    str(5 * 10**12 + cid),
                    "h" * 64,
                )
                for cid in range(start, min(start + per_commit, customers + 1))
            ]
            store.commit(run_id=run_id, links=links, resolved=[link.customer_id for link in links])
        after, wall = os.times(), time.perf_counter() - started
        store.close()
    return (
        f"{'json_each' if bulk else 'executemany':11s} {per_commit:6d} per commit: wall {wall:5.2f} s, "
        f"user {after.user - before.user:5.2f} s, system {after.system - before.system:5.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--per-commit", default="150,2500,20000")
    parser.add_argument("--rows", action="store_true", help="also run executemany (row by row)")
    args = parser.parse_args()
    for per_commit in (int(size) for size in args.per_commit.split(",")):
        print(run(args.customers, per_commit, bulk=True), flush=True)
        if args.rows:
            print(run(args.customers, per_commit, bulk=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
