"""The engine's rules, driven with in-memory fakes (the end-to-end tests drive it against the simulators)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sync.engine import EngineOptions, SyncEngine, Tally
from magento_zoho_sync.engine_customers import _without_id
from magento_zoho_sync.engine_deleted import DELETED_CHECKS_AT_ONCE
from magento_zoho_sync.errors import Interrupted, MagentoError, ZohoAuthError, ZohoError, ZohoRequestRefused
from magento_zoho_sync.state import StateStore
from tests.unit.fakes import FakeMagento, FakeMapper, FakeZoho, Outcome, customer


def run(magento: FakeMagento, zoho: Any, state: StateStore, **options: Any) -> Tally:
    engine = SyncEngine(source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=EngineOptions(**options))
    return engine.run()


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    return StateStore.open(tmp_path / "state.sqlite")


def test_first_run_inserts_then_an_unchanged_rerun_writes_nothing(state: StateStore) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 251)])
    zoho = FakeZoho()
    first = run(magento, zoho, state, page_size=100)
    assert (first.read, first.inserted, first.updated, first.failed) == (250, 250, 0, 0)
    assert [kind for kind, _ in zoho.calls if kind == "upsert"] == ["upsert"] * 3
    assert max(size for kind, size in zoho.calls) == 100
    writes = zoho.writes()
    second = run(magento, zoho, state, page_size=100)
    assert second.mode == "incremental"
    assert zoho.writes() == writes
    third = run(magento, zoho, state, page_size=100, full=True)
    assert (third.read, third.unchanged) == (250, 250)
    assert zoho.writes() == writes
    assert len(zoho.contacts) == 250


def test_existing_contact_differing_in_case_is_updated_not_duplicated_even_if_zoho_is_case_sensitive(
    state: StateStore,
) -> None:
    zoho = FakeZoho(case_sensitive=True)
    zid = zoho.add("  Jane.Doe@Example.COM")
    magento = FakeMagento([customer(1, "jane.doe@example.com")])
    tally = run(magento, zoho, state)
    assert tally.updated == 1 and tally.inserted == 0
    assert list(zoho.contacts) == [zid]
    assert zoho.contacts[zid]["Email"] == "jane.doe@example.com"


def test_email_change_updates_the_linked_contact_by_id(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "old@example.com")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    magento.customers[1] = customer(1, "new@example.com", updated="2025-02-01 00:00:00")
    tally = run(magento, zoho, state, full=True)
    assert tally.updated == 1
    assert len(zoho.contacts) == 1
    assert next(iter(zoho.contacts.values()))["Email"] == "new@example.com"


def test_one_email_on_two_websites_makes_one_contact_with_the_newest_data(state: StateStore) -> None:
    magento = FakeMagento(
        [
            customer(1, "shared@example.com", last="Older", updated="2025-01-01 00:00:00"),
            customer(2, "other@example.com"),
            customer(3, "Shared@example.com", last="Newer", updated="2025-03-01 00:00:00"),
        ]
    )
    zoho = FakeZoho()
    tally = run(magento, zoho, state)
    contacts = zoho.by_email("shared@example.com")
    assert len(contacts) == 1 and contacts[0]["Last_Name"] == "Newer"
    assert tally.merged == 1
    assert tally.merges == [(1, 3, "shared@example.com")]
    assert tally.failed == 0


def test_merge_winner_read_first_keeps_its_data(state: StateStore) -> None:
    magento = FakeMagento(
        [
            customer(1, "shared@example.com", last="Newer", updated="2025-05-01 00:00:00"),
            customer(2, "shared@example.com", last="Older", updated="2025-01-01 00:00:00"),
        ]
    )
    zoho = FakeZoho()
    tally = run(magento, zoho, state, page_size=1)
    assert zoho.by_email("shared@example.com")[0]["Last_Name"] == "Newer"
    assert tally.merges == [(2, 1, "shared@example.com")]


def test_bad_customers_are_reported_and_the_run_goes_on(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "not-an-email"), customer(2, "ok@example.com"), customer(3, "bad@example.com")])
    zoho = FakeZoho()
    zoho.fail_codes["bad@example.com"] = "INVALID_DATA"
    tally = run(magento, zoho, state)
    assert tally.inserted == 1
    assert sorted((f.customer_id, f.code) for f in tally.failures) == [(1, "INVALID_EMAIL"), (3, "INVALID_DATA")]
    assert tally.status == "completed_with_failures"
    assert sorted(f.customer_id for f in state.failures()) == [1, 3]


def test_failed_customers_are_retried_next_run_then_parked(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "bad@example.com"), customer(2, "ok@example.com")])
    zoho = FakeZoho()
    zoho.fail_codes["bad@example.com"] = "INVALID_DATA"
    run(magento, zoho, state, max_failed_runs=3)
    second = run(magento, zoho, state, max_failed_runs=3)  # incremental, customer 1 unchanged but retried
    assert second.mode == "incremental" and second.retried_failures == 1
    assert [f.customer_id for f in second.failures] == [1]
    run(magento, zoho, state, max_failed_runs=3)
    parked = state.failures(parked=True)
    assert [f.customer_id for f in parked] == [1] and parked[0].failed_runs == 3
    fourth = run(magento, zoho, state, max_failed_runs=3)
    assert fourth.retried_failures == 0 and fourth.parked == 1
    # not a clean run while a customer is parked: it is still not in Zoho
    assert (fourth.failed, fourth.status) == (0, "completed_with_failures")
    del zoho.fail_codes["bad@example.com"]
    magento.customers[1] = customer(1, "bad@example.com", updated="2026-01-01 00:00:00")
    fifth = run(magento, zoho, state, max_failed_runs=3, full=True)
    assert fifth.inserted == 1 and state.failures() == []
    # counted at the end of the run: the customer it synced is no longer parked
    assert (fifth.parked, fifth.status) == (0, "completed")


class SlowZoho(FakeZoho):
    """Writes take a while (the stream's last batch is still on its way when earlier failures are retried), or
    fail as a whole (Zoho unreachable after retries) while ``down``."""

    down = False

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        time.sleep(0.2)
        if self.down:
            raise ZohoError("Zoho CRM could not be reached after 2 attempts.")
        return super().upsert_contacts(records)

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        time.sleep(0.2)
        if self.down:
            raise ZohoError("Zoho CRM could not be reached after 2 attempts.")
        return super().update_contacts(records)


def test_a_failed_customer_that_changed_is_written_once_not_again_by_the_retry_of_failures(state: StateStore) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 6)])
    zoho = SlowZoho()
    run(magento, zoho, state)
    # changed just before the next run (inside the following run's overlap window), which cannot write it
    magento.customers[2] = customer(2, "c2@example.com", last="Changed", updated="2026-01-01 11:59:00")
    zoho.down = True
    failed = run(magento, zoho, state)
    assert [(f.customer_id, f.code) for f in failed.failures] == [(2, "RETRIES_EXHAUSTED")]
    zoho.down = False
    before = len(zoho.calls)
    third = run(magento, zoho, state)  # reads customer 2 as changed, and again as an earlier failure
    written = sum(size for kind, size in zoho.calls[before:] if kind in ("upsert", "update"))
    assert written == 1, "the one customer is written once"
    assert (third.read, third.inserted + third.updated, third.failed) == (1, 1, 0)
    assert zoho.by_email("c2@example.com")[0]["Last_Name"] == "Changed" and state.failures() == []


def test_customers_whose_batch_ran_out_of_retries_are_never_parked(state: StateStore) -> None:
    """RETRIES_EXHAUSTED says Zoho (or a proxy in between) kept failing, not that the customer must be fixed in
    Magento: parked, it would be skipped by every incremental run after the outage, out of Zoho until a full run."""
    magento = FakeMagento([customer(1, "c1@example.com"), customer(2, "not-an-email")])
    zoho = SlowZoho()
    zoho.down = True
    first = run(magento, zoho, state, max_failed_runs=1)
    assert sorted((f.customer_id, f.code) for f in first.failures) == [(1, "RETRIES_EXHAUSTED"), (2, "INVALID_EMAIL")]
    second = run(magento, zoho, state, max_failed_runs=1)  # the invalid email is parked; customer 1 is tried again
    assert [(f.customer_id, f.code) for f in second.failures] == [(1, "RETRIES_EXHAUSTED")]
    assert [(f.customer_id, f.code) for f in state.failures(parked=True)] == [(2, "INVALID_EMAIL")]
    assert [f.failed_runs for f in state.failures(parked=False)] == [2]
    zoho.down = False
    after = run(magento, zoho, state, max_failed_runs=1)  # incremental: customer 1 is unchanged, retried all the same
    assert (after.mode, after.retried_failures, after.inserted) == ("incremental", 1, 1)
    assert zoho.by_email("c1@example.com") and [f.customer_id for f in state.failures()] == [2]


@pytest.mark.parametrize(("policy", "expect_failure"), [("skip", True), ("oldest", False)])
def test_zoho_duplicates_are_never_picked_silently(state: StateStore, policy: str, expect_failure: bool) -> None:
    zoho = FakeZoho()
    first = zoho.add("dup@example.com")
    second = zoho.add("DUP@example.com")
    magento = FakeMagento([customer(1, "dup@example.com", last="Synced")])
    tally = run(magento, zoho, state, duplicate_policy=policy)
    if expect_failure:
        assert [(f.code, f.customer_id) for f in tally.failures] == [("ZOHO_DUPLICATE_CONTACTS", 1)]
        assert first in tally.failures[0].message and second in tally.failures[0].message
        assert "Last_Name" not in zoho.contacts[first]
    else:
        assert tally.failed == 0 and zoho.contacts[first]["Last_Name"] == "Synced"
        assert "Last_Name" not in zoho.contacts[second]
        assert [w.code for w in tally.warnings] == ["ZOHO_DUPLICATE_CONTACTS"]


def test_contact_deleted_in_zoho_is_relinked_by_email(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "a@example.com")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    zoho.contacts.clear()
    magento.customers[1] = customer(1, "b@example.com", updated="2025-06-01 00:00:00")  # email change → by id
    tally = run(magento, zoho, state, full=True)
    assert tally.failed == 0 and tally.inserted == 1
    assert [c["Email"] for c in zoho.contacts.values()] == ["b@example.com"]


def test_a_linked_contact_whose_email_was_edited_in_zoho_is_updated_by_id_not_duplicated(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "a@example.com", last="Before")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    [linked] = zoho.contacts
    zoho.contacts[linked]["Email"] = "rep-edited@example.com"  # a sales rep edits the email in Zoho
    magento.customers[1] = customer(1, "a@example.com", last="After", updated="2026-01-01 11:59:00")
    for full in (False, True):  # an incremental run, and a full one (its index no longer sees the email at all)
        tally = run(magento, zoho, state, full=full)
        assert tally.failed == 0 and tally.warnings == []
        assert list(zoho.contacts) == [linked]  # no second contact: Magento's email is put back, by id
        assert zoho.contacts[linked]["Email"] == "a@example.com"
        magento.customers[1] = customer(1, "a@example.com", last="Again", updated="2026-01-01 11:59:30")
        zoho.contacts[linked]["Email"] = "rep-edited@example.com"
    assert [kind for kind, _ in zoho.calls].count("upsert") == 1  # the first sync's only
    assert zoho.contacts[linked]["Last_Name"] == "Again"


def test_a_linked_contact_deleted_in_zoho_is_made_again_by_email(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "a@example.com", last="Before")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    zoho.contacts.clear()
    magento.customers[1] = customer(1, "a@example.com", last="After", updated="2026-01-01 11:59:00")
    tally = run(magento, zoho, state)
    assert (tally.inserted, tally.updated, tally.failed, tally.warnings) == (1, 0, 0, [])
    [contact] = zoho.contacts.values()
    assert (contact["Email"], contact["Last_Name"]) == ("a@example.com", "After")
    # by id, then (who holds the email now?) by email
    assert [kind for kind, _ in zoho.calls if kind != "scan"] == ["upsert", "update", "coql", "upsert"]
    again = run(magento, zoho, state)
    assert (again.unchanged, zoho.writes()) == (1, 3)  # linked to the new contact: nothing left to send


def test_a_full_run_makes_again_a_contact_deleted_in_zoho_although_its_customer_did_not_change(
    state: StateStore,
) -> None:
    magento = FakeMagento([customer(1, "a@example.com"), customer(2, "b@example.com")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    gone = next(cid for cid, contact in zoho.contacts.items() if contact["Email"] == "a@example.com")
    del zoho.contacts[gone]  # a sales rep deletes it; customer 1 does not change
    assert run(magento, zoho, state).unchanged == 0 and len(zoho.contacts) == 1  # incremental: nothing read
    tally = run(magento, zoho, state, full=True)  # the full run reads Zoho's contacts: the contact is missing
    assert (tally.inserted, tally.unchanged, tally.failed) == (1, 1, 0)
    assert sorted(contact["Email"] for contact in zoho.contacts.values()) == ["a@example.com", "b@example.com"]
    writes = zoho.writes()
    assert run(magento, zoho, state, full=True).unchanged == 2 and zoho.writes() == writes  # and then stays


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("winner", [1, 3], ids=["merged-customer-updated", "new-customer-same-email"])
def test_a_new_winner_of_a_shared_email_updates_the_emails_contact_by_id(
    state: StateStore, winner: int, full: bool
) -> None:
    """Customers sharing an email have one contact, linked to the winner only. When another customer of the email
    wins (the merged one is updated, or a new one joins), it has no contact of its own: the email's contact is
    updated by id, so an email edited in Zoho does not turn the new winner's write into a second contact."""
    magento = FakeMagento(
        [
            customer(1, "shared@example.com", last="Older", updated="2025-01-01 00:00:00"),
            customer(2, "shared@example.com", last="Newer", updated="2025-02-01 00:00:00"),
        ]
    )
    zoho = FakeZoho()
    run(magento, zoho, state)
    [contact] = zoho.contacts
    zoho.contacts[contact]["Email"] = "rep-edited@example.com"  # a sales rep edits the email in Zoho
    magento.customers[winner] = customer(winner, "shared@example.com", last="Newest", updated="2026-01-01 11:59:00")
    tally = run(magento, zoho, state, full=full)
    assert (tally.inserted, tally.updated, tally.failed, tally.warnings) == (0, 1, 0, [])
    assert list(zoho.contacts) == [contact]  # no second contact for the email
    assert (zoho.contacts[contact]["Email"], zoho.contacts[contact]["Last_Name"]) == ("shared@example.com", "Newest")


def test_another_contact_zoho_holds_the_email_in_is_updated_not_the_linked_one(state: StateStore) -> None:
    """The linked contact's email was edited in Zoho and another contact holds the customer's email now (a web form,
    say): the full run's index knows, so that one is updated, and the email is not put back on a second contact."""
    magento = FakeMagento([customer(1, "a@example.com", last="Before")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    [linked] = zoho.contacts
    zoho.contacts[linked]["Email"] = "rep-edited@example.com"
    other = zoho.add("a@example.com", Last_Name="Form")
    magento.customers[1] = customer(1, "a@example.com", last="After", updated="2025-06-01 00:00:00")
    tally = run(magento, zoho, state, full=True)
    assert (tally.updated, tally.failed) == (1, 0)
    assert [c["id"] for c in zoho.by_email("a@example.com")] == [other]
    assert zoho.contacts[other]["Last_Name"] == "After" and zoho.contacts[linked]["Last_Name"] == "Before"


def test_a_new_contact_made_for_a_linked_customer_is_named(state: StateStore) -> None:
    """The index said another contact held the email, which was gone by the time of the write: the upsert made a
    third contact, and the warning names it and the linked one, so that they can be merged in Zoho."""

    class GoneBeforeTheWrite(FakeZoho):
        vanishing: str | None = None

        def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
            if self.vanishing is not None:
                self.contacts.pop(self.vanishing)
            return super().upsert_contacts(records)

    magento = FakeMagento([customer(1, "a@example.com", last="Before")])
    zoho = GoneBeforeTheWrite()
    run(magento, zoho, state)
    [linked] = zoho.contacts
    zoho.contacts[linked]["Email"] = "rep-edited@example.com"
    zoho.vanishing = zoho.add("a@example.com")
    magento.customers[1] = customer(1, "a@example.com", last="After", updated="2025-06-01 00:00:00")
    tally = run(magento, zoho, state, full=True)
    [new] = [c["id"] for c in zoho.by_email("a@example.com")]
    [warning] = tally.warnings
    assert warning.code == "ZOHO_CONTACT_EMAIL_CHANGED" and linked in warning.message and new in warning.message


@pytest.mark.parametrize("on_deleted", ["ignore", "tag", "delete"])
def test_customers_deleted_in_magento(state: StateStore, on_deleted: str) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 6)])
    zoho = FakeZoho()
    run(magento, zoho, state)
    del magento.customers[2], magento.customers[5]
    tally = run(magento, zoho, state, full=True, on_deleted=on_deleted)
    assert sorted(tally.deleted_ids) == [2, 5]
    # what was done in Zoho is counted (the report's counts.deleted_tagged / deleted_removed)
    assert (tally.deleted_tagged, tally.deleted_removed) == {"ignore": (0, 0), "tag": (2, 0), "delete": (0, 2)}[
        on_deleted
    ]
    remaining = {c["Email"]: c for c in zoho.contacts.values()}
    if on_deleted == "ignore":
        assert len(remaining) == 5 and all("Tag" not in c for c in remaining.values())
    elif on_deleted == "tag":
        assert remaining["c2@example.com"]["Tag"] == ["Deleted in Magento"]
        assert "Tag" not in remaining["c1@example.com"]
    else:
        assert sorted(remaining) == ["c1@example.com", "c3@example.com", "c4@example.com"]
    again = run(magento, zoho, state, full=True, on_deleted=on_deleted)
    assert again.deleted == 0


@pytest.mark.parametrize("on_deleted", ["tag", "delete"])
@pytest.mark.parametrize("new_id", [4, 300])  # on the deleted customer's page, or on a later one
def test_a_deleted_customers_contact_that_a_live_customer_takes_over_is_neither_tagged_nor_deleted(
    state: StateStore, on_deleted: str, new_id: int
) -> None:
    """A customer deletes the account and registers again with the same email before the next full run: the contact
    is the new customer's, not a deleted one's (the README: a contact shared with a live customer is left alone)."""
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 4)])
    zoho = FakeZoho()
    run(magento, zoho, state, page_size=100)
    [contact_id] = [zid for zid, c in zoho.contacts.items() if c["Email"] == "c2@example.com"]
    del magento.customers[2]
    magento.customers[new_id] = customer(new_id, "c2@example.com", last="Again", updated="2025-06-01 00:00:00")
    tally = run(magento, zoho, state, page_size=100, full=True, on_deleted=on_deleted)
    assert tally.deleted_ids == [2] and (tally.deleted_tagged, tally.deleted_removed) == (0, 0)
    assert [(c["id"], c.get("Tag"), c["Last_Name"]) for c in zoho.by_email("c2@example.com")] == [
        (contact_id, None, "Again")
    ]
    assert state.links_for([new_id])[new_id].zoho_id == contact_id


class FailingZoho(FakeZoho):
    def __init__(self, fail_after_calls: int) -> None:
        super().__init__()
        self.fail_after_calls = fail_after_calls

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        if len([c for c in self.calls if c[0] == "upsert"]) >= self.fail_after_calls:
            raise ZohoAuthError("refresh token revoked")
        return super().upsert_contacts(records)


def test_a_fatal_error_keeps_acknowledged_batches_and_the_next_run_resumes(state: StateStore) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 1001)])
    zoho = FailingZoho(fail_after_calls=4)
    with pytest.raises(ZohoAuthError):
        run(magento, zoho, state, page_size=100, concurrency=1)
    [failed] = state.runs(1)
    assert (failed.status, failed.summary["error"]) == ("failed", "refresh token revoked")
    checkpoint = state.checkpoint()
    assert checkpoint is not None and checkpoint.after_id >= 300
    assert state.watermark is None
    zoho.fail_after_calls = 10_000
    tally = run(magento, zoho, state, page_size=100, concurrency=2)
    assert tally.resumed and tally.mode == "full"
    assert len(zoho.contacts) == 1000
    assert all(len(zoho.by_email(f"c{i}@example.com")) == 1 for i in range(1, 1001))
    assert tally.read <= 1000 - checkpoint.after_id
    assert state.checkpoint() is None and state.watermark is not None


def test_incremental_run_reads_from_the_watermark_minus_the_overlap(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "a@example.com", updated="2025-12-31 00:00:00")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    assert state.watermark == "2026-01-01 12:00:00"
    magento.customers[2] = customer(2, "b@example.com", updated="2026-01-01 11:55:00")
    magento.customers[3] = customer(3, "c@example.com", updated="2026-01-01 11:40:00")
    tally = run(magento, zoho, state, overlap_minutes=10)
    assert tally.watermark_from == "2026-01-01 11:50:00"
    assert tally.read == 1 and tally.inserted == 1


def test_an_email_change_onto_an_email_another_customer_holds_keeps_one_contact(state: StateStore) -> None:
    magento = FakeMagento([customer(1, "one@example.com"), customer(2, "two@example.com", last="Two")])
    zoho = FakeZoho()
    run(magento, zoho, state)
    magento.customers[1] = customer(1, "two@example.com", last="Moved", updated="2025-06-01 00:00:00")
    tally = run(magento, zoho, state, full=True)
    holders = zoho.by_email("two@example.com")
    assert len(holders) == 1 and holders[0]["Last_Name"] == "Moved"
    assert tally.merges == [(2, 1, "two@example.com")]


def test_pages_above_every_customer_the_state_knows_skip_the_per_id_reads(
    state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync (and new customers later) cannot have links or failures: those reads are skipped, the
    email reads are not, and a later run still finds what the first one saved."""
    calls: list[tuple[str, list[int]]] = []
    for name in ("links_for", "failed_ids"):
        original = getattr(state, name)

        def spy(ids: Sequence[int], _name: str = name, _original: Any = original) -> Any:
            calls.append((_name, list(ids)))
            return _original(ids)

        monkeypatch.setattr(state, name, spy)
    sweeps: list[tuple[int, int | None]] = []
    between = state.known_ids_between
    monkeypatch.setattr(state, "known_ids_between", lambda low, high: sweeps.append((low, high)) or between(low, high))
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 251)])
    magento.customers[7]["email"] = "c3@example.com"  # a duplicate across pages is still merged
    zoho = FakeZoho()
    first = run(magento, zoho, state, page_size=50)
    assert (first.inserted, first.merged) == (249, 1)
    assert calls == [] and sweeps == []

    magento.customers.update({i: customer(i, f"c{i}@example.com") for i in range(251, 301)})
    magento.customers[20]["firstname"] = "Changed"
    second = run(magento, zoho, state, page_size=50, full=True)
    assert (second.inserted, second.updated, second.unchanged, second.merged) == (50, 1, 248, 1)
    assert calls and all(min(ids) <= 250 for _, ids in calls)  # the page of customers 251-300 read no ids
    assert sweeps and all(low < 250 for low, _ in sweeps)
    assert len(zoho.contacts) == 299


def test_a_bug_is_stored_as_the_reason_of_the_failed_run_without_secrets(state: StateStore) -> None:
    class BrokenZoho(FakeZoho):
        def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
            raise KeyError("client_secret=abc123 was not expected")

    magento = FakeMagento([customer(1, "a@example.com")])
    with pytest.raises(KeyError):
        run(magento, BrokenZoho(), state)
    [failed] = state.runs(1)
    assert failed.status == "failed"
    assert failed.summary["error"].startswith("Unexpected KeyError: ")
    assert "abc123" not in failed.summary["error"]


class SlowMagento(FakeMagento):
    """GET /V1/customers/{id} takes a while; records how many run at once (and can fail from the n-th on)."""

    def __init__(self, customers: list[dict[str, Any]], *, fail_from: int | None = None) -> None:
        super().__init__(customers)
        self.fail_from = fail_from
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.checked: list[int] = []

    def get_customer(self, customer_id: int) -> Any:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.checked.append(customer_id)
            failing = self.fail_from is not None and len(self.checked) >= self.fail_from
        try:
            time.sleep(0.05)
            if failing:
                raise MagentoError("Magento could not be reached")
            return super().get_customer(customer_id)
        finally:
            with self.lock:
                self.running -= 1


def test_deleted_customers_are_confirmed_several_at_a_time(state: StateStore) -> None:
    magento = SlowMagento([customer(i, f"c{i}@example.com") for i in range(1, 41)])
    zoho = FakeZoho()
    run(magento, zoho, state, page_size=10)
    gone = list(range(3, 40, 2))
    for cid in gone:
        del magento.customers[cid]
    tally = run(magento, zoho, state, page_size=10, full=True)
    assert sorted(tally.deleted_ids) == gone
    assert 1 < magento.most_at_once <= DELETED_CHECKS_AT_ONCE


def test_an_error_while_confirming_deleted_customers_stops_the_checks_not_yet_started(state: StateStore) -> None:
    magento = SlowMagento([customer(i, f"c{i}@example.com") for i in range(1, 201)])
    zoho = FakeZoho()
    run(magento, zoho, state, page_size=200)
    for cid in range(2, 200):
        del magento.customers[cid]
    magento.fail_from = 3
    with pytest.raises(MagentoError):
        run(magento, zoho, state, page_size=200, full=True)
    assert len(magento.checked) < 100  # not the 198 candidates (a bound that a stalled machine keeps too)


class CountingMagento(FakeMagento):
    """Pages say how many customers match the search (Magento's total_count)."""

    def iter_customer_pages(
        self, *, after_id: int = 0, updated_since: str | None = None, page_size: int | None = None
    ) -> Any:
        matching = sum(
            1
            for cid, c in self.customers.items()
            if cid > after_id and (updated_since is None or c["updated_at"] >= updated_since)
        )
        for page in super().iter_customer_pages(after_id=after_id, updated_since=updated_since, page_size=page_size):
            yield dataclasses.replace(page, total_count=matching)


class ProgressSpy:
    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int | None]] = []

    def update(self, *, read: int, written: int, total: int | None) -> None:
        self.seen.append((read, written, total))


def test_the_progress_total_counts_the_earlier_failures_retried(state: StateStore) -> None:
    magento = CountingMagento([customer(i, f"c{i}@example.com") for i in range(1, 6)])
    zoho = FakeZoho()
    zoho.fail_codes["c2@example.com"] = zoho.fail_codes["c3@example.com"] = "INVALID_DATA"
    run(magento, zoho, state)
    magento.customers[4] = customer(4, "c4@example.com", last="Changed", updated="2026-01-01 11:59:00")
    spy = ProgressSpy()
    engine = SyncEngine(
        source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=EngineOptions(), progress=spy
    )
    tally = engine.run()
    assert tally.retried_failures == 2
    assert spy.seen and all(total is not None and read <= total for read, _, total in spy.seen)
    assert spy.seen[-1][2] == 3  # the changed customer, then the two failures retried


class RefusingZoho(FakeZoho):
    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.calls.append(("upsert", len(records)))
        raise ZohoRequestRefused("Zoho CRM refused POST /crm/v8/Contacts/upsert (HTTP 400 INVALID_MODULE: ...).")


def test_a_request_refusal_every_call_would_repeat_stops_the_run_without_failing_customers(state: StateStore) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 251)])
    zoho = RefusingZoho()
    with pytest.raises(ZohoRequestRefused):
        run(magento, zoho, state, page_size=100, concurrency=1)
    assert state.failures() == []  # not 100 customers marked RETRIES_EXHAUSTED per batch, then parked
    assert [kind for kind, _ in zoho.calls].count("upsert") == 1  # stopped at the first refusal


def test_a_merge_into_a_customer_found_deleted_is_not_reported_and_the_other_takes_the_contact(
    state: StateStore,
) -> None:
    magento = FakeMagento(
        [
            customer(1, "shared@example.com", last="Newer", updated="2025-03-01 00:00:00"),
            customer(2, "shared@example.com", last="Older", updated="2025-01-01 00:00:00"),
        ]
    )
    zoho = FakeZoho()
    first = run(magento, zoho, state)
    assert first.merges == [(2, 1, "shared@example.com")]
    del magento.customers[1]
    tally = run(magento, zoho, state, full=True)
    assert tally.deleted_ids == [1]
    assert (tally.merges, tally.merged) == ([], 0)  # no "kept customer 1", who no longer exists
    assert zoho.by_email("shared@example.com")[0]["Last_Name"] == "Older"
    assert tally.inserted + tally.updated == 1


def _run_at(magento: FakeMagento, zoho: Any, state: StateStore, at: datetime, **options: Any) -> Tally:
    engine = SyncEngine(
        source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=EngineOptions(**options), clock=lambda: at
    )
    return engine.run()


def test_full_runs_come_back_on_schedule_daily_timers_included_and_never_with_0(state: StateStore) -> None:
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 4)])
    zoho = FakeZoho()
    start = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
    assert _run_at(magento, zoho, state, start).mode == "full"
    # a daily timer: the next day a few seconds short of 24 hours after the last full run's start
    assert _run_at(magento, zoho, state, start + timedelta(hours=23, minutes=59, seconds=50)).mode == "full"
    assert _run_at(magento, zoho, state, start + timedelta(hours=25)).mode == "incremental"
    for hours in (2, 30, 1000):  # 0: full runs only with --full, however long ago the last one was
        later = start + timedelta(hours=24 + hours)
        assert _run_at(magento, zoho, state, later, full_every_hours=0).mode == "incremental"
    assert _run_at(magento, zoho, state, start + timedelta(days=50), full_every_hours=0, full=True).mode == "full"


class StoppingZoho(FakeZoho):
    """Sets ``stop`` (as SIGTERM would) once ``calls`` upserts were answered; the first one fails when ``down``."""

    def __init__(self, stop: threading.Event, calls: int, *, down_first: bool = False) -> None:
        super().__init__()
        self.stop, self.stop_after, self.down_first = stop, calls, down_first

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        first = not any(kind == "upsert" for kind, _ in self.calls)
        try:
            if first and self.down_first:
                self.calls.append(("upsert", len(records)))
                raise ZohoError("Zoho CRM could not be reached after 2 attempts.")
            return super().upsert_contacts(records)
        finally:
            if sum(1 for kind, _ in self.calls if kind == "upsert") >= self.stop_after:
                self.stop.set()


def test_a_resumed_run_retries_the_failures_of_its_part_before_the_interruption(state: StateStore) -> None:
    stop = threading.Event()
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 301)])
    zoho = StoppingZoho(stop, calls=2, down_first=True)
    options = EngineOptions(page_size=100, concurrency=1)
    first = SyncEngine(source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=options, stop=stop)
    with pytest.raises(Interrupted):
        first.run()
    assert first.tally.failed == 100  # the first batch: RETRIES_EXHAUSTED
    zoho.stop_after = 10**6
    resumed = SyncEngine(
        source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=options, stop=threading.Event()
    ).run()
    assert resumed.resumed and resumed.retried_failures == 100
    assert (resumed.failed, resumed.status) == (0, "completed") and state.failures() == []
    assert len(zoho.contacts) == 300


@pytest.mark.parametrize("bulk", [True, False])  # SQLite with json_each, and without
def test_a_resumed_run_counts_and_lists_each_failure_once(state: StateStore, bulk: bool) -> None:
    state._parts.bulk = bulk
    # every 10th customer has no valid email; the first part reads ahead of the batches it has in flight, so it
    # has failed customers after its checkpoint, which the resumed part reads again
    magento = FakeMagento([customer(i, f"c{i}@example.com" if i % 10 else f"broken{i}") for i in range(1, 1001)])
    zoho = FailingZoho(fail_after_calls=4)
    with pytest.raises(ZohoAuthError):
        run(magento, zoho, state, page_size=100, concurrency=1)
    checkpoint = state.checkpoint()
    assert checkpoint is not None
    ahead = [f.customer_id for f in state.run_errors(1) if f.customer_id and f.customer_id > checkpoint.after_id]
    assert ahead  # the situation this test is about
    zoho.fail_after_calls = 10_000
    resumed = run(magento, zoho, state, page_size=100, concurrency=2)
    assert resumed.resumed
    listed = [f.customer_id for f in state.run_errors(1)]
    assert sorted(listed) == list(range(10, 1001, 10))  # both parts' failures, each once
    assert resumed.failed == len([i for i in range(10, 1001, 10) if i > checkpoint.after_id]) + len(
        [i for i in range(10, checkpoint.after_id + 1, 10)]
    )
    assert resumed.read <= 1000 - checkpoint.after_id + checkpoint.after_id // 10


def test_full_after_an_interrupted_full_run_reads_every_customer_again(state: StateStore) -> None:
    stop = threading.Event()
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 301)])
    options = EngineOptions(page_size=100, concurrency=1)
    zoho = StoppingZoho(stop, calls=1)
    with pytest.raises(Interrupted):
        SyncEngine(source=magento, sink=zoho, state=state, mapper=FakeMapper(), options=options, stop=stop).run()
    again = SyncEngine(
        source=magento,
        sink=FakeZoho(),
        state=state,
        mapper=FakeMapper(),
        options=EngineOptions(page_size=100, concurrency=1, full=True),
        stop=threading.Event(),
    ).run()
    assert (again.mode, again.resumed, again.read) == ("full", False, 300)
    assert state.checkpoint() is None


def test_a_run_killed_before_it_could_say_so_is_marked_interrupted_when_the_next_starts(state: StateStore) -> None:
    killed = state.start_run("full")  # kill -9 before any batch: no checkpoint, the run row says "running"
    run(FakeMagento([customer(1, "a@example.com")]), FakeZoho(), state)
    statuses = {row.id: row.status for row in state.runs()}
    assert statuses[killed] == "interrupted" and statuses[killed + 1] == "completed"


class FailingMagento(FakeMagento):
    """Magento stays unreachable after the first page (its retries were cut short by a stop signal)."""

    def __init__(self, customers: list[dict[str, Any]], stop: threading.Event) -> None:
        super().__init__(customers)
        self.stop = stop

    def iter_customer_pages(self, **kwargs: Any) -> Any:
        pages = super().iter_customer_pages(**kwargs)
        yield next(pages)
        self.stop.set()
        raise MagentoError("Magento kept answering GET /customers/search with HTTP 503 after 1 attempts.")


def test_a_service_failing_while_the_run_stops_is_an_interruption_not_a_failure(state: StateStore) -> None:
    stop = threading.Event()
    magento = FailingMagento([customer(i, f"c{i}@example.com") for i in range(1, 251)], stop)
    engine = SyncEngine(
        source=magento,
        sink=FakeZoho(),
        state=state,
        mapper=FakeMapper(),
        options=EngineOptions(page_size=100),
        stop=stop,
    )
    with pytest.raises(Interrupted):  # exit 130/143, not 2: the signal cut Magento's retries short
        engine.run()
    [row] = state.runs(1)
    assert row.status == "interrupted" and state.checkpoint() is not None


def test_a_resumed_full_run_counts_from_its_first_start_for_the_full_run_schedule(state: StateStore) -> None:
    stop = threading.Event()
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 301)])
    start = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
    options = EngineOptions(page_size=100, concurrency=1)

    def engine_at(at: datetime, zoho: Any, stop_event: threading.Event) -> SyncEngine:
        return SyncEngine(
            source=magento,
            sink=zoho,
            state=state,
            mapper=FakeMapper(),
            options=options,
            stop=stop_event,
            clock=lambda: at,
        )

    with pytest.raises(Interrupted):
        engine_at(start, StoppingZoho(stop, calls=1), stop).run()
    resumed = engine_at(start + timedelta(hours=5), FakeZoho(), threading.Event()).run()
    assert resumed.resumed and resumed.mode == "full"
    assert state.last_full_at == "2026-03-01 02:00:00"  # not 07:00: the first part's customers were read at 02:00


class CutShortZoho(FakeZoho):
    """Its writes fail as the stop signal cuts their retries short."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.stop.set()
        self.calls.append(("upsert", len(records)))
        raise ZohoError("Zoho CRM kept answering POST /crm/v8/Contacts/upsert with HTTP 500 after 1 attempts.")


def test_batches_cut_short_by_the_stop_signal_are_not_failures_and_are_sent_by_the_next_run(state: StateStore) -> None:
    stop = threading.Event()
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 151)])
    engine = SyncEngine(
        source=magento,
        sink=CutShortZoho(stop),
        state=state,
        mapper=FakeMapper(),
        options=EngineOptions(page_size=100, concurrency=1),
        stop=stop,
    )
    with pytest.raises(Interrupted):
        engine.run()
    assert engine.tally.failed == 0 and state.failures() == []  # nothing counts toward parking
    zoho = FakeZoho()
    resumed = run(magento, zoho, state, page_size=100)
    assert resumed.resumed and len(zoho.contacts) == 150


def test_a_warning_naming_a_contact_gone_from_zoho_says_so_when_the_update_falls_back(state: StateStore) -> None:
    """Two contacts share the email; the oldest is chosen and updated by id, but it was deleted in Zoho since the
    full run's index: the customer is upserted on its email, and the warning no longer says only "updated"."""

    class DeletedAfterTheIndex(FakeZoho):
        vanishing: str | None = None

        def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
            if self.vanishing is not None:
                self.contacts.pop(self.vanishing, None)
            return super().update_contacts(records)

    zoho = DeletedAfterTheIndex()
    oldest = zoho.add("a@example.com")
    other = zoho.add("a@example.com")
    zoho.vanishing = oldest
    tally = run(FakeMagento([customer(1, "a@example.com", last="Synced")]), zoho, state, duplicate_policy="oldest")
    assert tally.failed == 0 and zoho.contacts[other]["Last_Name"] == "Synced"
    [warning] = tally.warnings
    assert warning.code == "ZOHO_DUPLICATE_CONTACTS" and f"Updated the oldest, {oldest}." in warning.message
    assert f"But contact {oldest} was gone from Zoho" in warning.message


class SearchHiding(FakeMagento):
    """A store whose customer search leaves some customers out (an extension, a proxy); GET by id finds them."""

    def __init__(self, customers: list[dict[str, Any]], hidden: set[int]) -> None:
        super().__init__(customers)
        self.hidden = hidden

    def iter_customer_pages(self, **kwargs: Any) -> Any:
        for page in super().iter_customer_pages(**kwargs):
            items = [c for c in page.items if c["id"] not in self.hidden]
            yield dataclasses.replace(page, items=items) if items else dataclasses.replace(page, items=[])


def test_customers_the_search_leaves_out_are_read_one_by_one_on_a_full_run_not_lost(
    state: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    customers = [customer(i, f"c{i}@example.com") for i in range(1, 7)]
    zoho = FakeZoho()
    run(FakeMagento(customers), zoho, state)
    customers[1] = customer(2, "c2@example.com", last="Renamed", updated="2025-06-01 00:00:00")
    magento = SearchHiding(customers, hidden={2, 6})  # 6: above the last page the search gives
    tally = run(magento, zoho, state, full=True, on_deleted="delete")
    assert (tally.read, tally.updated, tally.unchanged, tally.deleted, tally.failed) == (6, 1, 5, 0, 0)
    assert {c["Email"]: c["Last_Name"] for c in zoho.contacts.values()}["c2@example.com"] == "Renamed"
    assert len(zoho.contacts) == 6
    assert "did not list 2 customer(s) that exist (ids 2, 6)" in caplog.text


class WatchingWrites(FakeZoho):
    """Notes the checkpoint last saved when a write holding one email is sent (what a kill -9 then would leave)."""

    def __init__(self, email: str, saved: list[int]) -> None:
        super().__init__()
        self.email, self.saved = email, saved
        self.checkpoint_when_sent: int | None = None

    def _watch(self, records: list[dict[str, Any]]) -> None:
        if any(record.get("Email") == self.email for record in records):
            self.checkpoint_when_sent = self.saved[-1] if self.saved else 0

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self._watch(records)
        return super().upsert_contacts(records)

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self._watch(records)
        return super().update_contacts(records)


class GetFailing(SearchHiding):
    def get_customer(self, customer_id: int) -> Any:
        raise MagentoError("Magento is unreachable")


def test_the_checkpoint_never_passes_a_customer_the_search_left_out_before_its_write(
    state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads the customers the search left out before the page is handled, and handles them with it:
    the checkpoint saved while their write is on its way is below them (it used to be the page's last id, which a
    kill -9 then left, so the resumption skipped them), and a failed read by id stops the run before the page."""
    customers = [customer(i, f"c{i}@example.com") for i in range(1, 7)]
    saved: list[int] = []
    zoho = WatchingWrites("c2@example.com", saved)
    run(FakeMagento(customers), zoho, state)
    customers[1] = customer(2, "c2@example.com", last="Renamed", updated="2025-06-01 00:00:00")
    commit_parts = state.commit_parts

    def spy(**kwargs: Any) -> None:
        if kwargs["checkpoint"] is not None:
            saved.append(kwargs["checkpoint"].after_id)
        commit_parts(**kwargs)

    monkeypatch.setattr(state, "commit_parts", spy)
    with pytest.raises(MagentoError):
        run(GetFailing(customers, hidden={2}), zoho, state, full=True)
    checkpoint = state.checkpoint()
    assert checkpoint is not None and checkpoint.after_id < 2
    zoho.checkpoint_when_sent = None
    tally = run(SearchHiding(customers, hidden={2}), zoho, state)
    assert tally.resumed and tally.updated == 1
    assert zoho.checkpoint_when_sent is not None and zoho.checkpoint_when_sent < 2
    assert {c["Email"]: c["Last_Name"] for c in zoho.contacts.values()}["c2@example.com"] == "Renamed"


class WithoutIds(FakeMagento):
    """A page that also holds items without a valid id (as the Magento client hands them over: ``rejected``)."""

    def iter_customer_pages(self, **kwargs: Any) -> Any:
        for n, page in enumerate(super().iter_customer_pages(**kwargs)):
            extra = ({"id": "abc", "email": " Odd@Example.com "}, [1, 2]) if n == 0 else ()
            yield dataclasses.replace(page, rejected=extra)


def test_items_without_a_valid_id_are_reported_as_failures_and_the_run_goes_on(state: StateStore) -> None:
    magento = WithoutIds([customer(i, f"c{i}@example.com") for i in range(1, 4)])
    zoho = FakeZoho()
    tally = run(magento, zoho, state)
    assert (tally.read, tally.inserted, tally.failed) == (5, 3, 2)
    assert tally.failure_codes == {"MAPPING_ERROR": 2}
    odd, junk = tally.failures
    assert (odd.customer_id, odd.email) == (None, "odd@example.com")
    assert "a customer whose id is not a valid one ('abc')" in odd.message
    assert "an item that is not a customer object (list)" in junk.message
    assert state.failed_ids([0]) == set()  # nothing the state could mistake for a customer


class RejectsWith(FakeMagento):
    """The page holding one customer also holds an item without a valid id."""

    def __init__(self, customers: list[dict[str, Any]], near: int) -> None:
        super().__init__(customers)
        self.near = near

    def iter_customer_pages(self, **kwargs: Any) -> Any:
        for page in super().iter_customer_pages(**kwargs):
            hit = any(item["id"] == self.near for item in page.items)
            yield dataclasses.replace(page, rejected=({"id": None, "email": "odd@example.com"},) if hit else ())


@pytest.mark.parametrize("near", [150, 50])
def test_a_resumed_run_lists_an_item_without_an_id_once(state: StateStore, near: int) -> None:
    """Such a failure is saved once the checkpoint passes its page: the resumption that reads the page again
    lists it once (150: on a page after the checkpoint), and one before the checkpoint stays listed (50)."""
    magento = RejectsWith([customer(i, f"c{i}@example.com") for i in range(1, 301)], near=near)
    zoho = FailingZoho(fail_after_calls=1)
    with pytest.raises(ZohoAuthError):
        run(magento, zoho, state, page_size=100, concurrency=1)
    checkpoint = state.checkpoint()
    assert checkpoint is not None and checkpoint.after_id == 100
    zoho.fail_after_calls = 10_000
    tally = run(magento, zoho, state, page_size=100)
    assert tally.resumed and len(zoho.contacts) == 300
    listed = [failure for failure in state.run_errors(tally.run_id) if failure.customer_id is None]
    assert [failure.email for failure in listed] == ["odd@example.com"]


def test_resuming_an_earlier_versions_run_lists_an_item_without_an_id_once(state: StateStore) -> None:
    """A state file of an earlier version (no ``run_errors.details``), whose run stopped after saving the failure of
    an item without an id on a page past its checkpoint (versions before the held failures saved them at once):
    the resumption, upgrading the file, read the page again and listed the item twice."""
    magento = RejectsWith([customer(i, f"c{i}@example.com") for i in range(1, 301)], near=150)
    zoho = FailingZoho(fail_after_calls=1)
    with pytest.raises(ZohoAuthError):
        run(magento, zoho, state, page_size=100, concurrency=1)
    checkpoint = state.checkpoint()
    assert checkpoint is not None and checkpoint.after_id == 100
    [earlier] = state.runs(1)
    with state.transaction() as db:  # as the earlier version left the file: the item of page 2, and one of page 1
        for email in ("odd@example.com", "early@example.com"):
            message = _without_id({"id": None, "email": email}).message
            db.execute(
                "INSERT INTO run_errors(run_id, customer_id, email, code, message) VALUES(?, NULL, ?, ?, ?)",
                (earlier.id, email, "MAPPING_ERROR", message),
            )
        db.execute("ALTER TABLE run_errors DROP COLUMN details")
    zoho.fail_after_calls = 10_000
    with state.lock():  # as a sync takes it: the file gets its details column
        tally = run(magento, zoho, state, page_size=100)
    assert tally.resumed and tally.run_id == earlier.id and len(zoho.contacts) == 300
    listed = [failure for failure in state.run_errors(tally.run_id) if failure.customer_id is None]
    assert sorted(str(failure.email) for failure in listed) == ["early@example.com", "odd@example.com"]


class HidingEverywhere(SearchHiding):
    """The filter applies to the search by id too (an extension filters the search API, not GET by id)."""

    def get_customers(self, customer_ids: Sequence[int]) -> list[Any]:
        return [c for c in super().get_customers(customer_ids) if c["id"] not in self.hidden]


def test_a_failed_customer_the_search_leaves_out_is_retried_by_id_never_taken_for_deleted(state: StateStore) -> None:
    customers = [customer(i, f"c{i}@example.com") for i in range(1, 6)]
    zoho = FakeZoho()
    run(FakeMagento(customers), zoho, state)
    customers[1] = customer(2, "not an email", updated="2025-06-01 00:00:00")
    run(FakeMagento(customers), zoho, state, full=True)  # customer 2 fails
    assert state.failed_ids([2]) == {2}
    customers[1] = customer(2, "c2@example.com", last="Back", updated="2025-07-01 00:00:00")
    magento = HidingEverywhere(customers, hidden={2})
    tally = run(magento, zoho, state, on_deleted="delete")  # incremental: the failure is retried
    assert tally.deleted_ids == [] and tally.deleted_removed == 0
    assert {c["Email"]: c["Last_Name"] for c in zoho.contacts.values()}["c2@example.com"] == "Back"
    assert state.failed_ids([2]) == set()


class StopWhileScanningZoho(FakeZoho):
    """The stop signal comes while the full run reads Zoho's emails (COQL, 2,000 a call: minutes on a big org)."""

    def __init__(self, stop: threading.Event, after: int) -> None:
        super().__init__()
        self.stop, self.after, self.yielded = stop, after, 0

    def scan_contacts(self) -> Any:
        for ref in super().scan_contacts():
            if self.yielded == self.after:
                self.stop.set()
            self.yielded += 1
            yield ref


def test_a_stop_signal_ends_the_read_of_zoho_s_emails_and_keeps_the_last_full_index(state: StateStore) -> None:
    """SIGINT while a full run read Zoho's contacts went on reading every page (credits and minutes, and past
    systemd's stop timeout) before the run stopped; the scan now ends at the signal, and the index of the last
    complete read stays as it was instead of being replaced by a partial one."""
    magento = FakeMagento([customer(i, f"c{i}@example.com") for i in range(1, 11)])
    zoho = FakeZoho()
    for n in range(200):
        zoho.add(f"held{n}@example.com")
    run(magento, zoho, state)  # a complete full run: Zoho's 200 + the 10 it inserted in the index
    indexed = state.zoho_contacts_for([f"held{n}@example.com" for n in range(200)])
    assert len(indexed) == 200
    stop = threading.Event()
    stopping = StopWhileScanningZoho(stop, after=20)
    stopping.contacts = zoho.contacts
    engine = SyncEngine(
        source=magento,
        sink=stopping,
        state=state,
        mapper=FakeMapper(),
        options=EngineOptions(page_size=100, full=True),
        stop=stop,
    )
    with pytest.raises(Interrupted):
        engine.run()
    assert stopping.yielded <= 21, stopping.yielded  # not the 210 contacts: the read ends at the signal
    assert stopping.writes() == 0
    assert state.zoho_contacts_for([f"held{n}@example.com" for n in range(200)]) == indexed


class StopWhileCheckingDeletedMagento(FakeMagento):
    """The stop signal comes while a full run confirms deleted customers one GET /V1/customers/{id} at a time."""

    def __init__(self, customers: list[dict[str, Any]], stop: threading.Event, after: int) -> None:
        super().__init__(customers)
        self.stop, self.after, self.checked = stop, after, 0
        self._count_lock = threading.Lock()

    def get_customer(self, customer_id: int) -> Any:
        with self._count_lock:
            self.checked += 1
            if self.checked == self.after:
                self.stop.set()
        return super().get_customer(customer_id)


def test_a_stop_signal_ends_the_checks_of_deleted_customers_and_the_next_run_makes_them(state: StateStore) -> None:
    """A purge leaves thousands of customers to confirm by id (4 at a time); Ctrl-C went on checking every one of
    them before the run stopped. The checks end at the signal, nothing is tagged or deleted for that page, and the
    next run finds the deleted customers again."""
    customers = [customer(i, f"c{i}@example.com") for i in range(1, 401)]
    zoho = FakeZoho()
    run(FakeMagento(customers), zoho, state, page_size=500)
    stop = threading.Event()
    magento = StopWhileCheckingDeletedMagento(customers, stop, after=10)
    for cid in range(2, 400):  # a purge: only 1 and 400 are left
        del magento.customers[cid]
    engine = SyncEngine(
        source=magento,
        sink=zoho,
        state=state,
        mapper=FakeMapper(),
        options=EngineOptions(page_size=500, full=True, on_deleted="delete"),
        stop=stop,
    )
    with pytest.raises(Interrupted):
        engine.run()
    assert magento.checked <= 10 + DELETED_CHECKS_AT_ONCE, magento.checked  # not the 398 of them
    assert len(zoho.contacts) == 400  # nothing deleted by a sweep cut short
    again = run(magento, zoho, state, page_size=500, full=True, on_deleted="delete")
    assert sorted(again.deleted_ids) == list(range(2, 400)) and len(zoho.contacts) == 2


def test_a_full_run_says_it_reads_zohos_contacts_first_an_incremental_one_does_not(
    state: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    """The progress display stands still while a full run reads Zoho's contacts (minutes on a large org)."""
    caplog.set_level("INFO", logger="magento_zoho_sync.engine")
    customers = [customer(i, f"c{i}@example.com") for i in range(1, 4)]
    zoho = FakeZoho()
    run(FakeMagento(customers), zoho, state)
    assert "reading the emails of Zoho's contacts first" in caplog.text
    caplog.clear()
    run(FakeMagento(customers), zoho, state)
    assert "Zoho's contacts" not in caplog.text
