from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import pytest

from magento_zoho_sync.readahead import read_ahead
from magento_zoho_sync.retry import RetryPolicy


def test_items_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(range(1000), depth=3)) == list(range(1000))


def test_an_error_in_the_source_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    seen: list[int] = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_stops_the_producer_and_it_never_runs_far_ahead() -> None:
    produced: list[int] = []
    finished = threading.Event()

    def source() -> Iterator[int]:
        try:
            for n in range(1_000_000):
                produced.append(n)
                yield n
        finally:
            finished.set()

    reader = read_ahead(source(), depth=2)
    assert next(reader) == 0
    reader.close()
    assert finished.wait(timeout=5)
    assert len(produced) <= 5


def test_a_request_failing_after_the_consumer_stopped_is_not_retried_nor_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The run stopped and closed its clients: the page being read ahead fails, and nobody waits for it."""
    policy = RetryPolicy(attempts=5, wait_initial=0.0, wait_max=0.0)
    consumer_gone = threading.Event()
    attempts: list[int] = []
    done = threading.Event()

    def second_page() -> int:
        attempts.append(1)
        assert consumer_gone.wait(timeout=5)
        raise httpx2.ReadError("the client was closed under this request")

    def source() -> Iterator[int]:
        try:
            yield policy.call("magento GET /customers/search", lambda: 1)
            yield policy.call("magento GET /customers/search", second_page)
        finally:
            done.set()

    reader = read_ahead(source(), depth=1)
    assert next(reader) == 1
    reader.close()
    consumer_gone.set()
    assert done.wait(timeout=5)
    assert attempts == [1]
    assert "retrying" not in caplog.text


def test_the_same_failure_is_retried_while_the_consumer_still_waits() -> None:
    policy = RetryPolicy(attempts=3, wait_initial=0.0, wait_max=0.0)
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx2.ReadError("dropped")
        return 7

    def source() -> Iterator[int]:
        yield policy.call("magento GET /customers/search", flaky)

    assert list(read_ahead(source())) == [7]
    assert len(attempts) == 3
