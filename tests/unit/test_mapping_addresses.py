"""The ids of the addresses the mapping reads, the markers of the fields each left out, and the fields cleared in Zoho
when a source reads another address: only those the tool filled from the old address."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sync.mapping import DEFAULT_LIMITS, MappedCustomer, map_customer
from magento_zoho_sync.mapping_addresses import (
    TABLE_BITS,
    decode_address_ids,
    encode_address_ids,
    fields_to_clear,
    marker,
    markers,
    source_layout,
    with_left_out,
)
from magento_zoho_sync.mapping_compile import plan_for
from magento_zoho_sync.mapping_config import DEFAULT_SPEC, MappingSpec, build_spec

ADDRESS_FIELDS = plan_for(DEFAULT_SPEC).address_fields["address"]
TAG = source_layout(ADDRESS_FIELDS).tag
# bit n of a marker stands for the n-th of the source's fields by name
CITY, COUNTRY, STATE, STREET, ZIP, PHONE = (1 << n for n in range(6))


def customer(*addresses: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": 1, "email": "ann@example.com", "lastname": "Lee", "addresses": list(addresses), **fields}


def mapped(data: dict[str, Any], spec: MappingSpec = DEFAULT_SPEC, limits: Any = DEFAULT_LIMITS) -> MappedCustomer:
    result = map_customer(data, spec, limits)
    assert isinstance(result, MappedCustomer)
    return result


def a(ident: int, left_out: int) -> str:
    """The text kept for the default mapping's source, read from address ``ident`` that left out these bits."""
    return f"a{ident}~{left_out:x}.{TAG}"


BILLING = {"id": 12, "city": "Berlin", "postcode": "10115", "telephone": "+49 30 1234", "default_billing": True}
SHIPPING = {"id": 13, "city": "Paris", "street": ["1 Rue X"], "default_shipping": True}


def test_the_default_mapping_reads_one_source_and_records_its_address_and_the_fields_it_left_out() -> None:
    assert plan_for(DEFAULT_SPEC).address_fields == {
        "address": ("Phone", "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country")
    }
    assert source_layout(ADDRESS_FIELDS).names == (
        "Mailing_City",
        "Mailing_Country",
        "Mailing_State",
        "Mailing_Street",
        "Mailing_Zip",
        "Phone",
    )
    # the default billing address: no street, state or country
    assert mapped(customer(SHIPPING, BILLING)).address_ids == a(12, STREET | STATE | COUNTRY) == f"a12~e.{TAG}"
    # else the default shipping one: no phone, state, zip or country
    assert mapped(customer(SHIPPING)).address_ids == a(13, PHONE | STATE | ZIP | COUNTRY)
    assert mapped(customer()).address_ids == "a-"  # no address at all: no marker (nothing of one is sent)
    assert mapped(customer({**SHIPPING, "id": " 14 "})).address_ids == a(14, PHONE | STATE | ZIP | COUNTRY)
    assert mapped(customer({"city": "Paris"})).address_ids is None  # no id: nothing can be told
    full = {**BILLING, "street": ["Main St 1"], "region": {"region": "Berlin"}, "country_id": "DE"}
    assert mapped(customer(full)).address_ids == a(12, 0)
    # an empty or blank value, or one a transform makes nothing of, is left out like a missing one
    blank = {**full, "telephone": "  ", "street": [], "region": {"region": None}}
    assert mapped(customer(blank)).address_ids == a(12, PHONE | STREET | STATE)


def test_each_source_a_mapping_reads_is_recorded_in_letter_order_with_its_own_marker() -> None:
    spec = build_spec({"Other_City": "shipping.city", "Description": "billing.street"})
    assert plan_for(spec).address_fields == {
        "address": ("Phone", "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip", "Mailing_Country"),
        "shipping": ("Other_City",),
        "billing": ("Description",),
    }
    b, s = source_layout(("Description",)).tag, source_layout(("Other_City",)).tag
    both = f"{a(12, STREET | STATE | COUNTRY)},b12~1.{b},s13~0.{s}"
    assert mapped(customer(SHIPPING, BILLING), spec).address_ids == both
    assert mapped(customer(SHIPPING), spec).address_ids == f"{a(13, PHONE | STATE | ZIP | COUNTRY)},b-,s13~0.{s}"
    assert mapped(customer(), spec).address_ids == "a-,b-,s-"
    assert mapped(customer({**BILLING, "id": "x"}, SHIPPING), spec).address_ids == f"s13~0.{s}"


def test_a_mapping_that_reads_no_address_records_none() -> None:
    spec = build_spec({"Email": "email", "Last_Name": "lastname"}, replace_defaults=True)
    assert plan_for(spec).address_fields == {}
    assert mapped(customer(BILLING), spec).address_ids is None


def test_a_value_cut_to_nothing_is_marked_left_out() -> None:
    """truncate_long_values takes a value out of the payload when nothing of it fits: it was not sent after all."""
    spec = build_spec(truncate_long_values=True)
    result = mapped(customer({**BILLING, "city": "\U0001f600 Berlin"}), spec, {**DEFAULT_LIMITS, "Mailing_City": 1})
    assert "Mailing_City" not in result.payload and result.truncated == ("Mailing_City",)
    assert result.address_ids == a(12, CITY | STREET | STATE | COUNTRY)
    assert with_left_out("a-", plan_for(spec).address_fields, ["Mailing_City"]) == "a-"
    assert with_left_out(f"a12~0.{TAG},s5", {"address": ADDRESS_FIELDS}, ["Phone"]) == f"{a(12, PHONE)},s5"
    assert with_left_out("a12", {"address": ADDRESS_FIELDS}, ["Phone"]) == "a12"  # no marker: still none


def test_the_marker_does_not_depend_on_the_order_of_the_rules_but_on_the_list_of_fields() -> None:
    assert source_layout(tuple(reversed(ADDRESS_FIELDS))) == source_layout(ADDRESS_FIELDS)
    assert source_layout((*ADDRESS_FIELDS, "Other_Phone")).tag != TAG
    assert source_layout(ADDRESS_FIELDS[1:]).tag != TAG
    assert len(TAG) == 4 and int(TAG, 16) >= 0


def test_a_source_with_many_fields_writes_its_markers_when_asked() -> None:
    names = tuple(f"F{n:02}" for n in range(TABLE_BITS + 1))
    table = markers(source_layout(names))
    assert not isinstance(table, tuple) and len(table) == 1 << len(names)
    assert table[5] == marker(5, source_layout(names).tag) and list(table[1:3]) == [table[1], table[2]]
    with pytest.raises(IndexError):
        table[1 << len(names)]
    assert isinstance(markers(source_layout(names[1:])), tuple)


def test_the_ids_text_reads_back() -> None:
    assert encode_address_ids(("a", "b", "s"), (12, None, "13")) == "a12,s13"
    assert encode_address_ids(("a", "s"), (12, " 13 "), ("~1.abcd", "~0.ef01")) == "a12~1.abcd,s13~0.ef01"
    assert decode_address_ids("a12,b-,s13") == {"address": "12", "billing": "-", "shipping": "13"}
    assert decode_address_ids("a12~1.abcd,b-,s13~0.ef01") == {"address": "12", "billing": "-", "shipping": "13"}
    assert decode_address_ids(None) == decode_address_ids("") == decode_address_ids("x1,a,a~1.abcd") == {}


PAYLOAD = {"Email": "ann@example.com", "Last_Name": "Lee", "Mailing_City": "Paris", "Mailing_Street": "1 Rue X"}
OTHER = source_layout(("Other_City",)).tag
FIELDS = {"address": ADDRESS_FIELDS, "shipping": ("Other_City",)}
EVERY_ADDRESS_FIELD = ("Phone", "Mailing_State", "Mailing_Zip", "Mailing_Country")  # those PAYLOAD leaves out


@pytest.mark.parametrize(
    ("remembered", "current", "cleared"),
    [
        # another address: what the old one filled and the new one leaves out is cleared, in the order of the rules
        (a(12, 0), a(13, 0), EVERY_ADDRESS_FIELD),
        # ... but not what the old one left out too: the tool never sent it, Zoho's value may be a sales rep's
        (a(12, PHONE | STATE), a(13, 0), ("Mailing_Zip", "Mailing_Country")),
        (a(12, PHONE | STATE | ZIP | COUNTRY), a(13, 0), ()),
        (a(12, CITY | STREET), a(13, 0), EVERY_ADDRESS_FIELD),  # filled now: sent, not cleared
        # no address any more: the same
        (a(12, PHONE), "a-", ("Mailing_State", "Mailing_Zip", "Mailing_Country")),
        (a(12, 0), a(12, PHONE), ()),  # the same address: never blank, as always
        (a(12, 0), "a12", ()),
        (None, a(13, 0), ()),  # nothing remembered (a new link, the state of a version before addresses)
        ("", a(13, 0), ()),
        ("a-", a(13, 0), ()),  # no address before: nothing of one was sent
        (a(12, 0), None, ()),  # the address now has no usable id: nothing can be told
        # a marker that proves nothing clears nothing: none (the previous version's text), another list of fields
        # (the mapping changed since), or a text that is not a marker
        ("a12", a(13, 0), ()),
        ("a12", "a13", ()),
        ("a12~0.ffff" if TAG != "ffff" else "a12~0.fffe", a(13, 0), ()),
        (f"a12~40.{TAG}", a(13, 0), ()),  # a bit past the source's fields
        (f"a12~.{TAG}", a(13, 0), ()),
        (f"a12~x.{TAG}", a(13, 0), ()),
        (f"a12~0{TAG}", a(13, 0), ()),
        ("a12~", a(13, 0), ()),
        # by source: only the one that changed, each by its own marker
        (f"s5~0.{OTHER}", f"{a(13, 0)},s6~1.{OTHER}", ("Other_City",)),
        (f"{a(12, 0)},s5~0.{OTHER}", f"{a(12, 0)},s6~1.{OTHER}", ("Other_City",)),
        (
            f"{a(12, PHONE)},s5~1.{OTHER}",
            f"{a(14, 0)},s6~1.{OTHER}",
            ("Mailing_State", "Mailing_Zip", "Mailing_Country"),
        ),
    ],
)
def test_fields_to_clear(remembered: str | None, current: str | None, cleared: tuple[str, ...]) -> None:
    assert fields_to_clear(remembered, current, FIELDS, PAYLOAD) == cleared


def test_a_field_the_org_makes_mandatory_is_never_cleared() -> None:
    assert fields_to_clear(a(12, 0), a(13, 0), FIELDS, PAYLOAD, never={"Phone", "Mailing_Zip"}) == (
        "Mailing_State",
        "Mailing_Country",
    )


def test_the_markers_read_against_every_field_of_the_source_in_any_rule_order() -> None:
    """The layout is that of every field mapped from the source, sorted: the rules' order only orders the result."""
    fields = {"address": tuple(reversed(ADDRESS_FIELDS))}
    assert fields_to_clear(a(12, PHONE), a(13, 0), fields, PAYLOAD) == (
        "Mailing_Country",
        "Mailing_Zip",
        "Mailing_State",
    )
    # the same names but one fewer (a rule dropped since): the marker was written under another list
    assert fields_to_clear(a(12, 0), a(13, 0), {"address": ADDRESS_FIELDS[1:]}, PAYLOAD) == ()


def test_a_switch_of_address_in_the_mapping_clears_only_what_the_old_address_filled() -> None:
    """End to end through the mapping: the old address had no phone (a rep may have typed one in Zoho), the new one
    neither: the phone is kept; the old one's zip, which the new one lacks, is cleared."""
    no_phone = {**BILLING, "telephone": None}
    old = mapped(customer(SHIPPING, no_phone))
    new = mapped(customer(SHIPPING))
    assert fields_to_clear(old.address_ids, new.address_ids, plan_for(DEFAULT_SPEC).address_fields, new.payload) == (
        "Mailing_Zip",
    )
