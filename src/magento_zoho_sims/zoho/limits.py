"""API limits: the rolling 24-hour credit ledger and the concurrency gates (reference §5).

:class:`ConcurrencyGate` is ASGI middleware that must wrap the fault middleware, so that requests held by
injected latency count as in flight. Requests it turns away are logged in the simulator's request log.
"""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.requestlog import LoggedRequest, RequestLog
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.errors import error_body

WINDOW = 24 * 3600.0
SUB_CONCURRENCY_RECORDS = 10  # writes of MORE than this many records count against the sub-concurrency
JSON_CONTENT_TYPE = b"application/json;charset=UTF-8"
SCOPE_BODY_KEY = "zoho.body"
SCOPE_JSON_KEY = "zoho.json"

#: [UNVERIFIED] the wording of the 429 for spent credits: the only one the reference quotes (a legacy body's
#: ``error_info``); it does not say "credits", so a client must go by X-API-CREDITS-REMAINING
CREDITS_EXHAUSTED_MESSAGE = "Many requests fired than the allowed limit for the past 24 hours."
CONCURRENCY_MESSAGE = "Too many concurrent requests. Please try again after some time."


def coql_credits(limit: int) -> int:
    """COQL: 1 credit up to 200 rows, 2 up to 1,000, 3 up to 2,000 (Kaizen #60)."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3


def tag_credits(count: int) -> int:
    return max(1, math.ceil(count / 50))


class CreditLedger:
    """Credits used in the preceding 24 hours (per org), checked on every call."""

    def __init__(self, clock: Clock, config: ZohoConfig) -> None:
        self.clock = clock
        self.config = config
        self._lock = threading.Lock()
        self._entries: deque[tuple[float, int]] = deque()
        self._used = 0
        self.total_charged = 0
        self.rejected = 0

    def _prune(self, now: float) -> None:
        while self._entries and self._entries[0][0] <= now - WINDOW:
            self._used -= self._entries.popleft()[1]

    def used(self) -> int:
        with self._lock:
            self._prune(self.clock.now())
            return self._used

    def remaining(self) -> int:
        return max(0, self.config.credits_per_day - self.used())

    def charge(self, cost: int) -> bool:
        """Spend ``cost`` credits; False (nothing spent) when the 24-hour allowance would be exceeded."""
        now = self.clock.now()
        with self._lock:
            self._prune(now)
            if self._used + cost > self.config.credits_per_day:
                self.rejected += 1
                return False
            self._entries.append((now, cost))
            self._used += cost
            self.total_charged += cost
            return True

    def refund(self, cost: int) -> None:
        """Give back ``cost`` credits of a call just charged (the part of a write Zoho did not charge for)."""
        if cost <= 0:
            return
        now = self.clock.now()
        with self._lock:
            self._entries.append((now, -cost))
            self._used -= cost
            self.total_charged -= cost

    def header(self) -> str | None:
        """``X-API-CREDITS-REMAINING`` once half the daily allowance is used."""
        used = self.used()
        if used * 2 >= self.config.credits_per_day:
            return str(max(0, self.config.credits_per_day - used))
        return None

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0
            self.total_charged = 0
            self.rejected = 0


@dataclass
class GateStats:
    in_flight: int = 0
    heavy_in_flight: int = 0
    max_in_flight: int = 0
    max_heavy_in_flight: int = 0
    rejected: int = 0


def _record_count(parsed: Any) -> int:
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        return len(parsed["data"])
    return 0


class ConcurrencyGate:
    """Turns away CRM API calls beyond the edition's concurrency, and heavy calls beyond the sub-concurrency."""

    def __init__(
        self, app: ASGIApp, *, config: ZohoConfig, log: RequestLog | None, enabled: Callable[[], bool]
    ) -> None:
        self.app = app
        self.config = config
        self.log = log
        self.enabled = enabled
        self.stats = GateStats()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/crm/"):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        if method in {"POST", "PUT", "PATCH"}:
            body = await _read_body(receive)
            scope[SCOPE_BODY_KEY] = body
            try:
                scope[SCOPE_JSON_KEY] = json.loads(body) if body else None
            except ValueError:
                scope[SCOPE_JSON_KEY] = ValueError
            receive = _replay(body)
        path: str = scope["path"]
        heavy = path.endswith("/coql") or (
            method in {"POST", "PUT"} and _record_count(scope.get(SCOPE_JSON_KEY)) > SUB_CONCURRENCY_RECORDS
        )
        if not self._enter(heavy):
            await self._reject(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.stats.in_flight -= 1
                if heavy:
                    self.stats.heavy_in_flight -= 1

    def _enter(self, heavy: bool) -> bool:
        with self._lock:
            stats = self.stats
            if self.enabled() and (
                stats.in_flight >= self.config.concurrency()
                or (heavy and stats.heavy_in_flight >= self.config.sub_concurrency_limit)
            ):
                stats.rejected += 1
                return False
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            if heavy:
                stats.heavy_in_flight += 1
                stats.max_heavy_in_flight = max(stats.max_heavy_in_flight, stats.heavy_in_flight)
            return True

    async def _reject(self, scope: Scope, send: Send) -> None:
        message = self.config.too_many_requests_message or CONCURRENCY_MESSAGE
        body = json.dumps(error_body("TOO_MANY_REQUESTS", message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [(b"content-type", JSON_CONTENT_TYPE), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
        if self.log is not None:
            self.log.add(
                LoggedRequest(
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=429,
                    duration=0.0,
                    headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])},
                    body=scope.get(SCOPE_BODY_KEY, b""),
                )
            )

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = GateStats(in_flight=self.stats.in_flight, heavy_in_flight=self.stats.heavy_in_flight)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()  # like a client keeping the connection open
        return {"type": "http.disconnect"}

    return receive
