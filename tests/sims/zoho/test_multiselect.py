"""Multi-select picklist fields: added by an admin, described by the fields metadata, written and read as lists."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator
from magento_zoho_sims.zoho.fields import FieldSpec

from .conftest import BASE, assert_error_shape, contact

INTERESTS = FieldSpec(
    "Interests",
    "Interests",
    "multiselectpicklist",
    2000,
    custom_field=True,
    picklist=("Running", "Cycling, road", "Swimming"),
)


def _api(sim: ZohoSimulator) -> httpx2.Client:
    headers = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}
    return httpx2.Client(transport=sim.transport(), base_url=BASE, headers=headers)


def _write(api: httpx2.Client, path: str, *records: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.post(path, content=json.dumps({"data": list(records)}).encode()).json()["data"]
    return items


def _fields(api: httpx2.Client) -> dict[str, dict[str, Any]]:
    listed = api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
    return {f["api_name"]: f for f in listed}


def test_a_multi_select_picklist_added_by_an_admin_is_described_and_takes_a_list(clock: Clock) -> None:
    sim = ZohoSimulator(seed=1, clock=clock)
    with _api(sim) as api:
        assert "Interests" not in _fields(api)
        sim.change_fields(add=[INTERESTS])
        field = _fields(api)["Interests"]
        assert (field["data_type"], field["json_type"]) == ("multiselectpicklist", "jsonarray")
        assert [v["display_value"] for v in field["pick_list_values"]] == list(INTERESTS.picklist)
        assert [v["actual_value"] for v in field["pick_list_values"]] == list(INTERESTS.picklist)

        [added] = _write(api, "/crm/v8/Contacts", contact(1, Interests=["Swimming", "Cycling, road"]))
        assert added["status"] == "success"
        record_id = added["details"]["id"]
        [read] = api.get(f"/crm/v8/Contacts/{record_id}").json()["data"]
        assert read["Interests"] == ["Swimming", "Cycling, road"]  # a list, as sent, a comma inside a value kept
        stored = sim.contact(record_id)
        assert stored is not None and stored["Interests"] == ["Swimming", "Cycling, road"]
        stored["Interests"].append("changed by a test")  # a copy: the org's record does not move
        assert sim.contact(record_id)["Interests"] == ["Swimming", "Cycling, road"]  # type: ignore[index]

        [updated] = _write(api, "/crm/v8/Contacts/upsert", contact(1, Interests=["Running"]))
        assert (updated["status"], updated["action"]) == ("success", "update")
        assert sim.contact(record_id)["Interests"] == ["Running"]  # type: ignore[index]  # replaced, not appended


@pytest.mark.parametrize("value", ["Running", "Running, Swimming", ["Running", 3], [["Running"]], {"a": 1}, True])
def test_a_value_that_is_not_a_list_of_texts_is_invalid_data(clock: Clock, value: Any) -> None:
    sim = ZohoSimulator(seed=1, clock=clock, config=ZohoConfig(extra_fields=(INTERESTS,)))
    with _api(sim) as api:
        written, refused = _write(api, "/crm/v8/Contacts/upsert", contact(1), contact(2, Interests=value))
        assert written["status"] == "success"
        assert refused["status"] == "error"  # the record's own answer: the other one of the batch was written
        assert_error_shape(refused, "INVALID_DATA")
        assert refused["details"] == {
            "api_name": "Interests",
            "json_path": "$.data[1].Interests",
            "expected_data_type": "multiselectpicklist",
        }
    assert sim.count() == 1


@pytest.mark.parametrize("unknown_values", ["reject", "accept"])  # [UNVERIFIED] a value the pick list lacks
def test_a_value_the_pick_list_lacks_is_refused_or_taken_and_added_as_configured(
    clock: Clock, unknown_values: Any
) -> None:
    config = ZohoConfig(
        extra_fields=(INTERESTS,), multiselect_unknown_values=unknown_values, record_errors_at_request_level="never"
    )
    sim = ZohoSimulator(seed=1, clock=clock, config=config)
    with _api(sim) as api:
        [item] = _write(api, "/crm/v8/Contacts/upsert", contact(1, Interests=["Running", "Diving"]))
        listed = [v["display_value"] for v in _fields(api)["Interests"]["pick_list_values"]]
        if unknown_values == "reject":
            assert_error_shape(item, "INVALID_DATA")
            assert item["details"]["api_name"] == "Interests"
            assert item["details"]["expected_data_type"] == "multiselectpicklist"
            assert sim.count() == 0 and "Diving" not in listed
        else:
            assert item["status"] == "success"
            assert sim.contacts_by_email("jane1@example.com")[0]["Interests"] == ["Running", "Diving"]
            assert listed == [*INTERESTS.picklist, "Diving"]  # added to the pick list, once
            _write(api, "/crm/v8/Contacts/upsert", contact(2, Interests=["Diving"]))
            assert len(_fields(api)["Interests"]["pick_list_values"]) == len(listed)
    assert sim.config.multiselect_unknown_values == unknown_values


def test_the_control_api_adds_changes_and_removes_fields(sim: ZohoSimulator) -> None:
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as raw:
        added = raw.post(
            "/_sim/fields",
            json={"add": [{"api_name": "Interests", "data_type": "multiselectpicklist", "picklist": ["A", "B, c"]}]},
        )
        assert added.status_code == 200 and "Interests" in added.json()["fields"]
        spec = sim.backend.specs["Interests"]
        assert (spec.data_type, spec.picklist, spec.custom_field, spec.length) == (
            "multiselectpicklist",
            ("A", "B, c"),
            True,
            255,
        )
        shortened = {"api_name": "Interests", "data_type": "multiselectpicklist", "length": 40, "picklist": ["A"]}
        assert raw.post("/_sim/fields", json={"add": [shortened]}).status_code == 200
        assert (sim.backend.specs["Interests"].length, sim.backend.specs["Interests"].picklist) == (40, ("A",))
        assert raw.post("/_sim/fields", json={"remove": ["Interests"]}).status_code == 200
        assert "Interests" not in sim.backend.specs
        for bad in (
            {"add": [{"api_name": "X", "data_type": "hologram"}]},
            {"add": [{"api_name": "X", "data_type": "text", "colour": "red"}]},
            {"add": [{"api_name": "X", "data_type": "multiselectpicklist", "picklist": "A,B"}]},
            {"add": [{"api_name": "X", "data_type": "text", "length": "40"}]},
            {"add": [{"data_type": "text"}]},
            {"add": [{"api_name": "X", "data_type": "text", "unique": True}]},  # the unique fields stay
            {"add": {"api_name": "X"}},
            {"rename": ["Email"]},
        ):
            refused = raw.post("/_sim/fields", json=bad)
            assert refused.status_code == 400, bad
            assert_error_shape(refused.json(), "INVALID_DATA")
        assert "X" not in sim.backend.specs
