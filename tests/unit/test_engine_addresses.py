"""When the address a customer's mapping reads becomes another one, the fields the new one leaves out are cleared in
Zoho (sent as null), once; the same address, or nothing remembered, never blanks anything (the engine, with fakes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sync.engine import EngineOptions, SyncEngine, Tally
from magento_zoho_sync.engine_customers import cleared_fields
from magento_zoho_sync.mapping import MappedCustomer, map_customer, payload_hash
from magento_zoho_sync.mapping_compile import plan_for
from magento_zoho_sync.mapping_config import DEFAULT_SPEC
from magento_zoho_sync.planner import Action, Decision
from magento_zoho_sync.sources import MappedRecord
from magento_zoho_sync.state import FailureRecord, Link, StateStore
from tests.unit.fakes import FakeMagento, FakeMapper, FakeZoho, Outcome

BILLING = {
    "id": 12,
    "street": ["Unter den Linden 1"],
    "city": "Berlin",
    "postcode": "10117",
    "country_id": "DE",
    "telephone": "+49 30 1234567",
    "default_billing": True,
}
SHIPPING = {"id": 13, "street": ["1 Rue de Rivoli"], "city": "Paris", "country_id": "FR", "default_shipping": True}


class AddressMapper(FakeMapper):
    """The real default mapping."""

    address_fields = plan_for(DEFAULT_SPEC).address_fields

    def map(self, customer: Mapping[str, Any]) -> MappedRecord | FailureRecord:
        result = map_customer(customer)
        assert isinstance(result, MappedCustomer)
        return MappedRecord(
            result.customer_id,
            result.email_norm,
            str(customer["updated_at"]),
            result.payload,
            payload_hash(result.payload),
            address_ids=result.address_ids,
        )


class RecordingZoho(FakeZoho):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.bodies.extend(records)
        return super().upsert_contacts(records)

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.bodies.extend(records)
        return super().update_contacts(records)


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    return StateStore.open(tmp_path / "state.sqlite")


def run(magento: FakeMagento, zoho: FakeZoho, state: StateStore, **options: Any) -> Tally:
    engine = SyncEngine(
        source=magento, sink=zoho, state=state, mapper=AddressMapper(), options=EngineOptions(**options)
    )
    return engine.run()


def ann(*addresses: dict[str, Any], updated: str = "2025-01-01 00:00:00") -> dict[str, Any]:
    return {"id": 1, "email": "ann@example.com", "lastname": "Lee", "updated_at": updated, "addresses": list(addresses)}


LATER = "2026-01-01 11:59:00"  # within the next run's window


def test_a_switch_to_another_address_clears_what_it_leaves_out_once(state: StateStore) -> None:
    magento, zoho = FakeMagento([ann(SHIPPING, BILLING)]), RecordingZoho()
    run(magento, zoho, state)
    [contact] = zoho.by_email("ann@example.com")
    assert contact["Mailing_Zip"] == "10117"
    magento.customers[1] = ann(SHIPPING, updated=LATER)  # the default billing address removed: shipping is read
    second = run(magento, zoho, state)
    assert second.updated == 1
    assert zoho.bodies[-1] == {
        "Email": "ann@example.com",
        "Last_Name": "Lee",
        "Mailing_Street": "1 Rue de Rivoli",
        "Mailing_City": "Paris",
        "Mailing_Country": "France",
        "Phone": None,
        "Mailing_State": None,
        "Mailing_Zip": None,
        "id": contact["id"],
    }
    assert (contact["Mailing_City"], contact["Phone"], contact["Mailing_Zip"]) == ("Paris", None, None)
    writes = zoho.writes()
    third = run(magento, zoho, state)
    assert (third.read, third.unchanged) == (1, 1) and zoho.writes() == writes
    full = run(magento, zoho, state, full=True)
    assert full.unchanged == 1 and zoho.writes() == writes


def test_the_same_address_never_blanks_what_zoho_holds(state: StateStore) -> None:
    magento, zoho = FakeMagento([ann(BILLING)]), RecordingZoho()
    run(magento, zoho, state)
    magento.customers[1] = ann({**BILLING, "telephone": "", "city": "Potsdam"}, updated=LATER)
    run(magento, zoho, state)
    assert "Phone" not in zoho.bodies[-1] and zoho.bodies[-1]["Mailing_City"] == "Potsdam"
    assert zoho.by_email("ann@example.com")[0]["Phone"] == "+49 30 1234567"


def test_another_address_with_the_same_values_needs_no_write_and_is_remembered(state: StateStore) -> None:
    magento, zoho = FakeMagento([ann(SHIPPING)]), RecordingZoho()
    run(magento, zoho, state)
    writes = zoho.writes()
    twin = {**SHIPPING, "id": 14}  # another address, the same values
    magento.customers[1] = ann(twin, updated=LATER)
    second = run(magento, zoho, state)
    assert (second.unchanged, zoho.writes()) == (1, writes)
    assert state.links_for([1])[1].address_ids == "a14"
    # a sales rep fills the phone in Zoho; then the city changes on the same (now remembered) address: kept
    zoho.by_email("ann@example.com")[0]["Phone"] = "+33 1 2345"
    magento.customers[1] = ann({**twin, "city": "Lyon"}, updated="2026-01-01 11:59:30")
    run(magento, zoho, state)
    assert "Phone" not in zoho.bodies[-1]
    assert zoho.by_email("ann@example.com")[0]["Phone"] == "+33 1 2345"


def test_a_link_with_no_address_remembered_never_blanks(state: StateStore) -> None:
    """A state file of the previous version, or a link written by it: the fields keep what Zoho has, as before."""
    magento, zoho = FakeMagento([ann(SHIPPING, BILLING)]), RecordingZoho()
    run(magento, zoho, state)
    with state.transaction() as db:
        db.execute("UPDATE links SET address_ids = NULL")
    magento.customers[1] = ann(SHIPPING, updated=LATER)
    run(magento, zoho, state)
    assert None not in zoho.bodies[-1].values()
    assert zoho.by_email("ann@example.com")[0]["Mailing_Zip"] == "10117"
    assert state.links_for([1])[1].address_ids == "a13"  # remembered from now on


def test_a_first_sync_reads_no_link_and_sends_no_null(state: StateStore) -> None:
    magento, zoho = (
        FakeMagento([ann(SHIPPING, BILLING), {**ann(), "id": 2, "email": "bo@example.com"}]),
        RecordingZoho(),
    )
    tally = run(magento, zoho, state)
    assert tally.inserted == 2 and all(None not in body.values() for body in zoho.bodies)
    assert {cid: link.address_ids for cid, link in state.links_for([1, 2]).items()} == {1: "a12", 2: "a-"}


def _record(address_ids: str | None, payload: dict[str, Any], digest: str = "new") -> MappedRecord:
    return MappedRecord(1, "ann@example.com", "t", payload, digest, address_ids=address_ids)


FIELDS = {"address": ("Phone", "Mailing_City")}


@pytest.mark.parametrize(
    ("own", "decision", "digest", "cleared"),
    [
        (
            Link(1, "ann@example.com", "t", "z1", "old", address_ids="a12"),
            Decision(Action.UPDATE_BY_ID, "z1"),
            "new",
            ("Phone",),
        ),
        # another contact (the one holding a new email, say): its fields never came from these addresses
        (
            Link(1, "ann@example.com", "t", "z1", "old", address_ids="a12"),
            Decision(Action.UPDATE_BY_ID, "z2"),
            "new",
            (),
        ),
        (Link(1, "ann@example.com", "t", "z1", "old", address_ids="a12"), Decision(Action.UPSERT), "new", ()),
        # what Zoho acknowledged last (a contact whose email was edited in Zoho, written again): nothing to clear
        (
            Link(1, "ann@example.com", "t", "z1", "new", address_ids="a12"),
            Decision(Action.UPDATE_BY_ID, "z1"),
            "new",
            (),
        ),
        (
            Link(1, "ann@example.com", "t", "z1", "old", address_ids=None),
            Decision(Action.UPDATE_BY_ID, "z1"),
            "new",
            (),
        ),
    ],
)
def test_only_an_update_of_the_customers_own_contact_with_another_payload_clears(
    own: Link, decision: Decision, digest: str, cleared: tuple[str, ...]
) -> None:
    record = _record("a13", {"Email": "ann@example.com", "Mailing_City": "Paris"}, digest)
    assert cleared_fields(record, own, decision, FIELDS) == cleared
