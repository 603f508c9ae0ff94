"""What a failed TLS handshake was: a certificate that cannot be verified, or a plain-http port behind an https URL.

Both are deterministic (the next attempt fails the same way), so :mod:`magento_zoho_sync.retry` does not retry them,
and the doctor and the sync name the fix: the certificate chain, or the scheme and port of the URL.
"""

from __future__ import annotations

import ssl
from typing import Literal

__all__ = ["TlsFailure", "is_final_tls_failure", "tls_failure", "tls_fix"]

TlsFailure = Literal["certificate", "plain_http", "handshake"]

#: OpenSSL's reasons when the peer answers a ClientHello with something that is not TLS (an HTTP server's
#: "400 Bad Request", typically).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL"})


def _chain(exc: BaseException | None) -> list[BaseException]:
    chain: list[BaseException] = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def tls_failure(exc: BaseException | None) -> TlsFailure | None:
    """The kind of TLS failure in ``exc``'s chain, or None when it is no TLS failure."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).upper()
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate"
    reasons = {str(getattr(e, "reason", "") or "").upper() for e in chain if isinstance(e, ssl.SSLError)}
    if reasons & _NOT_TLS or any(reason in text for reason in _NOT_TLS):
        return "plain_http"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "SSL" in text or "CERTIFICATE" in text:
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
