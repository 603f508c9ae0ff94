"""Benchmark plumbing: simulators in their own processes, their control planes, and measured subprocesses.

Only loopback addresses are used. The measured process (the tool, the floor or the baseline) is always a
separate subprocess, so its wall time and peak RSS are its own; the simulators run in two more processes.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class SimProcess:
    """One simulator (``magento`` or ``zoho``) started with ``python -m magento_zoho_sims``."""

    kind: str
    proc: subprocess.Popen[bytes]
    info: dict[str, Any]
    ready_file: Path

    @property
    def url(self) -> str:
        return str(self.info[self.kind]["url"])

    def control(self, method: str, path: str, body: Any = None, timeout: float = 600.0) -> Any:
        with httpx2.Client(base_url=self.url, timeout=timeout) as client:
            response = client.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    def stats(self) -> dict[str, Any]:
        return dict(self.control("GET", "/_sim/stats"))

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the simulator has used so far."""
        try:
            times = psutil.Process(self.proc.pid).cpu_times()
        except psutil.Error:
            return float("nan")
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        try:
            return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20
        except psutil.Error:
            return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.ready_file.unlink(missing_ok=True)


def start_sim(kind: str, args: list[str], workdir: Path, timeout: float = 300.0) -> SimProcess:
    """Start ``python -m magento_zoho_sims <kind> --port 0 ... --ready-file`` and wait for its ready file."""
    ready = workdir / f"{kind}-ready-{time.monotonic_ns()}.json"
    log = (workdir / f"{kind}.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [PYTHON, "-m", "magento_zoho_sims", kind, "--port", "0", "--quiet", "--ready-file", str(ready), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"the {kind} simulator exited with {proc.returncode}; see {workdir / (kind + '.log')}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the {kind} simulator did not start within {timeout:.0f} s")
        time.sleep(0.05)
    info = json.loads(ready.read_text(encoding="utf-8"))
    return SimProcess(kind=kind, proc=proc, info=info, ready_file=ready)


@dataclass
class Measured:
    """What happened to one measured subprocess."""

    returncode: int
    wall: float
    peak_rss_mb: float  # the child's own ru_maxrss (os.wait4), i.e. its high-water mark
    stdout_path: Path
    timed_out: bool = False
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    cpu_s: float = 0.0  # the child's user + system CPU seconds (os.wait4), all its threads


def _poll_rss(pid: int, samples: list[tuple[float, float]], stop: threading.Event, started: float) -> None:
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append((time.perf_counter() - started, int(line.split()[1]) / 1024))
                    break
        except OSError:
            return
        stop.wait(0.25)


def run_measured(argv: list[str], env: dict[str, str], log_path: Path, timeout: float, cwd: Path = ROOT) -> Measured:
    """Run ``argv``; wall time from start to exit; peak RSS from ``os.wait4`` (exact high-water mark)."""
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)  # noqa: S603
        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        poller = threading.Thread(target=_poll_rss, args=(proc.pid, samples, stop, started), daemon=True)
        poller.start()
        fired: list[bool] = []

        def kill() -> None:
            fired.append(True)
            proc.kill()

        killer = threading.Timer(timeout, kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            stop.set()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        timed_out = bool(fired)
    return Measured(
        returncode=proc.returncode,
        wall=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        stdout_path=log_path,
        timed_out=timed_out,
        rss_samples=samples,
        cpu_s=usage.ru_utime + usage.ru_stime,
    )


#: The Zoho simulator of every benchmark: 10 concurrent calls and 10 concurrent heavy writes (the realistic
#: profile's limits) and credits that never run out (the benchmark counts them, it does not ration them).
ZOHO_CONCURRENCY = 10
ZOHO_SUB_CONCURRENCY = 10
CREDITS = 1_000_000_000
#: The tool's settings in every benchmark, the floor's too: 10 concurrent Zoho writes, Magento pages of 300.
TOOL_SETTINGS = {"MZSYNC_ZOHO_CONCURRENCY": "10", "MZSYNC_MAGENTO_PAGE_SIZE": "300"}


def start_zoho(workdir: Path, latency: float) -> SimProcess:
    """A fresh Zoho org (a new simulator process) with the benchmark's limits and ``latency`` seconds per call."""
    args = ["--latency", str(latency), "--concurrency", str(ZOHO_CONCURRENCY)]
    args += ["--sub-concurrency", str(ZOHO_SUB_CONCURRENCY), "--credits", str(CREDITS)]
    return start_sim("zoho", args, workdir)


def parse_settings(pairs: str) -> dict[str, str]:
    """``"A=1,B=2"`` (a variant's settings on the command line) as a dict."""
    return dict(pair.split("=", 1) for pair in pairs.split(",") if pair)


def sim_env(magento: SimProcess, zoho: SimProcess, refresh_token: str | None = None) -> dict[str, str]:
    """The product's environment variables for these two simulators (a fresh refresh token if given)."""
    env = {
        "MAGENTO_BASE_URL": magento.info["magento"]["url"],
        "MAGENTO_USERNAME": magento.info["magento"]["username"],
        "MAGENTO_PASSWORD": magento.info["magento"]["password"],
        "ZOHO_ACCOUNTS_URL": zoho.info["zoho"]["accounts_url"],
        "ZOHO_API_URL": zoho.info["zoho"]["api_url"],
        "ZOHO_CLIENT_ID": zoho.info["zoho"]["client_id"],
        "ZOHO_CLIENT_SECRET": zoho.info["zoho"]["client_secret"],
        "ZOHO_REFRESH_TOKEN": refresh_token or zoho.info["zoho"]["refresh_token"],
    }
    return env


def clean_env(extra: dict[str, str], home: Path) -> dict[str, str]:
    """A minimal environment: no MZSYNC_* / MAGENTO_* / ZOHO_* from the caller's shell leak into a run."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT"}}
    keep.update({"HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "PYTHONUNBUFFERED": "1"})
    keep.update(extra)
    return keep


#: Keeps a benchmark's state files when set (they take tens to hundreds of MB each: 40 MB per 100,000 customers).
KEEP_STATE_ENV = "MZS_BENCH_KEEP_STATE"

_STATE_SUFFIXES = (".db", ".sqlite", ".db-wal", ".db-shm", ".sqlite-wal", ".sqlite-shm", ".db.lock", ".sqlite.lock")


def workdir(prefix: str = "mzs-bench-") -> Path:
    """A temporary folder for one benchmark command's files.

    The state files the runs leave in it are removed when the command ends (unless ``MZS_BENCH_KEEP_STATE=1``);
    the logs and the results stay, since a message may point at them.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if not os.environ.get(KEEP_STATE_ENV):
        atexit.register(remove_state_files, path)
        _exit_on_sigterm()
    return path


def _exit_on_sigterm() -> None:
    """A SIGTERM (a timeout, a CI job cancelled) ends the command through ``sys.exit``, so the clean-up runs."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def remove_state_files(folder: Path) -> None:
    """Delete the SQLite state files (and their companions) anywhere below ``folder``."""
    for path in folder.rglob("*"):
        if path.is_file() and path.name.endswith(_STATE_SUFFIXES):
            path.unlink(missing_ok=True)
