"""Single picklists: a value the pick list lacks is taken and added, unless the field is restricted."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator
from magento_zoho_sims.zoho.fields import FieldSpec

from .conftest import BASE, assert_error_shape, contact

UPSERT = "/crm/v8/Contacts/upsert"


def _sim(clock: Clock, **config: Any) -> tuple[ZohoSimulator, httpx2.Client]:
    sim = ZohoSimulator(seed=1, clock=clock, config=ZohoConfig(record_errors_at_request_level="never", **config))
    headers = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}
    return sim, httpx2.Client(transport=sim.transport(), base_url=BASE, headers=headers)


def _upsert(api: httpx2.Client, *records: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.post(UPSERT, content=json.dumps({"data": list(records)}).encode()).json()["data"]
    return items


LANGUAGE = ("English", "Deutsch")


@pytest.mark.parametrize("restricted", [False, True])
def test_a_single_picklist_takes_and_adds_a_value_it_lacks_unless_restricted(clock: Clock, restricted: bool) -> None:
    spec = FieldSpec(
        "Language", "Language", "picklist", 120, custom_field=True, picklist=LANGUAGE, restricted=restricted
    )
    sim, api = _sim(clock, extra_fields=(spec,))
    with api:
        items = _upsert(api, contact(1, Language="Deutsch"), contact(2, Language="Français"))
        assert items[0]["status"] == "success"
        fields = api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
        [language] = [f for f in fields if f["api_name"] == "Language"]
        listed = [v["actual_value"] for v in language["pick_list_values"]]
        if restricted:
            assert_error_shape(items[1], "INVALID_DATA")
            assert items[1]["details"] == {
                "api_name": "Language",
                "json_path": "$.data[1].Language",
                "expected_data_type": "picklist",
            }
            assert listed == list(LANGUAGE)
        else:
            assert items[1]["status"] == "success"
            assert sim.contacts_by_email("jane2@example.com")[0]["Language"] == "Français"
            assert listed == [*LANGUAGE, "Français"]  # added to the pick list


def test_the_standard_picklists_are_unrestricted_and_a_restricted_multi_select_refuses_whatever_the_switch(
    clock: Clock,
) -> None:
    interests = FieldSpec(
        "Interests", "Interests", "multiselectpicklist", 2000, custom_field=True, picklist=("Running",), restricted=True
    )
    sim, api = _sim(clock, extra_fields=(interests,), multiselect_unknown_values="accept")
    with api:
        [item] = _upsert(api, contact(1, Lead_Source="Magento"))
        assert item["status"] == "success"
        assert "Magento" in sim.backend.specs["Lead_Source"].picklist
        [refused] = _upsert(api, contact(2, Interests=["Diving"]))
        assert refused["details"]["expected_data_type"] == "multiselectpicklist"


def test_the_control_api_makes_a_picklist_restricted(sim: ZohoSimulator) -> None:
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as raw:
        field = {"api_name": "Tier", "data_type": "picklist", "picklist": ["Gold"], "restricted": True}
        assert raw.post("/_sim/fields", json={"add": [field]}).status_code == 200
        assert sim.backend.specs["Tier"].restricted is True
        wrong = {**field, "restricted": "yes"}
        assert raw.post("/_sim/fields", json={"add": [wrong]}).status_code == 400
