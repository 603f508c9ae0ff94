"""Admin tokens, the login throttle, 2FA (Google TOTP) and Bearer resolution, as Magento 2.4 does them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass

import pyotp

from magento_zoho_sims.magento.config import AdminUser, Integration, MagentoConfig, TwoFactorState
from magento_zoho_sims.magento.errors import BAD_CREDENTIALS, MagentoError, required_many
from magento_zoho_sims.magento.webclock import Now

IMS_DISABLED = "Admin token generation is disabled. Please use Adobe IMS ACCESS_TOKEN."


@dataclass(frozen=True)
class Principal:
    """Who a request runs as. ``resources=None`` means every ACL resource (an admin)."""

    kind: str  # "admin" or "integration"
    name: str
    resources: frozenset[str] | None = None

    def allows(self, resource: str) -> bool:
        return self.resources is None or resource in self.resources


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AuthState:
    """Tokens issued, failure counters, used nonces; PHP's checks, on the web server's clock."""

    def __init__(self, config: MagentoConfig, clock: Now) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._failures: dict[str, tuple[int, float]] = {}  # username -> (count, lock_expires_at)
        self._tokens: dict[str, tuple[int, float]] = {}  # token -> (admin user id, expires at)
        self._nonces: dict[int, set[str]] = {}

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()
            self._tokens.clear()
            self._nonces.clear()

    # ----------------------------------------------------------------- admin login
    def _admin(self, username: str) -> AdminUser | None:
        return next((a for a in self.config.admins if a.username == username), None)

    @staticmethod
    def credentials(body: object, fields: tuple[str, ...] = ("username", "password")) -> dict[str, str]:
        data = body if isinstance(body, dict) else {}
        missing = [f for f in fields if not isinstance(data.get(f), str | int) or data.get(f) in ("", None)]
        if missing:
            raise required_many(missing)
        return {f: str(data[f]) for f in fields}

    def verify_login(self, username: str, password: str) -> AdminUser:
        """Throttle check, then the password; every failure counts and pushes the lock (sliding)."""
        now = self.clock.now()
        with self._lock:
            count, expires = self._failures.get(username, (0, 0.0))
            if count >= self.config.lock_max_failures and expires > now:
                raise MagentoError(401, BAD_CREDENTIALS)
            admin = self._admin(username)
            if admin is None or not hmac.compare_digest(admin.password.encode(), password.encode()) or not admin.active:
                self._failures[username] = (count + 1, now + self.config.lock_timeout)
                raise MagentoError(401, BAD_CREDENTIALS)
            self._failures.pop(username, None)
        if not admin.has_role:
            raise MagentoError(401, "More permissions are needed to access this.")
        return admin

    def admin_token(self, body: object) -> str:
        """``POST /V1/integration/admin/token`` (with the 2FA wrapper when 2FA is on)."""
        if self.config.ims_enabled:
            raise MagentoError(401, IMS_DISABLED)
        creds = self.credentials(body)
        admin = self.verify_login(creds["username"], creds["password"])
        if self.config.two_factor_enabled:
            if admin.two_factor is TwoFactorState.CONFIGURED:
                raise MagentoError(
                    400,
                    "Please use the 2fa provider-specific endpoints to obtain a token.",
                    {"active_providers": ["google"]},
                )
            if admin.two_factor is TwoFactorState.NOT_ASSIGNED:
                raise MagentoError(400, "Please ask an administrator with sufficient access to configure 2FA first")
            raise MagentoError(
                400,
                "You are required to configure personal Two-Factor Authorization in order to login. "
                "Please check your email.",
                {"providers": ["google"], "active_providers": []},
            )
        return self.issue(admin)

    def google_authenticate(self, body: object) -> str:
        """``POST /V1/tfa/provider/google/authenticate`` with a TOTP code (30 s, 6 digits, SHA-1, leeway)."""
        creds = self.credentials(body, ("username", "password", "otp"))
        admin = self.verify_login(creds["username"], creds["password"])
        if admin.two_factor is TwoFactorState.NOT_ASSIGNED:
            raise MagentoError(400, "Provider is not allowed.")
        if admin.two_factor is TwoFactorState.NOT_CONFIGURED:
            raise MagentoError(400, "Provider is not configured.")
        totp = pyotp.TOTP(admin.totp_secret)
        now = self.clock.now()
        leeway = self.config.totp_leeway
        moments = {now, now - leeway, now + leeway}
        if not any(hmac.compare_digest(totp.at(int(t)).encode(), creds["otp"].encode()) for t in moments):
            raise MagentoError(401, "Invalid code.")
        return self.issue(admin)

    # ----------------------------------------------------------------- tokens
    def issue(self, admin: AdminUser) -> str:
        """A JWT-looking admin token (HS256, kid "1", uid/utypid/iat/exp claims)."""
        iat = int(self.clock.now())
        exp = iat + self.config.admin_token_ttl
        header = _b64(json.dumps({"kid": "1", "alg": "HS256"}, separators=(",", ":")).encode())
        claims = {"uid": admin.user_id, "utypid": 2, "iat": iat, "exp": exp, "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        token = f"{header}.{payload}.{signature}"
        with self._lock:
            self._tokens[token] = (admin.user_id, float(exp))
        return token

    def resolve_authorization(self, header: str | None) -> Principal | None:
        """The Bearer part of ``TokenUserContext``: anything unusable is silently a guest (``None``)."""
        if not header:
            return None
        parts = header.split(" ")
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        token = parts[1]
        with self._lock:
            issued = self._tokens.get(token)
        if issued is not None:
            uid, exp = issued
            admin = next((a for a in self.config.admins if a.user_id == uid), None)
            if admin is None or not admin.active or self.clock.now() >= exp:
                return None
            return Principal("admin", admin.username)
        if self.config.enable_integration_as_bearer:
            for integration in self.config.integrations:
                if not integration.revoked and hmac.compare_digest(integration.access_token.encode(), token.encode()):
                    return integration_principal(integration)
        return None

    def expire_tokens(self) -> None:
        """Every admin token issued so far expires now."""
        with self._lock:
            now = self.clock.now()
            self._tokens = {t: (uid, min(exp, now)) for t, (uid, exp) in self._tokens.items()}

    def revoke_admin_tokens(self, username: str | None = None) -> None:
        with self._lock:
            ids = {a.user_id for a in self.config.admins if username is None or a.username == username}
            self._tokens = {t: v for t, v in self._tokens.items() if v[0] not in ids}

    def failures(self, username: str) -> int:
        with self._lock:
            return self._failures.get(username, (0, 0.0))[0]

    def use_nonce(self, consumer_id: int, nonce: str) -> bool:
        """Record a nonce; ``False`` when the consumer already used it."""
        with self._lock:
            used = self._nonces.setdefault(consumer_id, set())
            if nonce in used:
                return False
            used.add(nonce)
            return True


def integration_principal(integration: Integration) -> Principal:
    return Principal("integration", integration.name, frozenset(integration.resources))
