"""A clock that tests can move: real time plus an offset, or frozen time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Seconds since the epoch, as the simulated service sees them.

    By default it follows the machine's clock. ``advance()`` moves it forward (token expiry, lockouts,
    rolling credit windows), ``freeze()`` stops it at a given instant.
    """

    def __init__(self, *, frozen_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at = frozen_at

    def now(self) -> float:
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else time.time()
            return base + self._offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def freeze(self, at: float | None = None) -> None:
        with self._lock:
            self._frozen_at = (at if at is not None else time.time()) - self._offset

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen_at = None
