"""Zoho's API credits: whether a 429 says the org's credits are spent, and what the run then says.

Zoho answers HTTP 429 ``TOO_MANY_REQUESTS`` both for too many calls at once and for a day's credits spent (its
reference, §5). The first is helped by fewer calls at once and a retry; the second is not (credits come back 24
hours after they were spent: a rolling window), so retrying would only add refused calls. The wording of the 429
is not documented; ``X-API-CREDITS-REMAINING``, which Zoho sends once half of the day's credits are used, is the
sign to go by.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from magento_zoho_sync import jsonio
from magento_zoho_sync.errors import ZohoRateLimited
from magento_zoho_sync.http import credits_remaining
from magento_zoho_sync.zoho.records import text

#: Credits spent are given back this long after they were spent.
CREDIT_WINDOW = timedelta(hours=24)


def says_credits_spent(response: httpx2.Response, credits: int, last_remaining: int | None) -> bool:
    """Whether a 429 says the credits are spent, not "too many at once": its ``X-API-CREDITS-REMAINING`` below
    what the call costs (0, or 4 left for a write of 10 credits); without that header, the last one seen at 0,
    or a message about credits or the 24 hours they are counted over. Anything else is too many calls at once."""
    remaining = credits_remaining(response)
    if remaining is not None:
        if remaining < credits:
            return True
    elif last_remaining == 0:
        return True
    try:
        payload: Any = jsonio.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(payload, dict):
        return False
    message = " ".join(text(payload.get(key)) for key in ("message", "error_info")).lower()
    return "credit" in message or "24 hours" in message


def credits_spent(where: str, remaining: int | None, credits: int, *, now: datetime | None = None) -> ZohoRateLimited:
    """The error that stops a run when Zoho refused ``where`` for want of credits: what happened, and when to run
    again (credits come back 24 hours after they were spent, so all of them by this time tomorrow at the latest)."""
    back = (now or datetime.now(UTC)) + CREDIT_WINDOW
    left = f" ({remaining} left, the call needs {credits})" if remaining is not None else ""
    return ZohoRateLimited(
        f"Zoho CRM refused {where} (HTTP 429): the org's daily API credits are spent{left}; the run stopped.",
        hint=f"Zoho gives credits back 24 hours after they were spent: run again later, at the latest after "
        f"{back.strftime('%Y-%m-%d %H:%M')} UTC, when all are back (earlier for the credits spent earlier). What "
        "Zoho acknowledged is saved and the next run goes on from there. Other integrations of the org spend the "
        "same credits.",
    )
