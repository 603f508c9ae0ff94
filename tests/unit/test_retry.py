"""retry.py: what is transient, how stamina is bounded, and that retry logs carry no call data."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest
import stamina

from magento_zoho_sync.errors import MagentoAuthError, ZohoAuthError
from magento_zoho_sync.retry import (
    STOPPING,
    RetriesExhausted,
    RetryPolicy,
    TransientStatus,
    abandoned_when,
    install_retry_hooks,
    is_transient_status,
    log_retry,
    parse_retry_after,
    retry_decision,
)
from magento_zoho_sync.settings import RetrySettings


@pytest.fixture(autouse=True)
def _no_waiting() -> Iterator[None]:
    with stamina.set_testing(True, attempts=4):
        yield


def _status(code: int, retry_after: float | None = None) -> TransientStatus:
    return TransientStatus(
        service="Zoho CRM", method="POST", path="/crm/v8/Contacts/upsert", status_code=code, retry_after=retry_after
    )


@pytest.mark.parametrize("code", [429, 500, 502, 503, 504, 599])
def test_transient_statuses(code: int) -> None:
    assert is_transient_status(code)


@pytest.mark.parametrize("code", [200, 201, 204, 207, 301, 400, 401, 403, 404, 412, 501, 505])
def test_final_statuses(code: int) -> None:
    assert not is_transient_status(code)


@pytest.mark.parametrize(
    "exc",
    [
        httpx2.ConnectTimeout("t"),
        httpx2.ReadTimeout("t"),
        httpx2.ConnectError("refused"),
        httpx2.ReadError("reset"),
        httpx2.RemoteProtocolError("Server disconnected without sending a response."),
        _status(503),
        _status(429),
    ],
)
def test_transient_errors_are_retried(exc: Exception) -> None:
    assert retry_decision(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        MagentoAuthError("bad password"),
        ZohoAuthError("invalid_client"),
        ValueError("x"),
        httpx2.UnsupportedProtocol("gopher"),
        httpx2.LocalProtocolError("bad header"),
    ],
)
def test_other_errors_are_final(exc: Exception) -> None:
    assert retry_decision(exc) is False


def test_retry_after_is_honoured_and_capped() -> None:
    assert retry_decision(_status(429, retry_after=2.5), wait_max=30) == 2.5
    assert retry_decision(_status(429, retry_after=3600), wait_max=30) == 30


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("soon") is None
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=120), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(120)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now.timestamp()) == 0


def test_transient_status_from_response_keeps_no_query() -> None:
    request = httpx2.Request(
        "GET", "https://shop.example.com/rest/all/V1/customers/search?searchCriteria%5Bx%5D=jane%40example.com"
    )
    response = httpx2.Response(503, headers={"Retry-After": "3"}, request=request)
    exc = TransientStatus.from_response("Magento", response)
    assert exc.path == "/rest/all/V1/customers/search"
    assert exc.retry_after == 3.0
    assert "jane" not in str(exc)


def test_policy_retries_transient_failures_until_success() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise httpx2.ConnectError("refused")
        return "ok"

    assert RetryPolicy(attempts=6).call("test flaky", flaky) == "ok"
    assert len(calls) == 3


def test_policy_never_retries_credential_errors() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise MagentoAuthError("locked")

    with pytest.raises(MagentoAuthError):
        RetryPolicy(attempts=6).call("test refused", refused)
    assert calls == [1]


def _tls_error(reason: str) -> httpx2.ConnectError:
    """A ConnectError caused by an ssl.SSLError with ``reason``, as httpx2 raises it."""
    cause = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower().replace('_', ' ')}")
    cause.reason = reason  # type: ignore[misc]
    try:
        try:
            raise cause
        except ssl.SSLError as inner:
            raise httpx2.ConnectError(str(inner)) from inner
    except httpx2.ConnectError as outer:
        return outer


@pytest.mark.parametrize("reason", ["WRONG_VERSION_NUMBER", "CERTIFICATE_VERIFY_FAILED"])
def test_a_tls_failure_that_cannot_heal_is_tried_once(reason: str) -> None:
    calls = []

    def plain_http_port() -> None:
        calls.append(1)
        raise _tls_error(reason)

    with pytest.raises(RetriesExhausted) as info:  # the clients' "could not be reached" message, after 1 attempt
        RetryPolicy(attempts=6).call("test tls", plain_http_port)
    assert calls == [1] and info.value.attempts == 1


def test_a_tls_handshake_cut_short_is_still_retried() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise _tls_error("UNEXPECTED_EOF_WHILE_READING")
        return "ok"

    assert RetryPolicy(attempts=6).call("test eof", flaky) == "ok"
    assert len(calls) == 2


def test_policy_reraises_the_last_transient_error_when_attempts_run_out() -> None:
    calls = []

    def down() -> None:
        calls.append(1)
        raise _status(502)

    with pytest.raises(RetriesExhausted) as info:
        RetryPolicy(attempts=4).call("test down", down)
    assert isinstance(info.value.last, TransientStatus)
    assert info.value.last.status_code == 502
    assert info.value.attempts == 4
    assert len(calls) == 4  # stamina's testing mode: 4 attempts, no waiting


def test_policy_from_settings() -> None:
    policy = RetryPolicy.from_settings(RetrySettings(attempts=3, timeout=10, wait_initial=0.1, wait_max=2))
    assert (policy.attempts, policy.timeout, policy.wait_initial, policy.wait_max) == (3, 10, 0.1, 2)
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


def test_our_hook_replaces_stamina_defaults() -> None:
    stamina.instrumentation.set_on_retry_hooks(None)  # back to stamina's defaults (which log arguments)
    install_retry_hooks()
    assert stamina.instrumentation.get_on_retry_hooks() == (log_retry,)


def test_retry_log_names_the_call_and_error_class_but_no_arguments(caplog: pytest.LogCaptureFixture) -> None:
    record = {"email": "CANARY.customer@example.com", "Last_Name": "Canary"}
    calls = []

    def upsert(payload: dict[str, str]) -> str:
        calls.append(payload)
        if len(calls) == 1:
            raise _status(503)
        if len(calls) == 2:
            raise httpx2.ReadTimeout(f"timed out sending {payload['email']}")
        return "done"

    with caplog.at_level(logging.DEBUG):
        assert RetryPolicy(attempts=5).call("zoho POST /Contacts/upsert", lambda: upsert(record)) == "done"
    text = caplog.text
    assert "zoho POST /Contacts/upsert" in text
    assert "TransientStatus(HTTP 503 on POST /crm/v8/Contacts/upsert)" in text
    assert "ReadTimeout" in text
    assert "CANARY" not in text
    assert "Canary" not in text
    assert len([r for r in caplog.records if r.name == "magento_zoho_sync.retry"]) == 2


def test_no_more_attempts_once_the_process_is_stopping() -> None:
    calls = []

    def failing() -> None:
        calls.append(1)
        raise _status(503)

    STOPPING.set()
    try:
        with pytest.raises(RetriesExhausted) as info:  # the same error the clients turn into their message
            RetryPolicy(attempts=4).call("magento GET /customers/search", failing)
    finally:
        STOPPING.clear()
    assert len(calls) == 1 and info.value.attempts == 1
    calls.clear()
    with pytest.raises(RetriesExhausted):
        RetryPolicy(attempts=4).call("magento GET /customers/search", failing)
    assert len(calls) == 4  # not stopping: every attempt


def _cut_by(setter: threading.Timer, policy: RetryPolicy, error: Exception) -> tuple[float, RetriesExhausted]:
    calls = []

    def failing() -> None:
        calls.append(1)
        raise error

    started = time.monotonic()
    setter.start()
    try:
        with pytest.raises(RetriesExhausted) as info:
            policy.call("magento GET /customers/search", failing)
    finally:
        setter.join()
    assert len(calls) == 1  # no attempt after the cut wait
    return time.monotonic() - started, info.value


@pytest.mark.parametrize(
    ("error", "wait_initial"),
    [(_status(503), 30.0), (_status(429, retry_after=30), 0.5)],  # stamina's backoff, and a Retry-After
)
def test_a_stop_cuts_the_wait_before_a_retry_short(error: Exception, wait_initial: float) -> None:
    """A signal during a 30 s wait took effect only when the wait was over."""
    policy = RetryPolicy(attempts=4, timeout=300, wait_initial=wait_initial, wait_max=30)
    try:
        with stamina.set_testing(False):  # real waits
            elapsed, exhausted = _cut_by(threading.Timer(0.5, STOPPING.set), policy, error)
    finally:
        STOPPING.clear()
    assert elapsed < 10, elapsed
    assert exhausted.attempts == 1 and exhausted.last is error  # what the clients turn into their message


def test_an_abandoned_call_stops_waiting_too() -> None:
    """The page reader's call, once the run stopped reading (its consumer gone), waits no longer."""
    abandoned = threading.Event()
    policy = RetryPolicy(attempts=4, timeout=300, wait_initial=30, wait_max=30)
    with stamina.set_testing(False), abandoned_when(abandoned):
        elapsed, _ = _cut_by(threading.Timer(0.5, abandoned.set), policy, _status(503))
    assert elapsed < 10, elapsed
    assert not STOPPING.is_set()


def test_the_waits_still_last_their_time_when_nothing_stops() -> None:
    calls = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise _status(503)
        return "done"

    with stamina.set_testing(False):
        assert RetryPolicy(attempts=3, wait_initial=0.3, wait_max=0.3).call("zoho GET /coql", flaky) == "done"
    assert calls[1] - calls[0] >= 0.25 and calls[2] - calls[1] >= 0.25


def test_retry_log_names_the_request_that_failed_inside_the_call(caplog: pytest.LogCaptureFixture) -> None:
    # a token request made by the client's auth inside a customer search: the 503 was the token's
    calls = []

    def search() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise TransientStatus(
                service="magento", method="POST", path="/rest/V1/integration/admin/token", status_code=503
            )
        return "done"

    with caplog.at_level(logging.WARNING):
        assert RetryPolicy(attempts=3).call("magento GET /customers/search", search) == "done"
    assert "retrying magento GET /customers/search" in caplog.text
    assert "TransientStatus(HTTP 503 on POST /rest/V1/integration/admin/token)" in caplog.text


def test_retry_log_says_what_was_wrong_with_a_200(caplog: pytest.LogCaptureFixture) -> None:
    # a page cut short or replaced by a firewall's: "failed with HTTP 200" alone would read as a success
    calls = []

    def search() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise TransientStatus(
                service="Magento",
                method="GET",
                path="/rest/V1/customers/search",
                status_code=200,
                detail=" but a body that is not JSON (application/json)",
            )
        return "done"

    with caplog.at_level(logging.WARNING):
        assert RetryPolicy(attempts=3).call("magento GET /customers/search", search) == "done"
    expected = "HTTP 200 but a body that is not JSON (application/json) on GET /rest/V1/customers/search"
    assert expected in caplog.text
