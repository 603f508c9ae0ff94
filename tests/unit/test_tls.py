"""``tls``: only the TLS failures that cannot heal are final (not retried), told by exception types and OpenSSL's
reason codes, never by words in a message."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import httpx2
import pytest
import stamina
import trustme

from magento_zoho_sync import tls
from magento_zoho_sync.retry import RetryPolicy
from magento_zoho_sync.tls import answers_tls, is_final_tls_failure, tls_failure, tls_fix, unreached


def _ssl_error(reason: str | None, text: str, kind: type[ssl.SSLError] = ssl.SSLError) -> ssl.SSLError:
    error = kind(1, text)
    error.reason = reason  # type: ignore[misc]  # what OpenSSL sets; None for a code newer than Python's table
    return error


def _wrapped(outer: type[httpx2.TransportError], cause: BaseException) -> httpx2.TransportError:
    """``outer`` raised from ``cause``, as httpx2 maps an ssl error (ConnectError at the handshake, else ReadError)."""
    try:
        try:
            raise cause
        except BaseException as inner:
            raise outer(str(inner)) from inner
    except httpx2.TransportError as caught:
        return caught


WRONG_VERSION = _ssl_error("WRONG_VERSION_NUMBER", "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
#: OpenSSL 3.2+ on a plain-http port, with a Python built before it knew the code.
RECORD_LAYER = _ssl_error(None, "[SSL] record layer failure (_ssl.c:1000)")
RECORD_LAYER_TAGGED = _ssl_error("RECORD_LAYER_FAILURE", "[SSL: RECORD_LAYER_FAILURE] record layer failure")


def _certificate_error() -> ssl.SSLCertVerificationError:
    error = _ssl_error(
        "CERTIFICATE_VERIFY_FAILED",
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)",
        ssl.SSLCertVerificationError,
    )
    assert isinstance(error, ssl.SSLCertVerificationError)
    error.verify_code = 18
    return error


@pytest.mark.parametrize("cause", [WRONG_VERSION, RECORD_LAYER, RECORD_LAYER_TAGGED])
def test_an_https_url_for_a_plain_http_port_is_final_at_the_handshake(cause: ssl.SSLError) -> None:
    exc = _wrapped(httpx2.ConnectError, cause)
    assert tls_failure(exc) == "plain_http"
    assert is_final_tls_failure(exc)


@pytest.mark.parametrize("cause", [WRONG_VERSION, RECORD_LAYER, RECORD_LAYER_TAGGED])
def test_the_same_reasons_on_an_established_connection_stay_transient(cause: ssl.SSLError) -> None:
    exc = _wrapped(httpx2.ReadError, cause)  # a load balancer cutting a connection mid-response, say
    assert tls_failure(exc) is None
    assert not is_final_tls_failure(exc)


def test_a_certificate_that_cannot_be_verified_is_final() -> None:
    exc = _wrapped(httpx2.ConnectError, _certificate_error())
    assert tls_failure(exc) == "certificate"
    assert is_final_tls_failure(exc)
    assert unreached(exc) == "failed the TLS handshake"  # the host was reached: "could not be reached" would mislead


@pytest.mark.parametrize(
    "cause",
    [
        _ssl_error("UNEXPECTED_EOF_WHILE_READING", "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF in violation of protocol"),
        _ssl_error("EOF", "EOF occurred in violation of protocol", ssl.SSLEOFError),
        _ssl_error("SSLV3_ALERT_HANDSHAKE_FAILURE", "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] alert handshake failure"),
        _ssl_error("ZERO_RETURN", "TLS/SSL connection has been closed (EOF)", ssl.SSLZeroReturnError),
    ],
)
def test_any_other_handshake_failure_is_a_tls_failure_that_stays_transient(cause: ssl.SSLError) -> None:
    exc = _wrapped(httpx2.ConnectError, cause)
    assert tls_failure(exc) == "handshake"
    assert not is_final_tls_failure(exc)


@pytest.mark.parametrize(
    "text",
    [
        "[Errno -2] Name or service not known: ssl.example.com",
        "[Errno 104] Connection reset by peer (certificates.example.com)",
        "[Errno 111] Connection refused: SSL-GATEWAY",
    ],
)
def test_words_in_a_message_are_no_tls_failure(text: str) -> None:
    exc = _wrapped(httpx2.ConnectError, OSError(text))
    assert tls_failure(exc) is None
    assert not is_final_tls_failure(exc)


def test_a_reset_during_the_handshake_stays_transient() -> None:
    exc = _wrapped(httpx2.ConnectError, ConnectionResetError(104, "Connection reset by peer"))
    assert tls_failure(exc) is None and not is_final_tls_failure(exc)
    assert unreached(exc) == "could not be reached"


def test_a_record_layer_failure_mid_response_is_retried() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise _wrapped(httpx2.ReadError, RECORD_LAYER)
        return "ok"

    with stamina.set_testing(True, attempts=4):  # no waiting
        assert RetryPolicy(attempts=6).call("test record layer", flaky) == "ok"
    assert len(calls) == 2


# ------------------------------------------------------------------------------------ real sockets, real OpenSSL


@pytest.fixture
def serving() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """Start local TCP servers on free ports: each hands every connection it accepts to its ``handle``."""
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handle: Callable[[socket.socket], None]) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    handle(conn)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return int(listener.getsockname()[1])

    yield start
    for listener in sockets:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of its thread
        listener.close()
    for thread in threads:
        thread.join(timeout=5)


@pytest.fixture
def server(serving: Callable[[Callable[[socket.socket], None]], int]) -> Callable[[bytes | None], int]:
    """A local TCP server that answers each connection with ``reply`` (or closes it at once when None)."""

    def start(reply: bytes | None) -> int:
        def answer(conn: socket.socket) -> None:
            if reply is not None:
                conn.recv(4096)  # the ClientHello
                conn.sendall(reply)

        return serving(answer)

    return start


def _https_get(port: int) -> httpx2.TransportError:
    with httpx2.Client(verify=False, timeout=5) as client, pytest.raises(httpx2.TransportError) as info:
        client.get(f"https://127.0.0.1:{port}/")
    return info.value


def test_a_real_plain_http_port_is_final(server: Callable[[bytes | None], int]) -> None:
    port = server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    exc = _https_get(port)
    assert isinstance(exc, httpx2.ConnectError)
    assert tls_failure(exc) == "plain_http" and is_final_tls_failure(exc)


def test_a_real_connection_closed_during_the_handshake_stays_transient(server: Callable[[bytes | None], int]) -> None:
    exc = _https_get(server(None))
    assert not is_final_tls_failure(exc)


# ------------------------------------------------------------------------ an http URL for an https port


@pytest.fixture
def tls_server(serving: Callable[[Callable[[socket.socket], None]], int]) -> int:
    """A local TLS server (a trustme certificate): it completes handshakes and hangs up on anything else, as an
    https server does on a plain http request."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)

    def handshake(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return serving(handshake)


def _http_get(port: int, host: str = "127.0.0.1") -> httpx2.TransportError:
    with httpx2.Client(timeout=5) as client, pytest.raises(httpx2.TransportError) as info:
        client.get(f"http://{host}:{port}/")
    return info.value


def test_a_plain_http_request_to_a_real_https_port_is_named_and_final(tls_server: int) -> None:
    exc = _http_get(tls_server)
    assert isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError)
    assert tls_failure(exc) == "tls_port" and is_final_tls_failure(exc)
    assert tls_fix(exc, "MAGENTO_BASE_URL") == "The port speaks https: change http:// to https:// in MAGENTO_BASE_URL."
    assert unreached(exc) == "hung up"
    assert answers_tls("127.0.0.1", tls_server)


def test_a_plain_http_port_that_hangs_up_stays_transient(server: Callable[[bytes | None], int]) -> None:
    port = server(None)
    exc = _http_get(port)
    assert tls_failure(exc) is None and not is_final_tls_failure(exc)
    assert not answers_tls("127.0.0.1", port)


def test_a_port_nobody_listens_on_does_not_answer_tls() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = int(unused.getsockname()[1])
    assert not answers_tls("127.0.0.1", port, timeout=1)


def test_a_request_that_went_through_a_proxy_is_not_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    # the proxy hung up, or the store did: this machine cannot tell by asking the store's port itself
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    asked: list[tuple[str, int]] = []

    def answers_tls(host: str, port: int, **_: object) -> bool:
        asked.append((host, port))
        return True

    monkeypatch.setattr(tls, "answers_tls", answers_tls)
    request = httpx2.Request("GET", "http://store.example:8443/rest/V1/customers/search")
    exc = httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    assert tls_failure(exc) is None and asked == []
    monkeypatch.delenv("HTTP_PROXY")
    assert tls_failure(exc) == "tls_port" and asked == [("store.example", 8443)]


def test_an_https_request_or_one_without_its_request_is_not_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "answers_tls", lambda *_, **__: pytest.fail("probed"))
    https = httpx2.Request("GET", "https://store.example/rest/V1/customers/search")
    assert tls_failure(httpx2.RemoteProtocolError("disconnected", request=https)) is None
    assert tls_failure(httpx2.RemoteProtocolError("disconnected")) is None


def test_one_failure_probes_its_port_once_however_often_it_is_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, int]] = []

    def answers_tls(host: str, port: int, **_: object) -> bool:
        asked.append((host, port))
        return False  # a plain-http server that hung up: not remembered across failures, it may come back

    monkeypatch.setattr(tls, "answers_tls", answers_tls)
    request = httpx2.Request("GET", "http://store.example/rest/V1/customers/search")
    failure = httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    assert not is_final_tls_failure(failure) and tls_failure(failure) is None and tls_fix(failure, "X") is None
    assert asked == [("store.example", 80)]
    again = httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    assert tls_failure(again) is None and len(asked) == 2
