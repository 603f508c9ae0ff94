"""Proxies for the tests, on loopback ports, in threads: an http forward proxy and a SOCKS 5 one.

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
import socketserver
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
                    _pump(self.connection, upstream)

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
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        with _serving(server):
            yield self


@contextmanager
def _serving(server: socketserver.TCPServer) -> Iterator[None]:
    """``server`` answering from a thread of its own (one more thread per connection) until the block ends."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _pump(one: socket.socket, other: socket.socket) -> None:
    """Relay bytes both ways until either side closes (or 30 s of silence)."""
    ends = [one, other]
    while True:
        readable, _, _ = select.select(ends, [], [], 30)
        if not readable:
            return
        for end in readable:
            data = end.recv(65536)
            if not data:
                return
            (other if end is one else one).sendall(data)


class Socks5Proxy:
    """A SOCKS 5 proxy (RFC 1928; RFC 1929 username and password with ``credentials``), CONNECT only, relaying to the
    same port on 127.0.0.1 whatever the host name it is asked for."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.relayed: list[str] = []  # the host names asked for
        self.refused = 0
        self.url = ""

    @contextmanager
    def running(self) -> Iterator[Socks5Proxy]:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                _version, count = conn.recv(2)
                methods = conn.recv(count)
                wanted = 0x02 if proxy.credentials else 0x00
                if wanted not in methods:
                    conn.sendall(b"\x05\xff")
                    return
                conn.sendall(bytes([5, wanted]))
                if proxy.credentials and not self._authenticated(conn):
                    return
                _version, command, _reserved, kind = conn.recv(4)
                if kind == 0x03:
                    host = conn.recv(conn.recv(1)[0]).decode()
                else:
                    host = socket.inet_ntoa(conn.recv(4)) if kind == 0x01 else socket.inet_ntop(10, conn.recv(16))
                port = int.from_bytes(conn.recv(2), "big")
                if command != 0x01:
                    conn.sendall(b"\x05\x07\x00\x01" + bytes(6))
                    return
                proxy.relayed.append(host)
                with socket.create_connection(("127.0.0.1", port), timeout=30) as upstream:
                    conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
                    _pump(conn, upstream)

            def _authenticated(self, conn: socket.socket) -> bool:
                assert proxy.credentials is not None
                _version = conn.recv(1)
                user = conn.recv(conn.recv(1)[0]).decode()
                password = conn.recv(conn.recv(1)[0]).decode()
                if (user, password) == proxy.credentials:
                    conn.sendall(b"\x01\x00")
                    return True
                proxy.refused += 1
                conn.sendall(b"\x01\x01")
                return False

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.url = f"socks5://127.0.0.1:{server.server_address[1]}"
        with _serving(server):
            yield self
