"""Run report: the JSON contract, the 0600 file, the summary on a terminal and in a pipe, progress output."""

from __future__ import annotations

import io
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from magento_zoho_sync import redact
from magento_zoho_sync.mapping import Merge
from magento_zoho_sync.progress import Progress
from magento_zoho_sync.report import Failure, IdentityProblem, PlanEntry, RunReport
from magento_zoho_sync.summary import render_summary, summary_rows

START = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def sample_report() -> RunReport:
    report = RunReport(mode="full", run_id=7, started_at=START)
    report.counts.read = 1000
    report.counts.inserted = 600
    report.counts.updated = 300
    report.counts.unchanged = 95
    report.api_calls.magento = 6
    report.api_calls.zoho = 11
    report.zoho_credits = 95
    report.zoho_credits_remaining = 4905
    report.add_failure(Failure(17, "bad@", "INVALID_EMAIL", "the email address is not valid"))
    report.add_failure(Failure(18, None, "MISSING_EMAIL", "the customer has no email address"))
    report.add_failure(Failure(19, "x@y.com", "INVALID_DATA", 'Zoho: invalid "Phone"', {"api_name": "Phone"}))
    report.add_merge(Merge(21, 20, "same@x.com"))
    report.finish("completed", at=START + timedelta(seconds=83.5))
    return report


def test_json_contract_keys() -> None:
    data = json.loads(sample_report().to_json())
    assert data["counts"]["read"] == 1000
    assert data["counts"]["inserted"] == 600
    assert data["counts"]["updated"] == 300
    assert data["counts"]["unchanged"] == 95
    assert data["counts"]["failed"] == 3
    assert data["counts"]["merged"] == 1
    assert data["api_calls"] == {"magento": 6, "zoho": 11}
    assert data["zoho_credits"] == 95
    assert data["zoho_credits_remaining"] == 4905
    assert [set(e) >= {"magento_customer_id", "email", "code", "message"} for e in data["errors"]] == [True] * 3
    assert data["errors"][0] == {
        "magento_customer_id": 17,
        "email": "bad@",
        "code": "INVALID_EMAIL",
        "message": "the email address is not valid",
        "details": {},
    }
    assert data["errors"][1]["email"] is None
    assert data["errors"][2]["details"] == {"api_name": "Phone"}
    assert data["merges"] == [{"winner_id": 21, "merged_id": 20, "email": "same@x.com"}]
    assert data["run_id"] == 7
    assert data["mode"] == "full"
    assert data["status"] == "completed"
    assert data["started_at"] == "2026-11-27T12:00:00+00:00"
    assert data["finished_at"] == "2026-11-27T12:01:23.500000+00:00"
    assert data["duration_seconds"] == 83.5
    assert data["schema_version"] == 1
    assert set(data["counts"]) == {
        "read",
        "inserted",
        "updated",
        "unchanged",
        "failed",
        "merged",
        "skipped",  # always 0, kept: the keys keep their names
        "parked",
        "deleted_found",
        "deleted_tagged",
        "deleted_removed",
        "truncated",  # added (new keys may be added; existing ones keep their names)
    }


def test_dry_run_fields_serialise() -> None:
    report = RunReport(mode="dry-run", dry_run=True, started_at=START)
    report.plan.append(PlanEntry(5, "a@x.com", "update", "4000001", "payload changed"))
    report.identity_problems.append(
        IdentityProblem("zoho_duplicate_contacts", "a@x.com", "2 contacts", (5,), ("4000001", "4000002"))
    )
    data = report.to_dict()
    assert data["dry_run"] is True
    assert data["plan"] == [
        {
            "magento_customer_id": 5,
            "email": "a@x.com",
            "action": "update",
            "zoho_id": "4000001",
            "reason": "payload changed",
        }
    ]
    assert data["identity_problems"][0]["zoho_ids"] == ("4000001", "4000002")
    assert json.loads(report.to_json())["identity_problems"][0]["zoho_ids"] == ["4000001", "4000002"]


def test_exit_code() -> None:
    assert RunReport().exit_code == 0
    assert sample_report().exit_code == 1
    parked = RunReport()
    parked.counts.parked = 3  # failed in earlier runs, no longer retried: still not in Zoho
    assert parked.exit_code == 1


def test_write_json_is_owner_only(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()  # an existing folder: a missing one is refused, never created
    path = sample_report().write_json(tmp_path / "reports" / "run.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["counts"]["read"] == 1000
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]  # no temp file left


def test_write_json_replaces_a_world_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    sample_report().write_json(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "old" not in path.read_text(encoding="utf-8")


def test_json_is_redacted() -> None:
    redact.clear_secrets()
    redact.register_secret("canary-secret-value")
    try:
        report = RunReport()
        report.add_failure(
            Failure(1, "a@x.com", "ZOHO_ERROR", "echoed canary-secret-value and 1000.abcdef0123.456789abcd")
        )
        report.add_failure(
            Failure(2, None, "X", "y", {"password": 5, "token": None, "nested": ["canary-secret-value"]})
        )
        text = report.to_json()
        assert "canary-secret-value" not in text
        assert "1000.abcdef0123" not in text
        details = json.loads(text)["errors"][1]["details"]  # still valid JSON
        assert details == {"password": "***", "token": None, "nested": ["***"]}
    finally:
        redact.clear_secrets()


def render(report: RunReport, *, terminal: bool, max_failures: int = 50) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120, color_system=None)
    render_summary(report, console, max_failures=max_failures)
    return buffer.getvalue()


def test_plain_summary() -> None:
    text = render(sample_report(), terminal=False)
    assert "Sync summary" in text
    assert "Read from Magento" in text
    assert "1000" in text
    assert "Zoho credits used" in text
    assert "Duration" in text
    assert "1m24s" in text
    assert "customer 17 <bad@> INVALID_EMAIL: the email address is not valid" in text
    assert "customer 18 <-> MISSING_EMAIL" in text
    assert "same@x.com: kept customer 21, merged customer 20" in text
    assert "\x1b[" not in text
    assert "┃" not in text and "━" not in text


def test_rich_summary_tables() -> None:
    text = render(sample_report(), terminal=True)
    assert "Sync summary" in text
    assert "Failures (3)" in text
    assert "INVALID_EMAIL" in text
    assert "Magento id" in text
    assert "Merged customers (1)" in text


def test_summary_caps_failures() -> None:
    report = RunReport()
    for i in range(60):
        report.add_failure(Failure(i, None, "MISSING_EMAIL", "no email"))
    text = render(report, terminal=False)
    assert text.count(": no email") == 50
    assert "Failures by code     MISSING_EMAIL 60" in text
    assert "... and 10 more" in text


def test_summary_rows_dry_run_and_optional_rows() -> None:
    report = RunReport(dry_run=True, mode="dry-run")
    labels = [label for label, _ in summary_rows(report)]
    assert "Would be inserted" in labels
    assert "Parked" not in labels
    report.counts.parked = 2
    assert ("Parked", "2") in summary_rows(report)


def test_plain_progress_logs_periodically(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    console = Console(file=io.StringIO(), force_terminal=False)
    with (
        caplog.at_level(logging.INFO, logger="magento_zoho_sync.progress"),
        Progress(console, total=1000, interval=10.0, clock=lambda: now[0]) as progress,
    ):
        progress.advance_read(100)
        assert caplog.messages == []  # not yet: interval not elapsed
        now[0] = 10.0
        progress.advance_read(100)
        progress.advance_written(50)
        assert caplog.messages == ["progress: read 200/1000 (20%), handled 0, 20 customers/s, ETA 40.0s"]
        now[0] = 20.0
        progress.advance_written(100)
    assert caplog.messages[-2] == "progress: read 200/1000 (20%), handled 150, 10 customers/s, ETA 1m20s"
    # the final line on close: the run has ended or stopped, so no ETA
    assert caplog.messages[-1] == "progress: read 200/1000 (20%), handled 150, 10 customers/s"
    assert len(caplog.messages) == 3


def test_plain_progress_without_total() -> None:
    now = [0.0]
    progress = Progress(Console(file=io.StringIO(), force_terminal=False), clock=lambda: now[0])
    now[0] = 2.0
    progress.advance_read(10)
    assert progress.line() == "progress: read 10, handled 0, 5 customers/s"


def test_rich_progress_on_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    with Progress(console) as progress:
        progress.set_total(10)
        progress.advance_read(10)
        progress.advance_written(4)
    output = buffer.getvalue()
    assert "read" in output
    assert "handled" in output
    assert "10/10" in output
    assert "4/10" in output


def test_identity_problems_and_parked_are_listed() -> None:
    report = RunReport(mode="dry-run", dry_run=True)
    report.identity_problems.append(
        IdentityProblem("zoho_duplicate_contacts", "dup@x.com", "2 Zoho contacts share this email", (5,), ("41", "42"))
    )
    report.parked.append(Failure(8, "p@x.com", "INVALID_DATA", "failed in 5 runs"))
    plain = render(report, terminal=False)
    assert "Dry run: nothing was written" in plain
    assert "zoho_duplicate_contacts <dup@x.com> magento=5 zoho=41, 42: 2 Zoho contacts share this email" in plain
    assert "Parked customers, no longer retried (1):" in plain
    assert "customer 8 <p@x.com> INVALID_DATA: failed in 5 runs" in plain
    rich_text = render(report, terminal=True)
    assert "Identity problems (1)" in rich_text
    assert "Parked customers" in rich_text


def test_the_streamed_report_file_equals_the_report_as_json(tmp_path) -> None:
    report = RunReport()
    for i in range(3):
        report.add_failure(Failure(i, f"c{i}@example.com", "INVALID_DATA", f"token=abcdefghijk{i} bad"))
    path = report.write_json(tmp_path / "report.json")
    written = json.loads(path.read_text())
    expected = json.loads(report.to_json())
    written.pop("duration_seconds")
    expected.pop("duration_seconds")
    assert written == expected
    assert "abcdefghijk" not in path.read_text()


@pytest.mark.parametrize("terminal", [True, False])
def test_every_list_cut_in_the_summary_says_how_many_more(terminal: bool) -> None:
    report = RunReport()
    for n in range(7):
        report.add_merge(Merge(winner_id=100 + n, merged_id=n, email=f"m{n}@x.com"))
        report.identity_problems.append(IdentityProblem("magento_shared_email", f"s{n}@x.com", "shared", (n, 100 + n)))
        report.parked.append(Failure(n, f"p{n}@x.com", "INVALID_DATA", "failed in 5 runs"))
        report.warnings.append(f"W{n}")
    text = render(report, terminal=terminal, max_failures=5)
    for what in ("merged customers", "identity problems", "parked customers", "warnings"):
        assert f"... and 2 more {what} in --report PATH" in text


def test_a_dry_runs_progress_says_planned_not_written() -> None:
    """A dry run writes nothing: its second count is what it planned."""
    now = [0.0]
    progress = Progress(Console(file=io.StringIO(), force_terminal=False), clock=lambda: now[0], done="planned")
    now[0] = 2.0
    progress.advance_read(10)
    progress.advance_written(10)
    assert progress.line() == "progress: read 10, planned 10, 5 customers/s"


@pytest.mark.parametrize("terminal", [False, True])
def test_summary_shows_control_characters_of_magento_data_as_escapes(terminal: bool) -> None:
    # an email (or a message quoting Magento's data) holding ESC drove the terminal showing the summary
    report = RunReport()
    report.add_failure(Failure(7, "jane\x1b[31m@example.com", "INVALID_EMAIL", "the email address is not valid"))
    report.add_failure(Failure(8, "ok@example.com", "MAPPING_ERROR", "bell\x07 and title \x1b]0;x\x07"))
    report.add_merge(Merge(winner_id=2, merged_id=1, email="m\x1b[2J@example.com"))
    report.warnings.append("EMAIL_TAKEN_IN_ZOHO: customer 3: \x1bc")
    text = render(report, terminal=terminal)
    assert "\x1b" not in text and "\x07" not in text
    assert "jane\\x1b[31m@example.com" in text
    assert "m\\x1b[2J@example.com" in text


def test_tables_of_the_errors_command_show_control_characters_as_escapes() -> None:
    from magento_zoho_sync.output import _cells

    assert [cell.plain for cell in _cells("a\x1b[31mb", None, "x\ty")] == ["a\\x1b[31mb", "", "x\ty"]
