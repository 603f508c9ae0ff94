"""When the address a customer's mapping reads becomes another one, the fields the old one filled and the new one
leaves out are cleared in Zoho (sent as null), once; a field the old one left out too is kept (the tool never sent
it: it may be a sales rep's); the same address, or nothing remembered, never blanks anything (the engine, with
fakes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sync.engine import EngineOptions, SyncEngine, Tally
from magento_zoho_sync.engine_customers import cleared_fields
from magento_zoho_sync.mapping import MappedCustomer, map_customer, payload_hash
from magento_zoho_sync.mapping_addresses import source_layout
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

    def __init__(self, never_cleared: frozenset[str] = frozenset()) -> None:
        self.never_cleared = never_cleared

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


def run(
    magento: FakeMagento, zoho: FakeZoho, state: StateStore, mapper: AddressMapper | None = None, **options: Any
) -> Tally:
    engine = SyncEngine(
        source=magento, sink=zoho, state=state, mapper=mapper or AddressMapper(), options=EngineOptions(**options)
    )
    return engine.run()


TAG = source_layout(AddressMapper.address_fields["address"]).tag
# bits of the default mapping's marker: its fields sorted by name
CITY, COUNTRY, STATE, STREET, ZIP, PHONE = (1 << n for n in range(6))


def a(ident: int, left_out: int) -> str:
    return f"a{ident}~{left_out:x}.{TAG}"


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
        "Mailing_Zip": None,
        "id": contact["id"],
    }
    # no Mailing_State: the billing address had no region either, so the tool never sent one
    assert state.links_for([1])[1].address_ids == a(13, PHONE | STATE | ZIP)
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
    assert state.links_for([1])[1].address_ids == a(14, PHONE | STATE | ZIP)
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
    assert state.links_for([1])[1].address_ids == a(13, PHONE | STATE | ZIP)  # remembered from now on


def test_a_first_sync_reads_no_link_and_sends_no_null(state: StateStore) -> None:
    magento, zoho = (
        FakeMagento([ann(SHIPPING, BILLING), {**ann(), "id": 2, "email": "bo@example.com"}]),
        RecordingZoho(),
    )
    tally = run(magento, zoho, state)
    assert tally.inserted == 2 and all(None not in body.values() for body in zoho.bodies)
    assert {cid: link.address_ids for cid, link in state.links_for([1, 2]).items()} == {1: a(12, STATE), 2: "a-"}


def test_a_field_the_old_address_left_out_too_keeps_what_a_sales_rep_typed(state: StateStore) -> None:
    """The default billing address had no phone; a rep types one in Zoho; the billing address is removed and the
    shipping one, without a phone either, is read: the phone stays, the billing address's zip (sent) is cleared."""
    billing = {**BILLING, "telephone": None}
    magento, zoho = FakeMagento([ann(SHIPPING, billing)]), RecordingZoho()
    run(magento, zoho, state)
    [contact] = zoho.by_email("ann@example.com")
    assert "Phone" not in contact and state.links_for([1])[1].address_ids == a(12, PHONE | STATE)
    contact["Phone"] = "+49 171 5550100"  # the rep's
    magento.customers[1] = ann(SHIPPING, updated=LATER)
    second = run(magento, zoho, state)
    assert second.updated == 1
    assert "Phone" not in zoho.bodies[-1] and "Mailing_State" not in zoho.bodies[-1]
    assert zoho.bodies[-1]["Mailing_Zip"] is None and zoho.bodies[-1]["Mailing_Street"] == "1 Rue de Rivoli"
    assert (contact["Phone"], contact["Mailing_Zip"], contact["Mailing_City"]) == ("+49 171 5550100", None, "Paris")


def test_a_link_of_the_previous_version_learns_its_markers_without_a_write_and_clears_nothing_before(
    state: StateStore,
) -> None:
    """A state file of the previous version keeps the addresses without markers ("a12"): nothing proves which
    fields the tool sent, so an address change then clears nothing (the safe side); a run that finds the customer
    unchanged learns the markers (the same payload: the same fields left out), with no write to Zoho."""
    magento, zoho = FakeMagento([ann(SHIPPING, BILLING)]), RecordingZoho()
    run(magento, zoho, state)
    with state.transaction() as db:
        db.execute("UPDATE links SET address_ids = 'a12'")
    writes = zoho.writes()
    full = run(magento, zoho, state, full=True)
    assert (full.unchanged, zoho.writes()) == (1, writes)
    assert state.links_for([1])[1].address_ids == a(12, STATE)
    magento.customers[1] = ann(SHIPPING, updated=LATER)
    run(magento, zoho, state)
    assert {field for field, value in zoho.bodies[-1].items() if value is None} == {"Phone", "Mailing_Zip"}

    magento.customers[1] = ann(BILLING, updated="2026-01-01 11:59:30")  # back to the billing address
    run(magento, zoho, state)
    with state.transaction() as db:  # as the previous version wrote it: an address change before the markers
        db.execute("UPDATE links SET address_ids = 'a12'")
    magento.customers[1] = ann({**SHIPPING, "id": 14}, updated="2026-01-01 11:59:40")
    run(magento, zoho, state)
    assert None not in zoho.bodies[-1].values()
    assert zoho.by_email("ann@example.com")[0]["Phone"] == BILLING["telephone"]  # kept: nothing could be proven


def test_a_marker_written_under_another_list_of_fields_clears_nothing_and_is_learnt_again(state: StateStore) -> None:
    """A marker whose tag is not the mapping's (the source's fields changed since it was written) proves nothing."""
    magento, zoho = FakeMagento([ann(SHIPPING, BILLING)]), RecordingZoho()
    run(magento, zoho, state)
    stale = a(12, STATE).replace(TAG, "0000" if TAG != "0000" else "0001")
    with state.transaction() as db:
        db.execute("UPDATE links SET address_ids = ?", (stale,))
    writes = zoho.writes()
    assert run(magento, zoho, state, full=True).unchanged == 1 and zoho.writes() == writes
    assert state.links_for([1])[1].address_ids == a(12, STATE)  # learnt again: the same payload
    with state.transaction() as db:
        db.execute("UPDATE links SET address_ids = ?", (stale,))
    magento.customers[1] = ann(SHIPPING, updated=LATER)
    run(magento, zoho, state)
    assert None not in zoho.bodies[-1].values() and zoho.by_email("ann@example.com")[0]["Mailing_Zip"] == "10117"


def test_a_mandatory_field_is_never_cleared(state: StateStore) -> None:
    magento, zoho = FakeMagento([ann(SHIPPING, BILLING)]), RecordingZoho()
    mapper = AddressMapper(never_cleared=frozenset({"Phone"}))
    run(magento, zoho, state, mapper)
    magento.customers[1] = ann(SHIPPING, updated=LATER)
    run(magento, zoho, state, mapper)
    assert {field for field, value in zoho.bodies[-1].items() if value is None} == {"Mailing_Zip"}
    assert zoho.by_email("ann@example.com")[0]["Phone"] == BILLING["telephone"]


def _record(address_ids: str | None, payload: dict[str, Any], digest: str = "new") -> MappedRecord:
    return MappedRecord(1, "ann@example.com", "t", payload, digest, address_ids=address_ids)


FIELDS = {"address": ("Phone", "Mailing_City", "Mailing_Zip")}
SMALL = source_layout(FIELDS["address"]).tag  # bits: Mailing_City 1, Mailing_Zip 2, Phone 4


def _own(address_ids: str | None, digest: str = "old") -> Link:
    return Link(1, "ann@example.com", "t", "z1", digest, address_ids=address_ids)


@pytest.mark.parametrize(
    ("own", "decision", "digest", "cleared"),
    [
        (_own(f"a12~0.{SMALL}"), Decision(Action.UPDATE_BY_ID, "z1"), "new", ("Phone", "Mailing_Zip")),
        # the old address had no phone: the tool never sent one, Zoho's may be a sales rep's
        (_own(f"a12~4.{SMALL}"), Decision(Action.UPDATE_BY_ID, "z1"), "new", ("Mailing_Zip",)),
        # another contact (the one holding a new email, say): its fields never came from these addresses
        (_own(f"a12~0.{SMALL}"), Decision(Action.UPDATE_BY_ID, "z2"), "new", ()),
        (_own(f"a12~0.{SMALL}"), Decision(Action.UPSERT), "new", ()),
        # what Zoho acknowledged last (a contact whose email was edited in Zoho, written again): nothing to clear
        (_own(f"a12~0.{SMALL}", "new"), Decision(Action.UPDATE_BY_ID, "z1"), "new", ()),
        (_own(None), Decision(Action.UPDATE_BY_ID, "z1"), "new", ()),
        # the previous version's text, without markers: nothing proves what was sent
        (_own("a12"), Decision(Action.UPDATE_BY_ID, "z1"), "new", ()),
    ],
)
def test_only_an_update_of_the_customers_own_contact_with_another_payload_clears(
    own: Link, decision: Decision, digest: str, cleared: tuple[str, ...]
) -> None:
    record = _record(f"a13~6.{SMALL}", {"Email": "ann@example.com", "Mailing_City": "Paris"}, digest)
    assert cleared_fields(record, own, decision, FIELDS) == cleared
    assert cleared_fields(record, own, decision, FIELDS, {"Mailing_Zip"}) == tuple(
        field for field in cleared if field != "Mailing_Zip"
    )
