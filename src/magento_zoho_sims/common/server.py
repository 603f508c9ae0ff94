"""Serve a simulator on a loopback port from a background thread (tests, the demo, benchmarks)."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ThreadedServer:
    """uvicorn in a daemon thread. Binds 127.0.0.1 and an ephemeral port unless told otherwise."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_non_loopback: bool = False,
        date_header: bool = True,
        tls: tuple[str, str] | None = None,
    ) -> None:
        """``date_header=False`` when the app sends its own ``Date`` (from a simulated clock). ``tls``: the paths of
        a certificate chain and its key (PEM) to serve https instead of http."""
        if not allow_non_loopback and not _is_loopback(host):
            raise ValueError(f"refusing to bind the simulator to {host}: pass allow_non_loopback=True to do so")
        # Dropped connections are deliberate here; uvicorn would log each one as an application error.
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
            date_header=date_header,
            ssl_certfile=tls[0] if tls else None,
            ssl_keyfile=tls[1] if tls else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="sim-server", daemon=True)
        self.host = host
        self.port = port
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        """Start serving (a second call is a no-op, so ``with sim.serve() as server`` works too)."""
        if self._thread.is_alive() or self._server.started:
            return self
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator could not start on {self.host}:{self.port}")
            time.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
