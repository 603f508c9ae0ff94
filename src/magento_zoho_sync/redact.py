"""Keep secrets out of logs, exception texts and reports.

Defence in depth (engineering notes §4.4):

1. a **registry** of secret values: settings loading registers every ``SecretStr`` it reads, the auth code
   registers the tokens it obtains (:func:`register_secret`); occurrences are replaced by ``***``, as they are
   and JSON-escaped or URL-encoded (:mod:`magento_zoho_sync.redact_forms`: hex digits in either case, ``+`` for a
   space, some characters left as they are);
2. **token shapes**: Zoho OAuth tokens look like ``1000.<hex>.<hex>``; ``Bearer``/``Zoho-oauthtoken``
   authorisation values;
3. **key-based scrubbing**: ``password=…``, ``"client_secret": "…"``, ``refresh_token=…`` and the like.

:class:`RedactingFilter` applies :func:`redact` to every log record (message, arguments and traceback);
:func:`configure_logging` sets up stderr logging for the CLI with the filter installed.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import SecretStr

from magento_zoho_sync.errors import SyncError
from magento_zoho_sync.redact_forms import url_encoded_forms
from magento_zoho_sync.state_file import state_error

MASK = "***"

#: Values shorter than this are not registered: masking every "abc" in every log line would make logs
#: unreadable, and such a value is not a real credential anyway.
MIN_SECRET_LENGTH = 4

#: Keys whose values are secret wherever they appear as ``key=value`` or ``"key": "value"``.
SECRET_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "client_secret",
    "refresh_token",
    "access_token",
    "access_token_secret",
    "consumer_secret",
    "totp_secret",
    "oauth_signature",
    "oauth_token",
    "grant_token",
    "authorization",
    "api_key",
    "secret",
    "token",
)

_ZOHO_TOKEN = re.compile(r"\b1000\.[0-9a-fA-F]{8,}\.[0-9a-fA-F]{8,}\b")
# Only token-shaped values (16+ token characters) are masked, so that prose such as "a Bearer token" stays
# readable; registered secrets are masked wherever they appear anyway.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|zoho-oauthtoken)(\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]{16,}")
# "Basic" and "OAuth" are ordinary words: masked only as the value of an Authorization header (to the end of
# the line, since an OAuth 1.0a header holds several quoted parameters).
_AUTH_HEADER = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:basic|oauth|bearer|zoho-oauthtoken))(\s+)(?!\*\*\*)[^\r\n]+"
)
_KEY = r"(?i)(?<![A-Za-z0-9_])(" + "|".join(re.escape(k) for k in SECRET_KEYS) + r")"
_NOT_MASKED = r"(?!\*\*\*)(?!(?:bearer|zoho-oauthtoken|basic|oauth)\s)"
# key=value (query strings, env files) and "key": "value" (JSON): any value is masked.
_KEY_VALUE = re.compile(_KEY + r"(\"?'?\s*=\s*\"?'?|\"?'?\s*:\s*[\"'])" + _NOT_MASKED + r"([^\s&\"',;}\]]+)")
# key: value without quotes reads like prose ("token: use the 2fa endpoints"): only token-like values (8+).
_KEY_COLON = re.compile(_KEY + r"(\s*:\s*)" + _NOT_MASKED + r"([^\s&\"',;}\]]{8,})")

_lock = threading.Lock()
#: Every registered secret's forms: a regular expression's source → the length of the longest text it matches.
_secrets: dict[str, int] = {}
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | SecretStr | None) -> None:
    """Remember a secret value so that :func:`redact` masks it from now on."""
    if value is None:
        return
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    raw = raw.strip()
    if len(raw) < MIN_SECRET_LENGTH:
        return
    forms = _encoded_forms(raw)
    global _pattern  # noqa: PLW0603 - one process-wide registry, rebuilt lazily
    with _lock:
        if not forms.keys() <= _secrets.keys():
            _secrets.update(forms)
            _pattern = None


def _encoded_forms(raw: str) -> dict[str, int]:
    """A secret as it may come back in a server's answer or a URL: as it is, JSON-escaped (a quote or a backslash
    in a password is ``\\"`` or ``\\\\`` there; PHP's ``json_encode`` also escapes ``/`` and, by default,
    non-ASCII) and URL-encoded (:func:`url_encoded_forms`). A server echoing the login body would otherwise show
    what follows the escape. Each form as a regular expression's source, with the longest text it matches."""
    json_forms = {json.dumps(raw, ensure_ascii=ascii_only)[1:-1] for ascii_only in (False, True)}
    php_forms = {form.replace("/", "\\/") for form in json_forms}
    forms = {re.escape(form): len(form) for form in (json_forms | php_forms) - {raw}}
    forms.update(url_encoded_forms(raw))
    return forms


def register_secrets(values: Iterable[str | SecretStr | None]) -> None:
    """Register several secret values."""
    for value in values:
        register_secret(value)


def clear_secrets() -> None:
    """Forget every registered secret (for tests)."""
    global _pattern  # noqa: PLW0603
    with _lock:
        _secrets.clear()
        _pattern = None


def _registry_pattern() -> re.Pattern[str] | None:
    global _pattern  # noqa: PLW0603
    with _lock:
        if _pattern is None and _secrets:
            # Longest first, so that a secret containing another one is masked whole.
            alternatives = sorted(_secrets, key=lambda source: (_secrets[source], source), reverse=True)
            _pattern = re.compile("|".join(alternatives))
        return _pattern


def redact(text: str) -> str:
    """Return ``text`` with registered secrets, token-shaped strings and secret ``key=value`` pairs masked."""
    if not text:
        return text
    pattern = _registry_pattern()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _ZOHO_TOKEN.sub(MASK, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _KEY_COLON.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


_SECRET_KEY_SET = frozenset(SECRET_KEYS)


def redact_data(value: Any) -> Any:
    """A copy of JSON-like data with every string redacted and the values of secret keys masked.

    Use it on data that is about to be serialised (reports), so that masking never breaks the JSON syntax.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and k.lower() in _SECRET_KEY_SET and v is not None else redact_data(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the rendered message and in the traceback text.

    Install it on **handlers** (as :func:`configure_logging` does): filters on a logger do not see records
    propagated from child loggers.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


#: Loggers of the HTTP stack that would print URLs and headers at INFO/DEBUG.
#: oauthlib's debug lines hold the OAuth 1.0a signature base string (with the access token) and the signature.
QUIET_LOGGERS: tuple[str, ...] = ("httpx2", "httpcore2", "httpx", "httpcore", "hpack", "urllib3", "oauthlib")

_HANDLER_NAME = "magento_zoho_sync.stderr"


def configure_logging(verbose: bool = False) -> logging.Handler:
    """Log to stderr (INFO, or DEBUG with ``verbose``) through :class:`RedactingFilter`.

    Idempotent: calling it again replaces the handler it installed before. The HTTP libraries stay at
    WARNING even in verbose mode, because their debug output contains URLs and headers.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
            if verbose
            else "%(levelname)s: %(message)s"
            if sys.stderr.isatty()
            else "%(asctime)s %(levelname)s: %(message)s"  # a log file (cron, systemd): when each line happened
        )
    )
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def stop_reason(exc: BaseException) -> str:
    """Why a run stopped (``runs``, the report's ``error``): the message the user saw, or what kind of bug it was;
    secrets masked."""
    if isinstance(exc, SyncError):
        return redact(str(exc))
    if isinstance(exc, KeyboardInterrupt):
        return "Interrupted (Ctrl-C)."
    if isinstance(exc, sqlite3.DatabaseError):  # the state file (a full disk, say): said as the terminal says it
        return redact(str(state_error(exc)))
    return redact(f"Unexpected {type(exc).__name__}: {exc}"[:500])
