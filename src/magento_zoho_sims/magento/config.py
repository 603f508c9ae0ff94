"""Every switch of the Magento simulator, with the documented (or the more hostile) behaviour as default."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

CUSTOMER_RESOURCE = "Magento_Customer::customer"
DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo seed, documented


class TwoFactorState(StrEnum):
    """What the 2FA wrapper of ``POST /V1/integration/admin/token`` answers for an admin."""

    CONFIGURED = "configured"  # 400 "Please use the 2fa provider-specific endpoints to obtain a token."
    NOT_ASSIGNED = "not_assigned"  # 400 "Please ask an administrator with sufficient access to configure 2FA first"
    NOT_CONFIGURED = "not_configured"  # 400 "You are required to configure personal Two-Factor Authorization ..."


@dataclass
class AdminUser:
    username: str = "admin"
    password: str = "magento-demo-1"  # noqa: S105 - the documented demo password of the simulator
    user_id: int = 1
    active: bool = True
    has_role: bool = True
    totp_secret: str = DEFAULT_TOTP_SECRET
    two_factor: TwoFactorState = TwoFactorState.CONFIGURED


@dataclass
class Integration:
    """An activated integration: four 32-character credentials and the ACL resources it was granted."""

    name: str = "mzsync"
    consumer_key: str = "4c0c691df02b53499b01ba79841c9731"
    consumer_secret: str = "1c73c305ebb4c076bcea7b245c0a2563"  # noqa: S105 - the simulator's documented demo value
    access_token: str = "16e7e073452f78a1aa9e1624167df32d"  # noqa: S105
    access_token_secret: str = "4cd2d7f76b50d1e7187af177ce536ab7"  # noqa: S105
    resources: tuple[str, ...] = (CUSTOMER_RESOURCE, "Magento_Backend::stores", "Magento_Customer::group")
    consumer_id: int = 1
    revoked: bool = False


@dataclass
class MagentoConfig:
    """All behaviour switches. Defaults follow 2.4.6-p1 code, or the more hostile choice where unverified."""

    admins: list[AdminUser] = field(default_factory=lambda: [AdminUser()])
    integrations: list[Integration] = field(default_factory=lambda: [Integration()])
    date_header: bool = True  # False: the answers carry no Date header (a proxy in front of the store drops it)
    # the web server's clock runs this many seconds ahead (negative: behind) of the database's, which stamps
    # updated_at: the Date header and PHP's time checks (tokens, TOTP, OAuth timestamps) follow the web server's
    date_header_skew_seconds: int = 0
    two_factor_enabled: bool = False  # Magento_TwoFactorAuth on: plain admin token endpoint refuses (400)
    totp_leeway: int = 29  # twofactorauth/google/leeway, seconds
    admin_token_ttl: int = 3600  # JWT admin_expiration (2.4.4+); 14400 mirrors the docs ("docs mode")
    enable_integration_as_bearer: bool = False  # oauth/consumer/enable_integration_as_bearer (off since 2.4.4)
    ims_enabled: bool = False  # Adobe IMS: admin token generation disabled (401)
    lock_max_failures: int = 6  # oauth/authentication_lock/max_failures_count
    lock_timeout: int = 1800  # oauth/authentication_lock/timeout, sliding
    oauth_max_future_skew: int = 600  # timestamps beyond now + this are refused
    # webapi/validation/input_limit_enabled and friends (2.4.3 had them always on).
    input_limit_enabled: bool = False
    max_page_size: int = 300
    default_page_size: int = 20  # applied only when input limits are on (2.4.6-p1 fallback would be 999999)
    repeat_last_page: bool = False  # "2.3 mode": a page past the end repeats the last page
    chaos_order: bool = False  # no sortOrders => shuffled order (exposes clients relying on an unspecified order)
    bump_updated_at_on_custom_attributes: bool = False  # EAV-only edits leave updated_at alone by default
    developer_mode: bool = False  # errors carry "trace"; 500s are not masked
    store_codes: tuple[str, ...] = ("default", "eu")
    # error messages translated (ja_JP is there too, for a store code added at startup: its text has no English)
    store_locales: dict[str, str] = field(default_factory=lambda: {"eu": "de_DE"})
    # a regular expression: REST paths (from /V1) it matches have no route (404 "Request does not match any
    # route.", translated), as when the module declaring them is disabled or an extension removes them
    unrouted_paths: str | None = None
    read_ahead: int = 600  # base customers encoded ahead of a keyset reader (0: off)
    throttle_html: bool = False  # injected 429s as a Fastly/WAF HTML page instead of Magento's JSON
    retry_after: int | None = None  # Retry-After seconds on injected 429s (None: no header)
    account_share_per_website: bool = True  # customer/account_share/scope = 1
