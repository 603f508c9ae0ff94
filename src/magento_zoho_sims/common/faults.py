"""Fault injection shared by both simulators.

A :class:`FaultPlan` says what goes wrong and how often; :class:`FaultMiddleware` applies it to every
request of a simulator's ASGI app. What a fault *looks like* on the wire (Magento's masked 500 with a
report id, Zoho's ``INTERNAL_ERROR`` envelope, Magento's HTML maintenance page, ...) is service-specific,
so each simulator passes its own :class:`FaultRenderers`.

Latency is applied inside the middleware before the wrapped app runs. Anything that must see requests
while they are "in flight" (the Zoho concurrency gate) therefore wraps *this* middleware, not the reverse.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magento_zoho_sims.common.requestlog import LoggedRequest, RequestLog


class FaultKind(StrEnum):
    ERROR = "error"  # the service's 500
    THROTTLE = "throttle"  # the service's 429
    DROP = "drop"  # the connection drops before the request is handled (nothing applied)
    APPLY_THEN_DROP = "apply_then_drop"  # the request is handled (a write is applied), then the connection drops
    MAINTENANCE = "maintenance"  # the service's maintenance answer (Magento: 503 HTML page)
    TRUNCATED = "truncated"  # the request is handled (a write is applied); its answer arrives cut off half-way
    HTML_200 = "html_200"  # a 200 with an HTML page instead of the API (a WAF, a login page): nothing applied


class DropConnection(Exception):
    """Raised inside an app to make the transport or server drop the connection."""


@dataclass(frozen=True)
class FaultRenderers:
    """Service-specific bodies for injected faults."""

    error: Callable[[], Response]
    throttle: Callable[[], Response]
    maintenance: Callable[[], Response]


#: The fault plan's numbers a control plane sets: seconds of latency, and fractions of the matching requests.
RATES: Final = (
    "latency",
    "latency_jitter",
    "error_rate",
    "throttle_rate",
    "drop_rate",
    "apply_then_drop_rate",
    "truncated_rate",
    "html_200_rate",
)


@dataclass
class FaultPlan:
    """What goes wrong, and how often. Rates are fractions of the matching requests (0.0 to 1.0).

    ``path_pattern`` (a regular expression searched in the path) and ``methods`` restrict which requests
    the plan applies to. ``script()`` queues one-shot faults for the next matching requests, which is how
    a test says "the next two upserts get a 429" deterministically.
    """

    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    drop_rate: float = 0.0
    apply_then_drop_rate: float = 0.0
    truncated_rate: float = 0.0
    html_200_rate: float = 0.0
    maintenance: bool = False
    path_pattern: str | None = None
    methods: frozenset[str] | None = None
    seed: int | None = None
    _scripted: deque[tuple[FaultKind, str | None]] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def script(self, kind: FaultKind | str, count: int = 1, *, path_pattern: str | None = None) -> None:
        """Make the next ``count`` requests whose path matches ``path_pattern`` fail with ``kind``."""
        with self._lock:
            for _ in range(count):
                self._scripted.append((FaultKind(kind), path_pattern))

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply a control plane's ``POST /_sim/faults`` body: ``clear`` (every fault cleared first), any of
        :data:`RATES`, ``maintenance``, ``path_pattern`` and ``script`` (a list of ``{"kind", "count",
        "path_pattern"}``); ValueError when malformed, and then nothing is changed."""
        try:  # read all of it first: a malformed body changes nothing
            rates = {name: float(data[name]) for name in RATES if name in data}
            script = [
                (FaultKind(item["kind"]), int(item.get("count", 1)), item.get("path_pattern"))
                for item in data.get("script", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"faults: {exc!r}") from None
        if data.get("clear"):
            self.clear()
        for name, rate in rates.items():
            setattr(self, name, rate)
        if "maintenance" in data:
            self.maintenance = bool(data["maintenance"])
        if "path_pattern" in data:
            self.path_pattern = data["path_pattern"]
        for kind, count, pattern in script:
            self.script(kind, count, path_pattern=pattern)

    def settings(self) -> dict[str, Any]:
        """What :meth:`configure` sets, as it is now (the script aside)."""
        return {name: getattr(self, name) for name in (*RATES, "maintenance", "path_pattern")}

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
        self.latency = self.latency_jitter = 0.0
        self.error_rate = self.throttle_rate = self.drop_rate = self.apply_then_drop_rate = 0.0
        self.truncated_rate = self.html_200_rate = 0.0
        self.maintenance = False
        self.path_pattern = None
        self.methods = None

    def applies_to(self, method: str, path: str) -> bool:
        if path.startswith("/_sim"):
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.path_pattern is None or re.search(self.path_pattern, path) is not None

    def delay(self) -> float:
        with self._lock:
            jitter = self._rng.uniform(0.0, self.latency_jitter) if self.latency_jitter else 0.0
        return self.latency + jitter

    def choose(self, method: str, path: str) -> FaultKind | None:
        """The fault for this request, if any (scripted faults first, then the random rates)."""
        if path.startswith("/_sim"):
            return None
        with self._lock:
            for index, (kind, pattern) in enumerate(self._scripted):
                if pattern is None or re.search(pattern, path):
                    del self._scripted[index]
                    return kind
            if not self.applies_to(method, path):
                return None
            if self.maintenance:
                return FaultKind.MAINTENANCE
            roll = self._rng.random()
        for kind, rate in (
            (FaultKind.ERROR, self.error_rate),
            (FaultKind.THROTTLE, self.throttle_rate),
            (FaultKind.DROP, self.drop_rate),
            (FaultKind.APPLY_THEN_DROP, self.apply_then_drop_rate),
            (FaultKind.TRUNCATED, self.truncated_rate),
            (FaultKind.HTML_200, self.html_200_rate),
        ):
            if roll < rate:
                return kind
            roll -= rate
        return None


async def _drop(send: Send) -> None:
    """Start a response and abandon it, so that the client sees the connection die mid-answer."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise DropConnection


#: What a web application firewall or a login page in front of the API answers: 200, and a page for a browser.
HTML_200_PAGE: Final = (
    b"<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>\n"
    b"<body><h1>Checking your browser before accessing the site.</h1>"
    b"<p>Enable JavaScript and cookies to continue.</p></body></html>\n"
)


async def _html_200(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/html; charset=UTF-8"),
                (b"content-length", str(len(HTML_200_PAGE)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": HTML_200_PAGE, "more_body": False})


def truncating(send: Send) -> tuple[Send, Callable[[], Awaitable[None]]]:
    """A ``send`` that holds the app's answer, and what then sends it with its body cut to half its length (a
    Content-Length that says so: the answer is complete as HTTP goes, and only its content is cut off)."""
    start: list[Message] = []
    body: list[bytes] = []

    async def hold(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.append(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    async def release() -> None:
        whole = b"".join(body)
        cut = whole[: len(whole) // 2]
        first: Message = start[0] if start else {"type": "http.response.start", "status": 500, "headers": []}
        headers = [(k, v) for k, v in first.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({**first, "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": False})

    return hold, release


class FaultMiddleware:
    """Applies a :class:`FaultPlan` and records every request in a :class:`RequestLog`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        plan: Callable[[], FaultPlan],
        renderers: FaultRenderers,
        log: RequestLog | None = None,
        log_bodies: bool = True,
    ) -> None:
        self.app = app
        self.plan = plan
        self.renderers = renderers
        self.log = log
        self.log_bodies = log_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        status_box = [0]
        body_parts: list[bytes] = []

        logging_receive: Receive = receive
        if self.log_bodies:  # read the body once, for the log, then hand it on to the app unchanged
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                body_parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            replayed = [False]
            upstream = receive

            async def replay() -> Message:
                if not replayed[0]:
                    replayed[0] = True
                    return {"type": "http.request", "body": b"".join(body_parts), "more_body": False}
                return await upstream()

            logging_receive = replay

        logged = [False]

        def record() -> None:
            if self.log is None or logged[0]:
                return
            logged[0] = True
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
            self.log.add(
                LoggedRequest(
                    method=method,
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status_box[0],
                    duration=time.perf_counter() - started,
                    headers=headers,
                    body=b"".join(body_parts),
                )
            )

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()  # before the client can have the answer: whoever it tells may read the log at once
            await send(message)

        try:
            plan = self.plan()
            if plan.applies_to(method, path):
                wait = plan.delay()
                if wait > 0:
                    await anyio.sleep(wait)
            kind = plan.choose(method, path)
            if kind is FaultKind.DROP:
                await _drop(logging_send)
            elif kind is FaultKind.APPLY_THEN_DROP:
                await self.app(scope, logging_receive, _swallow)
                await _drop(logging_send)
            elif kind is FaultKind.TRUNCATED:
                hold, release = truncating(logging_send)
                await self.app(scope, logging_receive, hold)
                await release()
            elif kind is FaultKind.HTML_200:
                await _html_200(logging_send)
            elif kind is not None:
                renderer = {
                    FaultKind.ERROR: self.renderers.error,
                    FaultKind.THROTTLE: self.renderers.throttle,
                    FaultKind.MAINTENANCE: self.renderers.maintenance,
                }[kind]
                await renderer()(scope, logging_receive, logging_send)
            else:
                await self.app(scope, logging_receive, logging_send)
        finally:
            record()  # no complete answer was sent (a dropped connection, an error): logged all the same


async def _swallow(message: Message) -> None:
    """A ``send`` that throws the response away (the write happened; the client never hears of it)."""
