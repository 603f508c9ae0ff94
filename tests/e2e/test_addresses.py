"""A customer whose mapping reads another address than last time, end to end: what the old address filled and the new
one leaves out is cleared in Zoho, once, and what the old one left out too (a sales rep's phone) is kept; a state file
of a previous version opens, works and learns the addresses and the fields each left out."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from typing import Any

import httpx2

from magento_zoho_sims.zoho.fields import FieldSpec
from magento_zoho_sync.output import build_report
from tests.e2e.conftest import World, add_customer, contact

BILLING = {
    "street": ["Unter den Linden 1"],
    "city": "Berlin",
    "postcode": "10117",
    "country_id": "DE",
    "region_code": "BER",
    "telephone": "+49 30 1234567",
    "default_billing": True,
}
SHIPPING = {
    "street": ["1 Rue de Rivoli"],
    "city": "Paris",
    "postcode": "75001",
    "country_id": "FR",
    "default_shipping": True,
}


def remove_default_billing(world: World, customer_id: int) -> None:
    """The customer deletes its default billing address in Magento (saved as the REST API's PUT does)."""
    world.magento.clock.advance(60)
    record = world.magento.backend.require(customer_id)
    kept = [address for address in record["addresses"] if not address.get("default_billing")]
    world.magento.backend.save_customer(customer_id, {"addresses": kept})


def rep_sets(world: World, contact_id: str, **values: str) -> None:
    """A sales rep edits the contact in Zoho (a CRM API call, as Zoho's web UI makes it)."""
    token = world.zoho.issue_access_token()
    with httpx2.Client(transport=world.transport, base_url="http://127.0.0.1:18082") as api:
        edited = api.put(
            "/crm/v8/Contacts",
            json={"data": [{"id": contact_id, **values}]},
            headers={"Authorization": f"Zoho-oauthtoken {token}"},
        )
    assert edited.status_code in (200, 202), edited.text


def address_ids(world: World) -> list[str | None]:
    with closing(sqlite3.connect(world.state_path)) as db:
        return [row[0] for row in db.execute("SELECT address_ids FROM links ORDER BY customer_id")]


def field_reads(world: World) -> int:
    return sum(1 for r in world.zoho.log if r.path.endswith("/settings/fields"))


def zoho_writes(world: World) -> int:
    return len(world.zoho.writes())


def test_removing_the_default_billing_address_clears_its_phone_and_state_in_zoho(make_world: Any) -> None:
    world: World = make_world(0)
    customer_id = add_customer(world, "ann@example.com", addresses=[SHIPPING, BILLING])
    world.sync()
    before = contact(world, "ann@example.com")
    assert (before["Mailing_City"], before["Phone"], before["Mailing_State"]) == ("Berlin", "+49 30 1234567", "Berlin")

    remove_default_billing(world, customer_id)  # the default shipping address (no phone, no region) is read now
    writes = zoho_writes(world)
    plan = build_report(world.sync(dry_run=True)).plan
    [update] = [entry for entry in plan if entry.action == "update"]
    assert "clears Phone, Mailing_State" in update.reason
    assert zoho_writes(world) == writes  # the dry run wrote nothing

    second = world.sync()
    assert second.tally.updated == 1
    after = contact(world, "ann@example.com")
    assert after["id"] == before["id"]
    assert (after["Mailing_Street"], after["Mailing_City"], after["Mailing_Zip"], after["Mailing_Country"]) == (
        "1 Rue de Rivoli",
        "Paris",
        "75001",
        "France",
    )
    assert after.get("Phone") is None and after.get("Mailing_State") is None
    [sent] = [
        json.loads(r.body)["data"][0] for r in world.zoho.log if r.method == "PUT" and r.path.endswith("/Contacts")
    ]
    assert sent["Phone"] is None and sent["Mailing_State"] is None and "Mailing_Zip" in sent
    writes = zoho_writes(world)
    third, full = world.sync().tally, world.sync(full=True).tally
    assert (third.unchanged, third.updated, full.unchanged, full.updated) == (third.read, 0, 1, 0)
    assert zoho_writes(world) == writes  # unchanged reruns: no write


def test_a_phone_a_sales_rep_typed_is_kept_when_neither_address_had_one(make_world: Any) -> None:
    """The default billing address had no telephone, so the tool never sent a Phone; a rep types one in Zoho. The
    billing address is removed: the shipping one (no telephone either, another street, no zip) is read. The street
    is the new one, the rep's Phone stays, and the billing address's zip and region, which the tool sent, are
    cleared."""
    world: World = make_world(0)
    billing = {key: value for key, value in BILLING.items() if key != "telephone"}
    shipping = {key: value for key, value in SHIPPING.items() if key != "postcode"}
    customer_id = add_customer(world, "ann@example.com", addresses=[shipping, billing])
    world.sync()
    before = contact(world, "ann@example.com")
    assert before.get("Phone") is None and (before["Mailing_Zip"], before["Mailing_State"]) == ("10117", "Berlin")
    rep_sets(world, before["id"], Phone="+49 171 5550100")

    remove_default_billing(world, customer_id)
    plan = build_report(world.sync(dry_run=True)).plan
    [update] = [entry for entry in plan if entry.action == "update"]
    assert "clears Mailing_State, Mailing_Zip" in update.reason and "Phone" not in update.reason

    assert world.sync().tally.updated == 1
    after = contact(world, "ann@example.com")
    assert (after["id"], after["Mailing_Street"], after["Mailing_City"]) == (before["id"], "1 Rue de Rivoli", "Paris")
    assert after["Phone"] == "+49 171 5550100"  # the rep's: never sent by the tool, so never cleared
    assert after.get("Mailing_Zip") is None and after.get("Mailing_State") is None  # the old address's: cleared
    [sent] = [
        json.loads(r.body)["data"][0]
        for r in world.zoho.log
        if r.method == "PUT" and r.path.endswith("/Contacts") and "Mailing_Street" in json.loads(r.body)["data"][0]
    ]
    assert "Phone" not in sent and sent["Mailing_Zip"] is None and sent["Mailing_State"] is None
    writes = zoho_writes(world)
    third, full = world.sync().tally, world.sync(full=True).tally
    assert (third.updated, full.unchanged, full.updated, zoho_writes(world)) == (0, 1, 0, writes)
    assert contact(world, "ann@example.com")["Phone"] == "+49 171 5550100"


def test_a_state_file_whose_addresses_have_no_markers_keeps_working_and_learns_them(make_world: Any) -> None:
    """The previous version kept the addresses without the fields each left out (``"a12"``). Such a link proves
    nothing about what the tool sent: an address change then clears nothing. A run that finds the customer unchanged
    learns the markers, with no write to Zoho, and from then on only what the old address filled is cleared."""
    world: World = make_world(0)
    first = add_customer(world, "ann@example.com", addresses=[SHIPPING, BILLING])
    second = add_customer(world, "bo@example.com", addresses=[SHIPPING, BILLING])
    world.sync()
    learnt = address_ids(world)
    assert all(text and "~" in text for text in learnt)
    with closing(sqlite3.connect(world.state_path)) as db, db:  # as the previous version wrote them
        db.execute("UPDATE links SET address_ids = substr(address_ids, 1, instr(address_ids, '~') - 1)")
    assert all(text and "~" not in text for text in address_ids(world))

    remove_default_billing(world, second)  # before the markers are learnt: nothing cleared
    writes = zoho_writes(world)
    run = world.sync(full=True)
    assert (run.tally.unchanged, run.tally.updated, run.tally.failed) == (1, 1, 0)
    assert zoho_writes(world) == writes + 1  # one update (bo's), none for the unchanged customer
    assert address_ids(world)[0] == learnt[0]  # learnt without a write
    bo = contact(world, "bo@example.com")
    assert (bo["Mailing_City"], bo["Phone"], bo["Mailing_State"]) == ("Paris", "+49 30 1234567", "Berlin")

    remove_default_billing(world, first)  # after: the phone and the region the billing address filled are cleared
    assert world.sync().tally.updated == 1
    ann = contact(world, "ann@example.com")
    assert (ann["Mailing_City"], ann.get("Phone"), ann.get("Mailing_State")) == ("Paris", None, None)


def test_a_state_file_of_the_previous_version_opens_works_and_learns_the_addresses(make_world: Any) -> None:
    world: World = make_world(0)
    customer_id = add_customer(world, "ann@example.com", addresses=[SHIPPING, BILLING])
    world.sync()
    with closing(sqlite3.connect(world.state_path)) as db, db:  # as the previous version left it
        db.execute("ALTER TABLE links DROP COLUMN address_ids")
        db.execute("DELETE FROM meta WHERE key = 'zoho_mandatory_fields'")
    writes = zoho_writes(world)
    full = world.sync(full=True)  # reads every customer: unchanged, and their addresses remembered from now on
    assert (full.tally.unchanged, full.tally.failed, zoho_writes(world)) == (1, 0, writes)
    with closing(sqlite3.connect(world.state_path)) as db:
        billing_id = world.magento.backend.require(customer_id)["default_billing"]
        [(learnt,)] = db.execute("SELECT address_ids FROM links").fetchall()
        assert re.fullmatch(rf"a{billing_id}~[0-9a-f]+\.[0-9a-f]{{4}}", learnt)
    remove_default_billing(world, customer_id)
    world.sync()
    assert contact(world, "ann@example.com").get("Phone") is None


def test_a_field_the_org_makes_mandatory_is_never_cleared(make_world: Any) -> None:
    """Zoho refuses an update that blanks a mandatory field, with all its other values: the old value stays."""
    world: World = make_world(0)
    world.zoho.change_fields(add=[FieldSpec("Phone", "Phone", "phone", 30, system_mandatory=True)])
    customer_id = add_customer(world, "ann@example.com", addresses=[SHIPPING, BILLING])
    world.sync()
    remove_default_billing(world, customer_id)
    second = world.sync()
    assert (second.tally.updated, second.tally.failed) == (1, 0)
    after = contact(world, "ann@example.com")
    assert (after["Mailing_City"], after.get("Mailing_State")) == ("Paris", None)
    assert after["Phone"] == "+49 30 1234567"


def test_a_state_file_of_the_previous_version_has_the_zoho_fields_read_once_more_for_the_mandatory_ones(
    make_world: Any,
) -> None:
    world: World = make_world(0)
    customer_id = add_customer(world, "ann@example.com", addresses=[SHIPPING, BILLING])
    world.sync()
    with closing(sqlite3.connect(world.state_path)) as db, db:  # the previous version kept no mandatory fields
        db.execute("DELETE FROM meta WHERE key = 'zoho_mandatory_fields'")
    reads = field_reads(world)
    world.magento.clock.advance(60)
    world.magento.backend.update_customer(customer_id, firstname="Anna")
    incremental = world.sync()
    assert (incremental.tally.updated, incremental.tally.failed, field_reads(world)) == (1, 0, reads + 1)
    world.magento.clock.advance(60)
    world.magento.backend.update_customer(customer_id, firstname="Anne")
    assert world.sync().tally.updated == 1 and field_reads(world) == reads + 1  # kept from then on
