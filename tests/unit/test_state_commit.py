"""Commit parts written in bulk (json_each) leave the state exactly as row-by-row writes (executemany) do."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from magento_zoho_sync.errors import LockedError
from magento_zoho_sync.state import CommitPart, FailureRecord, LinkUpdate, StateStore, _lock_path
from magento_zoho_sync.state_file import state_error
from magento_zoho_sync.state_schema import has_error_details, missing_columns

IDS = st.integers(min_value=1, max_value=12)
EMAILS = st.sampled_from(["a@x.io", "b@x.io", "c@x.io", "d@x.io", "Bad\ud800@x.io"])
ZOHO_IDS = st.sampled_from([None, "z1", "z2", "z3"])
HASHES = st.sampled_from([None, "h1", "h2"])

ADDRESS_IDS = st.sampled_from([None, "a12", "a-", "a12,s13"])
LINKS = st.builds(
    LinkUpdate,
    IDS,
    EMAILS | st.none(),
    st.sampled_from(["2024-01-01", "2024-02-02"]),
    ZOHO_IDS,
    HASHES,
    address_ids=ADDRESS_IDS,
)
MERGED = st.builds(lambda cid, email: LinkUpdate(cid, email, "2024-03-03", None, None, merged=True), IDS, EMAILS)
FAILURES = st.builds(
    FailureRecord,
    IDS | st.none(),
    EMAILS | st.none(),
    st.sampled_from(["INVALID_EMAIL", "X", "RETRIES_EXHAUSTED"]),
    st.text(max_size=8),
    st.dictionaries(st.sampled_from(["field", "maximum_length"]), st.text(max_size=4) | st.integers(0, 9), max_size=2),
)
PARTS = st.builds(
    CommitPart,
    st.lists(LINKS | MERGED, max_size=6),
    st.lists(FAILURES, max_size=4),
    st.lists(IDS, max_size=3),
    st.lists(IDS, max_size=2),
)
TABLES = ("links", "failures", "contacts", "run_errors")


def _dump(store: StateStore) -> dict[str, list[tuple[object, ...]]]:
    db = store._db
    return {
        table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608 - fixed names
        for table in TABLES
    }


def _apply(path: Path, runs: list[list[list[CommitPart]]], *, bulk: bool) -> dict[str, list[tuple[object, ...]]]:
    store = StateStore.open(path)
    store._parts.bulk = bulk
    try:
        for flushes in runs:
            run_id = store.start_run("full")
            for parts in flushes:
                store.commit_parts(run_id=run_id, parts=parts, max_failed_runs=2)
        return _dump(store)
    finally:
        store.close()


def test_this_sqlite_takes_the_bulk_path(tmp_path: Path) -> None:
    store = StateStore.open(tmp_path / "s.sqlite")
    try:
        assert store._parts.bulk
    finally:
        store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(st.lists(st.lists(PARTS, min_size=1, max_size=3), max_size=4), min_size=1, max_size=3))
def test_bulk_and_row_by_row_commits_leave_the_same_state(tmp_path_factory: pytest.TempPathFactory, runs: list) -> None:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("commits")
    rows = _apply(folder / "rows.sqlite", runs, bulk=False)
    bulk = _apply(folder / "bulk.sqlite", runs, bulk=True)
    for table in TABLES:
        # synced_at and failure times come from the clock: compare everything else
        assert [_untimed(table, r) for r in bulk[table]] == [_untimed(table, r) for r in rows[table]], table


def _untimed(table: str, row: tuple[object, ...]) -> tuple[object, ...]:
    if table == "links":
        return row[:5] + row[6:]
    if table == "failures":
        return row[:6] + row[8:]
    return row


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(PARTS, min_size=1, max_size=4), wanted=st.lists(EMAILS | st.just("nul\x00@x.io"), max_size=6))
def test_reads_by_list_agree_in_both_forms(
    tmp_path_factory: pytest.TempPathFactory, parts: list[CommitPart], wanted: list[str]
) -> None:
    store = StateStore.open(tmp_path_factory.mktemp("reads") / "s.sqlite")
    try:
        store.commit_parts(run_id=store.start_run("full"), parts=parts)
        emails = [e for e in wanted if "\ud800" not in e]  # SQLite cannot bind a lone surrogate at all
        ids = list(range(14))
        answers = []
        for bulk in (True, False):
            store._parts.bulk = bulk
            answers.append(
                (
                    store.links_for(ids),
                    store.links_by_email(emails),
                    store.failed_ids(ids),
                    store.zoho_contacts_for(emails),
                )
            )
        assert answers[0] == answers[1]
    finally:
        store.close()


def test_the_run_history_keeps_the_last_runs_and_their_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("magento_zoho_sync.state_runs.RUNS_KEPT", 3)
    store = StateStore.open(tmp_path / "state.sqlite")
    try:
        run_ids = []
        for n in range(5):
            run_id = store.start_run("incremental")
            store.commit(run_id=run_id, failures=[FailureRecord(n + 1, f"c{n}@example.com", "INVALID_EMAIL", "bad")])
            store.finish_run(run_id, status="completed_with_failures", summary={})
            run_ids.append(run_id)
        assert [row.id for row in store.runs(limit=100)] == run_ids[:-4:-1]  # the newest 3
        assert store.run_errors(run_ids[1]) == [] and len(store.run_errors(run_ids[-1])) == 1
    finally:
        store.close()


def test_a_failures_details_are_kept_and_an_earlier_versions_file_gets_the_column(tmp_path: Path) -> None:
    """A file written before run_errors had ``details``: read as it is (no details), given the column when a sync
    opens it, its old rows without details, new ones with them."""
    path = tmp_path / "s.sqlite"
    store = StateStore.open(path)
    run_id = store.start_run("full")
    store.commit_parts(run_id=run_id, parts=[CommitPart(failures=[FailureRecord(1, "a@x.io", "X", "m")])])
    with store.transaction() as db:  # as an earlier version left it
        db.execute("ALTER TABLE run_errors DROP COLUMN details")
    store.close()
    reader = StateStore.open(path, read_only=True)
    assert [(f.customer_id, f.details) for f in reader.run_errors(run_id)] == [(1, {})]
    reader.close()
    store = StateStore.open(path)
    failure = FailureRecord(2, "b@x.io", "MISSING_LAST_NAME", "m", {"field": "Last_Name"})
    with store.lock():  # as a sync takes it: the column is added under the lock
        store.commit_parts(run_id=run_id, parts=[CommitPart(failures=[failure])])
    assert [(f.customer_id, f.details) for f in store.run_errors(run_id)] == [(1, {}), (2, {"field": "Last_Name"})]
    store.close()


def test_the_address_ids_are_kept_with_a_link_and_an_earlier_versions_file_gets_their_column(tmp_path: Path) -> None:
    """A file written before links had ``address_ids`` (the previous version's): opened and read as it is (nothing
    remembered), given the column under a sync's lock; then a link keeps the ids it is written with, a merged one
    and another customer's write to its contact forget them."""
    path = tmp_path / "s.sqlite"
    store = StateStore.open(path)
    store.commit_parts(run_id=store.start_run("full"), parts=[CommitPart([LinkUpdate(1, "a@x.io", "t", "z1", "h")])])
    with store.transaction() as db:  # as the previous version left it
        db.execute("ALTER TABLE links DROP COLUMN address_ids")
    store.close()
    store = StateStore.open(path)
    assert missing_columns(store._db) == [("links", "address_ids", "TEXT")]
    with store.lock():
        assert missing_columns(store._db) == []
        assert store.links_for([1])[1].address_ids is None  # nothing remembered: never blank, as before
        links = [LinkUpdate(1, "a@x.io", "t", "z1", "h", address_ids="a12"), LinkUpdate(2, "b@x.io", "t", "z2", "h")]
        store.commit(
            run_id=store.start_run("full"), links=[*links, LinkUpdate(3, "c@x.io", "t", "z3", "h", address_ids="a7")]
        )
        assert store.links_for([1])[1].address_ids == "a12"
        assert store.links_by_email(["a@x.io"])["a@x.io"][0].address_ids == "a12"
        store.commit(
            run_id=store.start_run("full"),
            links=[
                LinkUpdate(2, "b@x.io", "t", None, None, merged=True, address_ids="a5"),
                LinkUpdate(4, "d@x.io", "t", "z3", "h", address_ids="a9"),  # now holds contact z3: 3's ids go
            ],
        )
        assert {cid: link.address_ids for cid, link in store.links_for([1, 2, 3, 4]).items()} == {
            1: "a12",
            2: None,
            3: None,
            4: "a9",
        }
    store.close()


def test_a_sync_starting_while_an_earlier_version_runs_is_refused_as_locked_not_as_damaged(tmp_path: Path) -> None:
    """The column is added under the sync's lock: a sync of the earlier version still running (holding the lock and
    a long write, as while it reads Zoho's contacts) makes the new one stop at once with "already running"."""
    path = tmp_path / "s.sqlite"
    old = StateStore.open(path)
    with old.transaction() as db:
        db.execute("ALTER TABLE run_errors DROP COLUMN details")
    fd = os.open(_lock_path(path), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the earlier version's sync: its lock, and its write going on
    try:
        with old.transaction():
            new = StateStore.open(path)  # reads only: does not wait for the write
            with pytest.raises(LockedError), new.lock():
                pass
            new.close()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    old.close()
    reopened = StateStore.open(path)
    assert not has_error_details(reopened._db)
    with reopened.lock():
        assert has_error_details(reopened._db)
    reopened.close()


def test_a_state_file_busy_past_the_timeout_is_said_busy_not_damaged() -> None:
    error = state_error(sqlite3.OperationalError("database is locked"), "/var/lib/mzsync/state.sqlite")
    assert "is busy" in str(error) and "is damaged" not in str(error)
    assert error.hint is not None and "not damaged" in error.hint


@pytest.mark.parametrize("bulk", [True, False])
def test_a_customer_out_of_retries_is_never_parked_and_one_parked_for_its_data_is_let_go(
    tmp_path: Path, bulk: bool
) -> None:
    store = StateStore.open(tmp_path / "s.sqlite")
    store._parts.bulk = bulk
    try:
        for code in ("RETRIES_EXHAUSTED", "RETRIES_EXHAUSTED", "INVALID_EMAIL"):
            part = CommitPart([], [FailureRecord(1, "a@x.io", code, "m"), FailureRecord(2, "b@x.io", "X", "m")], [], [])
            store.commit_parts(run_id=store.start_run("full"), parts=[part], max_failed_runs=2)
            if code == "RETRIES_EXHAUSTED":
                assert 1 not in {f.customer_id for f in store.failures(parked=True)}
        parked = {f.customer_id: (f.code, f.failed_runs, f.parked) for f in store.failures()}
        assert parked == {1: ("INVALID_EMAIL", 3, True), 2: ("X", 3, True)}
        again = CommitPart([], [FailureRecord(1, "a@x.io", "RETRIES_EXHAUSTED", "m")], [], [])  # changed, sent again
        store.commit_parts(run_id=store.start_run("full"), parts=[again], max_failed_runs=2)
        assert [(f.customer_id, f.parked) for f in store.failures(parked=False)] == [(1, False)]
    finally:
        store.close()
