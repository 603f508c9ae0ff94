"""Talk to a simulator without sockets: a synchronous ``httpx2`` transport that calls ASGI apps directly.

One background event loop (a daemon thread) serves every request, so requests sent from several threads
run concurrently inside the simulator, exactly as they would over a socket.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

import httpx2
from starlette.types import ASGIApp, Message, Scope

from magento_zoho_sims.common.faults import DropConnection


class _Loop:
    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="sim-inprocess-loop", daemon=True).start()
                cls._loop = loop
            return cls._loop


class InProcessTransport(httpx2.BaseTransport):
    """Route each request to an ASGI app by ``host[:port]`` (or send everything to one app)."""

    def __init__(self, apps: Mapping[str, ASGIApp] | ASGIApp) -> None:
        self._apps: Mapping[str, ASGIApp] | None = apps if isinstance(apps, Mapping) else None
        self._single: ASGIApp | None = None if isinstance(apps, Mapping) else apps

    def _route(self, url: httpx2.URL) -> ASGIApp:
        if self._single is not None:
            return self._single
        assert self._apps is not None
        netloc = url.netloc.decode("ascii")
        for key in (netloc, url.host):
            if key in self._apps:
                return self._apps[key]
        raise httpx2.ConnectError(f"no simulator is mounted for host {netloc!r}")

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        app = self._route(request.url)
        body = request.read()
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": ("127.0.0.1", 50000),
            "server": (request.url.host, request.url.port or (443 if request.url.scheme == "https" else 80)),
        }
        future = asyncio.run_coroutine_threadsafe(_call(app, scope, body), _Loop.get())
        status, headers, content, complete = future.result()
        if not complete:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a complete response.")
        return httpx2.Response(status, headers=headers, content=content, request=request)


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    sent_body = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    complete = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # like a client that keeps the connection open
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers, complete
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True

    try:
        await app(scope, receive, send)
    except DropConnection:
        complete = False
    return status, headers, b"".join(chunks), complete
