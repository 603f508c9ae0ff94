"""The ids of the addresses the mapping reads, and the fields cleared in Zoho when a source reads another address."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sync.mapping import MappedCustomer, map_customer
from magento_zoho_sync.mapping_addresses import decode_address_ids, encode_address_ids, fields_to_clear
from magento_zoho_sync.mapping_compile import plan_for
from magento_zoho_sync.mapping_config import DEFAULT_SPEC, build_spec

ADDRESS_FIELDS = plan_for(DEFAULT_SPEC).address_fields["address"]


def customer(*addresses: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": 1, "email": "ann@example.com", "lastname": "Lee", "addresses": list(addresses), **fields}


def mapped(data: dict[str, Any], spec: Any = DEFAULT_SPEC) -> MappedCustomer:
    result = map_customer(data, spec)
    assert isinstance(result, MappedCustomer)
    return result


BILLING = {"id": 12, "city": "Berlin", "postcode": "10115", "telephone": "+49 30 1234", "default_billing": True}
SHIPPING = {"id": 13, "city": "Paris", "street": ["1 Rue X"], "default_shipping": True}


def test_the_default_mapping_reads_one_source_and_records_the_id_of_its_address() -> None:
    assert plan_for(DEFAULT_SPEC).address_fields == {
        "address": ("Phone", "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country")
    }
    assert mapped(customer(SHIPPING, BILLING)).address_ids == "a12"  # the default billing address
    assert mapped(customer(SHIPPING)).address_ids == "a13"  # else the default shipping one
    assert mapped(customer()).address_ids == "a-"  # no address at all
    assert mapped(customer({**SHIPPING, "id": " 14 "})).address_ids == "a14"  # an id in digits
    assert mapped(customer({"city": "Paris"})).address_ids is None  # no id: nothing can be told


def test_each_source_a_mapping_reads_is_recorded_in_letter_order() -> None:
    spec = build_spec({"Other_City": "shipping.city", "Description": "billing.street"})
    assert plan_for(spec).address_fields == {
        "address": ("Phone", "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country"),
        "shipping": ("Other_City",),
        "billing": ("Description",),
    }
    assert mapped(customer(SHIPPING, BILLING), spec).address_ids == "a12,b12,s13"
    assert mapped(customer(SHIPPING), spec).address_ids == "a13,b-,s13"
    assert mapped(customer(), spec).address_ids == "a-,b-,s-"
    assert mapped(customer({**BILLING, "id": "x"}, SHIPPING), spec).address_ids == "s13"


def test_a_mapping_that_reads_no_address_records_none() -> None:
    spec = build_spec({"Email": "email", "Last_Name": "lastname"}, replace_defaults=True)
    assert plan_for(spec).address_fields == {}
    assert mapped(customer(BILLING), spec).address_ids is None


def test_the_ids_text_reads_back() -> None:
    assert encode_address_ids(("a", "b", "s"), (12, None, "13")) == "a12,s13"
    assert decode_address_ids("a12,b-,s13") == {"address": "12", "billing": "-", "shipping": "13"}
    assert decode_address_ids(None) == decode_address_ids("") == decode_address_ids("x1,a") == {}


PAYLOAD = {"Email": "ann@example.com", "Last_Name": "Lee", "Mailing_City": "Paris", "Mailing_Street": "1 Rue X"}
FIELDS = {"address": ADDRESS_FIELDS, "shipping": ("Other_City",)}


@pytest.mark.parametrize(
    ("remembered", "current", "cleared"),
    [
        # another address: what it leaves out is cleared, in the order of the rules
        ("a12", "a13", ("Phone", "Mailing_State", "Mailing_Zip", "Mailing_Country")),
        # no address any more: the same
        ("a12", "a-", ("Phone", "Mailing_State", "Mailing_Zip", "Mailing_Country")),
        ("a12", "a12", ()),  # the same address: never blank, as always
        (None, "a13", ()),  # nothing remembered (an earlier version's state, a new link)
        ("", "a13", ()),
        ("a-", "a13", ()),  # no address before: nothing of one was sent
        ("a12", None, ()),  # the address now has no usable id: nothing can be told
        ("s5", "a13,s6", ("Other_City",)),  # by source: only the one that changed
        ("a12,s5", "a12,s6", ("Other_City",)),
    ],
)
def test_fields_to_clear(remembered: str | None, current: str | None, cleared: tuple[str, ...]) -> None:
    assert fields_to_clear(remembered, current, FIELDS, PAYLOAD) == cleared
