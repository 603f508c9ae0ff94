"""Compare variants of the tool's first sync at zero latency, interleaved, against one Magento simulator.

On a shared 2-core machine one run's wall time moves by 15-30% from round to round, so a change is only judged
against another build measured in the same rounds. A variant is ``name:ENV=VALUE,ENV=VALUE``: its environment
on top of the benchmark's (for example ``PYTHONPATH=/tmp/old/src`` runs an older source tree, exported with
``git archive <rev> src | tar -x -C /tmp/old``); ``floor`` runs ``bench/floor.py``, ``lean`` runs
``bench/experiments/lean.py`` (the floor plus the least a sync must do: a lower bound for the tool). Each round
runs every variant once, each against a fresh Zoho simulator; the summary gives the minimum and the median.

    .venv/bin/python bench/ab_zero.py --customers 100000 --rounds 3 floor "old:PYTHONPATH=/tmp/old/src" new:
"""

from __future__ import annotations

import argparse
import statistics
import time

import simproc

ZOHO_LATENCY = 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args()
    work = simproc.workdir()
    magento = simproc.start_sim("magento", ["--customers", str(args.customers), "--latency", "0"], work)
    results: dict[str, list[tuple[float, float, float]]] = {variant: [] for variant in args.variants}
    try:
        for _ in range(args.rounds):
            for variant in args.variants:
                name, _, spec = variant.partition(":")
                zoho = simproc.start_zoho(work, ZOHO_LATENCY)
                env = simproc.clean_env(simproc.sim_env(magento, zoho), work)
                if name == "floor":
                    argv = [simproc.PYTHON, str(simproc.ROOT / "bench" / "floor.py"), "--result", str(work / "f.json")]
                elif name == "lean":
                    state = str(work / f"lean-{time.monotonic_ns()}.db")
                    lean = str(simproc.ROOT / "bench" / "experiments" / "lean.py")
                    argv = [simproc.PYTHON, lean, "--state", state, "--result", str(work / "l.json")]
                else:
                    env.update(simproc.TOOL_SETTINGS, MZSYNC_STATE=str(work / f"state-{time.monotonic_ns()}.db"))
                    env.update(simproc.parse_settings(spec))
                    argv = [simproc.PYTHON, "-m", "magento_zoho_sync", "sync"]
                sims_before = magento.cpu_s() + zoho.cpu_s()
                run = simproc.run_measured(argv, env, work / "run.log", 900)
                sims = magento.cpu_s() + zoho.cpu_s() - sims_before
                zoho.stop()
                results[variant].append((run.wall, run.cpu_s, sims))
                print(
                    f"{variant:40s} wall {run.wall:6.2f} s  cpu {run.cpu_s:6.2f} s  simulators' cpu {sims:6.2f} s"
                    f"  exit {run.returncode}",
                    flush=True,
                )
    finally:
        magento.stop()
    print("--- min / median")
    for variant, rows in results.items():
        walls, cpus = [row[0] for row in rows], [row[1] for row in rows]
        print(
            f"{variant:40s} wall {min(walls):6.2f} / {statistics.median(walls):6.2f} s"
            f"  cpu {min(cpus):6.2f} / {statistics.median(cpus):6.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
