"""Customers sharing an email (one per website, in any letter case) under each way Zoho may take two records of
one upsert holding the same email ([UNVERIFIED] same_batch_duplicates): the sync merges them before sending, so
that no request ever holds an email twice and the variant never matters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from magento_zoho_sims.zoho.config import ZohoConfig
from tests.e2e.conftest import World

VARIANTS = ["insert_both", "sequential", "reject_second", "reject_request"]


def add_customer(world: World, email: str, **kwargs: Any) -> int:
    kwargs.setdefault("firstname", "Ann")
    kwargs.setdefault("lastname", "Lee")
    world.magento.clock.advance(60)  # each one later than the last: the latest wins an email
    return int(world.magento.backend.create_customer(email=email, **kwargs)["id"])


def last_names(world: World, email: str) -> list[str]:
    return [contact["Last_Name"] for contact in world.zoho.contacts_by_email(email)]


def emails_sent_twice_in_one_upsert(world: World) -> list[str]:
    repeated: list[str] = []
    for request in world.zoho.log:
        if request.path.endswith("/Contacts/upsert"):
            emails = [record["Email"].lower() for record in json.loads(request.body)["data"]]
            repeated += sorted({email for email in emails if emails.count(email) > 1})
    return repeated


@pytest.mark.parametrize("variant", VARIANTS)
def test_customers_sharing_an_email_are_one_record_of_one_upsert_whatever_zoho_does_with_two(
    make_world: Any, variant: str
) -> None:
    world: World = make_world(0, zoho_kwargs={"config": ZohoConfig(same_batch_duplicates=variant)})  # type: ignore[arg-type]
    for n in range(30):  # customers of their own around them, so that all go in one batch
        add_customer(world, f"own{n}@example.com")
    first = [add_customer(world, "shared@example.com", lastname=f"Website{w}", website_id=w) for w in (1, 2, 3)]
    case = [
        add_customer(world, "Case@Example.com", lastname="Upper", website_id=1),
        add_customer(world, "case@example.com", lastname="Lower", website_id=2),
    ]
    mover = add_customer(world, "mover@example.com", lastname="Mover", website_id=1)
    add_customer(world, "target@example.com", lastname="Target", website_id=2)

    result = world.sync()
    assert (result.tally.failed, result.tally.inserted, result.tally.merged) == (0, 34, 3)
    assert sorted(merged for merged, _winner, _email in result.tally.merges) == sorted([*first[:2], case[0]])
    assert last_names(world, "shared@example.com") == ["Website3"]
    assert last_names(world, "case@example.com") == ["Lower"]

    # the next run: a customer moves onto an email another website's customer holds, one more joins a shared one
    world.magento.clock.advance(60)
    world.magento.backend.update_customer(mover, email="TARGET@example.com", lastname="Moved")
    add_customer(world, "Shared@example.com", lastname="Website4", website_id=4)
    again = world.sync()
    assert again.tally.failed == 0
    assert last_names(world, "target@example.com") == ["Moved"]
    assert last_names(world, "shared@example.com") == ["Website4"]
    assert last_names(world, "mover@example.com") in ([], ["Mover"])  # its old contact: left, or moved to its email

    assert emails_sent_twice_in_one_upsert(world) == []
    assert world.zoho.duplicate_emails() == {}


@pytest.mark.parametrize("full", [True, False])
def test_an_older_customer_later_on_the_page_never_overwrites_the_contact_a_newer_one_just_took(
    make_world: Any, full: bool
) -> None:
    """Found by a run of random changes during syncs: a customer moves onto an email that an older customer (another
    website, later on the same page) also holds. The mover's update by id went in a full batch, acknowledged to make
    room for the next one (one write at a time here) before the older customer's turn; that customer was then decided
    on what the page read before the write, saw no one holding the email and upserted, overwriting the newer data."""
    world: World = make_world(0)
    ids = [add_customer(world, f"c{i}@example.com", lastname=f"L{i}", website_id=1) for i in range(250)]
    world.sync()
    world.magento.clock.advance(60)
    for customer_id in ids:  # 250 updates by id: batches of 100 sent while the page is decided
        world.magento.backend.update_customer(customer_id, lastname=f"Changed{customer_id}")
    newcomer = add_customer(world, "shared@example.com", lastname="Newcomer", website_id=2)
    world.magento.clock.advance(1)
    world.magento.backend.update_customer(ids[0], email="shared@example.com")  # later: it wins the email
    result = world.sync(full=full, **{"magento.page_size": 300, "zoho.concurrency": 1})
    assert result.tally.read == 251
    assert last_names(world, "shared@example.com") == [f"Changed{ids[0]}"]
    assert result.tally.merges == [(newcomer, ids[0], "shared@example.com")]
    writes = len(world.zoho.writes())
    world.sync(full=True, **{"magento.page_size": 300})
    assert len(world.zoho.writes()) == writes  # and the state says so: nothing to write again
