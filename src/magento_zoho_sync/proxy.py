"""Proxies: which one a request goes through, and the words for a proxy that fails.

The clients follow the environment, as curl and pip do: ``HTTPS_PROXY`` (Zoho, an https store), ``HTTP_PROXY``
(a plain-http URL), ``ALL_PROXY``, and ``NO_PROXY`` for the hosts reached directly (httpx reads them; lower-case
names too). A proxy is ``http://``, ``https://`` or SOCKS 5 (``socks5://``, ``socks5h://``); its credentials go in
its URL (``http://user:password@proxy:3128``) and are never shown. :func:`proxy_problems` refuses, before any
request, a proxy URL the clients could not use.

Loopback hosts (``127.0.0.1``, ``localhost``: the bundled simulators, an SSH tunnel) are always reached directly:
a proxy elsewhere cannot reach this machine's loopback, and a proxy set for the whole machine would otherwise
break ``demo``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import overload

import httpx2
from httpx2._utils import URLPattern, get_environment_proxies  # the functions httpx's own clients use

from magento_zoho_sync.loopback import is_loopback_host

__all__ = [
    "PROXY_SOURCES",
    "direct_mounts",
    "proxy_for",
    "proxy_hint",
    "proxy_note",
    "proxy_passwords",
    "proxy_problems",
    "proxy_status",
    "refuse_proxy_auth",
]

#: The environment variables a proxy is set by, for messages.
PROXY_SOURCES = "HTTPS_PROXY, HTTP_PROXY or ALL_PROXY"

PROXY_AUTH_HINT = (
    "The proxy asks for credentials: put them in its URL, e.g. HTTPS_PROXY=http://user:password@proxy:3128 "
    "(percent-encode special characters), or ask its administrator to let this machine through."
)

_STATUS = re.compile(r"^\s*(\d{3})\b")

#: The variables httpx reads a proxy from (each in either case), and the schemes it can use.
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def proxy_problems(env: Mapping[str, str]) -> list[str]:
    """A line per proxy variable whose URL the clients could not use (a scheme they do not speak, no host), so that
    the run stops at once with what to fix instead of failing in the first request."""
    problems: list[str] = []
    for upper in PROXY_VARIABLES:
        for name in (upper.lower(), upper):
            value = env.get(name, "").strip()
            if not value:
                continue
            url = value if "://" in value else f"http://{value}"  # as httpx reads it
            scheme = url.partition("://")[0].lower()
            try:
                host = httpx2.URL(url).host
            except httpx2.InvalidURL:
                host = ""
            if scheme not in PROXY_SCHEMES:
                problems.append(
                    f"{name}: a proxy URL starts with http://, https://, socks5:// or socks5h://, not {scheme}://"
                )
            elif not host:
                problems.append(f"{name}: no proxy host can be read from it; give it as http://proxy.example.com:3128")
    return problems


def proxy_for(url: httpx2.URL | str) -> str | None:
    """The proxy the environment sends requests for ``url`` through, as ``scheme://host:port`` (never with its
    credentials), or None: no proxy applies, ``NO_PROXY`` exempts the host, or the host is a loopback one."""
    target = httpx2.URL(str(url))
    if is_loopback_host(target.host):
        return None
    patterns = sorted((URLPattern(key), proxy) for key, proxy in get_environment_proxies().items())
    for pattern, proxy in patterns:
        if pattern.matches(target):
            return None if proxy is None else _without_credentials(proxy)
    return None


def proxy_passwords() -> list[str]:
    """The passwords in the environment's proxy URLs (as sent: percent-decoded), for the redaction of messages."""
    found: list[str] = []
    for proxy in get_environment_proxies().values():
        try:
            password = httpx2.URL(proxy).password if proxy else None
        except httpx2.InvalidURL:
            continue
        if password:
            found.append(password)
    return found


def _without_credentials(proxy: str) -> str:
    try:
        parsed = httpx2.URL(proxy)
    except httpx2.InvalidURL:
        return "(an unreadable proxy URL)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def proxy_note(url: httpx2.URL | str) -> str:
    """`` through the proxy http://proxy:3128`` for a message about ``url``, or nothing when no proxy applies."""
    proxy = proxy_for(url)
    return f" through the proxy {proxy}" if proxy else ""


def proxy_status(exc: BaseException | None) -> int | None:
    """The HTTP status a proxy refused with (407: credentials wanted; 403, 502, ...), or None."""
    if not isinstance(exc, httpx2.ProxyError):
        return None
    match = _STATUS.match(str(exc))  # httpcore: "407 Proxy Authentication Required"; only the digits are read
    return int(match.group(1)) if match else None


@overload
def proxy_hint(url: httpx2.URL | str, exc: BaseException | None, otherwise: str) -> str: ...
@overload
def proxy_hint(url: httpx2.URL | str, exc: BaseException | None, otherwise: str | None) -> str | None: ...
def proxy_hint(url: httpx2.URL | str, exc: BaseException | None, otherwise: str | None) -> str | None:
    """The fix for a request to ``url`` that got no answer: about the proxy when one applies, then ``otherwise``."""
    proxy = proxy_for(url)
    if proxy is None:
        return otherwise
    if proxy_status(exc) == 407:
        return PROXY_AUTH_HINT
    about = (
        f"The proxy comes from {PROXY_SOURCES}: check that it is up and lets this machine through, or list "
        f"{httpx2.URL(str(url)).host} in NO_PROXY to reach it directly."
    )
    return f"{about} {otherwise}" if otherwise else about


def direct_mounts(base_url: str) -> dict[str, None]:
    """httpx ``mounts`` that send requests for a loopback ``base_url`` directly whatever proxy is set: a mount for
    the host outranks the proxies' scheme-wide ones, and ``SSL_CERT_FILE`` still applies (``trust_env`` stays)."""
    host = httpx2.URL(base_url).host
    if not is_loopback_host(host):
        return {}
    return {f"all://[{host}]" if ":" in host else f"all://{host}": None}


def refuse_proxy_auth(response: httpx2.Response) -> None:
    """A response hook: a proxy's 407 to a plain-http request becomes the :class:`httpx2.ProxyError` an https
    request gets (the proxy refused the CONNECT), so that both read the same and neither is tried again."""
    if response.status_code == 407 and proxy_for(response.request.url) is not None:
        raise httpx2.ProxyError("407 Proxy Authentication Required", request=response.request)
