"""Property tests: mapping is total, payloads never carry empty strings, hashes ignore key order, merges are sound."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from magento_zoho_sync.mapping import (
    DEFAULT_LIMITS,
    ERROR_CODES,
    MappedCustomer,
    MappingFailure,
    map_customer,
    merge_by_email,
    payload_hash,
    zoho_length,
)
from magento_zoho_sync.mapping_config import build_spec

json_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_value = st.recursive(
    json_scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
any_chars = st.text(st.characters(exclude_categories=()), max_size=10)  # lone surrogates too, as JSON allows
maybe_text = st.none() | st.text(max_size=120) | any_chars | st.sampled_from(["", "  ", 'O\'Brien "x" \\ 🎉', "\n"])
emails = st.emails() | maybe_text | st.sampled_from(["A@B.COM ", " x@y.zz", "bad@", "@bad.com"])

region = st.none() | st.fixed_dictionaries(
    {"region_code": st.none() | st.text(max_size=5), "region": maybe_text, "region_id": st.integers(0, 100)}
)
custom_attributes = st.lists(
    st.fixed_dictionaries({"attribute_code": st.sampled_from(["vip", "tier", "x"]), "value": json_value}),
    max_size=3,
)
address = st.fixed_dictionaries(
    {"id": st.integers(1, 30) | st.text(max_size=3)},
    optional={
        "street": st.lists(maybe_text, max_size=4) | maybe_text,
        "city": maybe_text,
        "postcode": maybe_text,
        "telephone": maybe_text | st.integers(),
        "country_id": st.sampled_from(["US", "de", "ZZ", "", "gb "]) | maybe_text,
        "region": region,
        "default_billing": st.booleans(),
        "default_shipping": st.booleans(),
        "custom_attributes": custom_attributes,
    },
)
customer = st.fixed_dictionaries(
    {"id": st.integers(-2, 10**9) | st.none() | st.text(max_size=4)},
    optional={
        "email": emails,
        "firstname": maybe_text,
        "lastname": maybe_text,
        "default_billing": st.none() | st.integers(1, 30).map(str) | json_value,
        "default_shipping": st.none() | st.integers(1, 30).map(str),
        "addresses": st.lists(address, max_size=4) | json_value,
        "updated_at": st.none() | st.text(max_size=19),
        "website_id": st.integers(0, 5) | json_value,
        "custom_attributes": custom_attributes | json_value,
        "extension_attributes": st.fixed_dictionaries({"is_subscribed": st.booleans()}) | json_value,
    },
)

SPEC = build_spec(
    {
        "Tier": "custom_attributes.tier",
        "VIP": "custom_attributes.vip | default:0 | bool",
        "Email_Opt_Out": "extension_attributes.is_subscribed | bool_to_opt_out",
        "Shipping_City": "shipping.city | uppercase",
    }
)
TRUNCATING = build_spec(truncate_long_values=True)


def check(result: MappedCustomer | MappingFailure, truncating: bool) -> None:
    assert isinstance(result, MappedCustomer | MappingFailure)
    if isinstance(result, MappingFailure):
        assert result.code in ERROR_CODES
        assert result.message
        assert "unexpected" not in result.message  # the catch-all is not how customer data is handled
        if truncating:
            assert result.code != "VALUE_TOO_LONG" or result.field == "Email"
        return
    payload = result.payload
    assert payload["Email"] == result.email_norm
    assert payload["Last_Name"]
    for name, value in payload.items():
        assert value != ""
        assert value is not None
        if isinstance(value, str):
            assert value == value.strip()
            if name in DEFAULT_LIMITS:
                assert zoho_length(value) <= DEFAULT_LIMITS[name]


@settings(max_examples=300, deadline=None)
@given(customer)
def test_default_mapping_is_total(c: dict[str, Any]) -> None:
    check(map_customer(c), truncating=False)


@settings(max_examples=200, deadline=None)
@given(customer)
def test_custom_mapping_is_total(c: dict[str, Any]) -> None:
    result = map_customer(c, SPEC, DEFAULT_LIMITS)
    assert isinstance(result, MappedCustomer | MappingFailure)
    if isinstance(result, MappingFailure):
        assert result.code in ERROR_CODES
    else:
        assert "" not in result.payload.values()


@settings(max_examples=200, deadline=None)
@given(customer)
def test_truncating_mapping_is_total(c: dict[str, Any]) -> None:
    check(map_customer(c, TRUNCATING, DEFAULT_LIMITS), truncating=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_value, max_size=8))
def test_any_dict_never_raises(c: dict[str, Any]) -> None:
    result = map_customer(c)
    assert isinstance(result, MappedCustomer | MappingFailure)


@given(st.dictionaries(st.text(max_size=10), json_scalar, max_size=10), st.randoms(use_true_random=False))
def test_hash_stable_under_key_order(payload: dict[str, Any], rnd: Any) -> None:
    items = list(payload.items())
    rnd.shuffle(items)
    assert payload_hash(dict(items)) == payload_hash(payload)


@given(
    st.lists(
        st.tuples(
            st.integers(1, 50), st.sampled_from(["a@x.com", "b@x.com", "c@x.com"]), st.none() | st.text(max_size=3)
        ),
        max_size=20,
        unique_by=lambda t: t[0],
    )
)
def test_merge_by_email_properties(rows: list[tuple[int, str, str | None]]) -> None:
    mapped = [MappedCustomer(i, e, {"Email": e}, None, u) for i, e, u in rows]
    winners, merges = merge_by_email(mapped)
    assert len({w.email_norm for w in winners}) == len(winners) == len({e for _, e, _ in rows})
    assert len(winners) + len(merges) == len(mapped)
    by_id = {m.customer_id: m for m in mapped}
    for merge in merges:
        winner, loser = by_id[merge.winner_id], by_id[merge.merged_id]
        assert winner.email_norm == loser.email_norm == merge.email
        assert (winner.updated_at or "", winner.customer_id) > (loser.updated_at or "", loser.customer_id)
