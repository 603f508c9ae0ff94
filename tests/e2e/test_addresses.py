"""A customer whose mapping reads another address than last time, end to end: what the old address filled and the new
one leaves out is cleared in Zoho, once; a state file of the previous version opens, works and learns the addresses."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from typing import Any

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
