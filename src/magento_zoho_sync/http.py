"""HTTP plumbing shared by the Magento and Zoho clients.

* :func:`check_url` is the URL policy: ``https://`` everywhere, plain ``http://`` only to a loopback host (the
  simulators) unless the user passed the explicit insecure flag;
* :func:`build_client` makes the one kind of :class:`httpx2.Client` the product uses: timeouts, no redirects
  (a redirect would carry credentials to a host nobody configured), TLS verification, a User-Agent, and an
  optional injected transport (tests, the demo's in-process simulators);
* :class:`ApiStats` counts calls and Zoho credits for the run report, from several threads at once.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Final

import httpx2

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.loopback import is_loopback_host
from magento_zoho_sync.proxy import direct_mounts, proxy_status, refuse_proxy_auth
from magento_zoho_sync.tls import tls_failure

__all__ = [
    "ENCODING_HINT",
    "USER_AGENT",
    "ApiStats",
    "build_client",
    "check_url",
    "credits_remaining",
    "is_header_token",
    "is_loopback_host",
    "transport_hint",
    "zoho_write_credits",
]


log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("magento-zoho-sync")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0"


USER_AGENT = f"magento-zoho-sync/{_version()} (+python-httpx2)"

#: Seconds to wait for a TCP connection, whatever the read timeout is: a host that does not accept a
#: connection in this time is down or firewalled, and waiting longer only delays the retry.
CONNECT_TIMEOUT = 10.0


#: A credential that can travel in an HTTP header as it is: visible ASCII, no space, no control character.
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")


def is_header_token(value: str) -> bool:
    """Whether ``value`` (an access token) can be sent in an ``Authorization`` header: a non-ASCII character or a
    control character (a line break) would make httpx2 fail before the request leaves, and no service issues one."""
    return _HEADER_TOKEN.fullmatch(value) is not None


def check_url(url: str, *, setting: str, allow_insecure_http: bool = False) -> httpx2.URL:
    """Parse ``url`` and apply the URL policy; raise :class:`ConfigError` naming ``setting`` when it fails.

    Allowed: ``https://host``; ``http://`` to a loopback host; ``http://`` anywhere when
    ``allow_insecure_http`` (``--insecure-http``) is set. Credentials inside the URL (``user:pass@``) are
    refused, because they would end up in logs; the message never repeats them.
    """
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError) as exc:
        raise ConfigError(f"{setting} is not a valid URL ({type(exc).__name__}).") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"{setting} must be an absolute http(s) URL such as https://shop.example.com; got scheme "
            f"{parsed.scheme or '(none)'!r}."
        )
    if parsed.userinfo:
        raise ConfigError(f"{setting} must not contain a user name or password; put credentials in their own settings.")
    if parsed.scheme == "http" and not is_loopback_host(parsed.host) and not allow_insecure_http:
        raise ConfigError(
            f"{setting} uses plain http:// to {parsed.host}, which would send credentials unencrypted. "
            "Use https://, or pass --insecure-http (setting network.allow_insecure_http) if you really mean it."
        )
    return parsed


def build_client(
    *,
    base_url: str,
    setting: str,
    timeout: float,
    allow_insecure_http: bool = False,
    verify_tls: bool = True,
    transport: httpx2.BaseTransport | None = None,
    auth: httpx2.Auth | None = None,
    headers: Mapping[str, str] | None = None,
    on_request: Callable[[httpx2.Request], None] | None = None,
) -> httpx2.Client:
    """A client for one service, rooted at ``base_url`` (checked with :func:`check_url`).

    ``on_request`` is called for every request the client sends, including the ones an auth flow adds
    (login, token refresh), which is how :class:`ApiStats` counts Magento calls.
    """
    check_url(base_url, setting=setting, allow_insecure_http=allow_insecure_http)
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    all_headers.update(headers or {})
    hooks: dict[str, list[Callable[..., object]]] = {"request": [on_request]} if on_request else {}
    hooks["response"] = [_log_response, refuse_proxy_auth]
    return httpx2.Client(
        base_url=base_url.rstrip("/"),
        mounts=direct_mounts(base_url),  # the environment's proxy (HTTPS_PROXY, ...), never for loopback
        timeout=httpx2.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
        follow_redirects=False,
        verify=verify_tls,
        transport=transport,
        auth=auth,
        headers=all_headers,
        event_hooks=hooks,
    )


def _log_response(response: httpx2.Response) -> None:
    """``-v``: one debug line per API call: method, host, path (never the query or a body) and status."""
    if log.isEnabledFor(logging.DEBUG):
        request = response.request
        log.debug("%s %s%s: HTTP %d", request.method, request.url.host, request.url.path, response.status_code)


#: The fix for an answer whose body is not encoded as its ``Content-Encoding`` header says (httpx2's DecodingError).
ENCODING_HINT = (
    "A proxy or the web server in front of the service labels its answers with a Content-Encoding (gzip, deflate, "
    "br) their bodies do not have, for example after decompressing them itself: fix its compression settings so "
    "that the header matches the body."
)

_DNS_FAILURES = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
    "name resolution",
)


def transport_problem(exc: BaseException | None) -> str:
    """What a request that got no answer ran into, in words: ``ConnectError: the host name does not resolve``.

    Only the exception's type and a fixed phrase: never its text, which may quote a URL or a request.
    """
    if exc is None:
        return "no answer"
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(e) for e in chain).lower()
    kind = type(exc).__name__
    tls = tls_failure(exc)
    if tls == "certificate":
        return f"{kind}: TLS failed, the certificate could not be verified"
    if tls == "plain_http":
        return f"{kind}: the TLS handshake failed, the port answers plain http (an https URL for a plain http port?)"
    if tls == "tls_port":
        return f"{kind}: the server hung up on a plain http request (its port speaks https)"
    if tls is not None:
        return f"{kind}: the TLS handshake failed (an https URL for a plain http port?)"
    if isinstance(exc, httpx2.DecodingError):
        return (
            f"{kind}: the body is not encoded as its Content-Encoding header says "
            "(a proxy or the web server mislabels the encoding)"
        )
    refused = proxy_status(exc)
    if refused == 407:
        return f"{kind}: the proxy asks for credentials (HTTP 407)"
    if refused is not None:
        return f"{kind}: the proxy refused to connect to the host (HTTP {refused})"
    if any(marker in text for marker in _DNS_FAILURES):
        return f"{kind}: the host name does not resolve (DNS)"
    if "connection refused" in text or "errno 111" in text:
        return f"{kind}: connection refused (nothing listens on that port)"
    if isinstance(exc, httpx2.TimeoutException):
        return f"{kind}: no answer within the timeout"
    return kind


def content_kind(response: httpx2.Response) -> str:
    """What a response says its body is, for a message: its media type (``text/html``), or ``no Content-Type``."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    return kind or "no Content-Type"


def in_between_hint(service: str, setting: str, *, answered: str = "answered JSON", kept: str) -> str:
    """The fix for 200s that cannot be read from a service that ``answered`` properly earlier in the run: ``setting``
    is right, and something between this machine and the service answers instead; ``kept`` says what is safe."""
    return (
        f"{service} {answered} earlier in this run, so {setting} is right: something between this machine and "
        f"{service} (a proxy, a web application firewall, a CDN's bot check, a login page) cuts its answers short or "
        f"answers with a page of its own. See its logs, or let this machine's requests through it. {kept}"
    )


_JSON_ENDS: Final = {b"{": b"}", b"[": b"]", b'"': b'"'}


def cut_short_json(response: httpx2.Response) -> bool:
    """Whether a body that could not be decoded starts as a JSON object, list or string (Magento's token) and stops
    before its end: an answer cut off on its way (a dropped connection, a proxy), not another server's page."""
    body = response.content.strip()
    end = _JSON_ENDS.get(body[:1])
    return end is not None and (len(body) == 1 or body[-1:] != end)


def cut_short_hint(service: str, setting: str, *, kept: str) -> str:
    """The fix for a first answer that :func:`cut_short_json` says was cut short: ``setting`` is probably right."""
    return (
        f"{service} answered JSON, so {setting} is probably right: the answer was cut off on its way (a dropped "
        f"connection, or a proxy in between). Run again; {kept} If it happens again, see the proxy's or the "
        "network's logs."
    )


def transport_hint(exc: BaseException | None) -> str | None:
    """The fix for a request failure whose cause is known whatever the settings (a mislabelled encoding), or None."""
    return ENCODING_HINT if isinstance(exc, httpx2.DecodingError) else None


def zoho_coql_credits(limit: int) -> int:
    """Credits Zoho charges for a COQL query by its ``limit``: 1 up to 200 rows, 2 up to 1,000, 3 up to 2,000."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3


def zoho_write_credits(records: int) -> int:
    """Credits Zoho charges for a write call: one per started group of 10 records (at least 1)."""
    return max(1, math.ceil(records / 10))


@dataclass
class ApiStats:
    """Calls and credits of one run; every method is safe to call from several threads.

    * ``magento_calls``: every HTTP request sent to Magento (logins included, retries included);
    * ``zoho_calls``: every HTTP request sent to the Zoho CRM API (retries included);
    * ``zoho_token_calls``: requests to Zoho Accounts (token refreshes; they cost no CRM credits);
    * ``zoho_credits``: an estimate of the CRM credits spent: 1 per read call, ⌈n/10⌉ per write call of n
      records, counted for each call Zoho answered (a 429 or a 5xx is not charged);
    * ``zoho_credits_remaining``: the last ``X-API-CREDITS-REMAINING`` header seen (Zoho sends it once half
      of the daily allowance is used), else None.
    """

    magento_calls: int = 0
    zoho_calls: int = 0
    zoho_token_calls: int = 0
    zoho_credits: int = 0
    zoho_credits_remaining: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_magento(self, calls: int = 1) -> None:
        with self._lock:
            self.magento_calls += calls

    def count_magento_request(self, request: httpx2.Request) -> None:
        """An httpx2 ``request`` event hook."""
        del request
        self.count_magento()

    def count_zoho_token_call(self) -> None:
        with self._lock:
            self.zoho_token_calls += 1

    def count_zoho_request(self, request: httpx2.Request) -> None:
        """An httpx2 ``request`` event hook of the CRM client: every request sent (replays and retries too)."""
        del request
        with self._lock:
            self.zoho_calls += 1

    def charge_zoho(self, credits: int, response: httpx2.Response) -> None:
        """Credits of one answered CRM call (not charged for 429 and 5xx), and the credits Zoho says remain."""
        remaining = credits_remaining(response)
        charged = response.status_code != 429 and response.status_code < 500
        with self._lock:
            if charged:
                self.zoho_credits += credits
            if remaining is not None:
                self.zoho_credits_remaining = remaining

    def as_dict(self) -> dict[str, int | None]:
        with self._lock:
            return {
                "magento_calls": self.magento_calls,
                "zoho_calls": self.zoho_calls,
                "zoho_token_calls": self.zoho_token_calls,
                "zoho_credits": self.zoho_credits,
                "zoho_credits_remaining": self.zoho_credits_remaining,
            }


def credits_remaining(response: httpx2.Response) -> int | None:
    """The credits Zoho says remain (``X-API-CREDITS-REMAINING``, sent once half of the day's are used)."""
    raw = response.headers.get("X-API-CREDITS-REMAINING")
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None
