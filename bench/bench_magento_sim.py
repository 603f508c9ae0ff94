"""Benchmark of the Magento simulator (not a test): keyset reading throughput and memory at 1M customers.

    .venv/bin/python bench/bench_magento_sim.py [--customers 100000] [--page-size 300] [--big 1000000]
                                                [--read-ahead 600]

The simulator runs in its own process on a loopback port (as in the demo), so the client's JSON parsing does
not share a GIL with it. Prints customers/s for a full keyset read and the simulator's RSS for a big store.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

import httpx2
import psutil
from floor import keyset_query  # the same keyset page the floor client reads

SERVER = """
import sys, time
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator
sim = MagentoSimulator(customers=int(sys.argv[1]), seed=1, config=MagentoConfig(read_ahead=int(sys.argv[3])))
server = sim.serve(port=int(sys.argv[2]))
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(customers: int, read_ahead: int = 600) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SERVER, str(customers), str(port), str(read_ahead)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the simulator did not start")
    return proc, f"http://127.0.0.1:{port}"


def read_all(base_url: str, page_size: int, max_pages: int | None = None) -> tuple[int, int, float]:
    """Read by keyset pages; returns (customers, pages, seconds the client spent decoding JSON)."""
    with httpx2.Client(base_url=base_url, timeout=60) as client:
        token = client.post(
            "/rest/V1/integration/admin/token", json={"username": "admin", "password": "magento-demo-1"}
        ).json()
        headers = {"Authorization": f"Bearer {token}"}
        last, seen, pages, decoding = 0, 0, 0, 0.0
        while max_pages is None or pages < max_pages:
            response = client.get(f"/rest/all/V1/customers/search?{keyset_query(last, page_size)}", headers=headers)
            response.raise_for_status()
            started = time.perf_counter()
            items = response.json()["items"]
            decoding += time.perf_counter() - started
            pages += 1
            seen += len(items)
            if len(items) < page_size:
                break
            last = items[-1]["id"]
        return seen, pages, decoding


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=300)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--read-ahead", type=int, default=600, help="MagentoConfig.read_ahead (0: off)")
    args = parser.parse_args()

    proc, url = start(args.customers, args.read_ahead)
    try:
        server = psutil.Process(proc.pid)
        cpu_before = sum(server.cpu_times()[:2])
        started = time.perf_counter()
        seen, pages, decoding = read_all(url, args.page_size)
        elapsed = time.perf_counter() - started
        cpu = sum(server.cpu_times()[:2]) - cpu_before
        stats = httpx2.get(f"{url}/_sim/stats").json()
        print(f"keyset read: {seen} customers in {pages} pages of {args.page_size} in {elapsed:.2f} s")
        print(f"throughput: {seen / elapsed:,.0f} customers/s end to end (target >= 10,000)")
        waiting = elapsed - decoding
        print(f"of which the client decoding JSON: {decoding:.2f} s; waiting for the simulator: {waiting:.2f} s")
        print(f"simulator side alone: {seen / waiting:,.0f} customers/s (request sent to response read)")
        print(f"simulator CPU: {cpu:.2f} s, i.e. {seen / cpu:,.0f} customers per CPU-second of the simulator")
        ahead = seen - stats["encoded_on_demand"]
        print(f"read-ahead: {ahead:,} of {seen:,} customers were encoded before their request arrived")
        print(f"machine load average: {os.getloadavg()[0]:.2f} (other processes compete for the 2 cores)")
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        print(f"simulator RSS after reading {args.customers:,}: {rss:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(10)

    proc, url = start(args.big)
    try:
        seen, pages, _decoding = read_all(url, args.page_size, max_pages=5)
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        print(f"{args.big:,}-customer store: read {seen} customers in {pages} pages; simulator RSS {rss:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
