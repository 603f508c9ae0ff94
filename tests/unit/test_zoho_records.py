"""Zoho's per-record answers: the fast reading of a success says exactly what the general reading says."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magento_zoho_sync.zoho.records import failure_details, record_result


class _Dict(dict[str, Any]):
    """Not exactly a dict: takes record_result's general path."""


VALUES = st.none() | st.text(max_size=12) | st.integers() | st.sampled_from(["insert", "update", "", "success"])
ITEMS = st.fixed_dictionaries(
    {"status": st.sampled_from(["success", "error", "SUCCESS"])},
    optional={
        "code": VALUES,
        "message": st.none() | st.sampled_from(["record added", "record updated", "done", ""]),
        "action": VALUES,
        "details": st.none() | st.dictionaries(st.sampled_from(["id", "api_name", "x"]), VALUES, max_size=3),
    },
)


@given(item=ITEMS, default_action=st.sampled_from([None, "update"]))
def test_the_fast_path_agrees_with_the_general_one(item: dict[str, Any], default_action: str | None) -> None:
    assert record_result(item, default_action=default_action) == record_result(
        _Dict(item), default_action=default_action
    )


def test_a_success_reads_id_action_and_details() -> None:
    result = record_result(
        {"status": "success", "code": "SUCCESS", "message": "record added", "details": {"id": 42}, "action": "insert"},
        default_action=None,
    )
    assert (result.ok, result.action, result.id, result.code) == (True, "insert", "42", "SUCCESS")


def test_a_failure_without_a_message_says_so_with_its_code_and_details() -> None:
    coded = record_result(
        {"status": "error", "code": "INVALID_DATA", "message": "", "details": {"api_name": "Email"}},
        default_action=None,
    )
    assert not coded.ok and coded.code == "INVALID_DATA"
    assert coded.message == 'Zoho gave no message; code INVALID_DATA, details: {"api_name": "Email"}'
    bare = record_result({"status": "error"}, default_action=None)
    assert bare.code == "UNKNOWN" and bare.message == "Zoho gave no message; no code, details: none"
    long = record_result({"status": "error", "code": "X", "details": {"why": "y" * 500}}, default_action=None)
    assert long.message.startswith("Zoho gave no message; code X") and len(long.message) < 260


def test_failure_details_keep_the_machine_readable_facts_masked_and_nothing_else() -> None:
    token = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"
    said = {
        "api_name": "Phone",
        "json_path": "$.data[0].Phone",
        "maximum_length": 30,
        "expected_data_type": f"phone {token}",
        "duplicate_record": {"id": 4876876000000123, "module": {"api_name": "Contacts"}},
        "echo": {"client_secret": "x"},
        "x": "y" * 300,
    }
    kept = failure_details(said)
    assert kept == {
        "api_name": "Phone",
        "json_path": "$.data[0].Phone",
        "maximum_length": 30,
        "expected_data_type": "phone ***",
        "duplicate_record_id": "4876876000000123",
    }
    assert failure_details({"api_name": {"nested": 1}, "maximum_length": True, "duplicate_record": "z"}) == {}
    assert failure_details({"duplicate_record": {"id": True}}) == {}  # a yes/no is no record id
    assert len(failure_details({"api_name": "A" * 500})["api_name"]) == 200


@pytest.mark.parametrize(
    ("field", "kind", "fix"),
    [
        (
            "Interests",
            "multiselectpicklist",
            "add the labels this customer has in Magento to it (Setup > Customization > Modules and Fields)",
        ),
        ("Language", "picklist", "add the value this customer has in Magento to the field's pick list (Setup > "),
    ],
)
def test_a_value_a_pick_list_refused_says_what_to_fix(field: str, kind: str, fix: str) -> None:
    """A multi-select picklist's labels, or a restricted picklist's value, Zoho does not know."""
    details = {"api_name": field, "json_path": f"$.data[0].{field}", "expected_data_type": kind}
    said = record_result(
        {"code": "INVALID_DATA", "details": details, "message": "invalid data", "status": "error"},
        default_action=None,
    ).describe()
    assert said.startswith(f"INVALID_DATA: invalid data (field {field}, expected type {kind}, ")
    assert fix in said
