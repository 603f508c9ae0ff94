"""CPU seconds of each thread of one first sync at zero latency (read from /proc while it runs; Linux only).

Shows which thread is the critical path: the engine's main thread (mapping, deciding, the state), the page
reader or the Zoho writers. Extra arguments are ``ENV=VALUE``
settings for the sync (for example ``PYTHONPATH=/tmp/old/src`` to measure another source tree).

    .venv/bin/python bench/thread_cpu.py --customers 100000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import time
from pathlib import Path

import simproc

ZOHO_LATENCY = 0.0


def sample(pid: int, seen: dict[int, tuple[str, float, float]], tick: int) -> None:
    """Record the name and user / system CPU seconds of every thread of ``pid`` (the last reading wins)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seen[int(tid)] = (name, int(fields[11]) / tick, int(fields[12]) / tick)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--client",
        choices=["tool", "floor", "lean"],
        default="tool",
        help="what to measure: the tool's sync, bench/floor.py or bench/experiments/lean.py",
    )
    parser.add_argument("settings", nargs="*", help="ENV=VALUE for the sync")
    args = parser.parse_args()
    work = simproc.workdir()
    magento = simproc.start_sim("magento", ["--customers", str(args.customers), "--latency", "0"], work)
    zoho = simproc.start_zoho(work, ZOHO_LATENCY)
    env = simproc.clean_env(simproc.sim_env(magento, zoho), work)
    env.update(simproc.TOOL_SETTINGS, MZSYNC_STATE=str(work / "state.db"))
    env.update(dict(setting.split("=", 1) for setting in args.settings))
    tick = os.sysconf("SC_CLK_TCK")
    seen: dict[int, tuple[str, float, float]] = {}
    started = time.perf_counter()
    try:
        argv = {
            "tool": [simproc.PYTHON, "-m", "magento_zoho_sync", "sync"],
            "floor": [simproc.PYTHON, str(simproc.ROOT / "bench" / "floor.py"), "--result", str(work / "f.json")],
            "lean": [
                simproc.PYTHON,
                str(simproc.ROOT / "bench" / "experiments" / "lean.py"),
                "--state",
                str(work / "lean.db"),
                "--result",
                str(work / "l.json"),
            ],
        }[args.client]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            argv,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while process.poll() is None:
            with contextlib.suppress(OSError):  # the process ended between poll() and the read
                sample(process.pid, seen, tick)
            time.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        magento.stop()
        zoho.stop()
    print(f"wall {wall:.2f} s, exit {process.returncode} (CPU up to the last sample, every 50 ms)")
    # Python does not name its threads for the OS: the main thread is the process id; the busiest other thread
    # is the page reader (it decodes every page), then come the Zoho writers
    rows = sorted(seen.items(), key=lambda item: (item[0] != process.pid, -(item[1][1] + item[1][2])))
    for tid, (_, user, system) in rows:
        if user + system > 0:
            label = "main" if tid == process.pid else f"thread {tid}"
            print(f"{label:14s} user {user:6.2f} s  system {system:6.2f} s")
    others = [user + system for tid, (_, user, system) in seen.items() if tid != process.pid]
    print(f"other threads together: {sum(others):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
