"""What a run can see of the clocks behind the watermark (reference §4), said once per run each.

The watermark is Magento's ``Date`` header, stamped by its web server's clock, while ``updated_at`` is stamped by
its database's clock. An edit made during a run reaches the next incremental run only if the web server's clock
runs ahead of the database's by at most ``overlap_minutes``. Two clues are visible from here:

* an ``updated_at`` later than the ``Date`` header of the answer that listed it: the database's clock runs ahead
  of the web server's (harmless for the watermark, which is then early, but the store's clocks are not in step);
* a ``Date`` header ahead of this machine's clock by more than the overlap: if the database's clock agrees with
  this machine's, the watermark is later than the database's time and edits made during the run are missed until
  the next full run. (It may be this machine's clock that is behind instead: then nothing is lost.)

The dangerous case, the web server's clock ahead of the database's, cannot be seen when this machine's clock is
wrong the same way: the README says so next to ``overlap_minutes``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from magento_zoho_sync.engine_plan import TIME_FORMAT

# the engine's logger: what a run says is found under one name
log = logging.getLogger("magento_zoho_sync.engine")

#: Whole-second stamps and a Date header stamped after the query ran: within this, the clocks agree.
TOLERANCE = timedelta(seconds=60)


class ClockWatch:
    """Looks at the pages of one run; warns at most once about each clue."""

    def __init__(self, *, overlap_minutes: float, clock: Callable[[], datetime]) -> None:
        self._overlap = timedelta(minutes=overlap_minutes)
        self._clock = clock
        self._first_page_seen = False
        self._database_ahead_said = False

    def page(self, server_time: datetime | None, items: Sequence[Mapping[str, Any]]) -> None:
        if server_time is None:
            return  # no Date header: the run takes this machine's time, and says so (engine._server_time)
        if not self._first_page_seen:
            self._first_page_seen = True
            self._check_web_server(server_time)
        if not self._database_ahead_said:
            self._check_database(server_time, items)

    def _check_web_server(self, server_time: datetime) -> None:
        ahead = server_time - self._clock().astimezone(UTC)
        if ahead <= max(self._overlap, TOLERANCE):
            return
        log.warning(
            "Magento's Date header (%s, its web server's clock) is %s ahead of this machine's clock, more than "
            "overlap_minutes (%g). The next incremental run reads the customers whose updated_at is at least that "
            "Date minus the overlap; if Magento's database clock, which stamps updated_at, agrees with this machine's "
            "rather than with the web server's, edits made during this run are missed until the next full run. Put "
            "the store's servers and this machine on NTP (magento-zoho-sync doctor compares this machine's clock "
            "with Magento's), or raise MZSYNC_OVERLAP_MINUTES above the difference.",
            server_time.strftime(TIME_FORMAT),
            _minutes(ahead),
            self._overlap.total_seconds() / 60,
        )

    def _check_database(self, server_time: datetime, items: Sequence[Mapping[str, Any]]) -> None:
        # Magento's stamps sort as text: the page's newest is parsed alone (this runs on every page of a run)
        stamps = [stamp for item in items if type(stamp := item.get("updated_at")) is str]
        newest = _stamp(max(stamps)) if stamps else None
        if newest is None or newest - server_time <= TOLERANCE:
            return
        self._database_ahead_said = True
        log.warning(
            "Magento's database clock runs at least %s ahead of its web server's: a customer's updated_at (%s) is "
            "later than the Date header (%s) of the answer that listed it. That is harmless here (the next "
            "incremental run reads a wider window), but the store's clocks are not in step: should the web "
            "server's clock run ahead of the database's by more than overlap_minutes (%g), incremental runs would "
            "miss edits made during a run until the next full run, and that way round cannot be seen from here. "
            "Put the store's servers on NTP.",
            _minutes(newest - server_time),
            newest.strftime(TIME_FORMAT),
            server_time.strftime(TIME_FORMAT),
            self._overlap.total_seconds() / 60,
        )


def _stamp(value: object) -> datetime | None:
    """Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) as an aware datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
