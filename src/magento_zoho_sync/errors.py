"""Every error the product raises, and the exit code each one maps to.

::

    SyncError                      base class; ``exit_code`` says how the CLI ends
    ├── ConfigError                bad or missing settings, mapping file, URL policy      → exit 2
    ├── AuthError                  credentials refused by a service (never retried blindly) → exit 2
    │   ├── MagentoAuthError
    │   └── ZohoAuthError
    ├── ServiceError               a service unreachable after retries, or answering nonsense → exit 2
    │   ├── MagentoError
    │   └── ZohoError
    │       ├── ZohoReadRefused    a read refused with an error code (a COQL SYNTAX_ERROR, ...)
    │       ├── ZohoRequestRefused a refusal every call would repeat (module, URL, permission): stops at once
    │       ├── ZohoTokenUnavailable no access token from Zoho Accounts after retries: stops at once
    │       └── ZohoRateLimited    credits or concurrency spent, after retries
    ├── StateError                 the state file cannot be opened, migrated or written    → exit 2
    │   └── LockedError            another sync holds the state file                        → exit 2
    └── Interrupted                SIGINT / SIGTERM: partial run saved                       → exit 130 / 143

Messages are written for the person running the tool: what went wrong and what to change. They never
contain a secret (password, client secret, refresh or access token): build them from names, URLs and
status codes only.

Per-customer problems (invalid email, a record Zoho rejects, ...) are **not** exceptions: they are
collected as failures in the run report and the run goes on.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_FATAL = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class SyncError(Exception):
    """Base class of every error the product raises on purpose."""

    exit_code: int = EXIT_FATAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: what the run did before it stopped (set by the code that ran it), for the partial summary and report
        self.partial: object | None = None

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        ended = self.message.rstrip().endswith((".", "!", "?", ":", ")"))
        return f"{self.message}{'' if ended else '.'} {self.hint}"


class ConfigError(SyncError):
    """Settings, the mapping file or a URL are wrong or missing."""


class AuthError(SyncError):
    """A service refused our credentials."""


class MagentoAuthError(AuthError):
    """Magento refused the admin login, the 2FA code or the integration token."""


class ZohoAuthError(AuthError):
    """Zoho Accounts refused the client or the refresh token, or the API refused the access token."""


class ServiceError(SyncError):
    """A service stayed unreachable after retries, or answered something we cannot read."""


class MagentoError(ServiceError):
    """Magento could not be read."""


class ZohoError(ServiceError):
    """Zoho CRM could not be written or read."""


class ZohoReadRefused(ZohoError):
    """Zoho refused a read with an error code (``code``: ``SYNTAX_ERROR``, ``INVALID_QUERY``, ...)."""

    def __init__(self, message: str, *, code: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class ZohoRequestRefused(ZohoError):
    """Zoho refused the request itself in a way every call would repeat (module, URL, permission, scope)."""


class ZohoTokenUnavailable(ZohoError):
    """Zoho Accounts gave no access token after retries (down, unreachable, or answers cut short on their way):
    every call needs one, so the run stops instead of failing customers, and asks Accounts no more (Zoho blocks
    clients that ask for tokens too often)."""


class ZohoRateLimited(ZohoError):
    """Zoho kept answering 429 TOO_MANY_REQUESTS (daily credits or concurrency) after retries."""


class StateError(SyncError):
    """The state database cannot be used."""


class LockedError(StateError):
    """Another sync is running against the same state file."""


class Interrupted(SyncError):
    """The run was stopped by a signal after saving what it had done."""

    def __init__(self, message: str, *, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
