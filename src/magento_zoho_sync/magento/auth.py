"""The four ways the sync can authenticate to Magento (``MAGENTO_AUTH``), as :class:`httpx2.Auth` classes.

======================  =======================================================================================
``admin``               ``POST /V1/integration/admin/token`` with the admin's username/password; the token is
                        sent as ``Bearer``. On a 401 mid-run (tokens last 60 min on 2.4.4+, 4 h before; we never
                        assume a lifetime) the auth logs in again **once** and replays the request.
``admin-totp``          the same through ``POST /V1/tfa/provider/google/authenticate`` with a TOTP code computed
                        from ``MAGENTO_TOTP_SECRET`` (pyotp), for admins with two-factor authentication.
``integration-bearer``  the integration's access token as ``Bearer`` (only if the store allows it; off by
                        default since 2.4.4).
``integration-oauth1``  OAuth 1.0a HMAC-SHA256 signatures (oauthlib) with the integration's four credentials:
                        no expiry, no 2FA, no shared password. The recommendation for unattended syncs.
======================  =======================================================================================

Credential failures raise :class:`MagentoAuthError` and are never retried: Magento locks an admin user's API
login for 30 minutes after 6 failures. Error texts name settings and quote Magento's message, never a secret.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Generator
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

import httpx2
import pyotp
from oauthlib import oauth1
from pydantic import SecretStr

from magento_zoho_sync import jsonio
from magento_zoho_sync.errors import ConfigError, MagentoAuthError, MagentoError
from magento_zoho_sync.http import cut_short_hint, cut_short_json, is_header_token
from magento_zoho_sync.magento.wire import (
    HTML_PAGE,
    PHP_OUTPUT_HINT,
    error_body,
    error_message,
    is_html,
    php_output,
    server_date,
)
from magento_zoho_sync.redact import register_secret
from magento_zoho_sync.retry import TransientStatus, is_transient_status
from magento_zoho_sync.settings import MagentoSettings
from magento_zoho_sync.settings_checks import AUTH_MODE_CREDENTIALS

__all__ = [
    "AdminTokenAuth",
    "AdminTotpAuth",
    "IntegrationBearerAuth",
    "IntegrationOAuth1Auth",
    "MagentoAuth",
    "MagentoAuthRefused",
    "build_magento_auth",
    "clock_skew_note",
]

T = TypeVar("T")

ADMIN_TOKEN_PATH = "/rest/V1/integration/admin/token"  # noqa: S105 - a URL path
TOTP_TOKEN_PATH = "/rest/V1/tfa/provider/google/authenticate"  # noqa: S105 - a URL path

LOCKOUT_NOTE = (
    "The sync does not retry a refused login: Magento locks the admin user's API login for 30 minutes after "
    "6 failed attempts, and then refuses even the right password with the same message."
)
OAUTH1_ADVICE = "For unattended syncs an integration with MAGENTO_AUTH=integration-oauth1 avoids expiry and 2FA."
IMS_HINT = (
    "The store signs admins in with Adobe IMS, which disables admin tokens for every user: create an integration "
    "(docs/authentication.md) and use MAGENTO_AUTH=integration-oauth1."
)
#: The two causes of the OAuth 1.0a "consumer isn't authorized" 401, and how to tell them apart.
OAUTH_ACL_HINT = (
    "Check both causes. (1) The integration may not read customers: its API access must include Customers > All "
    "Customers (Magento_Customer::customer), in System > Extensions > Integrations > Edit > API, then reactivate "
    "it (copy the tokens again if they change). (2) The web server does not pass the Authorization header to PHP "
    "(Magento then sees no credentials at all): Apache with PHP-FPM or CGI needs CGIPassAuth On, or a rewrite rule "
    "such as RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}], and a proxy or load balancer in front "
    "must forward the header. If the integration already lists Customers, look at the web server first."
)
#: Clock difference (seconds) worth mentioning; Magento refuses OAuth timestamps more than 600 s ahead.
SKEW_WORTH_MENTIONING = 60.0


def clock_skew_note(server: datetime | None, *, now: datetime | None = None) -> str:
    """A sentence about this machine's clock compared with the server's ``Date`` header."""
    if server is None:
        return "Also check that this machine's clock is right (the store sent no Date header to compare with)."
    local = now or datetime.now(UTC)
    skew = (local - server).total_seconds()
    if abs(skew) < SKEW_WORTH_MENTIONING:
        return f"This machine's clock agrees with the store's (difference {skew:+.0f} s)."
    direction = "ahead of" if skew > 0 else "behind"
    return f"This machine's clock is {abs(skew):.0f} s {direction} the store's: fix the clock (NTP) and retry."


class MagentoAuthRefused(MagentoAuthError):
    """A :class:`MagentoAuthError` with a machine-readable ``reason`` (for the doctor and tests).

    Reasons: ``bad_credentials``, ``no_role`` (the password was right), ``ims_disabled`` (Adobe IMS),
    ``two_factor_required``, ``two_factor_setup``, ``endpoint_missing``, ``login_refused``, ``token_refused`` (a
    fresh admin token refused: permissions), ``bearer_refused``, ``oauth_signature``, ``oauth_clock`` (timestamp or
    nonce), ``oauth_consumer``, ``oauth_token``, ``oauth_revoked``, ``oauth_acl`` (Magento's generic "not authorized":
    the ACL refused a good signature, or no Authorization header reached PHP), ``oauth_refused``, ``refused``.
    """

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


class MagentoAuth(httpx2.Auth):
    """Base class: each mode also explains a refusal (401, or an OAuth 400) in its own terms."""

    mode: ClassVar[str]

    def store_answered(self) -> bool:
        """Whether MAGENTO_BASE_URL has answered this mode's own request with JSON (a login's token): then the URL
        is right, even before the first page of customers."""
        return False

    def refusal(self, response: httpx2.Response) -> MagentoAuthError | None:
        """The error to raise for an API answer that refuses our credentials, or None if it is not one."""
        if response.status_code != 401:
            return None
        return MagentoAuthRefused(
            f"Magento refused the {self.mode} credentials for {response.request.method} "
            f"{response.request.url.path} (HTTP 401: {error_message(response)}).",
            reason="refused",
        )


class _LoginAuth(MagentoAuth, ABC):
    """Admin token modes: log in when there is no token, and once more on a 401 before giving up."""

    requires_response_body = True
    token_path: ClassVar[str]
    #: whether a login whose answer cannot be read, after one that could, is tried again: not with a one-time code,
    #: which the lost answer may have used up
    retries_unreadable: ClassVar[bool] = True

    def __init__(self, *, base_url: str, username: str, password: SecretStr) -> None:
        self._token_url = base_url.rstrip("/") + self.token_path
        self._username = username
        self._password = password
        self._lock = threading.Lock()
        self._token: str | None = None
        self.logins = 0  # how many times a token was obtained (for tests and the doctor)

    def store_answered(self) -> bool:
        return self.logins > 0

    @abstractmethod
    def _login_body(self) -> dict[str, str]:
        """The JSON body of the login request (admin token or 2FA provider endpoint)."""

    def _login_request(self, original: httpx2.Request) -> httpx2.Request:
        headers = {"Accept": "application/json"}
        if "User-Agent" in original.headers:
            headers["User-Agent"] = original.headers["User-Agent"]
        # a request made here is not made by the client: it gets the client's timeouts from the request it logs in
        # for (without them, a store that accepts the connection and never answers would hold the sync forever)
        extensions = {"timeout": original.extensions["timeout"]} if "timeout" in original.extensions else {}
        return httpx2.Request("POST", self._token_url, json=self._login_body(), headers=headers, extensions=extensions)

    def _login(self, original: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, str]:
        response = yield self._login_request(original)
        token = self._read_token(response)
        register_secret(token)
        with self._lock:
            self._token = token
            self.logins += 1
        return token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        with self._lock:
            token = self._token
        if token is None:
            token = yield from self._login(request)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # The token expired or was revoked: log in again once and replay; a second 401 is final.
        self._forget(token)
        token = yield from self._login(request)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def refusal(self, response: httpx2.Response) -> MagentoAuthError | None:
        if response.status_code != 401:
            return None
        return MagentoAuthRefused(
            f"Magento refused a freshly issued admin token for {response.request.method} "
            f"{response.request.url.path} (HTTP 401: {error_message(response)}).",
            hint=f"The admin user {self._username!r} needs a role that includes Customers > All Customers "
            "(ACL resource Magento_Customer::customer).",
            reason="token_refused",
        )

    def _read_token(self, response: httpx2.Response) -> str:
        status = response.status_code
        where = f"POST {response.request.url.path}"
        if status == 200:
            try:
                body = jsonio.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                body = None
            if isinstance(body, str) and body.strip():
                token = body.strip()
                if not is_header_token(token):
                    raise MagentoAuthError(
                        f"Magento answered {where} with a token that holds characters an HTTP header cannot carry "
                        "(non-ASCII characters, spaces or control characters); it was not used.",
                        hint="Magento issues plain ASCII tokens: an extension or a proxy alters the store's answer to "
                        f"{where} (see the store's logs, or ask that endpoint yourself).",
                    )
                return token
            if php_output(response):
                raise MagentoError(
                    f"Magento answered {where} with HTTP 200 but with PHP notices or warnings before the token.",
                    hint=PHP_OUTPUT_HINT,
                )
            if self.logins and self.retries_unreadable:  # the URL gave a token before: this answer was cut short
                detail = f" but {HTML_PAGE}" if is_html(response) else " but not with a token (cut short?)"
                raise TransientStatus.from_response("magento", response, detail=detail)  # or replaced on its way
            if cut_short_json(response):  # a token's JSON begun: the URL is the store's
                raise MagentoError(
                    f"Magento answered {where} with HTTP 200 and JSON cut off after {len(response.content):,} bytes, "
                    "not a whole token.",
                    hint=cut_short_hint(
                        "Magento",
                        "MAGENTO_BASE_URL",
                        kept="what Zoho acknowledged is saved and the next run goes on from there."
                        if self.logins
                        else "nothing was read or written.",
                    ),
                )
            raise MagentoError(
                f"Magento answered {where} with HTTP 200 but not with a token (expected a JSON string).",
                hint="Check that MAGENTO_BASE_URL is the store's base URL (without /rest).",
            )
        if is_transient_status(status):
            raise TransientStatus.from_response("magento", response)
        message = error_message(response)
        if status == 401:
            reason, hint = self._login_401(message)
            if reason == "totp_refused":  # the code depends on this machine's clock: say how far off it is
                hint = f"{hint} {clock_skew_note(server_date(response))}"
            raise MagentoAuthRefused(
                f"Magento refused the login of admin user {self._username!r} at {where} (HTTP 401: {message}).",
                hint=hint,
                reason=reason,
            )
        if status == 400:
            raise self._login_400(response, where, message)
        if 300 <= status < 400:
            raise MagentoError(
                f"Magento redirected {where} (HTTP {status}) to {response.headers.get('Location', '?')}; "
                "redirects are not followed.",
                hint="Set MAGENTO_BASE_URL to the final address (https, www or not, no trailing path).",
            )
        if status == 404:
            raise MagentoAuthRefused(
                f"Magento has no {where} endpoint (HTTP 404: {message}).",
                hint=self._not_found_hint(),
                reason="endpoint_missing",
            )
        raise MagentoAuthRefused(
            f"Magento refused the login at {where} (HTTP {status}: {message}).", reason="login_refused"
        )

    def _login_401(self, message: str) -> tuple[str, str]:
        """(reason, hint) of a 401 from the login endpoint: Magento says which of the three refusals it is."""
        lowered = message.lower()
        if re.search(r"\bims\b", lowered) or "token generation is disabled" in lowered:
            return "ims_disabled", IMS_HINT
        if "permission" in lowered:
            return "no_role", (
                f"The password was accepted, but the admin user {self._username!r} has no role: give it one that "
                "includes Customers > All Customers (Magento_Customer::customer), in System > Permissions > All "
                f"Users > the user > User Role. {OAUTH1_ADVICE}"
            )
        return self._refusal_reason(message), self._bad_credentials_hint()

    def _bad_credentials_hint(self) -> str:
        return f"Check MAGENTO_USERNAME and MAGENTO_PASSWORD. {LOCKOUT_NOTE}"

    def _refusal_reason(self, message: str) -> str:
        """The ``reason`` of a 401 from the login endpoint."""
        return "bad_credentials"

    def _not_found_hint(self) -> str:
        return "Check MAGENTO_BASE_URL (the store's base URL, without /rest)."

    def _login_400(self, response: httpx2.Response, where: str, message: str) -> MagentoAuthError:
        return MagentoAuthRefused(
            f"Magento refused the login at {where} (HTTP 400: {message}).", reason="login_refused"
        )


def _two_factor_parameters(response: httpx2.Response) -> bool:
    body = error_body(response) or {}
    params = body.get("parameters")
    text = str(body.get("message", "")).lower()
    return (isinstance(params, dict) and ("active_providers" in params or "providers" in params)) or (
        "2fa" in text or "two-factor" in text
    )


def _two_factor_setup_needed(response: httpx2.Response) -> str | None:
    """The fix when 2FA is on but the user cannot use Google Authenticator yet (admin-totp could not work), or None.

    Magento lists the user's ``providers`` with no ``active_providers`` when the user has not configured one (it
    e-mailed a set-up link), and asks for an administrator when no provider is assigned to the user.
    """
    body = error_body(response) or {}
    params = body.get("parameters")
    text = str(body.get("message", "")).lower()
    unconfigured = isinstance(params, dict) and params.get("active_providers") == [] and bool(params.get("providers"))
    if unconfigured or "configure personal" in text:
        return (
            "The user must first set up Google Authenticator: open the link Magento e-mailed to the user (or sign "
            "in to the admin panel once) and scan the code; then set MAGENTO_AUTH=admin-totp and "
            f"MAGENTO_TOTP_SECRET to the secret it showed. {OAUTH1_ADVICE}"
        )
    if "administrator" in text and "2fa" in text:
        return (
            "An administrator must first assign Google Authenticator to this user (Stores > Configuration > "
            "Security > 2FA, and the user's 2FA settings); then the user sets it up, and MAGENTO_AUTH=admin-totp "
            f"with MAGENTO_TOTP_SECRET works. {OAUTH1_ADVICE}"
        )
    return None


class AdminTokenAuth(_LoginAuth):
    """``MAGENTO_AUTH=admin``: ``POST /V1/integration/admin/token`` → bare JSON string token."""

    mode = "admin"
    token_path = ADMIN_TOKEN_PATH

    def _login_body(self) -> dict[str, str]:
        return {"username": self._username, "password": self._password.get_secret_value()}

    def _login_400(self, response: httpx2.Response, where: str, message: str) -> MagentoAuthError:
        setup = _two_factor_setup_needed(response)
        if setup is not None:
            return MagentoAuthRefused(
                f"Magento requires two-factor authentication for admin user {self._username!r}, and it is not set "
                f"up for this user yet (HTTP 400 from {where}: {message}).",
                hint=setup,
                reason="two_factor_setup",
            )
        if _two_factor_parameters(response):
            return MagentoAuthRefused(
                f"Magento requires two-factor authentication for admin user {self._username!r}: the plain admin "
                f"token endpoint does not issue tokens (HTTP 400 from {where}: {message}).",
                hint="Set MAGENTO_AUTH=admin-totp and MAGENTO_TOTP_SECRET (the user's Google Authenticator secret), "
                f"or create an integration and use MAGENTO_AUTH=integration-oauth1. {OAUTH1_ADVICE}",
                reason="two_factor_required",
            )
        return super()._login_400(response, where, message)


class AdminTotpAuth(_LoginAuth):
    """``MAGENTO_AUTH=admin-totp``: ``POST /V1/tfa/provider/google/authenticate`` with a fresh TOTP code."""

    mode = "admin-totp"
    token_path = TOTP_TOKEN_PATH
    retries_unreadable = False

    def __init__(self, *, base_url: str, username: str, password: SecretStr, totp_secret: SecretStr) -> None:
        super().__init__(base_url=base_url, username=username, password=password)
        seed = "".join(totp_secret.get_secret_value().split()).upper()  # pasted with spaces, tabs or a newline
        try:
            self._totp = pyotp.TOTP(seed)
            self._totp.now()
        except (ValueError, TypeError):  # binascii.Error is a ValueError
            raise ConfigError(
                "MAGENTO_TOTP_SECRET is not a valid base32 TOTP secret (the key shown when the user set up "
                "Google Authenticator, letters A-Z and digits 2-7)."
            ) from None

    def _login_body(self) -> dict[str, str]:
        return {
            "username": self._username,
            "password": self._password.get_secret_value(),
            "otp": self._totp.now(),
        }

    def _bad_credentials_hint(self) -> str:
        return (
            "Check MAGENTO_USERNAME, MAGENTO_PASSWORD and MAGENTO_TOTP_SECRET, and that this machine's clock is "
            f"right (TOTP codes change every 30 s). {LOCKOUT_NOTE}"
        )

    def _refusal_reason(self, message: str) -> str:
        # Magento's Google Authenticator endpoint answers "Invalid code." when only the one-time code is wrong
        return "totp_refused" if "code" in message.lower() else "bad_credentials"

    def _not_found_hint(self) -> str:
        return (
            "The store has no Google Authenticator endpoint (Magento_TwoFactorAuth disabled?): "
            "use MAGENTO_AUTH=admin, or check MAGENTO_BASE_URL."
        )

    def _login_400(self, response: httpx2.Response, where: str, message: str) -> MagentoAuthError:
        return MagentoAuthRefused(
            f"Magento refused the 2FA login of admin user {self._username!r} at {where} (HTTP 400: {message}).",
            hint="The user must have Google Authenticator configured as a 2FA provider (Magento: "
            f"Stores > Configuration > Security > 2FA). {OAUTH1_ADVICE}",
            reason="two_factor_setup",
        )


class IntegrationBearerAuth(MagentoAuth):
    """``MAGENTO_AUTH=integration-bearer``: the integration access token as a Bearer token."""

    mode = "integration-bearer"

    def __init__(self, *, access_token: SecretStr) -> None:
        self._access_token = access_token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._access_token.get_secret_value()}"
        yield request

    def refusal(self, response: httpx2.Response) -> MagentoAuthError | None:
        if response.status_code != 401:
            return None
        return MagentoAuthRefused(
            f"Magento refused the integration access token as a Bearer token for {response.request.method} "
            f"{response.request.url.path} (HTTP 401: {error_message(response)}).",
            hint="Since Magento 2.4.4 a store ignores integration tokens used as Bearer tokens unless it allows "
            'them: Stores > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access Tokens to '
            'be used as standalone Bearer tokens" = Yes. Or leave that off and use '
            "MAGENTO_AUTH=integration-oauth1 with MAGENTO_CONSUMER_KEY, MAGENTO_CONSUMER_SECRET, "
            "MAGENTO_ACCESS_TOKEN and MAGENTO_ACCESS_TOKEN_SECRET. Also check that the integration is active and "
            "may read Customers (Magento_Customer::customer).",
            reason="bearer_refused",
        )


class IntegrationOAuth1Auth(MagentoAuth):
    """``MAGENTO_AUTH=integration-oauth1``: OAuth 1.0a, HMAC-SHA256, parameters in the Authorization header.

    The signature covers the query string exactly as sent (see :mod:`magento_zoho_sync.magento.search` for
    the ``%20`` encoding Magento needs); JSON bodies are not signed (Magento does not sign them either).
    """

    mode = "integration-oauth1"

    def __init__(
        self,
        *,
        consumer_key: SecretStr,
        consumer_secret: SecretStr,
        access_token: SecretStr,
        access_token_secret: SecretStr,
    ) -> None:
        self._client = oauth1.Client(
            consumer_key.get_secret_value(),
            client_secret=consumer_secret.get_secret_value(),
            resource_owner_key=access_token.get_secret_value(),
            resource_owner_secret=access_token_secret.get_secret_value(),
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
            signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
        )

    def sign(self, request: httpx2.Request) -> None:
        """Add the ``Authorization: OAuth …`` header for ``request`` (a fresh nonce and timestamp each time)."""
        _, headers, _ = self._client.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        self.sign(request)
        yield request

    def refusal(self, response: httpx2.Response) -> MagentoAuthError | None:
        status = response.status_code
        message = error_message(response)
        lowered = message.lower()
        oauth_400 = status == 400 and any(w in lowered for w in ("oauth", "timestamp", "signature", "nonce", "token"))
        if status != 401 and not oauth_400:
            return None
        skew = clock_skew_note(server_date(response))
        if "signature" in lowered:
            reason = "oauth_signature"
            hint = (
                "Check MAGENTO_CONSUMER_SECRET and MAGENTO_ACCESS_TOKEN_SECRET. Magento signs over the URL it "
                "believes it serves: a TLS-terminating proxy it does not trust turns https into http and breaks "
                f"every signature, so MAGENTO_BASE_URL must match the store's own base URL. {skew}"
            )
        elif "timestamp" in lowered or "nonce" in lowered:
            reason = "oauth_clock"
            hint = f"OAuth timestamps and nonces depend on this machine's clock. {skew}"
        elif "consumer" in lowered and ("exist" in lowered or "length" in lowered):
            reason = "oauth_consumer"
            hint = "Check MAGENTO_CONSUMER_KEY (32 characters, from System > Extensions > Integrations)."
        elif "token" in lowered and any(w in lowered for w in ("exist", "length", "found")):
            reason = "oauth_token"
            hint = (
                "Check MAGENTO_ACCESS_TOKEN: the integration's Access Token (32 characters, System > Extensions > "
                "Integrations > the integration's Integration Details), not its Access Token Secret."
            )
        elif "authorized to access" in lowered:
            # Magento answers this same 401 to a request it read as a guest's: one with no Authorization header
            # (a web server or proxy that does not pass it to PHP) as well as a signed one the ACL refuses.
            return MagentoAuthRefused(
                f"Magento refused {response.request.method} {response.request.url.path} as not authorized "
                f"(HTTP {status}: {message}): either it accepted the OAuth 1.0a signature but the integration may "
                "not read customers, or the Authorization header never reached Magento (it then answers as to a "
                "guest, with this same message).",
                hint=OAUTH_ACL_HINT,
                reason="oauth_acl",
            )
        elif "revoked" in lowered:
            reason = "oauth_revoked"
            hint = "The integration's access token was revoked: reactivate the integration and copy the new tokens."
        else:
            reason = "oauth_refused"
            hint = (
                "Check that the integration is active, that its API access includes Customers "
                "(Magento_Customer::customer), and MAGENTO_CONSUMER_KEY, MAGENTO_CONSUMER_SECRET, "
                f"MAGENTO_ACCESS_TOKEN and MAGENTO_ACCESS_TOKEN_SECRET. {skew}"
            )
        return MagentoAuthRefused(
            f"Magento refused the OAuth 1.0a signature for {response.request.method} {response.request.url.path} "
            f"(HTTP {status}: {message}).",
            hint=hint,
            reason=reason,
        )


def build_magento_auth(settings: MagentoSettings) -> MagentoAuth:
    """The auth object for ``settings.auth``; :class:`ConfigError` naming what is missing."""
    missing = [name for name in AUTH_MODE_CREDENTIALS[settings.auth] if getattr(settings, name) in (None, "")]
    if missing:
        names = ", ".join(f"MAGENTO_{name.upper()}" for name in missing)
        raise ConfigError(f"MAGENTO_AUTH={settings.auth} needs {names}.")
    s = settings
    if s.auth == "admin":
        return AdminTokenAuth(base_url=s.base_url, username=_given(s.username), password=_given(s.password))
    if s.auth == "admin-totp":
        return AdminTotpAuth(
            base_url=s.base_url,
            username=_given(s.username),
            password=_given(s.password),
            totp_secret=_given(s.totp_secret),
        )
    if s.auth == "integration-bearer":
        return IntegrationBearerAuth(access_token=_given(s.access_token))
    return IntegrationOAuth1Auth(
        consumer_key=_given(s.consumer_key),
        consumer_secret=_given(s.consumer_secret),
        access_token=_given(s.access_token),
        access_token_secret=_given(s.access_token_secret),
    )


def _given(value: T | None) -> T:
    if value is None:  # pragma: no cover - build_magento_auth checked it
        raise ConfigError("a Magento credential is missing")
    return value
