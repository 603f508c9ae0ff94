"""Zoho OAuth: access tokens from the refresh token, shared by every thread; the grant-token exchange.

* :class:`ZohoTokenManager` posts ``grant_type=refresh_token`` to ``{accounts}/oauth/v2/token`` with the
  credentials in the form body (never in the URL), caches the access token for its lifetime, refreshes it
  :data:`REFRESH_MARGIN` seconds before it expires, and does so **single-flight**: however many threads need a
  token at once, one request goes to Zoho (Zoho blocks clients that ask too often, for 15-30 minutes).
* :class:`ZohoAuth` is the :class:`httpx2.Auth` of the CRM client: ``Authorization: Zoho-oauthtoken <t>``;
  on a 401 ``INVALID_TOKEN`` it invalidates that token, gets a new one and replays the request once.
* :func:`exchange_grant_token` turns a self-client grant code into a refresh token (``auth zoho-grant``).

Token errors come back as HTTP 200 with ``{"error": ...}``; they become :class:`ZohoAuthError` with the likely
cause, and are never retried. The ``api_domain`` of a token response is checked by :func:`check_api_domain`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Final

import httpx2
from pydantic import SecretStr

from magento_zoho_sync import jsonio
from magento_zoho_sync.errors import ConfigError, ZohoAuthError, ZohoError, ZohoTokenUnavailable
from magento_zoho_sync.http import (
    ApiStats,
    build_client,
    content_kind,
    cut_short_hint,
    cut_short_json,
    in_between_hint,
    is_header_token,
    is_loopback_host,
    transport_hint,
    transport_problem,
)
from magento_zoho_sync.proxy import proxy_hint, proxy_note
from magento_zoho_sync.redact import redact, register_secret
from magento_zoho_sync.retry import RetriesExhausted, RetryPolicy, TransientStatus, is_transient_status
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.tls import tls_fix, unreached
from magento_zoho_sync.zoho.regions import region_of_api_host

__all__ = [
    "REFRESH_MARGIN",
    "TOKEN_PATH",
    "ApiDomainMismatch",
    "GrantResult",
    "ZohoAuth",
    "ZohoTokenError",
    "ZohoTokenManager",
    "check_api_domain",
    "exchange_grant_token",
]

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/v2/token"  # noqa: S105 - a URL path
#: Refresh this many seconds before the access token expires (Zoho tokens last 3600 s).
REFRESH_MARGIN = 300.0
DEFAULT_LIFETIME = 3600.0
#: 401 codes that mean "this access token is no good" (refresh once and replay); others (scope) do not.
TOKEN_REJECTED_CODES = frozenset({"INVALID_TOKEN", "AUTHENTICATION_FAILURE", "INVALID_OAUTHTOKEN"})


#: How many unreadable token answers a refresh takes, once Accounts gave a token in the run, before the run stops.
UNREADABLE_TOKEN_ANSWERS: Final = 2


class ZohoTokenError(ZohoAuthError):
    """Zoho Accounts answered ``{"error": ...}``; ``error`` is Zoho's code (``invalid_client``, ``invalid_code``,
    ``Access Denied``, ...), for the doctor and tests."""

    def __init__(self, message: str, *, error: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.error = error


class ApiDomainMismatch(ConfigError):
    """The token response names a Zoho API domain of another data centre than ``ZOHO_API_URL``."""

    def __init__(self, message: str, *, api_domain: str, region: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.api_domain = api_domain
        self.region = region


@dataclass(frozen=True)
class GrantResult:
    refresh_token: SecretStr
    access_token: SecretStr
    scope: tuple[str, ...]
    api_domain: str | None
    expires_in: float | None = None


def _host(url: str) -> str:
    try:
        return httpx2.URL(url).host.lower()
    except (httpx2.InvalidURL, TypeError):
        return ""


def check_api_domain(api_domain: str | None, *, api_url: str, accounts_url: str | None = None) -> str | None:
    """Compare a token response's ``api_domain`` with ``ZOHO_API_URL``.

    Policy: tokens are only ever sent to ``ZOHO_API_URL``; the check catches a configuration for the wrong
    data centre before the first CRM call fails with a puzzling INVALID_TOKEN.

    * absent, the same host, or a loopback host (the simulators): fine, returns None;
    * a Zoho API host of **another data centre** than a Zoho ``ZOHO_API_URL``: :class:`ConfigError` naming the
      right ``ZOHO_API_URL`` and ``ZOHO_REGION``;
    * a Zoho host of the same data centre but another environment (sandbox/developer/production), or a Zoho
      host while ``ZOHO_API_URL`` is not Zoho's (a proxy, a simulator): returns a warning text;
    * a host that is not Zoho's nor loopback: :class:`ConfigError` (nothing is sent there), unless the
      accounts server itself is loopback (a simulator), then a warning.
    """
    if not api_domain:
        return None
    got, configured = _host(api_domain), _host(api_url)
    if got == configured or is_loopback_host(got):
        return None
    got_region, configured_region = region_of_api_host(got), region_of_api_host(configured)
    if got_region is not None:
        if configured_region is not None and configured_region != got_region:
            raise ApiDomainMismatch(
                f"Zoho Accounts says this org's data is served by {api_domain} (data centre {got_region.code}), "
                f"but ZOHO_API_URL is {api_url} (data centre {configured_region.code}).",
                hint=f"Set ZOHO_API_URL={got_region.api_url} (or ZOHO_REGION={got_region.code} and remove "
                "ZOHO_API_URL). A wrong data centre is the usual cause.",
                api_domain=api_domain,
                region=got_region.code,
            )
        return (
            f"Zoho Accounts says this org's API domain is {api_domain}, but ZOHO_API_URL is {api_url}; "
            "requests go to ZOHO_API_URL. If CRM calls fail with INVALID_TOKEN, set ZOHO_API_URL to the former."
        )
    if accounts_url is not None and is_loopback_host(_host(accounts_url)):
        return f"The token response names api_domain {api_domain}, which is not a Zoho API domain (simulator?)."
    raise ApiDomainMismatch(
        f"Zoho Accounts named {api_domain} as this org's API domain, which is not a known Zoho API domain; "
        "the token will not be used.",
        hint="Check that ZOHO_ACCOUNTS_URL is Zoho's accounts server of your data centre (or set ZOHO_REGION).",
        api_domain=api_domain,
        region=None,
    )


def _token_error(error: str, description: str | None, *, accounts_url: str, grant: bool) -> ZohoTokenError:
    """The :class:`ZohoAuthError` for an ``{"error": ...}`` answer of the token endpoint."""
    said = f"Zoho Accounts at {accounts_url} refused the {'grant token' if grant else 'token refresh'} ({error}"
    said += f": {redact(description)})." if description else ")."
    lowered = error.lower()
    if lowered in ("invalid_client", "invalid_client_secret"):
        hint = (
            "ZOHO_CLIENT_ID or ZOHO_CLIENT_SECRET is wrong, or ZOHO_ACCOUNTS_URL belongs to another data centre "
            "than the one where the client was registered (e.g. accounts.zoho.eu for an EU org: set ZOHO_REGION)."
        )
    elif lowered == "invalid_code" and grant:
        hint = (
            "The grant token expired (they last a few minutes), was already used, or was generated in another "
            "data centre's API console than ZOHO_ACCOUNTS_URL. Generate a new one and run the command at once."
        )
    elif lowered == "invalid_code":
        hint = (
            "ZOHO_REFRESH_TOKEN is revoked or unknown: a user keeps at most 20 refresh tokens per client and the "
            "oldest is revoked silently; or it was issued by another data centre's accounts server than "
            "ZOHO_ACCOUNTS_URL. Create a new one with `magento-zoho-sync auth zoho-grant`."
        )
    elif "access denied" in lowered or "too many" in (description or "").lower():
        hint = (
            "Zoho throttles clients that request tokens too often. Wait 15-30 minutes without requesting "
            "tokens, then run again; do not run several syncs with the same refresh token at once."
        )
    elif lowered == "invalid_redirect_uri":
        hint = "The grant token was created for another redirect URI; self-client codes need none."
    else:
        hint = "Check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and ZOHO_ACCOUNTS_URL."
    return ZohoTokenError(said, hint=hint, error=error)


def _parse_token_response(response: httpx2.Response, *, accounts_url: str, grant: bool) -> dict[str, Any]:
    """The JSON of a successful token response; raises for everything else (never quoting a token)."""
    where = f"POST {response.request.url.path}"
    status = response.status_code
    if is_transient_status(status) and status != 429:
        raise TransientStatus.from_response("Zoho Accounts", response)
    try:
        body = jsonio.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        raise _token_error(
            body["error"],
            description if isinstance(description, str) else None,
            accounts_url=accounts_url,
            grant=grant,
        )
    if status == 429:
        raise _token_error("Access Denied", "too many requests", accounts_url=accounts_url, grant=grant)
    if 300 <= status < 400:
        raise ZohoAuthError(
            f"Zoho Accounts redirected {where} (HTTP {status}); redirects are not followed.",
            hint="Set ZOHO_ACCOUNTS_URL to the accounts server of your data centre (or set ZOHO_REGION).",
        )
    if status == 200 and body is None and cut_short_json(response):
        kept = (
            "the lost answer has probably used the grant token up: create a new one first."
            if grant
            else "nothing was lost, and the request is not sent again at once: each token Zoho Accounts hands out "
            "counts against its 10 in 10 minutes."
        )
        raise ZohoAuthError(
            f"Zoho Accounts answered {where} with HTTP 200 and JSON cut off after {len(response.content):,} bytes, "
            "not a whole token answer.",
            hint=cut_short_hint("Zoho Accounts", "ZOHO_ACCOUNTS_URL", kept=kept),
        )
    if status != 200 or not isinstance(body, dict):
        kind = "JSON" if isinstance(body, dict) else "a body that is not a JSON object"
        raise ZohoAuthError(
            f"Zoho Accounts answered {where} with HTTP {status} and {kind}, not a token.",
            hint="Check ZOHO_ACCOUNTS_URL (e.g. https://accounts.zoho.com, or set ZOHO_REGION).",
        )
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ZohoAuthError(
            f"Zoho Accounts answered {where} without an access_token.",
            hint="Check that ZOHO_ACCOUNTS_URL (or ZOHO_REGION) is Zoho Accounts of your data centre and that no proxy "
            "rewrites its answers; `magento-zoho-sync doctor` checks both.",
        )
    register_secret(token)
    if isinstance(body.get("refresh_token"), str):
        register_secret(body["refresh_token"])
    if not is_header_token(token):  # it could not be sent: httpx2 refuses line breaks, non-ASCII breaks the header
        raise ZohoAuthError(
            f"Zoho Accounts answered {where} with an access token that holds characters an HTTP header cannot carry "
            "(non-ASCII characters, spaces or control characters); it was not used.",
            hint="Zoho issues plain ASCII tokens: check ZOHO_ACCOUNTS_URL (e.g. https://accounts.zoho.com, or set "
            "ZOHO_REGION), and any proxy between this machine and Zoho Accounts.",
        )
    return body


def _scope(body: dict[str, Any]) -> tuple[str, ...]:
    raw = body.get("scope")
    if isinstance(raw, str):
        return tuple(s for s in raw.replace(",", " ").split() if s)
    if isinstance(raw, list):
        return tuple(str(s) for s in raw)
    return ()


def _lifetime(body: dict[str, Any]) -> float:
    value = body.get("expires_in")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return float(value)
    return DEFAULT_LIFETIME


class ZohoTokenManager:
    """One cached Zoho access token for the whole process, refreshed single-flight.

    ``clock`` (monotonic seconds) is injectable for tests. Once Zoho refuses the client or the refresh token,
    every later call raises the same :class:`ZohoAuthError` without asking Zoho again.
    """

    def __init__(
        self,
        *,
        accounts_url: str,
        api_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        stats: ApiStats | None = None,
        allow_insecure_http: bool = False,
        verify_tls: bool = True,
        transport: httpx2.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self.accounts_url = accounts_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._retry = retry if retry is not None else RetryPolicy()
        self._stats = stats if stats is not None else ApiStats()
        self._clock = clock
        self._margin = refresh_margin
        self._http = build_client(
            base_url=self.accounts_url,
            setting="ZOHO_ACCOUNTS_URL",
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            verify_tls=verify_tls,
            transport=transport,
        )
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._failure: ZohoAuthError | ConfigError | ZohoTokenUnavailable | None = None
        self.refreshes = 0
        self.scope: tuple[str, ...] = ()
        self.api_domain: str | None = None
        self.warnings: list[str] = []

    @classmethod
    def from_settings(
        cls, settings: Settings, *, stats: ApiStats | None = None, transport: httpx2.BaseTransport | None = None
    ) -> ZohoTokenManager:
        z = settings.zoho
        return cls(
            accounts_url=z.accounts_url,
            api_url=z.api_url,
            client_id=z.client_id,
            client_secret=z.client_secret,
            refresh_token=z.refresh_token,
            timeout=z.timeout,
            retry=RetryPolicy.from_settings(settings.retry),
            stats=stats,
            allow_insecure_http=settings.network.allow_insecure_http,
            verify_tls=settings.network.verify_tls,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def access_token(self) -> str:
        """A valid access token; refreshes (one thread at a time, others wait for its result) when needed."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._token is None or self._clock() >= self._refresh_at:
                try:
                    self._refresh_locked()
                except (ZohoAuthError, ConfigError, ZohoTokenUnavailable) as exc:
                    self._failure = exc  # asked again, Accounts would answer the same, or block this client
                    raise
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Zoho rejected ``token``: drop it unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _refresh_locked(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "refresh_token": self._refresh_token.get_secret_value(),
        }

        unreadable: list[TransientStatus] = []

        def attempt() -> dict[str, Any]:
            self._stats.count_zoho_token_call()
            response = self._http.post(TOKEN_PATH, data=form)
            if self.refreshes and response.status_code == 200 and not _is_json(response):
                # ZOHO_ACCOUNTS_URL gave a token before: this answer was cut short or replaced on its way. Asked
                # once more only: each token Accounts hands out counts against its 10 in 10 minutes
                unreadable.append(
                    TransientStatus.from_response(
                        "Zoho Accounts", response, detail=f" but a body that is not JSON ({content_kind(response)})"
                    )
                )
                if len(unreadable) >= UNREADABLE_TOKEN_ANSWERS:
                    raise RetriesExhausted("zoho-accounts POST /oauth/v2/token", len(unreadable), unreadable[-1])
                raise unreadable[-1]
            return _parse_token_response(response, accounts_url=self.accounts_url, grant=False)

        try:
            body = self._retry.call("zoho-accounts POST /oauth/v2/token", attempt)
        except RetriesExhausted as exc:
            last = exc.last
            if isinstance(last, TransientStatus) and last.status_code == 200:
                raise ZohoTokenUnavailable(
                    f"Zoho Accounts kept answering POST {TOKEN_PATH} with HTTP 200{last.detail} after {exc.tries}.",
                    hint=in_between_hint(
                        "Zoho Accounts",
                        "ZOHO_ACCOUNTS_URL",
                        answered="gave a token",
                        kept="What Zoho acknowledged is saved.",
                    ),
                ) from None
            if isinstance(last, TransientStatus):
                raise ZohoTokenUnavailable(
                    f"Zoho Accounts kept answering POST {TOKEN_PATH} with HTTP {last.status_code} after {exc.tries}.",
                    hint="Zoho Accounts is failing (status.zoho.com says when it is down): run again later; nothing "
                    "was lost. A proxy in front of ZOHO_ACCOUNTS_URL can answer so too.",
                ) from None
            raise ZohoTokenUnavailable(
                f"Zoho Accounts at {self.accounts_url} {unreached(last)}{proxy_note(self.accounts_url)} after "
                f"{exc.tries} ({transport_problem(last)}).",
                hint=tls_fix(last, "ZOHO_ACCOUNTS_URL")
                or proxy_hint(self.accounts_url, last, "Check ZOHO_ACCOUNTS_URL and the network."),
            ) from None
        except httpx2.HTTPError as exc:
            raise ZohoTokenUnavailable(
                f"The token request to Zoho Accounts{proxy_note(self.accounts_url)} failed ({transport_problem(exc)}).",
                hint=proxy_hint(self.accounts_url, exc, transport_hint(exc)),
            ) from None
        api_domain = body.get("api_domain") if isinstance(body.get("api_domain"), str) else None
        warning = check_api_domain(api_domain, api_url=self.api_url, accounts_url=self.accounts_url)
        if warning and warning not in self.warnings:
            self.warnings.append(warning)
            logger.warning("%s", warning)
        lifetime = _lifetime(body)
        self._token = body["access_token"]
        self._refresh_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
        self.refreshes += 1
        self.scope = _scope(body) or self.scope
        self.api_domain = api_domain


class ZohoAuth(httpx2.Auth):
    """``Authorization: Zoho-oauthtoken <token>``; one refresh and replay when Zoho says the token is invalid."""

    requires_response_body = True

    def __init__(self, manager: ZohoTokenManager) -> None:
        self.manager = manager

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        token = self.manager.access_token()
        request.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        response = yield request
        if response.status_code == 401 and _token_rejected(response):
            self.manager.invalidate(token)
            token = self.manager.access_token()
            request.headers["Authorization"] = f"Zoho-oauthtoken {token}"
            yield request


def _is_json(response: httpx2.Response) -> bool:
    try:
        jsonio.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _token_rejected(response: httpx2.Response) -> bool:
    try:
        body = jsonio.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(body, dict) and str(body.get("code", "")).upper() in TOKEN_REJECTED_CODES


def exchange_grant_token(
    accounts_url: str,
    client_id: str,
    client_secret: SecretStr,
    code: SecretStr,
    *,
    redirect_uri: str | None = None,
    timeout: float = 30.0,
    allow_insecure_http: bool = False,
    verify_tls: bool = True,
    transport: httpx2.BaseTransport | None = None,
) -> GrantResult:
    """Exchange a self-client grant code for a refresh token (``grant_type=authorization_code``).

    Not retried: a grant code works once, so a second attempt after a lost answer could only fail.
    """
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret.get_secret_value(),
        "code": code.get_secret_value(),
    }
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    base = accounts_url.rstrip("/")
    with build_client(
        base_url=base,
        setting="ZOHO_ACCOUNTS_URL",
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
        verify_tls=verify_tls,
        transport=transport,
    ) as http:
        try:
            response = http.post(TOKEN_PATH, data=form)
        except httpx2.HTTPError as exc:
            raise ZohoError(
                f"Zoho Accounts at {base} could not be reached{proxy_note(base)} ({transport_problem(exc)}).",
                hint=proxy_hint(
                    base, exc, "The grant code may have been used anyway: generate a new one before trying again."
                ),
            ) from None
        try:
            body = _parse_token_response(response, accounts_url=base, grant=True)
        except TransientStatus as exc:
            raise ZohoError(
                f"Zoho Accounts answered POST {TOKEN_PATH} with HTTP {exc.status_code}.",
                hint="Generate a new grant code and try again later.",
            ) from None
    refresh = body.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise ZohoAuthError(
            "Zoho Accounts exchanged the grant code but returned no refresh token.",
            hint="Use a self-client grant code (API console > Self Client > Generate Code); web-flow codes need "
            "access_type=offline.",
        )
    expires = body.get("expires_in")
    return GrantResult(
        refresh_token=SecretStr(refresh),
        access_token=SecretStr(body["access_token"]),
        scope=_scope(body),
        api_domain=body.get("api_domain") if isinstance(body.get("api_domain"), str) else None,
        expires_in=_lifetime(body) if expires is not None else None,
    )
