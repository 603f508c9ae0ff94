"""Crash safety with a real process: SIGKILL half-way, SIGTERM (graceful) and a second signal (at once).

The simulators live in this test process, so their state survives the sync process being killed; the sync
runs as ``python -m magento_zoho_sync sync`` exactly as a scheduler would run it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from magento_zoho_sync.mapping import is_valid_email, normalise_email
from magento_zoho_sync.state import StateStore
from tests.e2e.conftest import World

CUSTOMERS = 3000


class Scenario:
    def __init__(self, world: World) -> None:
        self.magento = world.magento
        self.zoho = world.zoho
        self.zoho.faults.latency = 0.15
        self.zoho.faults.path_pattern = "/Contacts/upsert"
        self.state = world.state_path
        self._served = world.served()
        served_env = self._served.__enter__()
        self.env = {
            **os.environ,
            **served_env,
            "MZSYNC_RETRY_ATTEMPTS": "6",
            "MZSYNC_MAGENTO_PAGE_SIZE": "100",
            # at most 2 batches (200 customers) in flight when the process dies: the bound on what is resent
            "MZSYNC_ZOHO_CONCURRENCY": "2",
        }

    def start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "magento_zoho_sync", "sync"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_for_upserts(self, count: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.zoho.writes("upsert")) < count:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the sync did not write in time"
            time.sleep(0.02)

    def written_emails(self) -> list[str]:
        """The emails of every record sent in an upsert that Zoho received, oldest first."""
        return [
            str(record["Email"])
            for request in self.zoho.log
            if request.path.endswith("/Contacts/upsert") and request.body
            for record in json.loads(request.body)["data"]
        ]

    def finish(self) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "magento_zoho_sync", "sync"],
            check=False,
            env=self.env,
            capture_output=True,
            timeout=300,
        )

    def assert_every_customer_exactly_once(self) -> None:
        store = StateStore.open(self.state, read_only=True)
        failed = {f.customer_id for f in store.failures()}
        store.close()
        expected = {
            normalise_email(email)
            for cid, email, _ in self.magento.backend.iter_emails()
            if cid not in failed and is_valid_email(normalise_email(email))
        }
        emails = [str(contact["Email"]) for contact in self.zoho.contacts()]
        assert len(emails) == len(set(emails)), "a contact was duplicated"
        assert self.zoho.duplicate_emails() == {}
        assert expected <= set(emails), f"{len(expected - set(emails))} customers are missing"

    def close(self) -> None:
        self._served.__exit__(None, None, None)


@pytest.fixture
def scenario(make_world: Any) -> Iterator[Scenario]:
    world = Scenario(make_world(CUSTOMERS, seed=11))
    yield world
    world.close()


@pytest.mark.slow
def test_sigkill_half_way_then_rerun_loses_nothing_and_duplicates_nothing(scenario: Scenario) -> None:
    process = scenario.start()
    scenario.wait_for_upserts(14, process)  # about half of the ~29 batches
    process.kill()
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    first = scenario.written_emails()
    store = StateStore.open(scenario.state, read_only=True)
    checkpoint = store.checkpoint()
    store.close()
    assert checkpoint is not None and checkpoint.after_id > 0

    result = scenario.finish()
    assert result.returncode in (0, 1), result.stdout.decode()
    second = scenario.written_emails()[len(first) :]
    resent = set(first) & set(second)
    assert first and len(resent) < len(first) / 3, (len(resent), len(first))
    scenario.assert_every_customer_exactly_once()


@pytest.mark.slow
@pytest.mark.parametrize(("signals", "signum"), [(1, signal.SIGTERM), (2, signal.SIGTERM), (1, signal.SIGHUP)])
def test_sigterm_saves_and_exits_143_and_the_next_run_finishes(
    scenario: Scenario, signals: int, signum: signal.Signals
) -> None:
    process = scenario.start()
    scenario.wait_for_upserts(8, process)
    for _ in range(signals):
        process.send_signal(signum)
        time.sleep(0.05)
    output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 128 + signum, output  # 143 for SIGTERM, 129 for SIGHUP (a closed session)
    if signals == 1:
        assert "Interrupted" in output and "Sync summary" in output  # the partial summary
        store = StateStore.open(scenario.state, read_only=True)
        [run] = store.runs(1)
        store.close()
        assert run.status == "interrupted"
    else:  # quit at once: the run's end is not saved, so it shows as running until the next sync resumes it
        store = StateStore.open(scenario.state, read_only=True)
        [run] = store.runs(1)
        store.close()
        assert run.status == "running"
        assert "Quitting at once" in output and "Sync summary" not in output
    result = scenario.finish()
    if signals == 2:
        assert b"resum" in result.stdout.lower(), result.stdout.decode()
    assert result.returncode in (0, 1), result.stdout.decode()
    scenario.assert_every_customer_exactly_once()
