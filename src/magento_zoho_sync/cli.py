"""The ``magento-zoho-sync`` command line.

Names here are a public contract (people script against them): the commands ``sync``, ``demo``, ``runs``,
``errors``, ``doctor`` and ``auth zoho-grant``, their flags, and the exit codes:

    0    every customer synced
    1    the run finished, but some customers failed (see the report), now or in earlier runs (parked)
    2    configuration, authentication or another fatal error
    130  stopped by SIGINT (Ctrl-C) after saving what was done
    143  stopped by SIGTERM after saving what was done
    129  stopped by SIGHUP after saving what was done
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table

from magento_zoho_sync import output
from magento_zoho_sync.errors import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_SIGINT,
    Interrupted,
    LockedError,
    StateError,
    SyncError,
)
from magento_zoho_sync.mapping import MAX_INT  # the largest integer SQLite keeps
from magento_zoho_sync.redact import configure_logging, redact
from magento_zoho_sync.report import RunReport
from magento_zoho_sync.retry import STOPPING
from magento_zoho_sync.settings import ZOHO_REGIONS, Settings, load_settings
from magento_zoho_sync.state import StateStore, state_error
from magento_zoho_sync.state_runs import earlier_stops

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("magento_zoho_sync")


def _guard(fn: Callable[P, int]) -> Callable[P, None]:
    """Turn every error into one clear line and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        verbose = bool(kwargs.get("verbose"))
        try:
            code = fn(*args, **kwargs)
        except Interrupted as exc:
            code = exc.exit_code
        except SyncError as exc:
            click.echo(f"error: {redact(str(exc))}", err=True)
            code = exc.exit_code
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            code = EXIT_SIGINT
        except sqlite3.DatabaseError as exc:  # the state file: a full disk, damage, a read-only place
            click.echo(f"error: {redact(str(state_error(exc)))}", err=True)
            code = EXIT_FATAL
        except click.ClickException:  # a usage mistake found in the command's body: click's usage line, exit 2
            raise
        except Exception as exc:  # a bug: still one clear line, the traceback only when asked for
            if verbose:
                click.echo(redact(traceback.format_exc()), err=True)
            click.echo(
                f"error: unexpected {exc.__class__.__name__}: {redact(str(exc))} "
                "(this is a bug in magento-zoho-sync; run with -v for details and report it)",
                err=True,
            )
            code = EXIT_FATAL
        sys.exit(code)

    return wrapper


def _listing(fn: Callable[P, int]) -> Callable[P, int]:
    """A read-only listing (``runs``, ``errors``) whose reader stopped early (``| head``) ends quietly, exit 0."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            code = fn(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here at the latest, not in Python's flush at exit
        except BrokenPipeError:
            # the reader has what it wanted; Python flushes stdout again at exit: let that write go nowhere
            with contextlib.suppress(OSError, ValueError):  # (a stdout that is no file: nothing to redirect)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            return EXIT_OK
        return code

    return wrapper


def _settings_options(fn: Callable[P, R]) -> Callable[P, R]:
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="TOML settings file (flags > environment > file > defaults).",
        ),
        click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), help="State file."),
        click.option(
            "--region",
            type=click.Choice(list(ZOHO_REGIONS)),
            help="Zoho data centre: fills ZOHO_ACCOUNTS_URL and ZOHO_API_URL (explicit URLs win).",
        ),
        click.option(
            "--insecure-http", is_flag=True, help="Allow plain http:// to hosts that are not loopback (not advised)."
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            help="Debug logging: each API call (method, path, status), module names, tracebacks of unexpected "
            "errors (secrets are always masked).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _load(
    config_file: Path | None,
    state_path: Path | None,
    region: str | None,
    insecure_http: bool,
    extra: Mapping[str, Any] | None = None,
) -> Settings:
    overrides: dict[str, Any] = dict(extra or {})
    if state_path is not None:
        overrides["sync.state_path"] = state_path
    if region is not None:
        overrides["zoho.region"] = region
    if insecure_http:
        overrides["network.allow_insecure_http"] = True
    return load_settings(config_file, overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="magento-zoho-sync")
def main() -> None:
    """Keep Zoho CRM contacts in step with the customers of a Magento 2 / Adobe Commerce store."""
    for stream in (sys.stdout, sys.stderr):  # text that is not valid Unicode (either API can send it) is shown
        if isinstance(stream, io.TextIOWrapper):  # escaped, instead of failing the summary after a whole run
            stream.reconfigure(errors="backslashreplace")


@main.command()
@_settings_options
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report.")
@click.option("--full", is_flag=True, help="Read every customer, not only those changed since the last run.")
@click.option("--dry-run", is_flag=True, help="Read both sides, write nothing, and report what would happen.")
@click.option(
    "--store-moved",
    is_flag=True,
    help="The state file's Magento store is now at MAGENTO_BASE_URL: accept the new address once it holds the "
    "customers the state has synced.",
)
@_guard
def sync(
    *,
    config_file: Path | None,
    state_path: Path | None,
    region: str | None,
    insecure_http: bool,
    verbose: bool,
    report_path: Path | None,
    full: bool,
    dry_run: bool,
    store_moved: bool,
) -> int:
    """Sync Magento customers into Zoho CRM contacts (incremental after the first run)."""
    configure_logging(verbose)
    try:
        settings = _load(config_file, state_path, region, insecure_http)
    except SyncError as exc:  # a settings mistake (after an edit, an upgrade) must not leave the last good report
        if report_path is not None:
            _write_failed_report(report_path, None, exc, dry_run=dry_run, protected=_files_of(config_file, state_path))
        raise
    # (the state file this run uses is protected by run_and_report; any other one is an SQLite file, refused too)
    protected = [config_file] if config_file is not None else []
    return run_and_report(
        settings, full=full, dry_run=dry_run, report_path=report_path, protected=protected, store_moved=store_moved
    )


def _files_of(config_file: Path | None, state_path: Path | None) -> list[Path]:
    """The files a report must never replace: the settings file, and each state file the run may use (the one
    given, ``MZSYNC_STATE``, the default), known even when the settings cannot be read."""
    from magento_zoho_sync.settings import default_state_path, load_sync_settings  # noqa: PLC0415 - `--help` fast

    files = [path for path in (config_file, state_path) if path is not None]
    if env_state := os.environ.get("MZSYNC_STATE", "").strip():
        files.append(Path(env_state))
    with contextlib.suppress(SyncError):  # no home directory: then there is no default state file either
        files.append(default_state_path())
    with contextlib.suppress(SyncError):  # the settings file's [sync] state_path (the rest of it may be wrong)
        files.append(load_sync_settings(config_file).state_path)
    return files


def _write_failed_report(
    report_path: Path, partial: Any, exc: BaseException, *, dry_run: bool, protected: Sequence[Path] = ()
) -> None:
    """Replace the report with a ``failed`` one; a report that cannot be written is said, the run's error shown."""
    try:
        RunReport.check_destination(report_path, protected=protected)
        output.failed_report(partial, exc, dry_run=dry_run).write_json(report_path)
    except SyncError as report_error:  # (a full disk, say) the run's own error is the one to show
        log.warning("%s", report_error)


def run_and_report(
    settings: Settings,
    *,
    full: bool,
    dry_run: bool,
    report_path: Path | None,
    transport: Any = None,
    console: Console | None = None,
    max_rows: int = 50,
    protected: Sequence[Path] = (),
    store_moved: bool = False,
) -> int:
    """Run one sync with progress on a terminal, then print the summary and write the report (never over the state
    file, nor over any of ``protected``)."""
    from magento_zoho_sync.app import RunResult, run_sync  # noqa: PLC0415 - keeps `--help` fast

    protected = [settings.sync.state_path, *protected]
    if report_path is not None:
        RunReport.check_destination(report_path, protected=protected)  # before the run, not after it
    console = console or Console(stderr=False)
    stop, finished = threading.Event(), threading.Event()
    received: list[int] = []
    # the handlers stay until the report is written: a signal just after the run (a service stopped as it ends)
    # must not kill the process before it says what the run did
    with _signals(stop, received, finished, resumable=not dry_run):
        interrupted: Interrupted | None = None
        with output.progress(console, dry_run=dry_run) as progress:
            try:
                result = run_sync(
                    settings,
                    full=full,
                    dry_run=dry_run,
                    stop=stop,
                    progress=progress,
                    transport=transport,
                    store_moved=store_moved,
                )
            except Interrupted as exc:
                interrupted = exc  # said once the progress display is closed (it would be drawn again under it)
            except Exception as exc:
                # a monitor reading the report must not see the last good run's (but a sync refused because
                # another is running leaves the report to that one)
                if report_path is not None and not isinstance(exc, LockedError):
                    done = exc.partial if isinstance(exc, SyncError) and isinstance(exc.partial, RunResult) else None
                    _write_failed_report(report_path, done, exc, dry_run=dry_run, protected=protected)
                raise
        if interrupted is not None:
            signal_number = received[0] if received else signal.SIGINT
            partial = interrupted.partial if isinstance(interrupted.partial, RunResult) else None
            output.print_interrupted(console, interrupted, signal_number, partial)
            if partial is not None:  # the partial summary: what was done is saved
                partial_report = output.build_report(partial)
                if report_path is not None:
                    partial_report.write_json(report_path)
                output.print_summary(console, partial_report, partial, max_rows=max_rows)
                if report_path is not None:
                    console.print(f"Report written to {report_path}", markup=False, highlight=False)
            raise Interrupted(str(interrupted), signal_number=signal_number) from None
        finished.set()
        report = output.build_report(result)
        if report_path is not None:  # first: a closed stdout (`| head`) must not lose the report
            report.write_json(report_path)
        output.print_summary(console, report, result, max_rows=max_rows)
        if report_path is not None:
            console.print(f"Report written to {report_path}", markup=False, highlight=False)
    return report.exit_code  # 1 also while customers are parked: they failed in earlier runs, still not in Zoho


@contextmanager
def _signals(
    stop: threading.Event,
    received: list[int],
    finished: threading.Event | None = None,
    *,
    resumable: bool = True,
) -> Iterator[None]:
    """First SIGINT/SIGTERM/SIGHUP: stop reading, finish in-flight batches, save. Second: exit at once.

    Once ``finished`` is set (the run is over and saved), a first signal only lets the report be written: the run
    keeps its own exit code, as it did all its work. ``resumable``: the run saves a state the next sync resumes
    (not a dry run's).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            if finished is not None and finished.is_set():
                click.echo("\nQuitting at once: the run is saved; its report may not be written", err=True)
            elif resumable:
                click.echo(
                    "\nQuitting at once: what Zoho acknowledged is saved; the next sync resumes the run", err=True
                )
            os._exit(128 + signum)  # the state is consistent: every commit is one SQLite transaction
        stop.set()
        if finished is not None and finished.is_set():
            click.echo("\nThe run is done and saved: writing its report (press again to quit at once)", err=True)
            return
        received.append(signum)
        STOPPING.set()  # a service that keeps failing gets no more attempts, and its wait for the next one ends
        if resumable:
            click.echo("\nStopping: finishing the batches in flight and saving (press again to quit at once)", err=True)
        else:
            click.echo("\nStopping the dry run: it writes nothing (press again to quit at once)", err=True)

    # SIGHUP (a closed terminal or session) stops the run the same way, and exits 129
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        STOPPING.clear()
        for sig, old in previous.items():
            signal.signal(sig, old)


@main.command()
@click.option(
    "--customers", default=3000, show_default=True, type=click.IntRange(min=1), help="Size of the simulated store."
)
@click.option("--seed", default=7, show_default=True, help="Seed of the simulated store and Zoho org.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report of the first run (the one that writes to Zoho).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the state here (a new file each time: every demo starts a new store and org).",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging: each API call (method, path, status).")
@_guard
def demo(customers: int, seed: int, report_path: Path | None, state_path: Path | None, verbose: bool) -> int:
    """Run the real sync against the bundled Magento and Zoho simulators (no credentials needed)."""
    from magento_zoho_sync.demo import run_demo  # noqa: PLC0415 - the only place the simulators are imported

    configure_logging(verbose)
    return run_demo(customers=customers, seed=seed, report_path=report_path, state_path=state_path)


def _open_state(config_file: Path | None, state_path: Path | None) -> StateStore:
    """The state file named by --state, else by MZSYNC_STATE or the config file, else the default."""
    if state_path is None:
        from magento_zoho_sync.settings import load_sync_settings  # noqa: PLC0415 - no credentials needed here

        state_path = load_sync_settings(config_file).state_path
    return StateStore.open(state_path, read_only=True)


def _run_limit(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    """``runs --limit``: a number of runs, or -1 for all (0 would list nothing, and other negatives mean nothing)."""
    if (value < 1 and value != -1) or value > MAX_INT:
        raise click.BadParameter(f"{value} is not a number of runs: give at least 1, or -1 for all.")
    return value


@main.command()
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), help="State file.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file.")
@click.option("--limit", default=20, show_default=True, callback=_run_limit, help="How many runs to list (-1: all).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@_guard
@_listing
def runs(state_path: Path | None, config_file: Path | None, limit: int, as_json: bool) -> int:
    """List past runs: when, mode, status, counts; and why a failed run stopped."""
    state = _open_state(config_file, state_path)
    rows = state.runs(limit)
    if as_json:
        click.echo(json.dumps([output.run_row_dict(row) for row in rows], indent=2))
        return EXIT_OK
    table = Table(title="Runs")
    counted = ("read", "inserted", "updated", "unchanged", "failed", "merged")  # the outcomes add up to read
    for column in ("run", "started (UTC)", "mode", "status", *counted):
        table.add_column(column)
    for row in rows:
        counts = row.summary.get("counts", {})
        table.add_row(
            str(row.id),
            row.started_at,
            row.mode,
            row.status,
            *(str(counts.get(key, "")) for key in counted),
        )
    console = output.table_console()
    console.print(table)
    for row in rows:
        for stop in earlier_stops(row.summary):  # a resumed run: why its earlier parts stopped
            console.print(f"Run {row.id} had stopped ({stop}), and was resumed", markup=False, highlight=False)
        if row.summary.get("error"):
            console.print(f"Run {row.id} {row.status}: {row.summary['error']}", markup=False, highlight=False)
    return EXIT_OK


@main.command()
@click.option("--run", "run_id", type=click.IntRange(1, MAX_INT), help="Run number (default: the last run).")
@click.option(
    "--parked", is_flag=True, help="The parked customers instead: failed in too many runs, no longer retried."
)
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), help="State file.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@_guard
@_listing
def errors(run_id: int | None, parked: bool, state_path: Path | None, config_file: Path | None, as_json: bool) -> int:
    """List the failures of a run (or, with --parked, the customers no longer retried)."""
    if parked and run_id is not None:
        raise click.UsageError("--parked lists the customers parked now, whatever run parked them: drop --run.")
    state = _open_state(config_file, state_path)
    if parked:
        return _parked(state, as_json=as_json)
    run_id = run_id if run_id is not None else state.last_run_id()
    if run_id is None:
        raise StateError("The state holds no run yet.")
    if not state.has_run(run_id):
        raise StateError(
            f"Run {run_id} is not in the state file {state.path}.", hint="`magento-zoho-sync runs` lists them."
        )
    failures = state.run_errors(run_id)
    if as_json:
        click.echo(json.dumps([output.failure_dict(f) for f in failures], indent=2))
        return EXIT_OK
    output.table_console().print(output.failures_table(failures, title=f"Failures of run {run_id}"))
    if count := state.count_parked():
        # they keep a sync's exit code at 1 without failing again: say where they are (not on stdout: a script
        # reading the table gets the table only)
        click.echo(
            f"{count} customer(s) parked: they failed in too many runs and are no longer retried (a sync exits 1 "
            "while any is left). `magento-zoho-sync errors --parked` lists them.",
            err=True,
        )
    return EXIT_OK


def _parked(state: StateStore, *, as_json: bool) -> int:
    rows = state.failures(parked=True)
    if as_json:
        click.echo(json.dumps([output.parked_dict(row) for row in rows], indent=2))
    else:
        output.table_console().print(output.parked_table(rows))
    return EXIT_OK


from magento_zoho_sync.cli_auth import auth, doctor  # noqa: E402 - registered after main is defined

main.add_command(doctor)
main.add_command(auth)
