"""Retries of transient failures, with stamina (exponential backoff with jitter, attempts and a total deadline).

Transient: timeouts, connection errors (not a TLS certificate that cannot be verified, nor an https URL for a
plain-http port: those are raised as :class:`RetriesExhausted` after one attempt), dropped connections, HTTP 5xx
(Magento's 503 HTML maintenance page included), HTTP 429, and a Magento 200 whose JSON cannot be read (the
Magento client raises it as a :class:`TransientStatus`). Everything else is final at once; in particular
credential errors (:class:`~magento_zoho_sync.errors.AuthError`) are never retried, because Magento locks an admin
user after 6 failed logins and Zoho locks out clients that ask for tokens too often.

The wait before each retry ends early once the process is stopping (:data:`STOPPING`) or the call is abandoned
(:func:`abandoned_when`), in whatever thread it waits: the call then makes no other attempt and fails as if its
attempts had run out, so a signal takes effect at once rather than after a wait of up to ``wait_max``.

stamina's default retry hooks log the arguments of the retried callable, which would put customer records
into the log. :func:`install_retry_hooks` (called by every :class:`RetryPolicy`) replaces them with
:func:`log_retry`, which logs the call's name, the attempt, the wait and the class of the error only.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

import httpx2
import stamina
from stamina.instrumentation import RetryDetails

from magento_zoho_sync.proxy import proxy_status
from magento_zoho_sync.tls import is_final_tls_failure

__all__ = [
    "TRANSIENT_TRANSPORT_ERRORS",
    "RetriesExhausted",
    "RetryPolicy",
    "TransientStatus",
    "abandoned_when",
    "attempts_text",
    "install_retry_hooks",
    "is_transient_status",
    "log_retry",
    "parse_retry_after",
    "retry_decision",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Transport failures worth another attempt: the request may not have arrived, or its answer got lost.
TRANSIENT_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx2.TimeoutException,  # connect, read, write, pool
    httpx2.NetworkError,  # connection refused/reset, read/write errors
    httpx2.RemoteProtocolError,  # "Server disconnected without sending a response"
    httpx2.ProxyError,
)


class RetrySettingsLike(Protocol):
    """What :meth:`RetryPolicy.from_settings` reads (``settings.RetrySettings``)."""

    @property
    def attempts(self) -> int: ...
    @property
    def timeout(self) -> float: ...
    @property
    def wait_initial(self) -> float: ...
    @property
    def wait_max(self) -> float: ...


def is_transient_status(status_code: int) -> bool:
    """429 and every 5xx except 501 (Not Implemented) and 505 (HTTP Version Not Supported)."""
    return status_code == 429 or (500 <= status_code <= 599 and status_code not in (501, 505))


class RetriesExhausted(Exception):
    """A transient failure persisted through every attempt (or the total timeout); ``last`` is the last error."""

    def __init__(self, name: str, attempts: int, last: Exception) -> None:
        super().__init__(f"{name}: still failing after {attempts_text(attempts)} ({type(last).__name__})")
        self.name = name
        self.attempts = attempts
        self.last = last

    @property
    def tries(self) -> str:
        """``1 attempt``, ``6 attempts``: for messages."""
        return attempts_text(self.attempts)


def attempts_text(attempts: int) -> str:
    return f"{attempts} attempt{'' if attempts == 1 else 's'}"


class TransientStatus(Exception):
    """A service answered with a status that is worth trying again (raised inside a retried call).

    Carries no body and no URL query: only what a log line or an error message may show.
    """

    def __init__(
        self,
        *,
        service: str,
        method: str,
        path: str,
        status_code: int,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{service} answered {method} {path} with HTTP {status_code}{detail}")
        self.service = service
        self.method = method
        self.path = path
        self.status_code = status_code
        self.retry_after = retry_after
        self.detail = detail

    @classmethod
    def from_response(cls, service: str, response: httpx2.Response, *, detail: str = "") -> TransientStatus:
        """Build from a response; the path never includes the query string."""
        return cls(
            service=service,
            method=response.request.method,
            path=response.request.url.path,
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            detail=detail,
        )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds)


def retry_decision(exc: Exception, *, wait_max: float = 30.0) -> bool | float:
    """stamina backoff hook: False = final; True = retry with backoff; a float = retry after that many seconds.

    A ``Retry-After`` header is honoured, capped at ``wait_max``.
    """
    if isinstance(exc, TransientStatus):
        if exc.retry_after is not None:
            return min(exc.retry_after, wait_max)
        return True
    # a certificate that cannot be verified, an https URL for a plain-http port, or a proxy that wants credentials
    # fails the same way every time
    if proxy_status(exc) == 407:
        return False
    return isinstance(exc, TRANSIENT_TRANSPORT_ERRORS) and not is_final_tls_failure(exc)


_call_name: contextvars.ContextVar[str] = contextvars.ContextVar("mzs_retry_call_name", default="<call>")

#: Set while the process is stopping (SIGINT/SIGTERM/SIGHUP): no call starts another attempt, so a service that
#: keeps failing cannot hold the shutdown for the whole retry timeout (systemd kills after 90 s).
STOPPING = threading.Event()


_abandoned: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("mzs_retry_abandoned", default=None)


@contextlib.contextmanager
def abandoned_when(event: threading.Event) -> Iterator[None]:
    """Inside (in this thread): once ``event`` is set, a failed call is not tried again, and no retry is logged.

    For work nobody waits for any more: the pages read ahead after the run stopped, whose request the closing
    client cuts (a "retrying" warning after the run's last word would only mislead).
    """
    token = _abandoned.set(event)
    try:
        yield
    finally:
        _abandoned.reset(token)


#: How often a wait checks an abandoned call's event (it waits on :data:`STOPPING` itself, woken at once).
_ABANDONED_CHECK_SECONDS = 0.1


class _WaitCut(Exception):
    """The wait before a retry ended early: the process is stopping, or the call was abandoned."""


def _cut(abandoned: threading.Event | None) -> bool:
    return STOPPING.is_set() or (abandoned is not None and abandoned.is_set())


def wait_before_retry(seconds: float) -> None:
    """The wait before the next attempt (stamina's backoff or a ``Retry-After``), instead of ``time.sleep``.

    Raises :class:`_WaitCut` as soon as the process is stopping or the call is abandoned, so that the waiting
    thread (the main one, the page reader, a Zoho writer) stops at once, without another attempt.
    """
    abandoned = _abandoned.get()
    deadline = time.monotonic() + seconds
    while not _cut(abandoned):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        STOPPING.wait(remaining if abandoned is None else min(remaining, _ABANDONED_CHECK_SECONDS))
    raise _WaitCut


def _with_cut_waits(retrying: Iterable[T]) -> Iterable[T]:
    """stamina's retry iterator, waiting with :func:`wait_before_retry` instead of ``time.sleep``.

    stamina has no public setting for it; it passes its tenacity arguments (``_t_kw``) on to ``tenacity.Retrying``,
    which takes a ``sleep``. ``test_a_stop_cuts_the_wait_before_a_retry_short`` fails if a stamina release changes
    that (the waits would then run to their end again, as before).
    """
    tenacity_arguments = getattr(retrying, "_t_kw", None)
    if isinstance(tenacity_arguments, dict):
        tenacity_arguments["sleep"] = wait_before_retry
    return retrying


def log_retry(details: RetryDetails) -> None:
    """The only retry hook installed: name, attempt, wait and error class. Never arguments, never bodies."""
    error = details.caused_by
    kind = type(error).__name__
    if isinstance(error, TransientStatus):  # the request that failed: a login inside a call is not the call itself
        # with what was wrong with a 200 (" but an HTML page instead of JSON"): "failed with HTTP 200" alone is a riddle
        kind = f"{kind}(HTTP {error.status_code}{error.detail} on {error.method} {error.path})"
    logger.warning(
        "retrying %s: attempt %d failed with %s; next attempt in %.1fs",
        _call_name.get(),
        details.retry_num,
        kind,
        details.wait_for,
    )


def install_retry_hooks() -> None:
    """Replace stamina's default on-retry hooks (which log call arguments) with :func:`log_retry`."""
    stamina.instrumentation.set_on_retry_hooks([log_retry])


class RetryPolicy:
    """Runs a callable with stamina retries bounded by the retry settings.

    ``attempts`` counts the first try; ``timeout`` bounds the whole call including waits. Tests call
    ``stamina.set_testing(True, attempts=N)`` so that no real waiting happens.
    """

    def __init__(
        self, *, attempts: int = 6, timeout: float = 120.0, wait_initial: float = 0.5, wait_max: float = 30.0
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.attempts = attempts
        self.timeout = timeout
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        install_retry_hooks()

    @classmethod
    def from_settings(cls, settings: RetrySettingsLike) -> RetryPolicy:
        return cls(
            attempts=settings.attempts,
            timeout=settings.timeout,
            wait_initial=settings.wait_initial,
            wait_max=settings.wait_max,
        )

    def _decide(self, exc: Exception) -> bool | float:
        abandoned = _abandoned.get()
        if STOPPING.is_set() or (abandoned is not None and abandoned.is_set()):
            return False
        return retry_decision(exc, wait_max=self.wait_max)

    def call(self, name: str, fn: Callable[[], T]) -> T:
        """Return ``fn()``, retrying transient failures.

        A final (non-transient) error is raised as it is, at once. When attempts or time run out on a transient
        error, :class:`RetriesExhausted` is raised with that last error and the number of attempts made.
        ``name`` (e.g. ``"zoho POST /Contacts/upsert"``) is what the retry log line shows.
        """
        attempts = 0
        last: Exception | None = None
        token = _call_name.set(name)
        retrying = stamina.retry_context(
            on=self._decide,
            attempts=self.attempts,
            timeout=self.timeout,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
        )
        try:
            for attempt in _with_cut_waits(retrying):
                with attempt:
                    attempts += 1
                    try:
                        return fn()
                    except Exception as exc:
                        last = exc
                        raise
        except _WaitCut:  # stopping during the wait: no more attempts, as if they had run out
            assert last is not None  # a wait comes after a failed attempt
            raise RetriesExhausted(name, attempts, last) from last
        except Exception as exc:
            if retry_decision(exc) is False and not (
                isinstance(exc, TRANSIENT_TRANSPORT_ERRORS) and is_final_tls_failure(exc)
            ):
                raise
            raise RetriesExhausted(name, attempts, exc) from exc
        finally:
            _call_name.reset(token)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error
