"""The Zoho call pacer: fewer calls at once after a 429, back up slowly after calls without one."""

from __future__ import annotations

import threading
import time

import pytest

from magento_zoho_sync.zoho.pacing import _CALLS_BEFORE_RAISING, CallPacer


def test_a_429_allows_one_call_fewer_than_were_running_and_calls_wait_for_a_slot() -> None:
    pacer = CallPacer(4)
    held = [pacer.slot() for _ in range(4)]
    for slot in held:
        slot.__enter__()
    pacer.refused()  # four were running and one was refused: three at once from now on
    assert pacer.limit == 3 and pacer.lowest == 3
    for slot in held:
        slot.__exit__(None, None, None)
    entered = threading.Event()
    release = threading.Event()
    running = []

    def call() -> None:
        with pacer.slot():
            running.append(1)
            entered.set()
            release.wait(5)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert entered.wait(5)
    deadline = time.monotonic() + 10
    while len(running) < 3 and time.monotonic() < deadline:  # three get a slot (however slow the machine)
        time.sleep(0.01)
    time.sleep(0.2)  # and the fourth, started with them, stays out
    assert len(running) == 3  # the fourth waits for a slot instead of spending an attempt
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(running) == 4


def test_the_limit_climbs_back_one_step_after_a_run_of_answers_and_never_below_one() -> None:
    pacer = CallPacer(3)
    with pacer.slot():
        pacer.refused()
        pacer.refused()
        pacer.refused()
    assert pacer.limit == 1
    for _ in range(_CALLS_BEFORE_RAISING * 1 - 1):
        pacer.answered()
    assert pacer.limit == 1
    pacer.answered()
    assert pacer.limit == 2
    for _ in range(_CALLS_BEFORE_RAISING * 2 * 3):
        pacer.answered()
    assert pacer.limit == 3  # never above the configured concurrency


def test_a_pacer_needs_at_least_one_call() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CallPacer(0)
