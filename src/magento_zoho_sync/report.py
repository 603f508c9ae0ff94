"""What a run did: the :class:`RunReport`, its JSON form (``--report PATH``), the end-of-run summary, and progress.

The JSON report is a public contract (scripts read it). Stable keys::

    counts.read, counts.inserted, counts.updated, counts.unchanged, counts.failed, counts.merged, counts.skipped,
    counts.parked, counts.deleted_found, counts.deleted_tagged, counts.deleted_removed, counts.truncated
    errors[]         magento_customer_id, email, code, message (+ details)
    merges[]         winner_id, merged_id, email
    api_calls.magento, api_calls.zoho, zoho_credits, zoho_credits_remaining
    run_id, mode, status, dry_run, started_at, finished_at, duration_seconds, parked[], warnings[], plan[],
    identity_problems[], schema_version, error (why a run stopped: status "failed"; else null),
    full_reason (why the run reads every customer: "--full", "scheduled, every 24 hours", "the mapping changed",
    ...; a dry run says it of the run it plans; null for an incremental or resumed run),
    resumed (true when this run finished an interrupted one, under the same run_id; its counts are this part's)

New keys may be added; existing ones keep their names and meaning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from magento_zoho_sync.errors import EXIT_OK, EXIT_SOME_FAILED, ConfigError
from magento_zoho_sync.mapping import Merge
from magento_zoho_sync.redact import redact, redact_data

SCHEMA_VERSION: Final = 1

#: The report's top-level keys, in the order they are written.
REPORT_KEYS: Final = (
    "schema_version",
    "run_id",
    "mode",
    "full_reason",
    "resumed",
    "status",
    "error",
    "dry_run",
    "started_at",
    "finished_at",
    "duration_seconds",
    "counts",
    "api_calls",
    "zoho_credits",
    "zoho_credits_remaining",
    "errors",
    "merges",
    "parked",
    "warnings",
    "plan",
    "identity_problems",
)

#: How many failures the terminal summary lists before pointing at ``--report`` / ``errors``.
MAX_FAILURES_SHOWN: Final = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """One customer that could not be synced. ``code`` is stable (MISSING_EMAIL, INVALID_DATA, ...)."""

    magento_customer_id: int | None
    email: str | None
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Counts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    merged: int = 0
    skipped: int = 0  # always 0: kept for the scripts that read it (no outcome is counted here)
    parked: int = 0
    deleted_found: int = 0
    deleted_tagged: int = 0
    deleted_removed: int = 0
    truncated: int = 0  # customers sent with a value cut to Zoho's length (truncate_long_values)


@dataclass
class ApiCalls:
    magento: int = 0
    zoho: int = 0


@dataclass(frozen=True)
class PlanEntry:
    """Dry run: what would happen to one customer, and why."""

    magento_customer_id: int
    email: str | None
    action: str  # insert | update | unchanged | merge | reject | skip | tag | delete
    zoho_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class IdentityProblem:
    """Found before any write: Zoho contacts sharing an email, Magento customers sharing one across websites."""

    kind: str  # zoho_duplicate_contacts | magento_shared_email | ...
    email: str
    message: str
    magento_customer_ids: tuple[int, ...] = ()
    zoho_ids: tuple[str, ...] = ()


@dataclass
class RunReport:
    mode: str | None = "incremental"  # incremental | full | dry-run; None: stopped before choosing one
    full_reason: str | None = None  # why the run (or the run a dry run plans) reads every customer
    resumed: bool = False  # this run finished an interrupted one (same run_id); the counts are this part's
    run_id: int | str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    status: str = "running"  # running | completed | completed_with_failures | interrupted | failed
    error: str | None = None  # why the run stopped (status "failed"), secrets masked
    dry_run: bool = False
    counts: Counts = field(default_factory=Counts)
    api_calls: ApiCalls = field(default_factory=ApiCalls)
    zoho_credits: int = 0
    zoho_credits_remaining: int | None = None
    failures: list[Failure] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    parked: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    plan: list[PlanEntry] = field(default_factory=list)
    identity_problems: list[IdentityProblem] = field(default_factory=list)
    #: every failure, when ``failures`` holds only the first ones (the JSON report then reads them all)
    error_source: Callable[[], Iterable[Failure]] | None = field(default=None, repr=False)
    #: failures per code over all failures (else counted from ``failures``)
    failure_codes: dict[str, int] | None = None

    # ---- recording ----

    def add_failure(self, failure: Failure) -> None:
        self.failures.append(failure)
        self.counts.failed += 1

    def add_merge(self, merge: Merge) -> None:
        self.merges.append(merge)
        self.counts.merged += 1

    def finish(self, status: str = "completed", at: datetime | None = None) -> None:
        self.status = status
        self.finished_at = at or datetime.now(UTC)

    @property
    def duration_seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def exit_code(self) -> int:
        """0 when every customer synced; 1 when some failed, in this run or earlier ones (parked)."""
        return EXIT_SOME_FAILED if self.failures or self.counts.failed or self.counts.parked else EXIT_OK

    # ---- JSON ----

    def to_dict_head(self) -> dict[str, Any]:
        """Every key of the report except the long lists."""
        return {
            key: value
            for key, value in self._dict(with_lists=False).items()
            if key not in ("errors", "merges", "parked", "plan", "identity_problems")
        }

    def to_dict(self) -> dict[str, Any]:
        return self._dict(with_lists=True)

    def _dict(self, *, with_lists: bool) -> dict[str, Any]:
        def rows(items: list[Any]) -> list[Any]:
            return [asdict(item) for item in items] if with_lists else []

        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "mode": self.mode,
            "full_reason": self.full_reason,
            "resumed": self.resumed,
            "status": self.status,
            "error": self.error,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": round(self.duration_seconds, 3),
            "counts": asdict(self.counts),
            "api_calls": asdict(self.api_calls),
            "zoho_credits": self.zoho_credits,
            "zoho_credits_remaining": self.zoho_credits_remaining,
            "errors": rows(self.failures),
            "merges": rows(self.merges),
            "parked": rows(self.parked),
            "warnings": list(self.warnings),
            "plan": rows(self.plan),
            "identity_problems": rows(self.identity_problems),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text, with anything secret-shaped masked."""
        return json.dumps(redact_data(self.to_dict()), indent=indent, ensure_ascii=False, default=str)

    def _write_streaming(self, fh: TextIO) -> None:
        """The same JSON as :meth:`to_json`, written a list item at a time.

        A run with tens of thousands of failures would otherwise build the whole document three times over
        in memory (dataclass copies, the redacted copy, the string) just before exiting.
        """
        lists: dict[str, Iterable[Any]] = {
            "errors": self.error_source() if self.error_source is not None else self.failures,
            "merges": self.merges,
            "parked": self.parked,
            "plan": self.plan,
            "identity_problems": self.identity_problems,
        }
        document = self.to_dict_head()

        def dump(value: Any) -> str:
            return json.dumps(redact_data(value), ensure_ascii=False, default=str)

        fh.write("{")
        first = True
        for key in REPORT_KEYS:
            fh.write("" if first else ",")
            first = False
            fh.write(f"\n  {json.dumps(key)}: ")
            if key in lists:
                fh.write("[")
                count = 0
                for item in lists[key]:
                    fh.write(("," if count else "") + "\n    " + dump(asdict(item)))
                    count += 1
                fh.write("\n  ]" if count else "]")
            else:
                fh.write(dump(document[key]))
        fh.write("\n}\n")

    @staticmethod
    def check_destination(path: Path | str, *, protected: Iterable[Path] = ()) -> None:
        """Raise :class:`ConfigError` now if the report could not be written there later (after a whole run), or
        would replace a file it must not: one that is not a regular file (``/dev/null``, a pipe), or one of
        ``protected`` (the state file and its companions, the settings file), whatever name it is given by."""
        target = Path(path).expanduser()
        real = Path(os.path.realpath(target))  # a symlink is written through: its target is the report
        folder = real.parent
        if real.is_dir():
            why = "it is a folder"
        elif (refusal := _not_a_report_file(target, real)) is not None:
            why = refusal
        elif (clash := _same_file(real, protected)) is not None:
            why = f"it is {clash}, which the report would replace"
        elif not folder.is_dir():
            why = f"the folder {folder} does not exist (it is not created: a typo would make folders anywhere)"
        elif not os.access(folder, os.W_OK | os.X_OK):
            why = f"the folder {folder} is not writable"
        else:
            return
        raise ConfigError(f"Cannot write the report to {target}: {why}.", hint="Choose another --report PATH.")

    def write_json(self, path: Path | str) -> Path:
        """Write :meth:`to_json` to ``path`` atomically; the file is created owner-only (0600)."""
        target = Path(os.path.realpath(Path(path).expanduser()))  # through a symlink: the link stays a link
        # checked before the run too; the file can have changed in the meantime
        if (refusal := _not_a_report_file(Path(path).expanduser(), target)) is not None:
            raise ConfigError(f"Cannot write the report to {path}: {refusal}.", hint="Choose another --report PATH.")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # mkstemp: mode 0600
        except OSError as exc:
            raise ConfigError(
                f"Cannot write the report to {target}: {exc.strerror or exc}.", hint="Choose another --report PATH."
            ) from None
        try:
            # text that is not valid Unicode (a lone UTF-16 surrogate from either API) is written as its JSON
            # escape (\ud800): the file stays UTF-8 and the JSON reads back the same text
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                self._write_streaming(fh)
            os.chmod(tmp_name, 0o600)
            os.replace(tmp_name, target)
        except BaseException as exc:  # no report is better than the last run's, which a monitor trusts
            Path(tmp_name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
            if not isinstance(exc, OSError):
                raise
            raise ConfigError(
                f"Cannot write the report to {target}: {exc.strerror or exc}; the previous report was removed.",
                hint="Free some space or choose another --report PATH; the run itself is saved (see `runs`).",
            ) from None
        return target


def _not_a_report_file(given: Path, real: Path) -> str | None:
    """Why the report, which replaces the file it is written to, must not go to ``given`` (resolved: ``real``)."""
    if _system_path(given) or _system_path(real) or (real.exists() and not real.is_file()):
        # /dev/stdout resolves to whatever stdout is (a cron job's log, which the report would replace)
        return "it is not a regular file (a device, a pipe, /dev/stdout): the report replaces the file it goes to"
    if _is_sqlite(real):
        return "it is an SQLite database (a state file?), which the report would replace"
    return None


def _system_path(path: Path) -> bool:
    """Whether ``path`` names something in /dev or /proc (no report file belongs there)."""
    absolute = Path(os.path.abspath(path))
    return any(absolute.is_relative_to(root) for root in ("/dev", "/proc"))


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an existing SQLite database (a state file, whatever its name)."""
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _same_file(real: Path, protected: Iterable[Path]) -> str | None:
    """What ``real`` (a resolved path) is among ``protected`` and their SQLite companions, or None."""
    for path in protected:
        base = Path(os.path.realpath(Path(path).expanduser()))
        names = {base: f"the file {path}"}
        names.update({base.with_name(base.name + suffix): f"a companion of {path}" for suffix in _COMPANIONS})
        if real in names:
            return names[real]
    return None


#: The files SQLite and the lock keep beside a state file.
_COMPANIONS: Final = ("-wal", "-shm", "-journal", ".lock")


# ---- end-of-run summary ------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def summary_rows(report: RunReport) -> list[tuple[str, str]]:
    """The summary as (label, value) pairs, in display order (zero-valued optional rows left out)."""
    c = report.counts
    prefix = "would be " if report.dry_run else ""
    rows = [
        ("Run", f"{report.run_id if report.run_id is not None else '-'} ({report.mode or '-'}, {report.status})"),
        *([("Full run because", report.full_reason)] if report.full_reason else []),
        *([("Resumed", "finishes the interrupted run; the counts are this part's")] if report.resumed else []),
        ("Read from Magento", str(c.read)),
        (f"{prefix}Inserted".capitalize(), str(c.inserted)),
        (f"{prefix}Updated".capitalize(), str(c.updated)),
        ("Unchanged", str(c.unchanged)),
        ("Failed", str(c.failed)),
        ("Merged (same email)", str(c.merged)),
    ]
    optional = [
        ("Parked", c.parked),
        ("Deleted in Magento", c.deleted_found),
        ("Tagged as deleted", c.deleted_tagged),
        ("Deleted in Zoho", c.deleted_removed),
        ("Values cut to Zoho's length", c.truncated),
    ]
    rows += [(label, str(value)) for label, value in optional if value]
    rows += [
        ("Magento API calls", str(report.api_calls.magento)),
        ("Zoho API calls", str(report.api_calls.zoho)),
        ("Zoho credits used", str(report.zoho_credits)),
    ]
    if report.zoho_credits_remaining is not None:
        rows.append(("Zoho credits remaining", str(report.zoho_credits_remaining)))
    rows.append(("Duration", _duration(report.duration_seconds)))
    if report.failure_codes:
        codes = sorted(report.failure_codes.items(), key=lambda item: (-item[1], item[0]))
        rows.append(("Failures by code", ", ".join(f"{code} {n}" for code, n in codes)))
    elif report.failures:
        rows.append(("Failures by code", failures_by_code(report.failures)))
    return rows


def failures_by_code(failures: list[Failure]) -> str:
    """``"ZOHO_DUPLICATE_CONTACTS 12, VALUE_TOO_LONG 3"``: the most frequent codes first."""
    counts: dict[str, int] = {}
    for failure in failures:
        counts[failure.code] = counts.get(failure.code, 0) + 1
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _failure_cells(f: Failure) -> tuple[str, str, str, str]:
    customer = "-" if f.magento_customer_id is None else str(f.magento_customer_id)
    return customer, f.email or "-", f.code, redact(f.message)


def _identity_cells(p: IdentityProblem) -> tuple[str, str, str, str, str]:
    ids = ", ".join(str(i) for i in p.magento_customer_ids) or "-"
    return p.kind, p.email, ids, ", ".join(p.zoho_ids) or "-", redact(p.message)


DRY_RUN_TITLE: Final = "Dry run: nothing was written to Zoho or to the state"


def _more(total: int, limit: int, what: str) -> str | None:
    """The line under a list cut at ``limit`` rows (None when nothing was cut)."""
    return f"... and {total - limit} more {what} in --report PATH" if total > limit else None


def render_summary(report: RunReport, console: Console, *, max_failures: int = MAX_FAILURES_SHOWN) -> None:
    """Print the summary and the failures: rich tables on a terminal, plain lines otherwise."""
    ordered = sorted(report.failures, key=lambda f: (f.magento_customer_id is None, f.magento_customer_id or 0))
    failures = ordered[:max_failures]
    hidden = max(len(report.failures), report.counts.failed) - len(failures)
    more = f"... and {hidden} more: see --report PATH or `magento-zoho-sync errors`" if hidden > 0 else None
    if console.is_terminal:
        _render_rich(report, console, failures, more, max_failures)
    else:
        _render_plain(report, console, failures, more, max_failures)


def _render_rich(report: RunReport, console: Console, failures: list[Failure], more: str | None, limit: int) -> None:
    title = DRY_RUN_TITLE if report.dry_run else "Sync summary"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in summary_rows(report):
        style = "red" if label == "Failed" and value != "0" else None
        table.add_row(label, Text(value, style=style or ""))
    console.print(table)
    if failures:
        total = max(len(report.failures), report.counts.failed)
        errors = Table(title=f"Failures ({total})", box=box.SIMPLE_HEAD, show_lines=False)
        for column in ("Magento id", "Email", "Code", "Message"):
            errors.add_column(column, overflow="fold")
        for f in failures:
            errors.add_row(*(Text(cell) for cell in _failure_cells(f)))
        console.print(errors)
        if more:
            console.print(more)
    if report.merges:
        merged = Table(title=f"Merged customers ({len(report.merges)})", box=box.SIMPLE_HEAD)
        for column in ("Email", "Kept (most recent)", "Merged"):
            merged.add_column(column)
        for m in report.merges[:limit]:
            merged.add_row(Text(m.email), str(m.winner_id), str(m.merged_id))
        console.print(merged)
        if cut := _more(len(report.merges), limit, "merged customers"):
            console.print(cut)
    if report.identity_problems:
        problems = Table(title=f"Identity problems ({len(report.identity_problems)})", box=box.SIMPLE_HEAD)
        for column in ("Kind", "Email", "Magento ids", "Zoho ids", "Problem"):
            problems.add_column(column, overflow="fold")
        for p in report.identity_problems[:limit]:
            problems.add_row(*(Text(cell) for cell in _identity_cells(p)))
        console.print(problems)
        if cut := _more(len(report.identity_problems), limit, "identity problems"):
            console.print(cut)
    if report.parked:
        parked = Table(title=f"Parked customers, no longer retried ({len(report.parked)})", box=box.SIMPLE_HEAD)
        for column in ("Magento id", "Email", "Code", "Message"):
            parked.add_column(column, overflow="fold")
        for f in report.parked[:limit]:
            parked.add_row(*(Text(cell) for cell in _failure_cells(f)))
        console.print(parked)
        if cut := _more(len(report.parked), limit, "parked customers"):
            console.print(cut)
    for warning in report.warnings[:limit]:
        console.print(Text(f"warning: {redact(warning)}", style="yellow"))
    if cut := _more(len(report.warnings), limit, "warnings"):
        console.print(cut)


def _render_plain(report: RunReport, console: Console, failures: list[Failure], more: str | None, limit: int) -> None:
    def out(line: str) -> None:
        console.print(Text(line), soft_wrap=True, highlight=False)

    out(DRY_RUN_TITLE if report.dry_run else "Sync summary")
    width = max(len(label) for label, _ in summary_rows(report))
    for label, value in summary_rows(report):
        out(f"  {label.ljust(width)}  {value}")
    if failures:
        out(f"Failures ({max(len(report.failures), report.counts.failed)}):")
        for f in failures:
            customer, email, code, message = _failure_cells(f)
            out(f"  customer {customer} <{email}> {code}: {message}")
        if more:
            out(more)
    if report.merges:
        out(f"Merged customers ({len(report.merges)}):")
        for m in report.merges[:limit]:
            out(f"  {m.email}: kept customer {m.winner_id}, merged customer {m.merged_id}")
        if cut := _more(len(report.merges), limit, "merged customers"):
            out(cut)
    if report.identity_problems:
        out(f"Identity problems ({len(report.identity_problems)}):")
        for p in report.identity_problems[:limit]:
            kind, email, magento_ids, zoho_ids, message = _identity_cells(p)
            out(f"  {kind} <{email}> magento={magento_ids} zoho={zoho_ids}: {message}")
        if cut := _more(len(report.identity_problems), limit, "identity problems"):
            out(cut)
    if report.parked:
        out(f"Parked customers, no longer retried ({len(report.parked)}):")
        for f in report.parked[:limit]:
            customer, email, code, message = _failure_cells(f)
            out(f"  customer {customer} <{email}> {code}: {message}")
        if cut := _more(len(report.parked), limit, "parked customers"):
            out(cut)
    for warning in report.warnings[:limit]:
        out(f"warning: {redact(warning)}")
    if cut := _more(len(report.warnings), limit, "warnings"):
        out(cut)


# ---- progress -----------------------------------------------------------------------------------------------------


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
            text += f", ETA {_duration((total - read) / rate)}"
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
