"""The end-of-run summary on the terminal: rich tables on a terminal, plain lines otherwise (cron, journald)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from magento_zoho_sync.redact import redact
from magento_zoho_sync.report import Failure, IdentityProblem, RunReport

#: How many failures the terminal summary lists before pointing at ``--report`` / ``errors``.
MAX_FAILURES_SHOWN: Final = 50


#: Control characters, but tab and line feed: an email or a name holding ESC (``\x1b[31m``, ``\x1b]0;title\x07``)
#: would drive the terminal that shows it, so they are shown as escapes.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x1b``): Magento's data, shown on a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def duration_text(seconds: float) -> str:
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
    rows.append(("Duration", duration_text(report.duration_seconds)))
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
    return customer, terminal_text(f.email or "-"), f.code, terminal_text(redact(f.message))


def _identity_cells(p: IdentityProblem) -> tuple[str, str, str, str, str]:
    ids = ", ".join(str(i) for i in p.magento_customer_ids) or "-"
    return p.kind, terminal_text(p.email), ids, ", ".join(p.zoho_ids) or "-", terminal_text(redact(p.message))


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
        _table(
            console,
            "Merged customers",
            ("Email", "Kept (most recent)", "Merged"),
            [(terminal_text(m.email), str(m.winner_id), str(m.merged_id)) for m in report.merges[:limit]],
            total=len(report.merges),
            limit=limit,
        )
    if report.identity_problems:
        _table(
            console,
            "Identity problems",
            ("Kind", "Email", "Magento ids", "Zoho ids", "Problem"),
            [_identity_cells(p) for p in report.identity_problems[:limit]],
            total=len(report.identity_problems),
            limit=limit,
        )
    if report.parked:
        _table(
            console,
            "Parked customers, no longer retried",
            ("Magento id", "Email", "Code", "Message"),
            [_failure_cells(f) for f in report.parked[:limit]],
            total=len(report.parked),
            limit=limit,
            what="parked customers",
        )
    for warning in report.warnings[:limit]:
        console.print(Text(f"warning: {terminal_text(redact(warning))}", style="yellow"))
    if cut := _more(len(report.warnings), limit, "warnings"):
        console.print(cut)


def _table(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    total: int,
    limit: int,
    what: str | None = None,
) -> None:
    """A titled table of text cells (never markup: emails and messages may hold ``[``), and the line under it when
    it was cut at ``limit`` rows."""
    table = Table(title=f"{title} ({total})", box=box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column, overflow="fold")
    for cells in rows:
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    if cut := _more(total, limit, what or title.lower()):
        console.print(cut)


def _render_plain(report: RunReport, console: Console, failures: list[Failure], more: str | None, limit: int) -> None:
    def out(line: str) -> None:
        console.print(Text(terminal_text(line)), soft_wrap=True, highlight=False)

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
