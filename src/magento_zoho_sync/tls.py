"""What a failed TLS handshake was: a certificate that cannot be verified, or a plain-http port behind an https URL;
and the reverse mistake, an http URL for an https port.

All three are deterministic (the next attempt fails the same way), so :mod:`magento_zoho_sync.retry` does not retry
them, and the doctor and the sync name the fix: the certificate chain, or the scheme and port of the URL. The first
two are told by the exception types and OpenSSL's reason codes, never by words in a message (a host may be
``ssl.example.com``); any other TLS failure (a handshake cut short, an EOF, a reset, an error on an established
connection) stays transient.

An http URL for an https port leaves no trace in the exception: the server hangs up on the plain request, which
reads as any dropped connection. So when a plain-http request reached a host directly (no proxy) and was hung up
on, :func:`answers_tls` asks the port itself: a TLS handshake that completes there (certificates not checked: only
whether the port speaks TLS) means the URL wants https. Nothing is sent beyond the handshake.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from typing import Literal

import httpx2

from magento_zoho_sync.proxy import proxy_for

__all__ = ["TlsFailure", "is_final_tls_failure", "tls_failure", "tls_fix"]

TlsFailure = Literal["certificate", "plain_http", "tls_port", "handshake"]

#: OpenSSL's reasons when the peer answers a ClientHello with something that is not TLS (an HTTP server's
#: "400 Bad Request", typically): OpenSSL 3.0 says WRONG_VERSION_NUMBER, 3.2+ RECORD_LAYER_FAILURE, older ones
#: UNKNOWN_PROTOCOL. RECORD_LAYER_FAILURE also reports a read error on an established connection, so all of them
#: count only during the handshake (an :class:`httpx2.ConnectError`).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"})
_CERTIFICATE = "CERTIFICATE_VERIFY_FAILED"
#: OpenSSL's reason code as Python's ssl module prints it: "[SSL: WRONG_VERSION_NUMBER] wrong version number", or,
#: for a code newer than the Python build's table, only its string: "[SSL] record layer failure".
_TAGGED = re.compile(r"\[SSL: ([A-Z0-9_]+)\]")
_UNTAGGED = re.compile(r"\[SSL\] ([a-z0-9]+(?: [a-z0-9]+)*)")


def _chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _reason_codes(exc: BaseException) -> set[str]:
    """OpenSSL's reason codes carried by an :class:`ssl.SSLError` (or by the ConnectError that copied its text)."""
    codes: set[str] = set()
    reason = getattr(exc, "reason", None) if isinstance(exc, ssl.SSLError) else None  # unset when built by hand
    if reason:
        codes.add(str(reason).upper())
    text = str(exc)
    codes.update(_TAGGED.findall(text))
    codes.update(words.upper().replace(" ", "_") for words in _UNTAGGED.findall(text))
    return codes


#: How long :func:`answers_tls` waits for the connection and for the handshake.
PROBE_TIMEOUT = 3.0
#: host:port pairs found to answer TLS: asked once per process (a port that does not answer TLS is asked again,
#: it may only have been down).
_TLS_PORTS: set[tuple[str, int]] = set()
_TLS_PORTS_LOCK = threading.Lock()
#: The attribute of a hung-up request's exception that keeps the probe's answer for it.
_PROBED = "_mzs_answers_tls"
#: A request that reached the server and got no answer: how a TLS server treats a plain-http request.
_HUNG_UP = (httpx2.RemoteProtocolError, httpx2.ReadError)


def answers_tls(host: str, port: int, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether ``host:port`` completes a TLS handshake: an https port. Certificates are not checked (the question is
    only whether the port speaks TLS) and nothing is sent after the handshake."""
    key = (host, port)
    with _TLS_PORTS_LOCK:
        if key in _TLS_PORTS:
            return True
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(key, timeout=timeout) as raw, context.wrap_socket(raw, server_hostname=host):
            pass
    except (OSError, ValueError):
        return False
    with _TLS_PORTS_LOCK:
        _TLS_PORTS.add(key)
    return True


def _http_to_tls_port(chain: list[BaseException]) -> bool:
    """True when a plain-http request sent straight to its host was hung up on by a port that speaks TLS."""
    hung_up = next((e for e in chain if isinstance(e, _HUNG_UP)), None)
    if hung_up is None:
        return False
    try:
        url = hung_up.request.url
    except RuntimeError:  # an exception built without its request
        return False
    if url.scheme != "http" or proxy_for(url) is not None:
        return False
    answer = getattr(hung_up, _PROBED, None)
    if answer is None:  # asked once per failure: the retry decision, the message and the hint ask again
        answer = answers_tls(url.host, url.port or 80)
        setattr(hung_up, _PROBED, answer)
    return bool(answer)


def tls_failure(exc: BaseException | None) -> TlsFailure | None:
    """The kind of TLS failure in ``exc``'s chain, or None when it is no TLS failure (or not one of the handshake).

    ``tls_port`` (an http URL for an https port) is the one kind that asks the network: see :func:`answers_tls`."""
    chain = _chain(exc)
    carriers = [e for e in chain if isinstance(e, (ssl.SSLError, httpx2.ConnectError))]
    codes: set[str] = set().union(*(_reason_codes(e) for e in carriers))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or _CERTIFICATE in codes:
        return "certificate"
    if not any(isinstance(e, httpx2.ConnectError) for e in chain):  # not at the handshake: a transport hiccup
        return "tls_port" if _http_to_tls_port(chain) else None
    if codes & _NOT_TLS:
        return "plain_http"
    if codes or any(isinstance(e, ssl.SSLError) for e in chain):
        return "handshake"
    return None


def is_final_tls_failure(exc: BaseException | None) -> bool:
    """True for the TLS failures another attempt cannot cure (a certificate, a plain-http port, an https port)."""
    return tls_failure(exc) in ("certificate", "plain_http", "tls_port")


def unreached(exc: BaseException | None) -> str:
    """How a request that got no answer went, for "SERVICE at HOST ...": a server reached at the TLS step is not
    said to be out of reach."""
    kind = tls_failure(exc)
    if kind == "tls_port":
        return "hung up"
    if kind is not None:
        return "failed the TLS handshake"
    return "could not be reached"


def tls_fix(exc: BaseException | None, setting: str) -> str | None:
    """What to change for a TLS failure that another attempt cannot cure, or None."""
    kind = tls_failure(exc)
    if kind == "certificate":
        return (
            "Fix the server's certificate chain, or install its CA on this machine (SSL_CERT_FILE); "
            "MZSYNC_VERIFY_TLS=false is for testing only."
        )
    if kind == "plain_http":
        return (
            f"Check the scheme and port in {setting}: https:// needs the server's TLS port (443 by default); "
            "a plain http port needs http:// (and --insecure-http for a host that is not this machine)."
        )
    if kind == "tls_port":
        return f"The port speaks https: change http:// to https:// in {setting}."
    return None
