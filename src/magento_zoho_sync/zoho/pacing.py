"""How many Zoho CRM calls run at once: at most the configured number, fewer while Zoho says it is too many.

Zoho answers HTTP 429 ``TOO_MANY_REQUESTS`` both when the org's concurrency limit is hit (5 calls at once on
the Free edition, 10 on Standard, ... and 10 heavy calls such as writes of more than 10 records) and when its
credits for the last 24 hours are spent; the body does not reliably say which. Retrying alone does not help
the first case: with 10 writers against a limit of 5, each freed slot goes to one of the other callers and
the same five keep getting 429 until their attempts run out. So every 429 lowers the number of calls allowed
at once (to one less than were running), and calls wait for a slot instead of spending attempts; after a run
of calls without a 429 the limit climbs back one step at a time, up to the configured concurrency.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: Calls in a row without a 429, per allowed call, before one more is allowed at once.
_CALLS_BEFORE_RAISING = 20


class CallPacer:
    """At most ``limit`` calls at once; :meth:`refused` lowers it, :meth:`answered` raises it back slowly."""

    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.limit = maximum
        self.lowest = maximum  # the lowest limit this run came down to (for the log and the tests)
        self._running = 0
        self._streak = 0
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``limit`` slots for the duration of a call (waiting for one when all are taken)."""
        with self._changed:
            while self._running >= self.limit:
                self._changed.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify()

    def refused(self) -> None:
        """A call holding a slot got a 429: allow one call fewer than were running (at least one)."""
        with self._changed:
            self._streak = 0
            lowered = max(1, min(self.limit, self._running) - 1)
            if lowered < self.limit:
                self.limit = lowered
                if lowered < self.lowest:
                    self.lowest = lowered
                    log.warning("Zoho refused calls made at once (HTTP 429): now at most %d at once", lowered)

    def answered(self) -> None:
        """A call got an answer that was not a 429."""
        with self._changed:
            if self.limit >= self.maximum:
                return
            self._streak += 1
            if self._streak >= _CALLS_BEFORE_RAISING * self.limit:
                self._streak = 0
                self.limit += 1
                self._changed.notify()
