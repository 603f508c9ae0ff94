"""Zoho Accounts: the OAuth token endpoint rules (grants, errors as HTTP 200, throttle, token limits, scopes)."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.errors import ZohoError

DEFAULT_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.coql.READ",
    "ZohoSearch.securesearch.READ",
)
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


@dataclass
class AccessToken:
    token: str
    refresh_token: str
    scopes: tuple[str, ...]
    expires: float


@dataclass
class RefreshToken:
    token: str
    scopes: tuple[str, ...]
    created: float
    access_tokens: deque[str] = field(default_factory=deque)
    attempts: deque[float] = field(default_factory=deque)


@dataclass
class GrantCode:
    code: str
    scopes: tuple[str, ...]
    expires: float


def scope_grants(held: str, needed: str) -> bool:
    """Whether one held scope covers a needed one (``ZohoCRM.modules.ALL`` covers ``ZohoCRM.modules.contacts.READ``)."""
    held_parts = held.lower().split(".")
    need_parts = needed.lower().split(".")
    if len(held_parts) < 2 or len(need_parts) < 2:
        return False
    held_op, need_op = held_parts[-1], need_parts[-1]
    held_path, need_path = held_parts[:-1], need_parts[:-1]
    if need_path[: len(held_path)] != held_path:
        return False
    return held_op in {"all", need_op} or (held_op == "write" and need_op in {"create", "update", "delete"})


def has_scopes(held: Iterable[str], needed: Iterable[str]) -> bool:
    held = list(held)
    return all(any(scope_grants(h, n) for h in held) for n in needed)


class ZohoAccounts:
    """The accounts server of one simulated data centre, with one registered self-client."""

    def __init__(self, *, clock: Clock, config: ZohoConfig, seed: int, client_id: str, client_secret: str) -> None:
        self.clock = clock
        self.config = config
        self.client_id = client_id
        self.client_secret = client_secret
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.grant_codes: dict[str, GrantCode] = {}
        self.token_requests = 0

    def _token(self) -> str:
        return f"1000.{self._rng.getrandbits(128):032x}.{self._rng.getrandbits(128):032x}"

    # ---------------------------------------------------------------------------------- control API
    def issue_refresh_token(self, scopes: Sequence[str] = DEFAULT_SCOPES) -> str:
        with self._lock:
            return self._new_refresh_token(tuple(scopes))

    def _new_refresh_token(self, scopes: tuple[str, ...]) -> str:
        token = RefreshToken(token=self._token(), scopes=scopes, created=self.clock.now())
        self.refresh_tokens[token.token] = token
        while len(self.refresh_tokens) > self.config.max_refresh_tokens:  # the 21st silently revokes the oldest
            oldest = next(iter(self.refresh_tokens))
            self._revoke(oldest)
        return token.token

    def issue_grant_code(self, scopes: Sequence[str] = DEFAULT_SCOPES) -> str:
        with self._lock:
            code = GrantCode(
                code=self._token(), scopes=tuple(scopes), expires=self.clock.now() + self.config.grant_code_ttl
            )
            self.grant_codes[code.code] = code
            return code.code

    def issue_access_token(self, refresh_token: str) -> str:
        """Mint an access token directly (tests), with the same eviction rules as the endpoint."""
        with self._lock:
            return self._mint(self.refresh_tokens[refresh_token]).token

    def expire_all_access_tokens(self) -> None:
        with self._lock:
            for token in self.access_tokens.values():
                token.expires = min(token.expires, self.clock.now() - 1)

    def revoke_refresh_token(self, token: str) -> bool:
        with self._lock:
            return self._revoke(token)

    def _revoke(self, token: str) -> bool:
        refresh = self.refresh_tokens.pop(token, None)
        if refresh is None:
            return self.access_tokens.pop(token, None) is not None
        for access in refresh.access_tokens:
            self.access_tokens.pop(access, None)
        return True

    def _mint(self, refresh: RefreshToken) -> AccessToken:
        access = AccessToken(
            token=self._token(),
            refresh_token=refresh.token,
            scopes=refresh.scopes,
            expires=self.clock.now() + self.config.access_token_ttl,
        )
        self.access_tokens[access.token] = access
        refresh.access_tokens.append(access.token)
        while len(refresh.access_tokens) > self.config.max_access_tokens_per_refresh_token:
            self.access_tokens.pop(refresh.access_tokens.popleft(), None)  # the 16th evicts the oldest
        return access

    # ------------------------------------------------------------------------------ token endpoint
    def token_endpoint(self, params: Mapping[str, str], *, base_url: str) -> tuple[int, dict[str, Any]]:
        """``POST /oauth/v2/token``; errors come back as HTTP 200 with ``{"error": …}``, like Zoho's."""
        with self._lock:
            self.token_requests += 1
            grant_type = params.get("grant_type")
            if grant_type not in {"refresh_token", "authorization_code"}:
                return 200, {"error": "unsupported_grant_type"}
            if params.get("client_id") != self.client_id:
                return 200, {"error": "invalid_client"}
            if params.get("client_secret") != self.client_secret:
                return 200, {"error": "invalid_client"}
            api_domain = self.config.api_domain or base_url
            if grant_type == "authorization_code":
                code = self.grant_codes.pop(params.get("code", ""), None)
                if code is None or code.expires < self.clock.now():
                    return 200, {"error": "invalid_code"}
                refresh_token = self._new_refresh_token(code.scopes)
                access = self._mint(self.refresh_tokens[refresh_token])
                return 200, {
                    "access_token": access.token,
                    "refresh_token": refresh_token,
                    "scope": " ".join(code.scopes),
                    "api_domain": api_domain,
                    "token_type": "Bearer",
                    "expires_in": self.config.access_token_ttl,
                }
            refresh = self.refresh_tokens.get(params.get("refresh_token", ""))
            if refresh is None:
                return 200, {"error": "invalid_code"}
            now = self.clock.now()
            window = self.config.refresh_throttle_window
            while refresh.attempts and refresh.attempts[0] <= now - window:
                refresh.attempts.popleft()
            if len(refresh.attempts) >= self.config.refresh_throttle_limit:
                if self.config.refresh_throttle_counts_denied:
                    refresh.attempts.append(now)
                return self.config.throttle_status, dict(THROTTLE_BODY)
            refresh.attempts.append(now)
            access = self._mint(refresh)
            answer: dict[str, Any] = {"access_token": access.token}
            if self.config.scope_in_token_response:
                answer["scope"] = " ".join(refresh.scopes)
            return 200, answer | {
                "api_domain": api_domain,
                "token_type": "Bearer",
                "expires_in": self.config.access_token_ttl,
            }

    def revoke_endpoint(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """``POST /oauth/v2/token/revoke?token=…`` → ``{"status":"success"}``."""
        with self._lock:
            if self._revoke(params.get("token", "")):
                return 200, {"status": "success"}
            return 200, {"error": "invalid_token", "status": "failure"}  # [UNVERIFIED] unknown token

    # -------------------------------------------------------------------------------- API auth
    def authenticate(self, header: str | None, needed: Sequence[str]) -> AccessToken:
        """Check ``Authorization: Zoho-oauthtoken <t>`` and the scopes an endpoint needs (401s otherwise)."""
        if not header or not header.strip():
            raise ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        scheme, _, value = header.strip().partition(" ")
        if scheme != "Zoho-oauthtoken" or not value.strip():
            raise ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        with self._lock:
            token = self.access_tokens.get(value.strip())
            if token is None or token.expires <= self.clock.now():
                if self.config.expired_access_error == "AUTHENTICATION_FAILURE":
                    raise ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
                raise ZohoError(401, "INVALID_TOKEN", "invalid oauth token")
        if not has_scopes(token.scopes, needed):
            raise ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
        return token

    def reset(self) -> None:
        with self._lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()
            self.grant_codes.clear()
            self.token_requests = 0
