"""What a failed TLS handshake was: a certificate that cannot be verified, or a plain-http port behind an https URL.

Both are deterministic (the next attempt fails the same way), so :mod:`magento_zoho_sync.retry` does not retry them,
and the doctor and the sync name the fix: the certificate chain, or the scheme and port of the URL. They are told
by the exception types and OpenSSL's reason codes, never by words in a message (a host may be ``ssl.example.com``);
any other TLS failure (a handshake cut short, an EOF, a reset, an error on an established connection) stays
transient.
"""

from __future__ import annotations

import re
import ssl
from typing import Literal

import httpx2

__all__ = ["TlsFailure", "is_final_tls_failure", "tls_failure", "tls_fix"]

TlsFailure = Literal["certificate", "plain_http", "handshake"]

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


def tls_failure(exc: BaseException | None) -> TlsFailure | None:
    """The kind of TLS failure in ``exc``'s chain, or None when it is no TLS failure (or not one of the handshake)."""
    chain = _chain(exc)
    carriers = [e for e in chain if isinstance(e, (ssl.SSLError, httpx2.ConnectError))]
    codes: set[str] = set().union(*(_reason_codes(e) for e in carriers))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or _CERTIFICATE in codes:
        return "certificate"
    if not any(isinstance(e, httpx2.ConnectError) for e in chain):  # not at the handshake: a transport hiccup
        return None
    if codes & _NOT_TLS:
        return "plain_http"
    if codes or any(isinstance(e, ssl.SSLError) for e in chain):
        return "handshake"
    return None


def is_final_tls_failure(exc: BaseException | None) -> bool:
    """True for the TLS failures another attempt cannot cure (a certificate, a plain-http port)."""
    return tls_failure(exc) in ("certificate", "plain_http")


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
    return None
