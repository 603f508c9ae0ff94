"""A forward proxy for the tests: plain http, on a loopback port, in a thread.

It relays requests in absolute form (``GET http://shop.example.test:8081/rest/... HTTP/1.1``), and tunnels
``CONNECT shop.example.test:8443`` (https), to the same port on 127.0.0.1, whatever the host name (the simulators
listen there; through a proxy, the client never resolves the name itself). With ``credentials`` it answers 407
to a request or a CONNECT without the matching ``Proxy-Authorization``.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding", "te"}


class ForwardProxy:
    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.relayed: list[tuple[str, str]] = []  # (method, host) of each request passed on
        self.refused = 0  # 407 answers
        self.url = ""

    @contextmanager
    def running(self) -> Iterator[ForwardProxy]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _allowed(self) -> bool:
                if proxy.credentials is None:
                    return True
                token = base64.b64encode(":".join(proxy.credentials).encode()).decode()
                if self.headers.get("Proxy-Authorization") == f"Basic {token}":
                    return True
                proxy.refused += 1
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="tests"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def do_CONNECT(self) -> None:
                if not self._allowed():
                    return
                host, _, port = self.path.rpartition(":")
                proxy.relayed.append(("CONNECT", host))
                with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as upstream:
                    self.send_response(200, "Connection established")
                    self.end_headers()
                    ends = [self.connection, upstream]
                    while True:
                        readable, _, _ = select.select(ends, [], [], 30)
                        if not readable:
                            return
                        for end in readable:
                            data = end.recv(65536)
                            if not data:
                                return
                            (upstream if end is self.connection else self.connection).sendall(data)

            def _relay(self) -> None:
                if not self._allowed():
                    return
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                proxy.relayed.append((self.command, target.hostname or ""))
                upstream = http.client.HTTPConnection("127.0.0.1", target.port or 80, timeout=30)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(content)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
