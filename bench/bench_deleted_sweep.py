"""A full run after customers were deleted in Magento, at realistic latency: what confirming each deletion costs.

Syncs ``--customers`` customers once, deletes ``--deleted`` of them in the Magento simulator, then times a
``sync --full`` from a copy of that state for each build given (``name:ENV=VALUE,...`` as in ``ab_zero.py``;
``PYTHONPATH=/tmp/old/src`` runs an older source tree). Every deletion is confirmed by a 404 on
``GET /V1/customers/{id}`` (150 ms each in this profile).

    .venv/bin/python bench/bench_deleted_sweep.py --customers 10000 --deleted 200 new: "old:PYTHONPATH=/tmp/old/src"
"""

from __future__ import annotations

import argparse
import shutil

import simproc

MAGENTO_LATENCY = "0.15"
ZOHO_LATENCY = 0.25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--deleted", type=int, default=200)
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    work = simproc.workdir()
    magento = simproc.start_sim("magento", ["--customers", str(args.customers), "--latency", MAGENTO_LATENCY], work)
    zoho = simproc.start_zoho(work, ZOHO_LATENCY)
    try:
        env = simproc.clean_env(simproc.sim_env(magento, zoho), work)
        env.update(simproc.TOOL_SETTINGS)
        first = work / "first.db"
        command = [simproc.PYTHON, "-m", "magento_zoho_sync", "sync"]
        setup = simproc.run_measured(command, {**env, "MZSYNC_STATE": str(first)}, work / "first.log", 1800)
        print(f"first sync: {setup.wall:.1f} s, exit {setup.returncode}", flush=True)
        step = max(1, args.customers // args.deleted)
        for cid in range(2, args.customers + 1, step)[: args.deleted]:
            magento.control("DELETE", f"/_sim/customers/{cid}")
        for variant in args.variants:
            name, _, spec = variant.partition(":")
            state = work / f"state-{name}.db"
            shutil.copyfile(first, state)
            run_env = {**env, "MZSYNC_STATE": str(state)}
            run_env.update(simproc.parse_settings(spec))
            run = simproc.run_measured([*command, "--full"], run_env, work / f"{name}.log", 1800)
            print(f"{variant:40s} sync --full after {args.deleted} deletions: {run.wall:6.1f} s, exit {run.returncode}")
    finally:
        magento.stop()
        zoho.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
