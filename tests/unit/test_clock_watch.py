"""clock_watch.py: the clues a run has about Magento's clocks, each said once per run, nothing said of clocks in
step or of stamps it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from magento_zoho_sync.clock_watch import ClockWatch

DATE = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
WEB_AHEAD = "ahead of this machine's clock"
DATABASE_AHEAD = "database clock runs at least"


def watch(local: datetime = DATE, overlap: float = 10) -> ClockWatch:
    return ClockWatch(overlap_minutes=overlap, clock=lambda: local)


@pytest.mark.parametrize(
    ("ahead", "overlap", "said"),
    [(601, 10, True), (600, 10, False), (-3600, 10, False), (61, 0, True), (60, 0, False)],
)
def test_a_date_header_ahead_of_this_machine_by_more_than_the_overlap_is_said(
    ahead: int, overlap: float, said: bool, caplog: pytest.LogCaptureFixture
) -> None:
    clocks = watch(local=DATE - timedelta(seconds=ahead), overlap=overlap)
    clocks.page(DATE, [])
    clocks.page(DATE, [])  # the first page only: its Date is the watermark
    assert caplog.text.count(WEB_AHEAD) == (1 if said else 0)


def test_an_updated_at_after_its_answers_date_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    clocks = watch()
    clocks.page(DATE, [{"updated_at": "2026-11-27 10:01:00"}, {"updated_at": None}])  # within a minute: in step
    assert DATABASE_AHEAD not in caplog.text
    clocks.page(DATE, [{"updated_at": "2026-11-27 10:00:30"}, {"updated_at": "2026-11-27 10:05:01"}])
    clocks.page(DATE, [{"updated_at": "2026-11-27 11:00:00"}])
    assert caplog.text.count(DATABASE_AHEAD) == 1 and "at least 5 min 1 s ahead" in caplog.text


@pytest.mark.parametrize("stamp", ["2026-11-27T11:00:00Z", "", 1_800_000_000, "not a date", None])
def test_stamps_it_cannot_read_and_answers_without_a_date_say_nothing(
    stamp: object, caplog: pytest.LogCaptureFixture
) -> None:
    clocks = watch(local=DATE - timedelta(hours=2))
    clocks.page(None, [{"updated_at": "2026-11-27 11:00:00"}])
    clocks.page(DATE, [{"updated_at": stamp}, {}])
    assert DATABASE_AHEAD not in caplog.text
