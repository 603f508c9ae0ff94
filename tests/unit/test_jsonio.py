"""The JSON codec of the clients: orjson's speed, the standard library's leniency where orjson refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magento_zoho_sync import jsonio


def test_a_lone_surrogate_from_php_is_decoded_like_the_standard_library_does() -> None:
    body = b'{"items": [{"id": 7, "firstname": "Ann\\ud800", "lastname": "Lee"}]}'
    assert jsonio.loads(body) == json.loads(body)
    assert jsonio.loads(body)["items"][0]["firstname"] == "Ann\ud800"


def test_nan_which_orjson_refuses_still_decodes() -> None:
    assert repr(jsonio.loads(b'{"a": NaN, "b": [Infinity]}')) == repr({"a": float("nan"), "b": [float("inf")]})


@pytest.mark.parametrize("body", [b"", b"<html>", b'{"a": 1', b"\xff\xfe"])
def test_what_is_not_json_raises_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        jsonio.loads(body)


def test_a_body_with_a_lone_surrogate_is_sent_escaped() -> None:
    encoded = jsonio.dumps({"data": [{"Last_Name": "Lee\ud800"}]})
    assert encoded == b'{"data":[{"Last_Name":"Lee\\ud800"}]}'
    assert json.loads(encoded) == {"data": [{"Last_Name": "Lee\ud800"}]}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_round_trip_equals_the_standard_library(value: object) -> None:
    encoded = jsonio.dumps(value)
    assert jsonio.loads(encoded) == json.loads(encoded) == value


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_json_nested_deeper_than_the_parsers_go_is_malformed_not_a_crash(body: bytes) -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonio.loads(body)
