"""The store changes while a sync reads it (reference §4, §10, §11 "Concurrency hooks"): customers committed, updated
and deleted between two pages of a run, and late commits around the overlap. Each case is picked up by the run
itself or by the next incremental run (or, beyond the overlap, the next full run), as the README says; none is
lost, none reaches Zoho twice."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sims.magento.seed import fmt_ts
from magento_zoho_sync.output import build_report
from tests.e2e.concurrency_support import IDS, PAGES, add, after_page, email, last_names, store_of_ten, zoho_writes
from tests.e2e.conftest import World


def first_sync(world: World) -> None:
    store_of_ten(world)
    first = world.sync(**PAGES)
    assert (first.tally.mode, first.tally.inserted, first.tally.failed) == ("full", len(IDS), 0)


def no_twins(world: World) -> None:
    assert world.zoho.duplicate_emails() == {}


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_customer_committed_mid_run_below_the_keyset_position_is_synced_by_the_next_incremental_run(
    make_world: Any, mode: str
) -> None:
    """An auto-increment id committed out of order: the run has read past it, its updated_at is new."""
    world: World = make_world(0)
    first_sync(world)
    after_page(world, 2, lambda: add(world, 15, "late@example.com"))  # the run has read 10..40
    after_page(world, 3, lambda: add(world, 105, "above@example.com"))  # above the keyset position: read now
    during = world.sync(full=mode == "full", **PAGES)
    assert during.tally.mode == mode
    assert last_names(world, "late@example.com") == [] and last_names(world, "above@example.com") == ["Lee105"]
    following = world.sync(**PAGES)
    assert following.tally.mode == "incremental" and following.tally.inserted == 1
    assert last_names(world, "late@example.com") == ["Lee15"]
    writes = zoho_writes(world)
    assert world.sync(**PAGES).tally.inserted == 0 and zoho_writes(world) == writes
    no_twins(world)


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_customer_updated_mid_run_after_its_page_gets_the_change_from_the_next_incremental_run(
    make_world: Any, mode: str
) -> None:
    """Read, then changed (its email too) before the run ends: this run wrote what it read; the change has a
    new updated_at, and the next incremental run updates the same contact by id."""
    world: World = make_world(0)
    first_sync(world)
    [contact] = world.zoho.contacts_by_email(email(20))
    after_page(world, 2, lambda: world.magento.backend.update_customer(20, lastname="Moved", email="moved@x.com"))
    world.sync(full=mode == "full", **PAGES)
    assert last_names(world, email(20)) == ["Lee20"] and last_names(world, "moved@x.com") == []
    following = world.sync(**PAGES)
    assert following.tally.mode == "incremental" and following.tally.updated == 1
    [moved] = world.zoho.contacts_by_email("moved@x.com")
    assert moved["id"] == contact["id"] and moved["Last_Name"] == "Moved"
    assert last_names(world, email(20)) == []
    no_twins(world)


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_customer_updated_mid_run_before_its_page_is_synced_by_the_run_itself(make_world: Any, mode: str) -> None:
    world: World = make_world(0)
    first_sync(world)
    after_page(world, 1, lambda: world.magento.backend.update_customer(90, lastname="Changed"))
    during = world.sync(full=mode == "full", **PAGES)
    assert during.tally.updated == 1 and last_names(world, email(90)) == ["Changed"]
    writes = zoho_writes(world)
    following = world.sync(**PAGES)  # reads it again (its updated_at is in the window): the same payload
    assert (following.tally.updated, following.tally.inserted) == (0, 0) and zoho_writes(world) == writes
    no_twins(world)


def test_a_customer_outside_the_window_updated_mid_run_enters_the_incremental_run_reading_it(
    make_world: Any,
) -> None:
    """An incremental run filters on updated_at page by page: a customer it would not have read joins the
    pages still to come once it changes."""
    world: World = make_world(0)
    store_of_ten(world)
    world.magento.clock.advance(3600)  # the ten are out of the overlap of the runs from now on
    world.sync(**PAGES)
    for customer_id in (10, 20, 30):
        world.magento.backend.update_customer(customer_id, firstname="Window")
    after_page(world, 1, lambda: world.magento.backend.update_customer(90, lastname="Joined"))
    during = world.sync(**PAGES)
    assert during.tally.mode == "incremental" and during.tally.read == 4
    assert last_names(world, email(90)) == ["Joined"]
    no_twins(world)


@pytest.mark.parametrize("on_deleted", ["ignore", "tag", "delete"])
def test_customers_deleted_mid_run_are_handled_by_this_full_run_or_the_next(make_world: Any, on_deleted: str) -> None:
    """Deleted before its page: the run's sweep finds the linked customer missing and Magento's 404 confirms it.
    Deleted after its page: this run wrote it; the next full run finds it (incremental runs cannot see a
    deletion). Created and deleted before ever being read: never in Zoho."""
    world: World = make_world(0)
    first_sync(world)
    add(world, 95, "fleeting@example.com")
    contact_ids = {cid: world.zoho.contacts_by_email(email(cid))[0]["id"] for cid in (20, 80, 100)}

    def delete_three() -> None:
        for customer_id in (20, 80, 95, 100):  # 20 read already; 80, 95 and 100 (the last) not yet
            world.magento.backend.delete_customer(customer_id)

    after_page(world, 2, delete_three)
    during = world.sync(full=True, **{**PAGES, "sync.on_deleted": on_deleted})
    assert during.tally.deleted_ids == [80, 100]
    assert last_names(world, "fleeting@example.com") == []
    incremental = world.sync(**{**PAGES, "sync.on_deleted": on_deleted})
    assert incremental.tally.mode == "incremental" and incremental.tally.deleted == 0
    following = world.sync(full=True, **{**PAGES, "sync.on_deleted": on_deleted})
    assert following.tally.deleted_ids == [20]
    counts = build_report(following).to_dict()["counts"]
    expected = {"ignore": (0, 0), "tag": (1, 0), "delete": (0, 1)}[on_deleted]
    assert (counts["deleted_tagged"], counts["deleted_removed"]) == expected
    for zoho_id in contact_ids.values():
        remaining = world.zoho.contact(zoho_id)
        if on_deleted == "delete":
            assert remaining is None
        else:
            assert remaining is not None
            assert [t["name"] for t in remaining.get("Tag") or []] == (
                ["Deleted in Magento"] if on_deleted == "tag" else []
            )
    assert world.sync(full=True, **{**PAGES, "sync.on_deleted": on_deleted}).tally.deleted == 0
    no_twins(world)


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_late_commits_inside_the_overlap_reach_the_next_incremental_run_and_those_before_it_the_next_full_run(
    make_world: Any, mode: str
) -> None:
    """A transaction that ran its statement (which stamps updated_at) before the run started and commits after the
    run read past the row: the next incremental run reads updated_at >= watermark - overlap_minutes, so a stamp
    at that bound is read (gteq), one a second older is not, until the next full run."""
    world: World = make_world(0)
    world.magento.clock.freeze()  # Magento's Date header, and so the watermark, to the second
    store_of_ten(world)
    if mode == "incremental":
        world.sync(**PAGES)
    watermark = int(world.magento.clock.now())
    inside, outside = fmt_ts(watermark - 600), fmt_ts(watermark - 601)  # overlap_minutes: 10 (the default)

    def late_commits() -> None:  # the run has read 10..40
        add(world, 15, "inside@example.com", updated_at=inside)
        add(world, 25, "outside@example.com", updated_at=outside)
        world.magento.backend.update_customer(30, lastname="Inside", updated_at=inside)
        world.magento.backend.update_customer(20, lastname="Outside", updated_at=outside)

    after_page(world, 2, late_commits)
    during = world.sync(**PAGES)
    assert during.tally.mode == mode and during.tally.server_start == fmt_ts(watermark)
    world.magento.clock.advance(60)
    following = world.sync(**PAGES)
    assert following.tally.watermark_from == inside
    assert (following.tally.inserted, following.tally.updated) == (1, 1)
    assert last_names(world, "inside@example.com") == ["Lee15"] and last_names(world, email(30)) == ["Inside"]
    assert last_names(world, "outside@example.com") == [] and last_names(world, email(20)) == ["Lee20"]
    full = world.sync(full=True, **PAGES)
    assert (full.tally.inserted, full.tally.updated) == (1, 1)
    assert last_names(world, "outside@example.com") == ["Lee25"] and last_names(world, email(20)) == ["Outside"]
    no_twins(world)
