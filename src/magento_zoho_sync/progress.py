"""Progress of a run: customers read and handled, as a rich display on a terminal or a log line now and then."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from magento_zoho_sync.summary import duration_text

log = logging.getLogger(__name__)


class _RateColumn(ProgressColumn):
    """Customers per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-/s" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


class Progress:
    """Customers read and handled: a rich progress display on a terminal, a log line every ``interval`` s otherwise.

    ``done`` names the second count: ``handled`` (written to Zoho, unchanged or failed), ``planned`` in a dry run.

    Thread-safe (writers may report from worker threads). Use as a context manager.
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        total: int | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        done: str = "handled",
    ) -> None:
        self.done = done
        self.console = console or Console(stderr=True)
        self.total = total
        self.read = 0
        self.written = 0
        self._interval = interval
        self._clock = clock
        self._log = logger or log
        self._lock = threading.Lock()
        self._started = clock()
        self._last_line = self._started
        self._rich: RichProgress | None = None
        if self.console.is_terminal:
            self._rich = RichProgress(
                TextColumn("{task.description:<8}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._read_task = self._rich.add_task("read", total=total)
            self._written_task = self._rich.add_task(done, total=total)

    def __enter__(self) -> Progress:
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def set_total(self, total: int | None) -> None:
        """The number of customers to read, when Magento tells it (``total_count``)."""
        with self._lock:
            self.total = total
        if self._rich is not None:
            self._rich.update(self._read_task, total=total)
            self._rich.update(self._written_task, total=total)

    def advance_read(self, n: int = 1) -> None:
        with self._lock:
            self.read += n
        if self._rich is not None:
            self._rich.advance(self._read_task, n)
        else:
            self._maybe_log()

    def advance_written(self, n: int = 1) -> None:
        """Customers handled on the Zoho side (written, unchanged or failed)."""
        with self._lock:
            self.written += n
        if self._rich is not None:
            self._rich.advance(self._written_task, n)
        else:
            self._maybe_log()

    def line(self, *, eta: bool = True) -> str:
        """The plain progress line: counts, rate, and ETA when the total is known (and ``eta``)."""
        with self._lock:
            read, written, total = self.read, self.written, self.total
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = read / elapsed
        text = f"progress: read {read}" + (f"/{total} ({100 * read // total}%)" if total else "")
        text += f", {self.done} {written}, {rate:,.0f} customers/s"
        if eta and total and rate > 0 and read < total:
            text += f", ETA {duration_text((total - read) / rate)}"
        return text

    def _maybe_log(self) -> None:
        now = self._clock()
        with self._lock:
            if now - self._last_line < self._interval:
                return
            self._last_line = now
        self._log.info(self.line())

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.read or self.written:  # the last line: the run has ended (or stopped), no time is left
            self._log.info(self.line(eta=False))
