"""Benchmarks of magento-zoho-sync against the original algorithm and against the floor (``./run bench``).

    ./run bench                                   # profiles zero and realistic, 10,000 and 100,000 customers
    ./run bench --huge --profiles zero            # adds 1,000,000 customers
    ./run bench --sizes 10000 --profiles zero --no-docs
    ./run bench --profile-tool 100000             # also a py-spy profile of the tool's first sync (zero profile)

For each profile and store size, against the simulators running in two processes of their own
(``python -m magento_zoho_sims magento|zoho``), each measured client runs as a subprocess of its own:

- the tool: ``magento-zoho-sync sync`` first full sync (empty Zoho org, new state file), an unchanged rerun,
  and an incremental run after 1% of the customers changed (through the Magento control plane);
- the floor (``bench/floor.py``): keyset reads and pre-built upserts of 100, same concurrency, nothing else;
- the baseline (``bench/baseline.py``): the original algorithm, capped and extrapolated linearly.

Zoho calls, writes and credits come from the Zoho simulator's own counters (``/_sim/stats`` before and after
the run; token calls are counted apart), Magento calls from the Magento simulator's. Wall time is the measured
process's, from spawn to exit (interpreter start included, for every client alike); peak RSS is its own
high-water mark (``ru_maxrss`` from ``os.wait4``). Results: a table on stdout, ``docs/benchmarks.md``,
``docs/benchmarks.png`` and the raw figures in ``bench/results/benchmarks.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simproc
from simproc import ROOT, SimProcess, clean_env, run_measured, sim_env, start_sim

PROFILES: dict[str, dict[str, float]] = {
    "zero": {"magento_latency": 0.0, "zoho_latency": 0.0},
    "realistic": {"magento_latency": 0.150, "zoho_latency": 0.250},
}
ZOHO_CONCURRENCY = simproc.ZOHO_CONCURRENCY
ZOHO_SUB_CONCURRENCY = simproc.ZOHO_SUB_CONCURRENCY
TOOL = "tool first sync"
RERUN = "tool unchanged rerun"
CHANGED = "tool after 1% changed"
FLOOR = "floor"
BASELINE = "baseline (original)"
SCENARIO_ORDER = [TOOL, RERUN, CHANGED, FLOOR, BASELINE]
RESULTS = ROOT / "bench" / "results" / "benchmarks.json"
NOTES = ROOT / "bench" / "benchmarks-notes.md"  # hand-written analysis, appended to docs/benchmarks.md


@dataclass
class Row:
    profile: str
    n: int
    scenario: str
    wall: float
    zoho_calls: int
    zoho_writes: int
    credits: int
    magento_calls: int
    peak_rss_mb: float
    exit_code: int
    zoho_token_calls: int = 0
    zoho_429: int = 0
    extrapolated: bool = False
    ok: bool = True  # the run did its job (exit 0 or 1 and, for the tool, a report was written)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    command: int = 0

    @property
    def rate(self) -> float:
        return self.n / self.wall if self.wall > 0 else float("nan")

    @classmethod
    def measured(
        cls,
        profile: str,
        n: int,
        scenario: str,
        measured: Any,
        c: dict[str, int],
        *,
        wall: float | None = None,
        factor: float = 1.0,
        **extra: Any,
    ) -> Row:
        """A row from one measured process and the simulators' counters (``factor`` extrapolates Zoho's)."""
        return cls(
            profile,
            n,
            scenario,
            measured.wall if wall is None else wall,
            round(c["zoho_calls"] * factor),
            round(c["zoho_writes"] * factor),
            round(c["credits"] * factor),
            c["magento_calls"],
            measured.peak_rss_mb,
            measured.returncode,
            zoho_token_calls=c["zoho_token_calls"],
            zoho_429=c["zoho_429"],
            **extra,
        )


# ------------------------------------------------------------------------------------------ measuring
def _delta(before: dict[str, Any], after: dict[str, Any], key: str) -> int:
    return int(after.get(key, 0)) - int(before.get(key, 0))


def measure(
    magento: SimProcess, zoho: SimProcess, argv: list[str], *, env: dict[str, str], log: Path, timeout: float
) -> tuple[simproc.Measured, dict[str, int]]:
    """Run ``argv`` and read both simulators' counters around it."""
    m0, z0 = magento.stats(), zoho.stats()
    cpu0 = magento.cpu_s(), zoho.cpu_s()
    measured = run_measured(argv, env, log, timeout)
    cpu1 = magento.cpu_s(), zoho.cpu_s()
    m1, z1 = magento.stats(), zoho.stats()
    # Each simulator logs a /_sim/stats call after answering it: the "before" call is in the delta (-1).
    tokens = _delta(z0, z1, "token_requests")
    counters = {
        "magento_calls": _delta(m0, m1, "requests") - 1,
        "zoho_calls": _delta(z0, z1, "requests") - 1 - tokens,
        "zoho_token_calls": tokens,
        "zoho_writes": _delta(z0, z1, "writes"),
        "credits": _delta(z0, z1, "credits_used"),
        "zoho_429": _delta(z0, z1, "concurrency_rejected") + _delta(z0, z1, "credits_rejected"),
        "contacts_after": int(z1.get("contacts", 0)),
        "max_in_flight": int(z1.get("max_in_flight", 0)),
        "max_heavy_in_flight": int(z1.get("max_heavy_in_flight", 0)),
        # CPU seconds during the run: where a zero-latency run's time goes on a machine the three processes share
        "magento_sim_cpu_ms": round((cpu1[0] - cpu0[0]) * 1000),
        "zoho_sim_cpu_ms": round((cpu1[1] - cpu0[1]) * 1000),
        "cpu_ms": round(measured.cpu_s * 1000),
    }
    return measured, counters


def _downsample(samples: list[tuple[float, float]], points: int = 40) -> list[tuple[float, float]]:
    """(seconds, RSS MB) at most ``points`` of them, evenly spread, the last one kept."""
    if len(samples) <= points:
        return [(round(t, 2), round(m, 1)) for t, m in samples]
    step = len(samples) / points
    picked = [samples[int(i * step)] for i in range(points)] + [samples[-1]]
    return [(round(t, 2), round(m, 1)) for t, m in picked]


def _tail(path: Path, lines: int = 6) -> str:
    try:
        return " | ".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


class Bench:
    def __init__(self, args: argparse.Namespace, command_index: int) -> None:
        self.args = args
        self.command_index = command_index
        self.rows: list[Row] = []
        self.work = simproc.workdir()
        print(f"working in {self.work} (removed at the end; a failed command leaves its logs there)", flush=True)

    # ------------------------------------------------------------------------------------ simulators
    def start_magento(self, profile: str, n: int) -> SimProcess:
        lat = PROFILES[profile]["magento_latency"]
        return start_sim("magento", ["--customers", str(n), "--latency", str(lat)], self.work)

    def start_zoho(self, profile: str) -> SimProcess:
        return simproc.start_zoho(self.work, PROFILES[profile]["zoho_latency"])

    # ---------------------------------------------------------------------------------------- scenarios
    def add(self, row: Row) -> None:
        row.command = self.command_index
        self.rows.append(row)
        print(format_row(row), flush=True)

    def run_floor(self, profile: str, n: int, magento: SimProcess) -> None:
        zoho = self.start_zoho(profile)
        try:
            result_path = self.work / f"floor-{profile}-{n}.json"
            argv = [
                simproc.PYTHON,
                str(ROOT / "bench" / "floor.py"),
                "--concurrency",
                str(self.args.concurrency),
                "--page-size",
                str(self.args.page_size),
                "--result",
                str(result_path),
            ]
            env = clean_env(sim_env(magento, zoho), self.work)
            measured, c = measure(
                magento, zoho, argv, env=env, log=self.work / "floor.log", timeout=self.args.run_timeout
            )
            details = json.loads(result_path.read_text()) if result_path.exists() else {}
            self.add(
                Row.measured(
                    profile,
                    n,
                    FLOOR,
                    measured,
                    c,
                    ok=measured.returncode == 0,
                    note="" if measured.returncode == 0 else _tail(measured.stdout_path),
                    details={**details, **c},
                )
            )
        finally:
            zoho.stop()

    def run_baseline(self, profile: str, n: int, magento: SimProcess) -> None:
        cap = self.args.baseline_cap if profile == "zero" else self.args.baseline_cap_realistic
        if n > self.args.baseline_max_n:
            print(f"  baseline skipped at N={n} (--baseline-max-n {self.args.baseline_max_n})", flush=True)
            return
        zoho = self.start_zoho(profile)
        try:
            result_path = self.work / f"baseline-{profile}-{n}.json"
            argv = [
                simproc.PYTHON,
                str(ROOT / "bench" / "baseline.py"),
                "--cap",
                str(cap),
                "--result",
                str(result_path),
            ]
            env = clean_env(sim_env(magento, zoho), self.work)
            measured, c = measure(
                magento, zoho, argv, env=env, log=self.work / "baseline.log", timeout=self.args.run_timeout
            )
            details = json.loads(result_path.read_text()) if result_path.exists() else {}
            processed = int(details.get("processed", 0)) or 1
            total = int(details.get("total", n)) or n
            factor = total / processed
            wall = measured.wall + float(details.get("loop_seconds", 0.0)) * (factor - 1)
            capped = bool(details.get("capped"))
            note = (
                f"measured {processed:,} of {total:,} customers in {measured.wall:.1f} s; "
                f"per-customer loop extrapolated x{factor:,.0f}"
                if capped
                else ""
            )
            if measured.returncode != 0:
                note = _tail(measured.stdout_path)
            self.add(
                Row.measured(
                    profile,
                    n,
                    BASELINE,
                    measured,
                    c,
                    wall=wall,
                    factor=factor,
                    extrapolated=capped,
                    ok=measured.returncode == 0,
                    note=note,
                    details={**details, **c, "measured_wall": measured.wall, "factor": factor},
                )
            )
        finally:
            zoho.stop()

    def tool_env(self, magento: SimProcess, zoho: SimProcess) -> dict[str, str]:
        extra = sim_env(magento, zoho)
        extra["MZSYNC_ZOHO_CONCURRENCY"] = str(self.args.concurrency)
        extra["MZSYNC_MAGENTO_PAGE_SIZE"] = str(self.args.page_size)
        return clean_env(extra, self.work)

    def tool_run(
        self, scenario: str, profile: str, n: int, *, magento: SimProcess, zoho: SimProcess, state: Path
    ) -> Row:
        report = self.work / f"report-{profile}-{n}-{SCENARIO_ORDER.index(scenario)}.json"
        report.unlink(missing_ok=True)
        argv = [str(self.args.tool), "sync", "--state", str(state), "--report", str(report)]
        log = self.work / f"tool-{profile}-{n}-{SCENARIO_ORDER.index(scenario)}.log"
        measured, c = measure(
            magento, zoho, argv, env=self.tool_env(magento, zoho), log=log, timeout=self.args.run_timeout
        )
        data: dict[str, Any] = {}
        if report.exists():
            try:
                data = json.loads(report.read_text(encoding="utf-8"))
            except ValueError:
                data = {}
        counts = data.get("counts", {})
        note = ""
        ok = measured.returncode in (0, 1) and bool(data) and not measured.timed_out
        if not ok:
            note = f"exit {measured.returncode}, no report: " + _tail(log)
        elif counts:
            note = ", ".join(f"{k} {v:,}" for k, v in counts.items() if isinstance(v, int) and v)
            calls = data.get("api_calls", {})
            note += f"; report: magento {calls.get('magento')}, zoho {calls.get('zoho')} calls"
            if "zoho_credits" in data:
                note += f", {data['zoho_credits']} credits"
        if measured.timed_out:
            note = f"timed out after {self.args.run_timeout:.0f} s; " + note
        row = Row.measured(
            profile,
            n,
            scenario,
            measured,
            c,
            ok=ok,
            note=note,
            details={
                **c,
                "report": {k: data.get(k) for k in ("counts", "api_calls", "zoho_credits", "duration_seconds")},
                "rss_timeline_mb": _downsample(measured.rss_samples),
            },
        )
        self.add(row)
        return row

    def run_tool(self, profile: str, n: int, magento: SimProcess) -> None:
        zoho = self.start_zoho(profile)
        state = self.work / f"state-{profile}-{n}.sqlite"
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        try:
            first = self.tool_run(TOOL, profile, n, magento=magento, zoho=zoho, state=state)
            if not first.ok:
                return
            self.tool_run(RERUN, profile, n, magento=magento, zoho=zoho, state=state)
            changed = change_customers(magento, n, self.args.changed_percent)
            print(f"  changed {changed:,} customers through the Magento control plane", flush=True)
            self.tool_run(CHANGED, profile, n, magento=magento, zoho=zoho, state=state)
        finally:
            zoho.stop()

    def with_magento(self, profile: str, n: int, scenarios: set[str]) -> None:
        magento = self.start_magento(profile, n)
        try:
            if "floor" in scenarios:
                self.run_floor(profile, n, magento)
            if "baseline" in scenarios:
                self.run_baseline(profile, n, magento)
            if "tool" in scenarios:
                self.run_tool(profile, n, magento)
        finally:
            print(f"  simulator RSS: magento {magento.rss_mb():.0f} MB", flush=True)
            magento.stop()

    def profile_tool(self, n: int) -> dict[str, Any] | None:
        """py-spy ``--gil`` (samples the thread holding the GIL: where the CPU goes) over a first sync at ``n``."""
        py_spy = shutil.which("py-spy") or str(Path(simproc.PYTHON).parent / "py-spy")
        if not Path(py_spy).exists():
            print("  py-spy is not installed (.venv/bin/pip install py-spy): no profile", flush=True)
            return None
        magento = self.start_magento("zero", n)
        zoho = self.start_zoho("zero")
        try:
            state = self.work / f"state-profile-{n}.sqlite"
            raw = self.work / f"profile-{n}.txt"
            argv = [
                py_spy,
                "record",
                "--rate",
                "200",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(raw),
                "--",
                str(self.args.tool),
                "sync",
                "--state",
                str(state),
                "--report",
                str(self.work / "profile-report.json"),
            ]
            started = time.perf_counter()
            subprocess.run(  # noqa: S603
                argv,
                env=self.tool_env(magento, zoho),
                stdout=(self.work / "profile.log").open("wb"),
                stderr=subprocess.STDOUT,
                timeout=self.args.run_timeout,
                check=False,
            )
            wall = time.perf_counter() - started
            if not raw.exists():
                print("  py-spy wrote no profile; see " + str(self.work / "profile.log"), flush=True)
                return None
            target = ROOT / "bench" / "results" / f"profile-tool-{n}.txt"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(raw, target)
            summary = summarise_profile(raw.read_text(encoding="utf-8", errors="replace"))
            summary.update({"n": n, "wall_under_profiler": wall, "raw": str(target.relative_to(ROOT))})
            return summary
        finally:
            magento.stop()
            zoho.stop()

    def run(self) -> dict[str, Any] | None:
        scenarios = set(self.args.scenarios)
        for profile in self.args.profiles:
            for n in self.args.sizes:
                for rep in range(self.args.repeat):
                    print(f"== profile {profile}, N = {n:,}, round {rep + 1} of {self.args.repeat}", flush=True)
                    # A fresh store per round: the tool's 1%-changed run mutates it. The floor and the tool
                    # alternate within a round, so that noise from other work on the machine hits both alike.
                    if scenarios & {"floor", "tool"}:
                        self.with_magento(profile, n, scenarios - {"baseline"})
                if "baseline" in scenarios:
                    # Its own store: after serving the whole table in one response, a simulator is not the
                    # same as a fresh one (its memory has grown), which must not slow the other clients.
                    self.with_magento(profile, n, {"baseline"})
        self.rows = best_of(self.rows)
        profile_summary = None
        if self.args.profile_tool:
            print(f"== py-spy profile of the tool's first sync, zero profile, N = {self.args.profile_tool:,}")
            profile_summary = self.profile_tool(self.args.profile_tool)
            if profile_summary:
                print(profile_text(profile_summary))
        shutil.rmtree(self.work, ignore_errors=True)
        return profile_summary


def best_of(rows: list[Row]) -> list[Row]:
    """Per (profile, N, run), the fastest successful round; its note lists every round's wall time."""
    groups: dict[tuple[str, int, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.profile, row.n, row.scenario), []).append(row)
    best: list[Row] = []
    for group in groups.values():
        good = [r for r in group if r.ok] or group
        chosen = min(good, key=lambda r: r.wall)
        if len(group) > 1:
            walls = ", ".join(f"{r.wall:.1f}" for r in group)
            chosen.note = f"best of {len(group)} rounds ({walls} s)" + (f"; {chosen.note}" if chosen.note else "")
            chosen.details["round_walls"] = [r.wall for r in group]
        best.append(chosen)
    return best


def change_customers(magento: SimProcess, n: int, percent: float) -> int:
    """Change ``percent`` % of the customers (evenly spread ids), which bumps their ``updated_at``."""
    step = max(1, round(100 / percent))
    changed = 0
    with httpx2.Client(base_url=magento.url, timeout=60) as client:
        for cid in range(1, n + 1, step):
            response = client.put(f"/_sim/customers/{cid}", json={"firstname": f"Changed {cid}"})
            if response.status_code == 200:
                changed += 1
    return changed


# ------------------------------------------------------------------------------------------ profiling
def summarise_profile(raw: str, top: int = 15) -> dict[str, Any]:
    """Self and inclusive percentages per function from py-spy's collapsed stacks."""
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    module_counts: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        self_counts[_frame(frames[-1])] += count
        module_counts[_module(frames[-1])] += count
        for name in {_frame(f) for f in frames}:
            total_counts[name] += count
    pct = 100.0 / samples if samples else 0.0
    return {
        "samples": samples,
        "self": [(name, round(c * pct, 1)) for name, c in self_counts.most_common(top)],
        "total": [
            (name, round(c * pct, 1)) for name, c in total_counts.most_common(top * 4) if "magento_zoho_sync" in name
        ][:top],
        "modules": [(name, round(c * pct, 1)) for name, c in module_counts.most_common(top)],
    }


def _frame(frame: str) -> str:
    """``func (path/to/file.py:123)`` → ``func (file.py)``, short and stable across lines."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/src/" in path:
        path = path.split("/src/", 1)[1]
    elif "/lib/python" in path:
        path = "stdlib/" + path.rsplit("/", 1)[-1]
    return f"{name} ({path})"


def _module(frame: str) -> str:
    where = frame.partition(" (")[2].rstrip(")").rpartition(":")[0]
    if "site-packages/" in where:
        return where.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/src/" in where:
        return where.split("/src/", 1)[1].rsplit("/", 1)[0].replace("/", ".") + "/" + where.rsplit("/", 1)[-1]
    if "/lib/python" in where:
        return "stdlib"
    return where or "?"


def profile_text(summary: dict[str, Any]) -> str:
    lines = [f"py-spy --gil: {summary['samples']} samples, {summary['wall_under_profiler']:.1f} s under the profiler"]
    lines.append("  self time:")
    lines += [f"    {p:5.1f}%  {name}" for name, p in summary["self"]]
    lines.append("  inclusive, product functions:")
    lines += [f"    {p:5.1f}%  {name}" for name, p in summary["total"]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ reporting
def _cpu(row: Row) -> str:
    """CPU seconds of the measured process / the Magento simulator / the Zoho simulator during the run."""
    d = row.details
    if "cpu_ms" not in d or row.extrapolated:
        return "-"
    return f"{d['cpu_ms'] / 1000:.1f} / {d['magento_sim_cpu_ms'] / 1000:.1f} / {d['zoho_sim_cpu_ms'] / 1000:.1f}"


def format_row(row: Row) -> str:
    star = "*" if row.extrapolated else " "
    return (
        f"  {row.profile:9} {row.n:>9,} {row.scenario:22} {row.wall:9.2f}s{star} {row.rate:10,.0f}/s "
        f"zoho {row.zoho_calls:>9,} (w {row.zoho_writes:>7,}) credits {row.credits:>9,} "
        f"magento {row.magento_calls:>6,} rss {row.peak_rss_mb:7.1f} MB exit {row.exit_code} cpu {_cpu(row)}"
    )


def _fmt_wall(row: Row) -> str:
    text = f"{row.wall:,.1f}" if row.wall < 10_000 else f"{row.wall:,.0f}"
    return text + (" *" if row.extrapolated else "")


def table_markdown(rows: Iterable[Row]) -> str:
    out = [
        "| profile | N | run | wall (s) | customers/s | Zoho calls | Zoho writes | Zoho credits | Magento calls "
        "| peak RSS (MB) | CPU s: run / Magento sim / Zoho sim | exit | notes |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.profile} | {r.n:,} | {r.scenario} | {_fmt_wall(r)} | {r.rate:,.0f} | {r.zoho_calls:,} "
            f"| {r.zoho_writes:,} | {r.credits:,} | {r.magento_calls:,} | {r.peak_rss_mb:,.1f} | {_cpu(r)} "
            f"| {r.exit_code} "
            f"| {r.note.replace('|', '/')} |"
        )
    return "\n".join(out)


def index(rows: Iterable[Row]) -> dict[tuple[str, int, str], Row]:
    return {(r.profile, r.n, r.scenario): r for r in rows}


def ratios_markdown(rows: list[Row]) -> str:
    by = index(rows)
    out = [
        "| profile | N | tool / floor (wall) | tool / floor (Zoho calls) | baseline / tool (wall) "
        "| baseline / tool (Zoho calls) | baseline / tool (credits) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for profile, n in sorted({(r.profile, r.n) for r in rows}, key=lambda k: (list(PROFILES).index(k[0]), k[1])):
        tool, floor, base = by.get((profile, n, TOOL)), by.get((profile, n, FLOOR)), by.get((profile, n, BASELINE))

        def ratio(a: Row | None, b: Row | None, attr: str) -> str:
            if a is None or b is None or not a.ok or not b.ok:
                return "-"
            x, y = float(getattr(a, attr)), float(getattr(b, attr))
            return f"{x / y:,.2f}" if y else "-"

        out.append(
            f"| {profile} | {n:,} | {ratio(tool, floor, 'wall')} | {ratio(tool, floor, 'zoho_calls')} "
            f"| {ratio(base, tool, 'wall')} | {ratio(base, tool, 'zoho_calls')} | {ratio(base, tool, 'credits')} |"
        )
    return "\n".join(out)


def targets(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target of issue 6 that the rows allow to check."""
    by = index(rows)
    out: list[tuple[str, str, str]] = []

    def ok(flag: bool) -> str:
        return "met" if flag else "**missed**"

    def good(r: Row | None) -> bool:
        return r is not None and r.ok

    for profile, n in sorted({(r.profile, r.n) for r in rows}, key=lambda k: (list(PROFILES).index(k[0]), k[1])):
        first = by.get((profile, n, TOOL))
        if good(first):
            assert first is not None
            limit = math.ceil(n / 100) * 1.01
            out.append(
                (
                    f"{profile}, N={n:,}: first sync Zoho calls ≤ ceil(N/100) + 1% = {limit:,.0f}",
                    f"{first.zoho_calls:,}",
                    ok(first.zoho_calls <= limit),
                )
            )
            climit = n / 10 * 1.01
            out.append(
                (
                    f"{profile}, N={n:,}: first sync credits ≤ N/10 + 1% = {climit:,.0f}",
                    f"{first.credits:,}",
                    ok(first.credits <= climit),
                )
            )
        rerun = by.get((profile, n, RERUN))
        if good(rerun):
            assert rerun is not None
            out.append(
                (
                    f"{profile}, N={n:,}: unchanged rerun, 0 Zoho writes",
                    f"{rerun.zoho_writes:,}",
                    ok(rerun.zoho_writes == 0),
                )
            )
        changed = by.get((profile, n, CHANGED))
        if good(changed):
            assert changed is not None
            limit_w = math.ceil(n / 10_000) + 2
            out.append(
                (
                    f"{profile}, N={n:,}: 1% changed, Zoho writes ≤ ceil(N/10,000) + 2 = {limit_w}",
                    f"{changed.zoho_writes:,}",
                    ok(changed.zoho_writes <= limit_w),
                )
            )
        floor, base = by.get((profile, n, FLOOR)), by.get((profile, n, BASELINE))
        if profile == "zero" and n == 100_000 and good(first) and good(floor):
            assert first is not None and floor is not None
            out.append(
                (
                    "zero, N=100,000: tool wall ≤ 1.3 x floor",
                    f"{first.wall / floor.wall:.2f} x",
                    ok(first.wall <= 1.3 * floor.wall),
                )
            )
        if profile == "realistic" and good(first) and good(floor):
            assert first is not None and floor is not None
            out.append(
                (
                    f"realistic, N={n:,}: tool wall ≤ 1.2 x floor",
                    f"{first.wall / floor.wall:.2f} x",
                    ok(first.wall <= 1.2 * floor.wall),
                )
            )
        if profile == "realistic" and n == 10_000 and good(first) and good(base):
            assert first is not None and base is not None
            out.append(
                (
                    "realistic, N=10,000: tool ≥ 500 x faster than the baseline",
                    f"{base.wall / first.wall:,.0f} x" + (" (baseline extrapolated)" if base.extrapolated else ""),
                    ok(base.wall >= 500 * first.wall),
                )
            )
    for profile in PROFILES:
        small, big = by.get((profile, 10_000, TOOL)), by.get((profile, 1_000_000, TOOL))
        if good(small) and good(big):
            assert small is not None and big is not None
            out.append(
                (
                    f"{profile}: tool first-sync peak RSS at 1,000,000 <= 1.2 x at 10,000 "
                    f"({1.2 * small.peak_rss_mb:.0f} MB) and < 150 MB",
                    f"{big.peak_rss_mb:.0f} MB vs {small.peak_rss_mb:.0f} MB",
                    ok(big.peak_rss_mb <= 1.2 * small.peak_rss_mb and big.peak_rss_mb < 150),
                )
            )
            small_runs = [by[k] for k in ((profile, 10_000, s) for s in (TOOL, RERUN, CHANGED)) if good(by.get(k))]
            big_runs = [by[k] for k in ((profile, 1_000_000, s) for s in (TOOL, RERUN, CHANGED)) if good(by.get(k))]
            small_peak = max(r.peak_rss_mb for r in small_runs)
            big_peak = max(r.peak_rss_mb for r in big_runs)
            out.append(
                (
                    f"{profile}: tool peak RSS over all its runs at 1,000,000 <= 1.2 x at 10,000 "
                    f"({1.2 * small_peak:.0f} MB) and < 150 MB",
                    f"{big_peak:.0f} MB vs {small_peak:.0f} MB",
                    ok(big_peak <= 1.2 * small_peak and big_peak < 150),
                )
            )
    return out


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def chart(rows: list[Row], path: Path) -> bool:
    try:
        import matplotlib  # noqa: PLC0415 - optional: no chart without it

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed: no chart", flush=True)
        return False
    fig, (ax_wall, ax_calls) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {TOOL: "tab:blue", FLOOR: "tab:green", BASELINE: "tab:red"}
    styles = {"zero": "-", "realistic": "--"}
    for profile in PROFILES:
        for scenario in (TOOL, FLOOR, BASELINE):
            points = sorted(
                (r.n, r.wall, r.zoho_calls) for r in rows if r.profile == profile and r.scenario == scenario and r.ok
            )
            if not points:
                continue
            xs = [p[0] for p in points]
            label = f"{scenario.split(' (')[0].replace(' first sync', '')} ({profile})"
            kw = {"color": colours[scenario], "linestyle": styles[profile], "marker": "o", "label": label}
            ax_wall.plot(xs, [p[1] for p in points], **kw)
            ax_calls.plot(xs, [p[2] for p in points], **kw)
    for ax, title in ((ax_wall, "wall time (s)"), (ax_calls, "Zoho API calls")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("customers (N)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax_wall.legend(fontsize=8)
    fig.suptitle("magento-zoho-sync first full sync vs floor vs original algorithm (baseline extrapolated when capped)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def markdown(
    rows: list[Row], commands: list[dict[str, Any]], args: argparse.Namespace, profile: dict[str, Any] | None
) -> str:
    m = commands[-1]["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Made by `bench/run_benchmarks.py` (`./run bench`); this page and `docs/benchmarks.png` are written by it.",
        "",
        "## Commands",
        "",
    ]
    for i, c in enumerate(commands):
        lines.append(f"{i + 1}. `{c['command']}` ({c['started']}, {c['duration_s']:.0f} s)")
    lines += [
        "",
        "## Machine",
        "",
        f"{m['cores']} cores ({m['cpu'] or 'unknown CPU'}), {m['memory_gib']} GiB memory, Python {m['python']}, "
        f"{m['platform']}.",
        "",
        f"**The simulators share this machine's {m['cores']} cores with the measured client**: each simulator "
        "runs in a process of its own (`python -m magento_zoho_sims magento|zoho`) and the measured client in a "
        "third, so at zero latency all three compete for the CPU. Zero-profile figures are therefore a bound "
        "set by this machine "
        "(the simulators' JSON work counts against the client), not a property of the client alone. Other work "
        "on the machine during a run (other sessions' tests) adds noise; `--repeat K` keeps the fastest of K rounds "
        "of the floor and the tool.",
        "",
        "## Method",
        "",
        "- Profiles: `zero` (no added latency) and `realistic` (Magento 150 ms per request, Zoho 250 ms per call, "
        "token calls included). In both, the Zoho simulator allows "
        f"{ZOHO_CONCURRENCY} concurrent calls and {ZOHO_SUB_CONCURRENCY} concurrent heavy calls (writes of more "
        "than 10 records); credits are counted, never exhausted.",
        f"- The tool and the floor both use {args.concurrency} concurrent Zoho writes and Magento pages of "
        f"{args.page_size} (`MZSYNC_ZOHO_CONCURRENCY={args.concurrency}`, "
        f"`MZSYNC_MAGENTO_PAGE_SIZE={args.page_size}`).",
        "- Every scenario that writes to Zoho starts from a **fresh, empty Zoho org** (a new simulator process): "
        "the tool's first sync (with a new state file), the floor and the baseline each get their own. The tool's "
        "rerun and 1%-changed run continue on the tool's org and state. The Magento store (seed 1) is a fresh "
        "simulator process per round (the floor, then the tool's three runs) and another one for the baseline; "
        "it is only read until the 1%-changed step, which changes every 100th customer's first name through the "
        "simulator's control plane (`PUT /_sim/customers/{id}`, which bumps `updated_at`). With `--repeat K`, "
        "the floor and the tool run K rounds and the fastest round of each run is kept (all rounds in the notes).",
        "- **tool**: the real CLI, `magento-zoho-sync sync --state S --report R`, as a subprocess with the "
        "MAGENTO_* / ZOHO_* environment variables.",
        "- **floor** (`bench/floor.py`): one thread reads Magento with keyset pages while "
        f"{args.concurrency} threads post upsert batches of 100 (`POST /crm/v8/Contacts/upsert`, "
        "duplicate_check_fields Email, trigger []); records are copied straight from the page (first address), "
        "no mapping, no state, no report.",
        "- **baseline** (`bench/baseline.py`): the original Frends process (the template the README compares "
        "with): one unpaged customer "
        "read, one token call, then per customer a v2 search by email and a v2 update by id or insert, "
        f"sequentially. Capped at the first {args.baseline_cap:,} customers (zero) and "
        f"{args.baseline_cap_realistic:,} (realistic); **its wall time, Zoho calls, writes and credits are "
        "extrapolated linearly to N (marked \\*)**: measured wall + per-customer loop time x (N/cap - 1). Its "
        "Magento read and its peak RSS (which holds the whole store) are measured at full N.",
        "- Zoho calls are CRM API calls counted by the Zoho simulator (429 answers included; the OAuth token calls "
        "are not counted, they cost no credits); Zoho writes are write calls (upsert/insert/update); credits come "
        "from the simulator's ledger (1 per read, 1 per 10 written records). Magento calls include the token call.",
        "- Wall time is the measured process's, from spawn to exit (interpreter start-up included, for every client "
        "alike). Peak RSS is the process's own high-water mark (`ru_maxrss` from `os.wait4`).",
        "- Each command works in a temporary folder (`mzs-bench-*` in the system's temporary directory, printed when "
        "the command starts), removed when it ends; a command that fails or is stopped (SIGTERM) leaves its logs "
        "and reports there for a look, without the runs' state files (about 40 MB per 100,000 customers; "
        "`MZS_BENCH_KEEP_STATE=1` keeps them). The helper scripts (`bench/ab_zero.py`, ...) leave their folder "
        "the same way.",
        "",
        "## Results",
        "",
        table_markdown(sorted(rows, key=_row_key)),
        "",
        "\\* extrapolated from a capped run (see notes).",
        "",
        "### Ratios",
        "",
        ratios_markdown(rows),
        "",
        "### Targets (the benchmark's acceptance targets)",
        "",
        "| target | measured | verdict |",
        "|---|---:|---|",
    ]
    lines += [f"| {t} | {v} | {ok} |" for t, v, ok in targets(rows)]
    lines += ["", "![wall time and Zoho calls against N](benchmarks.png)", ""]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").strip(), ""]
    if profile:
        lines += [
            "## Profile",
            "",
            "py-spy `--gil` (200 Hz; samples only the thread holding the GIL, i.e. where the CPU goes) over the "
            f"tool's first sync at {profile['n']:,} customers, zero profile: {profile['samples']:,} samples, "
            f"{profile['wall_under_profiler']:.1f} s under the profiler. Raw collapsed stacks: `{profile['raw']}` "
            "(written by `--profile-tool`, not committed).",
            "",
            "| self % | function |",
            "|---:|---|",
        ]
        lines += [f"| {p} | `{name}` |" for name, p in profile["self"]]
        lines += ["", "| inclusive % | product function |", "|---:|---|"]
        lines += [f"| {p} | `{name}` |" for name, p in profile["total"]]
        lines.append("")
    return "\n".join(lines)


def _row_key(r: Row) -> tuple[int, int, int]:
    return (list(PROFILES).index(r.profile), r.n, SCENARIO_ORDER.index(r.scenario))


# ------------------------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="magento-zoho-sync benchmarks (see docs/benchmarks.md)")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes (10000,100000)")
    parser.add_argument("--huge", action="store_true", help="add 1,000,000 customers")
    parser.add_argument("--profiles", default="zero,realistic", help="comma-separated: zero, realistic")
    parser.add_argument(
        "--scenarios", default="tool,floor,baseline", help="comma-separated: tool, floor, baseline (all)"
    )
    parser.add_argument("--concurrency", type=int, default=10, help="Zoho write concurrency, tool and floor (10)")
    parser.add_argument("--page-size", type=int, default=300, help="Magento page size, tool and floor (300)")
    parser.add_argument("--baseline-cap", type=int, default=1000, help="baseline customers at zero latency (1000)")
    parser.add_argument(
        "--baseline-cap-realistic", type=int, default=200, help="baseline customers at realistic latency (200)"
    )
    parser.add_argument(
        "--baseline-max-n",
        type=int,
        default=1_000_000,
        help="skip the baseline above this N (its unpaged read holds the whole store in memory)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of the floor and the tool per size; the fastest is kept (1)"
    )
    parser.add_argument("--changed-percent", type=float, default=1.0, help="customers changed before the 3rd run (1)")
    parser.add_argument("--run-timeout", type=float, default=3600, help="seconds before a measured run is killed")
    parser.add_argument(
        "--profile-tool", type=int, default=0, metavar="N", help="also profile the tool's first sync at N (py-spy)"
    )
    parser.add_argument("--tool", type=Path, default=Path(simproc.PYTHON).parent / "magento-zoho-sync")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md and .png")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the rows of earlier runs (bench/results/benchmarks.json) that this run does not measure again",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.huge and 1_000_000 not in args.sizes:
        args.sizes.append(1_000_000)
    args.profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = set(args.profiles) - set(PROFILES)
    if unknown:
        parser.error(f"unknown profiles {sorted(unknown)}; use {', '.join(PROFILES)}")
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not 1 <= args.concurrency <= 10:
        parser.error("--concurrency must be between 1 and 10 (the tool's own limit)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "tool" in args.scenarios and not Path(args.tool).exists():
        print(f"{args.tool} not found: install the project (./run bench does)", file=sys.stderr)
        return 2
    raw_args = sys.argv[1:] if argv is None else argv
    command = "./run bench" + ("" if not raw_args else " " + shlex.join(raw_args))
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()

    previous: dict[str, Any] = {"commands": [], "rows": [], "profile": None}
    if args.merge and RESULTS.exists():
        previous = json.loads(RESULTS.read_text(encoding="utf-8"))
    commands: list[dict[str, Any]] = list(previous.get("commands", []))
    bench = Bench(args, command_index=len(commands))
    print(f"{command}\nmachine: {machine()}", flush=True)
    profile = bench.run()
    commands.append(
        {
            "command": command,
            "started": started_at,
            "duration_s": time.perf_counter() - started,
            "machine": machine(),
        }
    )
    fresh = {(r.profile, r.n, r.scenario) for r in bench.rows}
    rows = [Row(**r) for r in previous.get("rows", []) if (r["profile"], r["n"], r["scenario"]) not in fresh]
    rows += bench.rows
    used = sorted({r.command for r in rows})
    renumber = {old: new for new, old in enumerate(used)}
    commands = [commands[i] for i in used]
    for r in rows:
        r.command = renumber[r.command]
    profile = profile or previous.get("profile")

    print()
    print(table_markdown(sorted(rows, key=_row_key)))
    print()
    print(ratios_markdown(rows))
    print()
    for target, value, verdict in targets(rows):
        print(f"  {verdict:12} {target}: {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"commands": commands, "rows": [asdict(r) for r in rows], "profile": profile}, indent=2, default=str
        ),
        encoding="utf-8",
    )
    if not args.no_docs:
        docs = ROOT / "docs"
        chart(rows, docs / "benchmarks.png")
        (docs / "benchmarks.md").write_text(markdown(rows, commands, args, profile), encoding="utf-8")
        print(f"\nwrote {docs / 'benchmarks.md'} and {docs / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
