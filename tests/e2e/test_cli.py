"""The command line as people script it: exit codes, the JSON report, one-line errors, history, the lock.

The simulators listen on loopback ports here, and the CLI reads its settings from environment variables,
as it does against a real store.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from magento_zoho_sync.cli import main
from magento_zoho_sync.state import StateStore
from tests.e2e.conftest import World


class Live:
    """An empty store and org on loopback ports, and the CLI pointed at them through environment variables."""

    def __init__(self, world: World, tmp_path: Path) -> None:
        self.magento = world.magento
        self.zoho = world.zoho
        self.state = world.state_path
        self.report = tmp_path / "report.json"
        self._served = world.served()
        self.env = self._served.__enter__()
        self.secrets = [self.env["MAGENTO_PASSWORD"], self.zoho.client_secret, self.env["ZOHO_REFRESH_TOKEN"]]

    def add(self, count: int, *, start: int = 0, email: str | None = None) -> None:
        for n in range(start, start + count):
            self.magento.backend.create_customer(email=email or f"c{n}@example.com", firstname="F", lastname=f"L{n}")

    def run(self, *args: str, env: dict[str, str] | None = None) -> Any:
        runner = CliRunner()
        merged = {**self.env, **(env or {})}
        return runner.invoke(main, list(args), env=merged, catch_exceptions=False)

    def sync(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return self.run("sync", "--state", str(self.state), "--report", str(self.report), *args, env=env)

    def sync_to(self, report: Path, *args: str) -> Any:
        return self.run("sync", "--state", str(self.state), "--report", str(report), *args)

    def close(self) -> None:
        self._served.__exit__(None, None, None)


@pytest.fixture
def live(make_world: Any, tmp_path: Path) -> Iterator[Live]:
    world = Live(make_world(0, seed=5), tmp_path)
    yield world
    world.close()


def test_exit_0_when_every_customer_synced_and_the_report_has_the_public_keys(live: Live) -> None:
    live.add(25)
    result = live.sync()
    assert result.exit_code == 0, result.output
    report = json.loads(live.report.read_text())
    assert report["counts"]["read"] == 25 and report["counts"]["inserted"] == 25
    for key in ("updated", "unchanged", "failed"):
        assert report["counts"][key] == 0
    assert report["errors"] == []
    assert report["api_calls"]["magento"] >= 2 and report["api_calls"]["zoho"] >= 2
    assert stat.S_IMODE(os.stat(live.report).st_mode) == 0o600
    assert "Sync summary" in result.output


def test_exit_1_when_some_customers_failed_with_their_id_email_code_and_message(live: Live) -> None:
    live.add(3)
    live.magento.backend.create_customer(email="broken@@example.com", firstname="B", lastname="Roken")
    result = live.sync()
    assert result.exit_code == 1
    [error] = json.loads(live.report.read_text())["errors"]
    assert error["magento_customer_id"] == 4
    assert error["email"] == "broken@@example.com"
    assert error["code"] == "INVALID_EMAIL" and error["message"] and error["details"] == {"field": "Email"}
    errors = live.run("errors", "--state", str(live.state), "--json")
    assert errors.exit_code == 0 and json.loads(errors.output)[0]["code"] == "INVALID_EMAIL"
    assert json.loads(errors.output)[0]["details"] == {"field": "Email"}
    runs = live.run("runs", "--state", str(live.state), "--json")
    [row] = json.loads(runs.output)
    assert row["counts"]["failed"] == 1 and row["mode"] == "full"
    assert "INVALID_EMAIL" in live.run("errors", "--state", str(live.state)).output
    # into a pipe, the tables keep whole dates, statuses and emails (rich would cut them at 80 columns)
    piped = live.run("runs", "--state", str(live.state)).output
    assert row["started_at"] in piped and "completed_with_failures" in piped
    assert "merged" in piped  # every outcome has its column: they add up to read
    assert "broken@@example.com" in live.run("errors", "--state", str(live.state)).output


def test_exit_2_on_bad_credentials_with_one_line_and_no_secret(live: Live) -> None:
    live.add(2)
    result = live.sync(env={"MAGENTO_PASSWORD": "wrong-password-canary"})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "wrong-password-canary" not in result.output


def test_exit_2_on_a_revoked_zoho_refresh_token(live: Live) -> None:
    live.add(2)
    live.zoho.revoke_refresh_token(live.env["ZOHO_REFRESH_TOKEN"])
    result = live.sync()
    assert result.exit_code == 2
    assert "refresh token" in result.output.lower()
    assert all(secret not in result.output for secret in live.secrets)


def test_a_run_that_stops_on_a_fatal_error_replaces_the_report_with_a_failed_one(live: Live) -> None:
    live.add(2)
    assert live.sync().exit_code == 0
    live.add(1, start=2)
    live.zoho.revoke_refresh_token(live.env["ZOHO_REFRESH_TOKEN"])
    result = live.sync()
    assert result.exit_code == 2
    text = live.report.read_text()
    report = json.loads(text)  # not the last good run's report, which a monitor would go on reading
    assert report["status"] == "failed" and "refresh token" in report["error"].lower()
    assert report["counts"]["read"] == 3 and report["run_id"] == 2  # what the run did before it stopped
    assert all(secret not in text for secret in live.secrets)
    assert stat.S_IMODE(os.stat(live.report).st_mode) == 0o600


def test_a_settings_mistake_replaces_the_report_with_a_failed_one_too(live: Live) -> None:
    live.add(2)
    assert live.sync().exit_code == 0
    result = live.sync(env={"MZSYNC_ZOHO_CONCURRENCY": "99"})
    assert result.exit_code == 2 and "zoho.concurrency" in result.output
    report = json.loads(live.report.read_text())  # not the last good run's, which a monitor would go on reading
    assert report["status"] == "failed" and "zoho.concurrency" in report["error"] and report["mode"] is None
    assert report["counts"]["read"] == 0
    assert all(secret not in live.report.read_text() for secret in live.secrets)


def test_text_that_is_not_valid_unicode_is_reported_escaped_not_a_crash_after_the_run(live: Live) -> None:
    """A lone UTF-16 surrogate (a PHP or Java server can emit one as "\\ud800") reaches the summary and the report."""
    live.add(3)
    live.magento.backend.update_customer(1, email="zoe\ud800@example.com")
    live.magento.backend.update_customer(2, firstname="An\ud800na")
    result = live.sync()
    assert result.exit_code == 1, result.output
    assert "customer 1 <zoe\\ud800@example.com> INVALID_EMAIL" in result.output
    report = json.loads(live.report.read_bytes().decode("utf-8"))  # strict UTF-8, and JSON that reads back
    assert report["status"] == "completed_with_failures"
    assert [(e["magento_customer_id"], e["email"]) for e in report["errors"]] == [(1, "zoe\ud800@example.com")]
    errors = live.run("errors", "--state", str(live.state))
    assert errors.exit_code == 0 and "INVALID_EMAIL" in errors.output  # (the state keeps it as "zoe?@...")


def test_the_report_is_written_before_the_summary_and_never_into_a_folder_that_does_not_exist(
    live: Live, tmp_path: Path
) -> None:
    live.add(2)
    missing = tmp_path / "typo" / "report.json"
    result = live.run("sync", "--state", str(live.state), "--report", str(missing))
    assert result.exit_code == 2 and "does not exist" in result.output and not missing.parent.exists()
    assert live.magento.log.total == 0  # refused before the run
    # a summary that cannot be printed (stdout closed: `sync --report R | head -1`) loses no report
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("magento_zoho_sync.output.print_summary", _broken_pipe)
        result = live.sync()
    assert result.exit_code == 2
    assert json.loads(live.report.read_text())["counts"]["inserted"] == 2


def _broken_pipe(*_: Any, **__: Any) -> None:
    raise BrokenPipeError(32, "Broken pipe")


def test_exit_2_on_missing_settings_naming_each_variable(live: Live) -> None:
    result = live.run(
        "sync", "--state", str(live.state), env={"MAGENTO_BASE_URL": "", "ZOHO_CLIENT_SECRET": "", "ZOHO_API_URL": ""}
    )
    assert result.exit_code == 2
    assert "MAGENTO_BASE_URL" in result.output and "ZOHO_CLIENT_SECRET" in result.output


def test_exit_2_when_a_service_is_unreachable(live: Live) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = live.sync(env={"MAGENTO_BASE_URL": f"http://127.0.0.1:{port}"})
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_a_store_that_accepts_the_connection_and_never_answers_the_login_times_out(live: Live) -> None:
    """The admin login is a request of the auth flow, not of the client: it must keep the client's timeouts (it had
    none, and the sync waited forever, holding the lock that every later run then stopped at)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (the kernel does), never reads nor answers
        port = silent.getsockname()[1]
        env = {
            "MAGENTO_BASE_URL": f"http://127.0.0.1:{port}",
            "MAGENTO_AUTH": "admin",
            "MZSYNC_MAGENTO_TIMEOUT": "1",
            "MZSYNC_RETRY_ATTEMPTS": "1",
        }
        result = live.sync(env=env)
    assert result.exit_code == 2, result.output
    assert "no answer within the timeout" in result.output and "Traceback" not in result.output


def test_plain_http_to_a_remote_host_is_refused_unless_asked(live: Live) -> None:
    result = live.sync(env={"MAGENTO_BASE_URL": "http://shop.example.com"})
    assert result.exit_code == 2 and "--insecure-http" in result.output


def test_a_second_sync_on_the_same_state_exits_2(live: Live, tmp_path: Path) -> None:
    live.add(2)
    store = StateStore.open(live.state)
    live.report.write_text('{"status": "running"}')  # the report the running sync will write
    alias = tmp_path / "alias.sqlite"
    alias.symlink_to(live.state)
    with store.lock():
        result = live.sync()
        via_alias = live.run("sync", "--state", str(alias))  # the same file by another name
    assert result.exit_code == 2 and "already running" in result.output
    assert via_alias.exit_code == 2 and "already running" in via_alias.output
    assert live.report.read_text() == '{"status": "running"}'  # left to the sync that is running
    store.close()
    assert live.sync().exit_code == 0


def test_dry_run_writes_nothing_and_reports_the_plan(live: Live) -> None:
    live.add(5)
    existing = live.zoho.add_contact(Email="C0@Example.com", Last_Name="Existing")
    live.zoho.add_contact(Email="c1@example.com", Last_Name="One")
    live.zoho.add_contact(Email="c1@example.com ", Last_Name="Two")
    result = live.sync("--dry-run")
    assert result.exit_code == 1, result.output  # c1 would be rejected: two contacts hold its email
    assert not live.zoho.writes()
    assert not live.state.exists()
    report = json.loads(live.report.read_text())
    plan = {entry["email"]: entry for entry in report["plan"]}
    assert plan["c0@example.com"]["action"] == "update" and plan["c0@example.com"]["zoho_id"] == existing
    assert plan["c2@example.com"]["action"] == "insert"
    assert plan["c1@example.com"]["action"] == "reject"
    kinds = {problem["kind"] for problem in report["identity_problems"]}
    assert "zoho_duplicate_contacts" in kinds
    assert report["counts"]["inserted"] == 3 and report["counts"]["updated"] == 1


def test_secrets_never_reach_the_output_the_report_or_the_state(live: Live) -> None:
    live.add(5)
    result = live.sync("-v")
    blobs = [result.output, live.report.read_text(), live.state.read_bytes().decode("latin-1")]
    for blob in blobs:
        for secret in live.secrets:
            assert secret not in blob


def test_runs_finds_the_state_through_mzsync_state_without_credentials(live: Live) -> None:
    live.add(1)
    assert live.sync().exit_code == 0
    runner = CliRunner()
    result = runner.invoke(main, ["runs", "--json"], env={"MZSYNC_STATE": str(live.state)}, catch_exceptions=False)
    assert result.exit_code == 0 and json.loads(result.output)[0]["counts"]["inserted"] == 1


def test_a_report_path_that_cannot_be_written_is_refused_before_the_run(live: Live, tmp_path: Path) -> None:
    live.add(1)
    folder = tmp_path / "a-file"
    folder.write_text("not a folder")
    result = live.run("sync", "--state", str(live.state), "--report", str(folder / "report.json"))
    assert result.exit_code == 2
    assert "Cannot write the report" in result.output and "--report PATH" in result.output
    assert live.zoho.contacts_by_email("c0@example.com") == []  # nothing was sent: the problem came first


def test_errors_of_a_run_that_does_not_exist_exit_2(live: Live) -> None:
    live.add(1)
    assert live.sync().exit_code == 0
    result = live.run("errors", "--state", str(live.state), "--run", "999")
    assert result.exit_code == 2 and "Run 999 is not in the state file" in result.output


def test_a_file_that_is_not_a_state_database_is_one_clear_line(live: Live, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not SQLite\n" * 100)
    result = live.run("runs", "--state", str(bogus))
    assert result.exit_code == 2 and "not a magento-zoho-sync state file" in result.output
    assert "bug" not in result.output


def test_a_demo_of_no_customers_is_refused(live: Live) -> None:
    result = live.run("demo", "--customers", "0")
    assert result.exit_code == 2 and "--customers" in result.output


def test_runs_says_why_a_failed_run_stopped(live: Live) -> None:
    live.add(300)
    live.zoho.faults.error_rate = 1.0  # every upsert answers 500: three batches fail, the run stops
    live.zoho.faults.path_pattern = "/Contacts/upsert"
    result = live.sync()
    assert result.exit_code == 2, result.output
    [row] = json.loads(live.run("runs", "--state", str(live.state), "--json").output)
    assert row["status"] == "failed" and "Zoho" in row["error"], row
    table = live.run("runs", "--state", str(live.state))
    assert f"Run {row['run_id']} failed: {row['error']}" in " ".join(table.output.split())
    for secret in live.secrets:
        assert secret not in table.output


@pytest.mark.parametrize("command", ["sync", "runs"])
def test_a_damaged_state_file_is_named_with_what_to_do_not_as_a_bug(live: Live, tmp_path: Path, command: str) -> None:
    live.add(2)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    result = live.run(command, "--state", str(damaged))
    assert result.exit_code == 2
    assert "is damaged or not a magento-zoho-sync state file" in result.output and "delete it" in result.output
    assert "this is a bug" not in result.output
    assert "Traceback" not in result.output


def test_a_report_that_cannot_be_written_removes_the_previous_one(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    live.add(2)
    assert live.sync().exit_code == 0
    real_fdopen = os.fdopen

    def full_disk(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        handle.write = lambda _text: (_ for _ in ()).throw(OSError(28, "No space left on device"))  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr("magento_zoho_sync.report.os.fdopen", full_disk)
    result = live.sync()
    assert result.exit_code == 2
    assert "No space left on device; the previous report was removed" in result.output
    assert not live.report.exists()  # a monitor must not go on reading the last good run's report
    assert "this is a bug" not in result.output


@pytest.mark.parametrize(
    ("sqlite_error", "said"),
    [
        ("database or disk is full", "the disk is full or failing"),
        ("disk I/O error", "the disk is full or failing"),
        ("attempt to write a readonly database", "read-only or missing"),
        ("database disk image is malformed", "is damaged or not a magento-zoho-sync state file"),
    ],
)
def test_a_state_problem_in_the_middle_of_a_run_says_what_to_do(
    live: Live, monkeypatch: pytest.MonkeyPatch, sqlite_error: str, said: str
) -> None:
    def failing(*_: Any, **__: Any) -> Any:
        raise sqlite3.OperationalError(sqlite_error)

    monkeypatch.setattr("magento_zoho_sync.app.run_sync", failing)
    result = live.sync()
    assert result.exit_code == 2
    assert said in result.output and sqlite_error in result.output and "this is a bug" not in result.output


def test_runs_and_errors_read_a_state_in_a_read_only_folder(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.add(2)
    live.magento.backend.create_customer(email="broken@@example.com", firstname="B", lastname="Roken")
    state = tmp_path / "state.sqlite"
    assert live.run("sync", "--state", str(state)).exit_code == 1
    # a folder this user cannot write (root could, so it is told so): no -shm file can be made next to the state
    monkeypatch.setattr("magento_zoho_sync.state.os.access", lambda path, mode: Path(path) != tmp_path)
    runs = live.run("runs", "--state", str(state), "--json")
    assert runs.exit_code == 0, runs.output
    assert json.loads(runs.output)[0]["status"] == "completed_with_failures"
    errors = live.run("errors", "--state", str(state), "--json")
    assert errors.exit_code == 0 and json.loads(errors.output)[0]["code"] == "INVALID_EMAIL"


def test_the_demo_refuses_a_state_file_of_an_earlier_demo(tmp_path: Path) -> None:
    state = tmp_path / "demo.sqlite"
    state.write_bytes(b"")
    result = CliRunner().invoke(main, ["demo", "--customers", "20", "--state", str(state)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "every demo starts a new simulated store" in result.output and "does not exist yet" in result.output


def test_the_demo_counts_one_email_in_the_singular() -> None:
    """A small demo (seed 7, 50 customers: one email held twice in Zoho) said "1 emails are still held" and
    "1 are held by two contacts"."""
    result = CliRunner().invoke(main, ["demo", "--customers", "50"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "and 1 is held by two contacts" in said and "1 email is still held by several contacts" in said
    assert "1 emails" not in said and "1 are" not in said


def test_a_signal_just_after_the_run_still_gets_its_report_written_and_its_own_exit_code(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from magento_zoho_sync import output

    live.add(5)
    build = output.build_report

    def signalled_then_built(result: Any) -> Any:  # a service stopped just as the run ends
        os.kill(os.getpid(), signal.SIGINT)
        return build(result)

    monkeypatch.setattr(output, "build_report", signalled_then_built)
    result = live.sync()
    assert result.exit_code == 0, result.output  # the run did all its work: its own code, not 130
    report = json.loads(live.report.read_text())
    assert (report["status"], report["counts"]["inserted"]) == ("completed", 5)
    assert "The run is done and saved: writing its report" in result.output


def _interrupted_on_a_terminal(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, terminal: bool, dry_run: bool = False
) -> tuple[str, Any, Path, list[str]]:
    """A run stopped by Ctrl-C once its first page is read; its console output (a terminal's, or a pipe's), the
    error it raised, its report, and the order in which the summary and the progress log line came."""
    import io
    import logging
    import signal

    from rich.console import Console

    from magento_zoho_sync import output
    from magento_zoho_sync.cli import run_and_report
    from magento_zoho_sync.errors import Interrupted

    world = make_world(0, seed=5)
    for n in range(450):
        world.magento.backend.create_customer(email=f"c{n}@example.com", firstname="F", lastname=f"L{n}")
    update = output.EngineProgress.update
    pressed: list[int] = []

    def ctrl_c_after_the_first_page(self: Any, *, read: int, written: int, total: int | None) -> None:
        update(self, read=read, written=written, total=total)
        if read and not pressed:  # the handler as a Ctrl-C runs it, at once (no waiting for a thread)
            pressed.append(read)
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # type: ignore[operator]

    monkeypatch.setattr(output.EngineProgress, "update", ctrl_c_after_the_first_page)
    order: list[str] = []
    print_summary = output.print_summary
    monkeypatch.setattr(output, "print_summary", lambda *a, **k: (order.append("summary"), print_summary(*a, **k))[1])

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("progress:"):
                order.append("progress line")

    handler, logger = Lines(), logging.getLogger("magento_zoho_sync")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120, color_system=None)
    report = tmp_path / "interrupted.json"
    try:
        with pytest.raises(Interrupted) as raised:
            run_and_report(
                world.settings(),
                full=False,
                dry_run=dry_run,
                report_path=report,
                transport=world.transport,
                console=console,
            )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert pressed
    return buffer.getvalue(), raised.value, report, order


def test_an_interrupted_run_closes_the_progress_bar_before_its_summary_and_says_how_it_goes_on(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, error, report, _ = _interrupted_on_a_terminal(make_world, tmp_path, monkeypatch, terminal=True)
    assert error.exit_code == 130
    assert json.loads(report.read_text())["status"] == "interrupted"
    summary = text.index("Sync summary")
    assert "━" in text[:summary]  # the bar was shown ...
    assert "━" not in text[summary:] and "/s" not in text[summary:]  # ... and is not drawn again under the summary
    assert text.rstrip().endswith(f"Report written to {report}")
    said = " ".join(text.split())
    assert "Interrupted (signal 2)" in said and "The next sync resumes run 1" in said


def test_an_interrupted_run_into_a_pipe_logs_its_last_progress_line_before_the_summary(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, _, report, order = _interrupted_on_a_terminal(make_world, tmp_path, monkeypatch, terminal=False)
    assert order[-1] == "summary", order
    assert "progress line" in order
    assert text.rstrip().endswith(f"Report written to {report}")


def test_an_interrupted_dry_run_says_it_wrote_nothing_not_that_it_saved(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Ctrl-C in a dry run said "finishing the batches in flight and saving" and "what Zoho acknowledged is saved",
    above "Dry run: nothing was written to Zoho or to the state"."""
    text, error, report, _ = _interrupted_on_a_terminal(make_world, tmp_path, monkeypatch, terminal=False, dry_run=True)
    assert error.exit_code == 130
    assert json.loads(report.read_text())["status"] == "interrupted"
    said = " ".join(text.split()) + " " + " ".join(capsys.readouterr().err.split())
    assert "Stopping the dry run: it writes nothing" in said
    assert "Interrupted (signal 2): Stopped by a signal; nothing was written (a dry run)." in said
    assert "saving" not in said and "is saved" not in said and "resumes run" not in said


def test_a_second_signal_says_what_is_kept_before_it_quits(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import signal
    import threading

    from magento_zoho_sync import cli

    quit_with: list[int] = []
    monkeypatch.setattr(cli.os, "_exit", quit_with.append)
    stop = threading.Event()
    with cli._signals(stop, []):
        handler = signal.getsignal(signal.SIGINT)
        handler(signal.SIGINT, None)  # type: ignore[operator]
        handler(signal.SIGINT, None)  # type: ignore[operator]
    assert quit_with == [130]
    said = " ".join(capsys.readouterr().err.split())
    assert "Quitting at once" in said and "the next sync resumes the run" in said


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_runs_refuses_a_limit_that_lists_nothing_or_means_nothing(live: Live, limit: str) -> None:
    live.add(1)
    assert live.sync().exit_code == 0
    result = live.run("runs", "--state", str(live.state), "--limit", limit)
    assert result.exit_code == 2
    assert "--limit" in result.output and "at least 1" in result.output and "-1" in result.output


def test_runs_limit_minus_one_lists_every_run(live: Live) -> None:
    live.add(1)
    for _ in range(3):
        assert live.sync().exit_code == 0
    result = live.run("runs", "--state", str(live.state), "--limit", "-1", "--json")
    assert result.exit_code == 0 and len(json.loads(result.output)) == 3
    assert len(json.loads(live.run("runs", "--state", str(live.state), "--limit", "2", "--json").output)) == 2


def test_errors_parked_lists_the_customers_no_longer_retried_and_errors_points_to_them(live: Live) -> None:
    """A run that exits 1 only because customers are parked has no failures of its own: `errors` says where the
    parked ones are (on stderr, the table stays alone on stdout), and `errors --parked` lists them."""
    live.add(2)
    live.magento.backend.create_customer(email="broken@@example.com", firstname="B", lastname="Roken")
    env = {"MZSYNC_MAX_FAILED_RUNS": "1"}
    assert live.sync(env=env).exit_code == 1  # fails
    live.magento.clock.advance(3600)  # the next runs' pages (changed since the last run) hold none of them
    assert live.sync(env=env).exit_code == 1  # is read again by id, fails again, and is parked
    third = live.sync(env=env)
    assert third.exit_code == 1  # nothing failed in this run, but the parked customer is still not in Zoho
    listing = live.run("errors", "--state", str(live.state))
    assert listing.exit_code == 0 and "broken@@example.com" not in listing.stdout
    assert "1 customer(s) parked" in listing.stderr and "errors --parked" in listing.stderr
    assert "parked" not in live.run("errors", "--state", str(live.state), "--json").stdout
    table = live.run("errors", "--parked", "--state", str(live.state))
    assert table.exit_code == 0 and "broken@@example.com" in table.stdout and "INVALID_EMAIL" in table.stdout
    [row] = json.loads(live.run("errors", "--parked", "--json", "--state", str(live.state)).stdout)
    assert row["magento_customer_id"] == 3 and row["code"] == "INVALID_EMAIL" and row["failed_runs"] == 2
    assert row["email"] == "broken@@example.com" and row["last_failed_at"]
    both = live.run("errors", "--parked", "--run", "1", "--state", str(live.state))
    assert both.exit_code == 2 and "drop --run" in both.output
    # a usage mistake, said as click says one (the usage line), not as an unexpected error
    assert "this is a bug" not in both.output and "unexpected" not in both.output
    assert "Usage: " in both.output and "Error: --parked" in both.output


def test_errors_tables_show_brackets_as_text_not_as_markup(live: Live) -> None:
    """An email or a message holding "[b]" or "[/]" is shown as it is (rich's markup would hide it, or fail)."""
    live.add(1)
    live.magento.backend.create_customer(email="x[/]y[b]z@@example.com", firstname="B", lastname="Roken")
    for _ in range(2):  # fails, then is parked
        assert live.sync(env={"MZSYNC_MAX_FAILED_RUNS": "1"}).exit_code == 1
    for args in ((), ("--parked",)):
        listing = live.run("errors", *args, "--state", str(live.state))
        assert listing.exit_code == 0 and "x[/]y[b]z@@example.com" in listing.stdout


@pytest.mark.parametrize("settings_ok", [True, False])
def test_a_report_path_that_is_the_state_file_is_refused_and_the_state_is_kept(live: Live, settings_ok: bool) -> None:
    """`--report` equal to `--state` replaced the state file with the report (every link and run gone), even when a
    settings mistake stopped the sync before it ran; the -wal file, the lock file and the settings file alike."""
    live.add(2)
    assert live.sync().exit_code == 0
    before = json.loads(live.run("runs", "--json", "--state", str(live.state)).stdout)
    env = {} if settings_ok else {"MZSYNC_ZOHO_CONCURRENCY": "99"}
    for path in (live.state, Path(f"{live.state}-wal"), Path(f"{live.state}.lock")):
        result = live.run("sync", "--state", str(live.state), "--report", str(path), env=env)
        assert result.exit_code == 2, result.output
        if settings_ok:
            assert "which the report would replace" in result.output
    assert json.loads(live.run("runs", "--json", "--state", str(live.state)).stdout) == before  # untouched
    config = live.state.parent / "settings.toml"
    config.write_text("[sync]\nmax_failed_runs = 3\n")
    link = live.state.parent / "link.json"
    link.symlink_to(config)
    result = live.run("sync", "--config", str(config), "--state", str(live.state), "--report", str(link))
    assert result.exit_code == 2 and "which the report would replace" in result.output
    assert config.read_text() == "[sync]\nmax_failed_runs = 3\n"


def test_a_report_path_that_is_a_pipe_is_refused_and_a_symlink_is_written_through(live: Live, tmp_path: Path) -> None:
    """The report is written to a temporary file renamed over its path: over a device (`--report /dev/null`) or a
    pipe, that replaced the device with a file; a symlink was replaced by a file, its target left stale."""
    live.add(1)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = live.sync_to(pipe)
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("{}")
    link.symlink_to(target)
    assert live.sync_to(link).exit_code == 0
    assert link.is_symlink() and json.loads(target.read_text())["counts"]["read"] == 1


@pytest.mark.parametrize("args", [("errors", "--run", "9" * 20), ("runs", "--limit", "9" * 20)])
def test_a_number_too_large_for_the_state_is_a_usage_error_not_a_bug(live: Live, args: tuple[str, ...]) -> None:
    live.add(1)
    assert live.sync().exit_code == 0
    result = live.run(*args, "--state", str(live.state))
    assert result.exit_code == 2 and "bug" not in result.output and "99999999999999999999" in result.output


def test_the_state_file_the_settings_file_names_is_protected_even_when_the_settings_are_wrong(
    live: Live, tmp_path: Path
) -> None:
    """A settings mistake stops the sync before its settings are known; its failed report still went over the state
    file that the settings file's [sync] state_path names (and any SQLite database is refused, whatever its name)."""
    live.add(2)
    state = tmp_path / "cfg-state.sqlite"
    config = tmp_path / "settings.toml"
    config.write_text(f'[sync]\nstate_path = "{state}"\n')
    env = {"MZSYNC_STATE": ""}
    assert live.run("sync", "--config", str(config), env=env).exit_code == 0
    before = state.read_bytes()[:16]
    wrong = {**env, "MZSYNC_ZOHO_CONCURRENCY": "99"}
    result = live.run("sync", "--config", str(config), "--report", str(state), env=wrong)
    assert result.exit_code == 2 and state.read_bytes()[:16] == before == b"SQLite format 3\x00"
    other = tmp_path / "copy.sqlite"
    other.write_bytes(state.read_bytes())
    result = live.sync_to(other)
    assert result.exit_code == 2 and "SQLite database" in result.output
    assert other.read_bytes() == state.read_bytes()


def test_dev_stdout_is_refused_as_a_report_path(live: Live) -> None:
    """/dev/stdout resolves to what stdout is: a cron job's log file, which the report would have replaced."""
    live.add(1)
    result = live.sync_to(Path("/dev/stdout"))
    assert result.exit_code == 2 and "not a regular file" in result.output


def test_a_dry_run_and_doctor_refuse_a_pipe_as_the_state_file_and_name_it(live: Live, tmp_path: Path) -> None:
    """The dry run copied the state through SQLite first (a pipe hung it), and doctor passed a pipe as "none yet"."""
    live.add(1)
    pipe = tmp_path / "fifo.sqlite"
    os.mkfifo(pipe)
    dry = live.run("sync", "--dry-run", "--state", str(pipe))
    assert dry.exit_code == 2 and "not a regular file" in dry.output and str(pipe) in dry.output
    doctor = live.run("doctor", "--state", str(pipe))
    assert doctor.exit_code == 2 and "not a regular file" in doctor.output
    foreign = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(foreign)) as db:
        db.execute("CREATE TABLE notes (x)")
        db.commit()
    dry = live.run("sync", "--dry-run", "--state", str(foreign))
    assert dry.exit_code == 2 and f"{foreign} is an SQLite database of something else" in dry.output


def test_sync_store_moved_accepts_the_same_store_at_another_address(live: Live) -> None:
    live.add(5)
    assert live.sync().exit_code == 0
    moved = {"MAGENTO_BASE_URL": live.env["MAGENTO_BASE_URL"].replace("127.0.0.1", "localhost")}
    refused = live.sync(env=moved)
    assert refused.exit_code == 2 and "sync --store-moved" in refused.output
    accepted = live.sync("--store-moved", env=moved)
    assert accepted.exit_code == 0, accepted.output
    assert "now belongs to the Magento store at localhost" in accepted.output
    assert "5 of 5 customers it has synced are there" in accepted.output
    assert live.sync(env=moved).exit_code == 0  # recorded: no flag needed any more


def test_runs_still_says_why_a_run_stopped_once_the_next_sync_resumed_it(live: Live) -> None:
    live.add(2)
    assert live.sync().exit_code == 0
    live.add(1, start=2)
    live.zoho.revoke_refresh_token(live.env["ZOHO_REFRESH_TOKEN"])
    assert live.sync().exit_code == 2  # run 2 stops
    fresh = {"ZOHO_REFRESH_TOKEN": live.zoho.issue_refresh_token()}
    assert live.sync(env=fresh).exit_code == 0  # and is resumed: the same run, now completed
    listed = json.loads(live.run("runs", "--state", str(live.state), "--json").output)
    run = next(row for row in listed if row["run_id"] == 2)
    assert run["status"] == "completed" and run["resumed"] is True and run["error"] is None
    [stop] = run["earlier_stops"]
    assert stop.startswith("failed: ") and "refresh token" in stop.lower()
    assert all(secret not in stop for secret in live.secrets)
    assert next(row for row in listed if row["run_id"] == 1)["earlier_stops"] == []
    table = live.run("runs", "--state", str(live.state)).output
    assert "Run 2 had stopped (failed: " in table


def test_a_state_problem_in_the_middle_of_a_run_names_the_state_file(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.add(2)

    def failing(*_: Any, **__: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("magento_zoho_sync.app.SyncEngine.run", failing)
    result = live.sync()
    assert result.exit_code == 2
    assert f"The state file {live.state} could not be written: the disk is full" in result.output
    report = json.loads(live.report.read_text())
    assert report["status"] == "failed" and str(live.state) in report["error"]
