"""The web tier's clock, which may disagree with the database's (reference §4).

``updated_at`` and ``created_at`` are stamped by MySQL (``CURRENT_TIMESTAMP``: the simulator's :class:`Clock`),
while the ``Date`` header and PHP's own time checks (admin token expiry, the login lock, TOTP codes, OAuth
timestamps) use the web server's clock. ``date_header_skew_seconds`` sets how far that one runs ahead (negative:
behind) of the database's.
"""

from __future__ import annotations

from typing import Protocol

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento.config import MagentoConfig


class Now(Protocol):
    """Anything that tells the time in seconds since the epoch."""

    def now(self) -> float: ...


class WebTierClock:
    """The database's clock plus the configured skew (read at each call: the switch may change at run time)."""

    def __init__(self, database: Clock, config: MagentoConfig) -> None:
        self._database = database
        self._config = config

    def now(self) -> float:
        return self._database.now() + self._config.date_header_skew_seconds
