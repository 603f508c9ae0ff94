"""Mapping: address choice, empty values, streets, countries, limits, error codes, configurable paths, merges."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from magento_zoho_sync.mapping import (
    DEFAULT_LIMITS,
    ERROR_CODES,
    MappedCustomer,
    MappingFailure,
    Merge,
    limits_from_fields,
    main_address,
    map_customer,
    merge_by_email,
    normalise_email,
    payload_hash,
    truncate,
    zoho_length,
)
from magento_zoho_sync.mapping_config import DEFAULT_SPEC, MappingConfigError, MappingSpec, build_spec


def address(address_id: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": address_id,
        "customer_id": 42,
        "region": {"region_code": "NJ", "region": "New Jersey", "region_id": 41},
        "region_id": 41,
        "country_id": "US",
        "street": [f"{address_id} Main St"],
        "telephone": f"555-{address_id:04d}",
        "postcode": "07030",
        "city": f"City{address_id}",
        "firstname": "Jane",
        "lastname": "Doe",
    }
    base.update(fields)
    return base


def customer(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 42,
        "group_id": 1,
        "created_at": "2023-05-01 09:12:44",
        "updated_at": "2024-02-10 18:03:11",
        "email": "jane@example.com",
        "firstname": "Jane",
        "lastname": "Doe",
        "store_id": 1,
        "website_id": 1,
        "addresses": [],
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": False},
    }
    base.update(fields)
    return base


def ok(result: MappedCustomer | MappingFailure) -> MappedCustomer:
    assert isinstance(result, MappedCustomer), result
    return result


def failed(result: MappedCustomer | MappingFailure, code: str) -> MappingFailure:
    assert isinstance(result, MappingFailure), result
    assert result.code == code, result
    return result


# ---- the default mapping --------------------------------------------------------------------------------------


def test_full_default_mapping() -> None:
    c = customer(
        default_billing="17",
        addresses=[address(17, default_billing=True, default_shipping=True, street=["1 Main St", "Apt 2"])],
    )
    mapped = ok(map_customer(c, DEFAULT_SPEC, DEFAULT_LIMITS))
    assert mapped.payload == {
        "Email": "jane@example.com",
        "First_Name": "Jane",
        "Last_Name": "Doe",
        "Phone": "555-0017",
        "Mailing_Street": "1 Main St, Apt 2",
        "Mailing_City": "City17",
        "Mailing_State": "New Jersey",
        "Mailing_Zip": "07030",
        "Mailing_Country": "United States",
    }
    assert (mapped.customer_id, mapped.email_norm, mapped.website_id) == (42, "jane@example.com", 1)
    assert mapped.updated_at == "2024-02-10 18:03:11"
    assert mapped.truncated == ()


def test_default_billing_is_used_even_when_not_first() -> None:
    c = customer(default_billing="18", addresses=[address(17), address(18), address(19)])
    assert ok(map_customer(c)).payload["Mailing_City"] == "City18"


def test_default_billing_flag_on_address_without_customer_reference() -> None:
    c = customer(addresses=[address(17), address(18, default_billing=True)])
    assert ok(map_customer(c)).payload["Mailing_City"] == "City18"


def test_default_billing_reference_as_int_is_tolerated() -> None:
    c = customer(default_billing=19, addresses=[address(17), address(19)])
    assert ok(map_customer(c)).payload["Mailing_City"] == "City19"


def test_fallback_to_default_shipping_then_first() -> None:
    c = customer(default_shipping="18", addresses=[address(17), address(18)])
    assert ok(map_customer(c)).payload["Mailing_City"] == "City18"
    c = customer(addresses=[address(17), address(18, default_shipping=True)])
    assert ok(map_customer(c)).payload["Mailing_City"] == "City18"
    c = customer(default_billing="99", addresses=[address(17), address(18)])  # dangling reference
    assert ok(map_customer(c)).payload["Mailing_City"] == "City17"


def test_no_address_means_no_address_fields() -> None:
    payload = ok(map_customer(customer(addresses=[]))).payload
    assert set(payload) == {"Email", "First_Name", "Last_Name"}
    payload = ok(map_customer(customer(addresses=None))).payload
    assert set(payload) == {"Email", "First_Name", "Last_Name"}


def test_all_fields_come_from_one_address() -> None:
    c = customer(default_billing="18", addresses=[address(17), address(18, city="", telephone=None)])
    payload = ok(map_customer(c)).payload
    assert "Mailing_City" not in payload  # not borrowed from address 17
    assert "Phone" not in payload
    assert payload["Mailing_Street"] == "18 Main St"


def test_empty_and_missing_values_are_left_out() -> None:
    a = address(17, street=["", "  "], city="   ", postcode="", telephone=None, country_id="")
    a["region"] = {"region_code": None, "region": None, "region_id": 0}
    c = customer(firstname="  ", default_billing="17", addresses=[a])
    payload = ok(map_customer(c)).payload
    assert payload == {"Email": "jane@example.com", "Last_Name": "Doe"}
    assert "" not in payload.values()


def test_street_lines_are_text_or_numbers_never_a_yes_no_or_an_object() -> None:
    a = address(17, street=[True, "12 High Street", {"x": 1}, 7, ["nested"], False])
    record = map_customer(customer(addresses=[a]))
    assert isinstance(record, MappedCustomer) and record.payload["Mailing_Street"] == "12 High Street, 7"


@pytest.mark.parametrize(("given", "expected"), [("0000000000000000042", 42), ("9223372036854775807", 2**63 - 1)])
def test_an_id_the_magento_client_takes_is_the_id_the_mapping_reads(given: str, expected: int) -> None:
    """Up to 19 digits and at most 2**63 - 1, as the client checks (an id it takes must never map to "no id")."""
    record = map_customer(customer(id=given))
    assert isinstance(record, MappedCustomer) and record.customer_id == expected
    failure = map_customer(customer(id="9223372036854775808"))
    assert isinstance(failure, MappingFailure) and failure.code == "MAPPING_ERROR"


def test_multi_line_street_all_lines_in_order() -> None:
    a = address(17, street=["Flat 3", "  12 High Street ", "", "Building B"])
    payload = ok(map_customer(customer(addresses=[a]))).payload
    assert payload["Mailing_Street"] == "Flat 3, 12 High Street, Building B"


def test_quotes_backslashes_and_unicode_preserved() -> None:
    a = address(17, street=['2 "Quoted" Rd', "C:\\Path\\Lane"], city="Zürich", postcode="8001")
    c = customer(firstname='O\'Brien "Jo"', lastname="Müller-Łukasz 山田 \\ 🎉", addresses=[a])
    payload = ok(map_customer(c)).payload
    assert payload["First_Name"] == 'O\'Brien "Jo"'
    assert payload["Last_Name"] == "Müller-Łukasz 山田 \\ 🎉"
    assert payload["Mailing_Street"] == '2 "Quoted" Rd, C:\\Path\\Lane'
    assert payload["Mailing_City"] == "Zürich"


@pytest.mark.parametrize(
    ("code", "name"),
    [("DE", "Germany"), ("gb", "United Kingdom"), ("US", "United States"), ("XK", "Kosovo"), ("ZZ", "ZZ")],
)
def test_country_names(code: str, name: str) -> None:
    payload = ok(map_customer(customer(addresses=[address(17, country_id=code)]))).payload
    assert payload["Mailing_Country"] == name


def test_email_trimmed_and_lowercased() -> None:
    mapped = ok(map_customer(customer(email="  Jane.Doe+Shop@Example.COM ")))
    assert mapped.email_norm == "jane.doe+shop@example.com"
    assert mapped.payload["Email"] == "jane.doe+shop@example.com"
    assert normalise_email(" A@B.C ") == "a@b.c"


def test_input_is_not_mutated() -> None:
    c = customer(addresses=[address(17, street=["a", "b"])])
    before = copy.deepcopy(c)
    map_customer(c)
    assert c == before


# ---- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_missing_email(email: str | None) -> None:
    c = customer(email=email)
    failure = failed(map_customer(c), "MISSING_EMAIL")
    assert failure.customer_id == 42
    assert failure.email is None
    assert failure.field == "Email"


@pytest.mark.parametrize(
    "email",
    [
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "ja ne@example.com",
        "a@@b.com",
        "a..b@example.com",
        # refused by Zoho (INVALID_DATA) after a credit was spent on them, run after run until parked
        "jane@-example.com",
        "jane@example-.com",
        "jane@mail.example.-com",
        "ja\x07ne@example.com",
        "jane\x00@example.com",
        "jane@exam\x1bple.com",
        "jane\x85@example.com",
    ],
)
def test_invalid_email(email: str) -> None:
    failure = failed(map_customer(customer(email=email)), "INVALID_EMAIL")
    assert failure.email == normalise_email(email)
    assert "not valid" in failure.message


@pytest.mark.parametrize(
    "email",
    [
        "jane@example.com",
        "o'neil@example.co.uk",
        "δοκιμή@παράδειγμα.δοκιμή",
        "a@xn--p1ai.xn--p1ai",
        "a-b@ex-am-ple.co-op.com",
    ],
)
def test_valid_emails(email: str) -> None:
    ok(map_customer(customer(email=email)))


@pytest.mark.parametrize("lastname", [None, "", "  "])
def test_missing_last_name(lastname: str | None) -> None:
    failure = failed(map_customer(customer(lastname=lastname)), "MISSING_LAST_NAME")
    assert failure.email == "jane@example.com"


def test_value_too_long_is_an_error_naming_field_and_limit() -> None:
    c = customer(firstname="F" * 41)
    failure = failed(map_customer(c), "VALUE_TOO_LONG")
    assert failure.field == "First_Name"
    assert "First_Name has 41 characters, Zoho allows 40" in failure.message
    assert "truncate_long_values" in failure.message
    assert ok(map_customer(customer(firstname="F" * 40))).payload["First_Name"] == "F" * 40


def test_value_too_long_lists_every_long_field() -> None:
    c = customer(firstname="F" * 50, addresses=[address(17, street=["S" * 300])])
    failure = failed(map_customer(c), "VALUE_TOO_LONG")
    assert "First_Name has 50" in failure.message
    assert "Mailing_Street has 300 characters, Zoho allows 250" in failure.message


def test_truncation_when_configured() -> None:
    spec = build_spec(truncate_long_values=True)
    c = customer(firstname="F" * 39 + " tail", addresses=[address(17, street=["S" * 300])])
    mapped = ok(map_customer(c, spec, DEFAULT_LIMITS))
    assert mapped.payload["First_Name"] == "F" * 39  # cut at 40 then trailing space dropped
    assert len(mapped.payload["Mailing_Street"]) == 250
    assert set(mapped.truncated) == {"First_Name", "Mailing_Street"}


def test_email_is_never_truncated() -> None:
    spec = build_spec(truncate_long_values=True)
    email = "a" * 60 + "@" + "b" * 60 + ".com"
    failure = failed(map_customer(customer(email=email), spec, DEFAULT_LIMITS), "VALUE_TOO_LONG")
    assert failure.field == "Email"
    assert "truncate_long_values" not in failure.message


def test_limits_from_zoho_metadata_override_defaults() -> None:
    class Meta:
        def __init__(self, api_name: str, length: int | None) -> None:
            self.api_name, self.length = api_name, length

    limits = limits_from_fields([Meta("First_Name", 10), {"api_name": "Nickname", "length": 5}, Meta("Phone", None)])
    assert limits["First_Name"] == 10
    assert limits["Nickname"] == 5
    assert limits["Phone"] == DEFAULT_LIMITS["Phone"]
    failed(map_customer(customer(firstname="Jane Janine"), DEFAULT_SPEC, limits), "VALUE_TOO_LONG")


def test_utf16_length_and_safe_truncation() -> None:
    assert zoho_length("🎉") == 2
    assert truncate("ab🎉cd", 3) == "ab"
    assert truncate("abc", 5) == "abc"
    spec = build_spec(truncate_long_values=True)
    failed(map_customer(customer(firstname="🎉" * 21)), "VALUE_TOO_LONG")
    assert ok(map_customer(customer(firstname="🎉" * 21), spec, DEFAULT_LIMITS)).payload["First_Name"] == "🎉" * 20


def test_customer_without_id_is_a_mapping_error() -> None:
    failure = failed(map_customer({"email": "a@example.com", "lastname": "X"}), "MAPPING_ERROR")
    assert failure.customer_id == 0
    assert map_customer(customer(id="77")).customer_id == 77


def test_error_codes_are_the_documented_ones() -> None:
    assert ERROR_CODES == ("MISSING_EMAIL", "INVALID_EMAIL", "MISSING_LAST_NAME", "VALUE_TOO_LONG", "MAPPING_ERROR")


# ---- configurable mapping -------------------------------------------------------------------------------------


def spec_with(**fields: Any) -> MappingSpec:
    return build_spec(fields)


def test_custom_attribute_and_extension_attribute_paths() -> None:
    spec = spec_with(
        Loyalty_Tier="custom_attributes.loyalty_tier | uppercase",
        Email_Opt_Out={"path": "extension_attributes.is_subscribed", "transforms": ["bool_to_opt_out"]},
        Newsletter="extension_attributes.is_subscribed",
    )
    c = customer(custom_attributes=[{"attribute_code": "loyalty_tier", "value": "gold"}])
    c["extension_attributes"] = {"is_subscribed": True}
    payload = ok(map_customer(c, spec, DEFAULT_LIMITS)).payload
    assert payload["Loyalty_Tier"] == "GOLD"
    assert payload["Email_Opt_Out"] is False
    assert payload["Newsletter"] is True
    bare = ok(map_customer(customer(extension_attributes=None), spec, DEFAULT_LIMITS)).payload
    assert "Loyalty_Tier" not in bare
    assert "Email_Opt_Out" not in bare


def test_address_custom_attribute_and_billing_shipping_roots() -> None:
    spec = spec_with(
        Other_City="shipping.city",
        Billing_Only_City="billing.city",
        Delivery_Notes="address.custom_attributes.delivery_notes",
        Mailing_State="address.region.region_code",
    )
    a17 = address(17, custom_attributes=[{"attribute_code": "delivery_notes", "value": "Back door"}])
    c = customer(default_billing="17", default_shipping="18", addresses=[a17, address(18)])
    payload = ok(map_customer(c, spec, DEFAULT_LIMITS)).payload
    assert payload["Other_City"] == "City18"
    assert payload["Billing_Only_City"] == "City17"
    assert payload["Delivery_Notes"] == "Back door"
    assert payload["Mailing_State"] == "NJ"
    no_billing = customer(addresses=[address(17)])
    assert "Billing_Only_City" not in ok(map_customer(no_billing, spec, DEFAULT_LIMITS)).payload


def test_transforms() -> None:
    spec = spec_with(
        Lead_Source="constant:Magento store",
        Mailing_Street="address.street | join_newlines",
        Description="middlename | default:n/a",
        Title="prefix | lowercase",
        Is_VIP="custom_attributes.vip | bool",
        Not_VIP="custom_attributes.vip | negate",
    )
    c = customer(prefix="DR.", addresses=[address(17, street=["a", "b"])])
    c["custom_attributes"] = [{"attribute_code": "vip", "value": "1"}]
    payload = ok(map_customer(c, spec, DEFAULT_LIMITS)).payload
    assert payload["Lead_Source"] == "Magento store"
    assert payload["Mailing_Street"] == "a\nb"
    assert payload["Description"] == "n/a"
    assert payload["Title"] == "dr."
    assert payload["Is_VIP"] is True
    assert payload["Not_VIP"] is False


def test_transform_failure_is_a_mapping_error() -> None:
    spec = spec_with(Is_VIP="custom_attributes.vip | bool")
    c = customer(custom_attributes=[{"attribute_code": "vip", "value": "perhaps"}])
    failure = failed(map_customer(c, spec, DEFAULT_LIMITS), "MAPPING_ERROR")
    assert failure.field == "Is_VIP"
    assert "transform bool" in failure.message


def test_object_value_is_a_mapping_error() -> None:
    # a path the settings cannot know to hold an object (address.region is refused when they load)
    c = customer(custom_attributes=[{"attribute_code": "prefs", "value": {"channel": "email"}}])
    failure = failed(map_customer(c, spec_with(Prefs="custom_attributes.prefs")), "MAPPING_ERROR")
    assert "is an object" in failure.message


def test_numbers_become_text_and_lists_are_joined() -> None:
    spec = spec_with(Gender="gender", Street_Raw="address.street")
    payload = ok(map_customer(customer(gender=2, addresses=[address(17, street=["x", "y"])]), spec)).payload
    assert payload["Gender"] == "2"
    assert payload["Street_Raw"] == "x, y"


def test_field_removal_and_replace_defaults() -> None:
    spec = build_spec({"Phone": False})
    assert spec.rule("Phone") is None
    assert "Phone" not in ok(map_customer(customer(addresses=[address(17)]), spec)).payload
    only = build_spec({"Email": "email", "Last_Name": "lastname"}, replace_defaults=True)
    assert set(ok(map_customer(customer(addresses=[address(17)]), only)).payload) == {"Email", "Last_Name"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Phone", "address.telephone | shout", "unknown transform 'shout'"),
        ("Phone", "address", "names no address field"),
        ("Phone", "address..city", "malformed Magento path"),
        ("Phone", "custom_attributes", "needs an attribute code"),
        ("Phone", "custom_attributes.a.b", "nothing can follow"),
        ("Phone", "first name", "malformed Magento path"),
        ("Phone", "email | constant", "needs a value"),
        ("Phone", "email | lowercase:x", "unknown transform 'lowercase'"),
        ("Phone", 12, "expected"),
        ("Phone", {"path": "email", "transform": 3}, "transforms must be a list"),
        ("Phone", {"paht": "email"}, "unknown key(s) paht"),
        ("Phone", {"transforms": ["lowercase"]}, "needs a Magento path or a constant"),
        ("Bad-Name", "email", "is not a Zoho field API name"),
        ("Last_Name", False, "Last_Name must be mapped"),
    ],
)
def test_bad_mapping_entries(field: str, value: Any, message: str) -> None:
    with pytest.raises(MappingConfigError) as info:
        build_spec({field: value})
    assert message in str(info.value)
    assert str(info.value).startswith("[mapping.fields]")


# ---- hash and merges ------------------------------------------------------------------------------------------


def test_payload_hash_is_stable_and_sensitive() -> None:
    a = {"Email": "a@b.co", "Last_Name": 'Ünï "q"'}
    b = {"Last_Name": 'Ünï "q"', "Email": "a@b.co"}
    assert payload_hash(a) == payload_hash(b)
    assert len(payload_hash(a)) == 64
    assert payload_hash(a) != payload_hash({**a, "Last_Name": "Uni"})
    assert payload_hash({"X": True}) != payload_hash({"X": "true"})


def mc(customer_id: int, email: str, updated_at: str | None) -> MappedCustomer:
    return MappedCustomer(customer_id, email, {"Email": email, "Last_Name": str(customer_id)}, 1, updated_at)


def test_merge_by_email_most_recent_wins() -> None:
    items = [
        mc(1, "a@x.com", "2024-01-01 00:00:00"),
        mc(2, "b@x.com", "2024-01-01 00:00:00"),
        mc(3, "a@x.com", "2024-06-01 00:00:00"),
        mc(4, "a@x.com", "2024-03-01 00:00:00"),
    ]
    winners, merges = merge_by_email(items)
    assert [w.customer_id for w in winners] == [3, 2]
    assert merges == [Merge(3, 1, "a@x.com"), Merge(3, 4, "a@x.com")]


def test_merge_tie_goes_to_higher_id_and_missing_date_loses() -> None:
    winners, merges = merge_by_email([mc(9, "a@x.com", "2024-01-01 00:00:00"), mc(5, "a@x.com", "2024-01-01 00:00:00")])
    assert [w.customer_id for w in winners] == [9]
    assert merges == [Merge(9, 5, "a@x.com")]
    winners, _ = merge_by_email([mc(9, "a@x.com", None), mc(5, "a@x.com", "2020-01-01 00:00:00")])
    assert winners[0].customer_id == 5


def test_merge_nothing_to_merge() -> None:
    items = [mc(1, "a@x.com", None), mc(2, "b@x.com", None)]
    assert merge_by_email(items) == (items, [])
    assert merge_by_email([]) == ([], [])


def test_main_address_helper() -> None:
    assert main_address(customer()) is None
    assert main_address({"addresses": ["junk", address(5)]}) == address(5)


def test_lone_surrogates_from_json_do_not_crash() -> None:
    c = customer(firstname="Bad \ud83d half")  # json.loads accepts a lone "\ud83d" escape
    mapped = ok(map_customer(c))
    assert mapped.payload["First_Name"] == "Bad \ud83d half"
    assert len(payload_hash(mapped.payload)) == 64


def test_an_email_with_a_lone_surrogate_is_invalid() -> None:
    """Such text cannot be stored as UTF-8 (nor by the state): the customer fails instead of the run."""
    result = map_customer({"id": 7, "email": "ann\ud800@example.com", "lastname": "Lee"})
    assert isinstance(result, MappingFailure)
    assert result.code == "INVALID_EMAIL"


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_yes_no_value_is_left_out_not_sent_as_no(empty: str | None) -> None:
    spec = spec_with(
        Is_VIP="custom_attributes.vip | bool",
        Not_VIP="custom_attributes.vip | negate",
        Email_Opt_Out="custom_attributes.vip | bool_to_opt_out",
    )
    c = customer(custom_attributes=[{"attribute_code": "vip", "value": empty}])
    payload = ok(map_customer(c, spec, DEFAULT_LIMITS)).payload
    assert not {"Is_VIP", "Not_VIP", "Email_Opt_Out"} & set(payload)


def test_number_date_and_datetime_transforms() -> None:
    spec = spec_with(
        Loyalty_Points="custom_attributes.points | number",
        Discount="custom_attributes.discount | number",
        Group="group_id | number",
        Customer_Since="created_at | date",
        First_Seen="created_at | datetime",
        Birthday="dob | date",
    )
    c = customer(dob="1984-07-09")
    c["custom_attributes"] = [
        {"attribute_code": "points", "value": " 1200 "},
        {"attribute_code": "discount", "value": "7.5"},
    ]
    mapped = ok(map_customer(c, spec, DEFAULT_LIMITS))
    payload = mapped.payload
    assert payload["Loyalty_Points"] == 1200 and type(payload["Loyalty_Points"]) is int  # a JSON number, not "1200"
    assert payload["Discount"] == 7.5
    assert payload["Group"] == 1  # Magento's number kept as a number (without the transform it is sent as "1")
    assert payload["Customer_Since"] == "2023-05-01"
    assert payload["First_Seen"] == "2023-05-01T09:12:44+00:00"  # Magento's times are UTC; Zoho needs an offset
    assert payload["Birthday"] == "1984-07-09"
    assert payload_hash(payload) != payload_hash({**payload, "Loyalty_Points": "1200"})  # a number is not its text


@pytest.mark.parametrize(
    ("transform", "value", "sent"),
    [
        ("number", "-3", -3),
        ("number", 12, 12),
        ("number", "0.25", 0.25),
        ("date", "2024-02-29T23:59:59+05:30", "2024-02-29"),
        ("datetime", "2024-02-29T23:59:59+05:30", "2024-02-29T23:59:59+05:30"),
        ("datetime", "2024-02-29", "2024-02-29T00:00:00+00:00"),
        ("datetime", "2024-02-29 23:59:59.123456", "2024-02-29T23:59:59+00:00"),
    ],
)
def test_typed_transforms_read_what_magento_and_people_write(transform: str, value: Any, sent: Any) -> None:
    c = customer(custom_attributes=[{"attribute_code": "x", "value": value}])
    assert ok(map_customer(c, spec_with(Custom_X=f"custom_attributes.x | {transform}"))).payload["Custom_X"] == sent


@pytest.mark.parametrize("transform", ["number", "date", "datetime"])
@pytest.mark.parametrize("empty", ["", "  ", None])
def test_typed_transforms_leave_an_empty_value_out(transform: str, empty: str | None) -> None:
    c = customer(custom_attributes=[{"attribute_code": "x", "value": empty}])
    assert "Custom_X" not in ok(map_customer(c, spec_with(Custom_X=f"custom_attributes.x | {transform}"))).payload


@pytest.mark.parametrize(
    ("transform", "value", "said"),
    [
        ("number", "12 apples", "is not a number"),
        ("number", "nan", "is not a number"),
        ("number", "1e3", "is not a number"),
        ("number", "1_000", "is not a number"),
        ("number", "1,5", "is not a number"),
        ("number", "١٢", "is not a number"),  # digits of another script
        ("date", "2024-W09", "is not a date"),
        ("date", "20240301", "is not a date"),
        ("number", True, "is a yes/no value"),
        ("date", "01/02/2024", "is not a date"),
        ("date", "2024-02-30", "is not a date"),
        ("datetime", "yesterday", "is not a date and time"),
    ],
)
def test_a_value_a_typed_transform_cannot_read_fails_that_customer(transform: str, value: Any, said: str) -> None:
    c = customer(custom_attributes=[{"attribute_code": "x", "value": value}])
    failure = failed(map_customer(c, spec_with(Custom_X=f"custom_attributes.x | {transform}")), "MAPPING_ERROR")
    assert failure.field == "Custom_X"
    assert f"transform {transform} failed" in failure.message and said in failure.message


@pytest.mark.parametrize(
    ("code", "sent"), [(1, "Male"), ("2", "Female"), (3, "Not Specified"), (0, None), (None, None)]
)
def test_gender_codes_become_magentos_labels(code: Any, sent: str | None) -> None:
    payload = ok(map_customer(customer(gender=code), spec_with(Gender="gender | gender"))).payload
    assert payload.get("Gender") == sent


def test_an_unknown_gender_code_fails_that_customer() -> None:
    failure = failed(map_customer(customer(gender=7), spec_with(Gender="gender | gender")), "MAPPING_ERROR")
    assert "transform gender failed" in failure.message and "gender codes (1, 2, 3)" in failure.message


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("address.region", "address.region.region for the name"),
        ("billing.region", "is an object"),
        ("addresses", "is a list of addresses"),
        ("extension_attributes", "extension_attributes.is_subscribed"),
    ],
)
def test_a_path_to_an_object_is_refused_when_the_settings_load(path: str, said: str) -> None:
    with pytest.raises(MappingConfigError) as info:
        build_spec({"Title": path})
    assert said in str(info.value) and "[mapping.fields] Title" in str(info.value)


def test_a_list_of_labels_hashes_by_its_labels_and_their_order() -> None:
    """option_labels sends its labels in the attribute's option order, so one set of options is one list; the
    list's order is part of the hash, as it is part of what Zoho receives."""
    payload = {"Email": "a@b.co", "Last_Name": "Lee", "Interests": ["Cycling, road", "Swimming"]}
    assert payload_hash(payload) == payload_hash({"Interests": ["Cycling, road", "Swimming"], **payload})
    assert payload_hash(payload) == payload_hash(copy.deepcopy(payload))
    assert payload_hash(payload) != payload_hash({**payload, "Interests": ["Swimming", "Cycling, road"]})
    assert payload_hash(payload) != payload_hash({**payload, "Interests": "Cycling, road, Swimming"})  # not text
    assert payload_hash(payload) != payload_hash({**payload, "Interests": ["Cycling", "road", "Swimming"]})


def test_value_too_long_gives_the_count_as_written_when_zoho_counts_otherwise() -> None:
    # 30 emoji are 60 UTF-16 units, Zoho's count: "60 characters" alone reads as a miscount to whoever counts 30
    failure = failed(map_customer(customer(firstname="😀" * 30)), "VALUE_TOO_LONG")
    assert "First_Name has 60 characters as Zoho counts them (30 as written: an emoji counts 2), Zoho allows 40" in (
        failure.message
    )


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: three emoji joined, one sign (8 UTF-16 units)


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("Ann " + FAMILY, 8, "Ann"),  # not "Ann 👨‍" (a man and a dangling joiner)
        ("Ann " + FAMILY, 10, "Ann"),  # not "Ann 👨‍👩‍"
        ("Ann " + FAMILY, 12, "Ann " + FAMILY),
        ("Zoe\u0308", 3, "Zo"),  # a decomposed "ë" keeps its dots or goes whole
        ("Flags \U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7", 12, "Flags \U0001f1e9\U0001f1ea"),  # 🇩🇪 kept, not half 🇫🇷
        ("Flags \U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7", 9, "Flags"),
        ("Hi \U0001f44d\U0001f3fd", 5, "Hi"),  # 👍 without its skin tone would be another sign
        ("Hi \u2764\ufe0f", 4, "Hi"),  # ❤️ without its variation selector
    ],
)
def test_truncate_never_cuts_inside_what_shows_as_one_character(text: str, limit: int, cut: str) -> None:
    assert truncate(text, limit) == cut


def test_truncation_of_a_name_ending_in_an_emoji_sequence() -> None:
    spec = build_spec(truncate_long_values=True)
    mapped = ok(map_customer(customer(firstname="F" * 36 + " " + FAMILY), spec))
    assert mapped.payload["First_Name"] == "F" * 36
    assert mapped.truncated == ("First_Name",)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1,234", "'1,234'"), ("12 apples", "'12 apples'"), ("9" * 80 + "x", "'" + "9" * 58 + "…")],
)
def test_a_transform_failure_shows_the_magento_value(value: str, shown: str) -> None:
    # "transform number failed on the Magento value (is not a number)" left whoever fixes it in Magento guessing
    spec = build_spec({"Description": "custom_attributes.points | number"})
    c = customer(custom_attributes=[{"attribute_code": "points", "value": value}])
    failure = failed(map_customer(c, spec), "MAPPING_ERROR")
    assert failure.message == (
        f"Description: transform number failed on the Magento value {shown}"
        " (is not a number (digits, and a point for decimals))"
    )
