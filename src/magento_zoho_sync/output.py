"""From a finished run to what people see: the :class:`~magento_zoho_sync.report.RunReport`, the summary, progress."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from magento_zoho_sync.errors import Interrupted
from magento_zoho_sync.mapping import Merge
from magento_zoho_sync.progress import Progress
from magento_zoho_sync.redact import stop_reason
from magento_zoho_sync.report import Failure, IdentityProblem, PlanEntry, RunReport
from magento_zoho_sync.state import FailureRecord, RunRow, StoredFailure
from magento_zoho_sync.state_runs import earlier_stops
from magento_zoho_sync.summary import render_summary, terminal_text

if TYPE_CHECKING:  # the CLI imports this module: --help must not load the engine
    from magento_zoho_sync.app import RunResult

PLAN_ROWS_SHOWN = 20


class EngineProgress:
    """Adapts the engine's running totals to the report's progress display."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._read = 0
        self._written = 0

    def update(self, *, read: int, written: int, total: int | None) -> None:
        if total is not None and total != self._progress.total:
            self._progress.set_total(total)
        if read > self._read:
            self._progress.advance_read(read - self._read)
            self._read = read
        if written > self._written:
            self._progress.advance_written(written - self._written)
            self._written = written


@contextmanager
def progress(console: Console, *, dry_run: bool = False) -> Iterator[EngineProgress]:
    display_console = Console(stderr=True) if not console.is_terminal else console
    with Progress(display_console, done="planned" if dry_run else "handled") as display:
        yield EngineProgress(display)


def _failure(record: FailureRecord) -> Failure:
    return Failure(record.customer_id, record.email, record.code, record.message, dict(record.details))


def build_report(result: RunResult) -> RunReport:
    tally = result.tally
    stats = result.stats.as_dict()
    report = RunReport(
        mode="dry-run" if result.dry_run else tally.mode,
        full_reason=tally.full_reason,
        resumed=tally.resumed,
        run_id=None if result.dry_run else result.run_id,
        started_at=datetime.fromtimestamp(result.started, UTC),
        status=tally.status,
        dry_run=result.dry_run,
    )
    counts = report.counts
    counts.read, counts.inserted, counts.updated = tally.read, tally.inserted, tally.updated
    counts.unchanged, counts.merged, counts.parked = tally.unchanged, tally.merged, tally.parked
    counts.deleted_found = tally.deleted
    counts.deleted_tagged, counts.deleted_removed = tally.deleted_tagged, tally.deleted_removed
    counts.truncated = tally.truncated
    for failure in tally.failures:
        report.add_failure(_failure(failure))
    report.counts.failed = tally.failed
    report.failure_codes = dict(tally.failure_codes)
    if tally.failed > len(tally.failures):
        report.error_source = lambda: (_failure(record) for record in result.iter_errors())
    for merged_id, into, email in tally.merges:
        report.add_merge(Merge(winner_id=into, merged_id=merged_id, email=email))
    report.counts.merged = tally.merged
    report.parked = [
        Failure(f.customer_id, f.email, f.code, f"{f.message} (failed in {f.failed_runs} runs; parked)")
        for f in result.parked
    ]
    report.warnings = [f"{w.code}: customer {w.customer_id}: {w.message}" for w in tally.warnings]
    report.api_calls.magento = int(stats.get("magento_calls") or 0)
    report.api_calls.zoho = int(stats.get("zoho_calls") or 0)
    report.zoho_credits = int(stats.get("zoho_credits") or 0)
    remaining = stats.get("zoho_credits_remaining")
    report.zoho_credits_remaining = int(remaining) if remaining is not None else None
    if result.dry_run:
        report.plan = [
            PlanEntry(customer_id, email, action, zoho_id, reason)
            for customer_id, email, action, zoho_id, reason in tally.planned
        ]
        report.plan += [PlanEntry(f.customer_id or 0, f.email, "reject", None, f.message) for f in tally.failures]
        report.plan += [
            PlanEntry(merged_id, email, "merge", None, f"same email as customer {into}, who was updated later")
            for merged_id, into, email in tally.merges
        ]
    report.identity_problems = identity_problems(result)
    report.finish(tally.status)
    return report


def failed_report(partial: RunResult | None, exc: BaseException, *, dry_run: bool) -> RunReport:
    """The report of a run that stopped on a fatal error: what it did before (when known), and why it stopped."""
    report = build_report(partial) if partial is not None else RunReport(mode="dry-run" if dry_run else None)
    report.dry_run = dry_run
    report.error = stop_reason(exc)
    report.finish("failed")
    return report


def identity_problems(result: RunResult) -> list[IdentityProblem]:
    problems = [
        IdentityProblem(
            kind="zoho_duplicate_contacts",
            email=email,
            message=f"{len(ids)} Zoho contacts hold this email (ignoring case and spaces)",
            magento_customer_ids=tuple(customers),
            zoho_ids=tuple(ids),
        )
        for email, ids, customers in result.zoho_duplicates
    ]
    if result.dry_sink is not None:
        known = {problem.email for problem in problems}
        problems += [
            IdentityProblem(
                "zoho_duplicate_contacts", email, f"{len(ids)} Zoho contacts hold this email", (), tuple(ids)
            )
            for email, ids in result.dry_sink.shared_emails.items()
            if email not in known
        ]
    shared: dict[str, set[int]] = {}
    for merged_id, into, email in result.tally.merges:
        shared.setdefault(email, set()).update((merged_id, into))
    problems += [
        IdentityProblem(
            kind="magento_shared_email",
            email=email,
            message=f"{len(ids)} Magento customers share this email (one per website, or one since deleted in "
            "Magento, which the next full run finds): one Zoho contact",
            magento_customer_ids=tuple(sorted(ids)),
        )
        for email, ids in sorted(shared.items())
    ]
    return problems


def print_summary(console: Console, report: RunReport, result: RunResult, *, max_rows: int = 50) -> None:
    if result.dry_run:
        shown = [entry for entry in report.plan if entry.action in ("insert", "update")][:PLAN_ROWS_SHOWN]
        if shown:
            table = Table(title=f"Planned writes (first {len(shown)}; all in --report)")
            for column in ("customer", "email", "action", "zoho id", "why"):
                table.add_column(column)
            for entry in shown:
                table.add_row(
                    *_cells(str(entry.magento_customer_id), entry.email, entry.action, entry.zoho_id, entry.reason)
                )
            console.print(table)
    render_summary(report, console, max_failures=max_rows)


def print_interrupted(console: Console, exc: Interrupted, signal_number: int, partial: RunResult | None = None) -> None:
    """The line an interrupted run starts its partial summary with, and how the run goes on."""
    console.print(f"[bold yellow]Interrupted[/bold yellow] (signal {signal_number}): {exc}", highlight=False)
    if partial is not None and not partial.dry_run and partial.run_id:
        console.print(
            f"The next sync resumes run {partial.run_id} where it stopped (sync --full starts a new run).",
            markup=False,
            highlight=False,
        )


#: What ``runs --json`` says of a run that left no summary (still running, or killed): every key, null.
_NO_SUMMARY: dict[str, Any] = {"full_reason": None, "resumed": None, "counts": None, "error": None}


def run_row_dict(row: RunRow) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "mode": row.mode,
        "status": row.status,
        **_NO_SUMMARY,
        **row.summary,
        "earlier_stops": earlier_stops(row.summary),  # [] for every other run, and read safely
    }


def failure_dict(failure: FailureRecord) -> dict[str, Any]:
    return {**_who_and_why(failure), "details": dict(failure.details)}


def parked_dict(failure: StoredFailure) -> dict[str, Any]:
    """A parked customer as ``errors --parked --json`` lists it."""
    return {**_who_and_why(failure), "failed_runs": failure.failed_runs, "last_failed_at": failure.last_failed_at}


def _who_and_why(failure: FailureRecord | StoredFailure) -> dict[str, Any]:
    """The keys every listed failure has: the customer, its email, the code and the message."""
    return {
        "magento_customer_id": failure.customer_id,
        "email": failure.email,
        "code": failure.code,
        "message": failure.message,
    }


#: Width of tables printed into a pipe or a file (rich would cut them at 80 columns: dates, statuses, emails).
PIPED_WIDTH = 240


class ListingConsole(Console):
    """A console whose closed stdout (``errors | head``) raises :class:`BrokenPipeError` for the command to handle
    (rich's own reaction is to exit 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to write
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def table_console() -> Console:
    """The console for the ``runs`` and ``errors`` tables: the terminal's width, or wide when piped."""
    console = ListingConsole()
    return console if console.is_terminal else ListingConsole(width=PIPED_WIDTH)


def parked_table(failures: Sequence[StoredFailure]) -> Table:
    table = Table(title=f"Parked customers, no longer retried ({len(failures)})")
    for column in ("customer", "email", "code", "message", "failed runs", "last failed (UTC)"):
        table.add_column(column)
    for failure in failures:
        table.add_row(
            *_cells(
                str(failure.customer_id),
                failure.email,
                failure.code,
                failure.message,
                str(failure.failed_runs),
                failure.last_failed_at,
            )
        )
    return table


def failures_table(failures: Sequence[FailureRecord], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("customer", "email", "code", "message"):
        table.add_column(column)
    for failure in failures:
        table.add_row(*_cells(str(failure.customer_id or ""), failure.email, failure.code, failure.message))
    return table


def _cells(*values: str | None) -> list[Text]:
    """Table cells shown as they are: an email or a message holding ``[b]`` or ``[/]`` (either API can send one)
    is text, not rich's markup (which would hide it, or fail on a closing tag); a control character is shown as
    its escape (:func:`terminal_text`)."""
    return [Text(terminal_text(value or "")) for value in values]
