"""A signal while a call waits before its next attempt stops the run at once, not when the wait is over.

A real ``python -m magento_zoho_sync sync`` process against the simulators on loopback ports: each service keeps
failing one kind of call, so that a thread of the run waits 30 s before trying again (the page reader, the main
thread reading Zoho's contacts, the Zoho writers), and SIGTERM comes during that wait.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sims.common.requestlog import RequestLog
from magento_zoho_sync.state import StateStore
from tests.e2e.conftest import World

WAIT = 30  # seconds before the next attempt
BOUND = 10  # the run must be over this long after the signal (generous: a shared, loaded machine)


def _magento_search_throttled(world: World) -> tuple[RequestLog, str, int, dict[str, str]]:
    """The page reader: every customer search answers 429 with ``Retry-After: 30``."""
    world.magento.config.retry_after = WAIT
    world.magento.faults.throttle_rate = 1.0
    world.magento.faults.path_pattern = "/customers/search"
    return world.magento.log, "/customers/search", 429, {"MZSYNC_RETRY_WAIT_INITIAL": "0.5"}


def _zoho_coql_in_maintenance(world: World) -> tuple[RequestLog, str, int, dict[str, str]]:
    """The main thread: Zoho's contacts (read by COQL on a first, full run) answer a 503 maintenance page."""
    world.zoho.faults.maintenance = True
    world.zoho.faults.path_pattern = "/coql"
    return world.zoho.log, "/coql", 503, {"MZSYNC_RETRY_WAIT_INITIAL": str(WAIT)}


def _zoho_upserts_throttled(world: World) -> tuple[RequestLog, str, int, dict[str, str]]:
    """The Zoho writers: every upsert answers 429 TOO_MANY_REQUESTS."""
    world.zoho.faults.throttle_rate = 1.0
    world.zoho.faults.path_pattern = "/Contacts/upsert"
    return world.zoho.log, "/Contacts/upsert", 429, {"MZSYNC_RETRY_WAIT_INITIAL": str(WAIT)}


def _wait_for(log: RequestLog, path: str, status: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not any(request.path.endswith(path) and request.status == status for request in log):
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        assert time.monotonic() < deadline, f"no {status} on {path} in time"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("fault", [_magento_search_throttled, _zoho_coql_in_maintenance, _zoho_upserts_throttled])
def test_sigterm_during_a_retry_wait_stops_the_run_at_once(
    make_world: Any, tmp_path: Path, fault: Callable[[World], tuple[RequestLog, str, int, dict[str, str]]]
) -> None:
    world = make_world(300, seed=5)
    log, path, status, retry_env = fault(world)
    report = tmp_path / "report.json"
    with world.served() as served_env:
        env = {
            **os.environ,
            **served_env,
            "MZSYNC_RETRY_ATTEMPTS": "6",
            "MZSYNC_RETRY_TIMEOUT": "600",
            "MZSYNC_RETRY_WAIT_MAX": str(WAIT),
            **retry_env,
        }
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and package
            [sys.executable, "-m", "magento_zoho_sync", "sync", "--report", str(report)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(log, path, status, process)
            time.sleep(1)  # the failed attempt is logged, and its thread is in the wait
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=WAIT * 3)[0].decode()
            elapsed = time.monotonic() - signalled
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert elapsed < BOUND, (elapsed, output)
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "retrying" in output and "Interrupted" in output, output
    assert json.loads(report.read_text())["status"] == "interrupted"
    store = StateStore.open(world.state_path, read_only=True)
    [run] = store.runs(1)
    store.close()
    assert run.status == "interrupted"
