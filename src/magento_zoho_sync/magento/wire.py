"""Reading Magento's answers: the error envelope, the ``Date`` header, JSON that may be an HTML page or come after
PHP's notices.

Magento's error body (reference §5.1) is ``{"message": <template>, "parameters": [...] | {...}, "errors": [...]}``:
the message is a raw template (``%1``, ``%fieldName``) filled from ``parameters``. Messages are translated into
the store's locale, so code decides on status codes and parameters and only *shows* the text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx2

from magento_zoho_sync import jsonio
from magento_zoho_sync.redact import redact

__all__ = [
    "MAX_MESSAGE",
    "PHP_OUTPUT_HINT",
    "error_body",
    "error_message",
    "is_html",
    "php_output",
    "render_template",
    "server_date",
]

#: Longest Magento message shown in an error (a developer-mode trace can be megabytes).
MAX_MESSAGE = 300

_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")

#: PHP's own markup for a message it prints into the page when ``display_errors`` is on (``<b>Warning</b>:``).
_PHP_MESSAGE = re.compile(
    rb"<b>(?:Deprecated|Notice|Warning|Strict Standards|(?:Recoverable |Catchable )?Fatal error|Parse error)</b>:",
    re.IGNORECASE,
)

#: What to do about PHP output in the store's answers (the store's setting, not the sync's).
PHP_OUTPUT_HINT = (
    "PHP prints its notices and warnings into the store's answers (display_errors is on), which breaks the JSON: "
    "turn display_errors off on the store (php.ini, or bin/magento deploy:mode:set production), and fix or update "
    "the extension or code the message names (PHP's error log has it). MAGENTO_BASE_URL is not the cause."
)


def render_template(message: str, parameters: Any) -> str:
    """Fill ``%1``/``%name`` placeholders from Magento's ``parameters`` (array or object)."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if isinstance(parameters, list) and key.isdigit() and 1 <= int(key) <= len(parameters):
            return str(parameters[int(key) - 1])
        if isinstance(parameters, dict) and key in parameters:
            value = parameters[key]
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return match.group(0)

    return _PLACEHOLDER.sub(fill, message) if parameters else message


def php_output(response: httpx2.Response) -> bool:
    """PHP's output (a notice, a warning, a deprecation: ``<br /><b>Deprecated</b>: ...``) printed before or
    instead of the answer because the store has ``display_errors`` on: markup in a body labelled JSON, or PHP's own
    message markup. The store's code is at fault, not the URL (unlike an HTML page: see :func:`is_html`)."""
    body = response.content.lstrip()
    if body[:1] != b"<":
        return False
    return "json" in response.headers.get("Content-Type", "").lower() or _PHP_MESSAGE.search(body[:4096]) is not None


#: How an answer that was a web page is described in a retried call's message (and told from other unreadable ones).
HTML_PAGE: Final = "an HTML page instead of JSON"


def is_html(response: httpx2.Response) -> bool:
    """An HTML page (a web server's, a proxy's, a storefront's) instead of Magento's JSON; not PHP's notices printed
    before the JSON (:func:`php_output`)."""
    content_type = response.headers.get("Content-Type", "").lower()
    return ("html" in content_type or response.content.lstrip()[:1] == b"<") and not php_output(response)


def error_body(response: httpx2.Response) -> dict[str, Any] | None:
    """The JSON error object, or None when the body is not a JSON object."""
    if not response.content or is_html(response):
        return None
    try:
        body = jsonio.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def error_message(response: httpx2.Response) -> str:
    """A short, secret-free description of an error answer: Magento's rendered message, or what the body was."""
    body = error_body(response)
    if body is None:
        if php_output(response):
            return "PHP notices or warnings before the JSON (display_errors is on)"
        if is_html(response):
            return "an HTML page instead of JSON"
        return "an empty body" if not response.content else "a body that is not JSON"
    message = body.get("message")
    if not isinstance(message, str):
        legacy = body.get("messages")  # fatal-error envelope {"messages":{"error":[{"code":500,"message":"..."}]}}
        if isinstance(legacy, dict) and isinstance(legacy.get("error"), list) and legacy["error"]:
            first = legacy["error"][0]
            message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, str):
        return "a JSON body without a message"
    text = render_template(message, body.get("parameters"))
    errors = body.get("errors")
    if isinstance(errors, list):
        details = [
            render_template(e["message"], e.get("parameters"))
            for e in errors
            if isinstance(e, dict) and isinstance(e.get("message"), str)
        ]
        if details:
            text = f"{text} ({'; '.join(details)})"
    text = " ".join(redact(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def server_date(response: httpx2.Response) -> datetime | None:
    """The response's ``Date`` header as an aware UTC datetime, or None."""
    raw = response.headers.get("Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
