"""A Magento multiselect attribute synced to a Zoho multi-select picklist field as a list of labels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.fields import FieldSpec
from magento_zoho_sync.errors import ConfigError
from tests.e2e.conftest import World, add_customer, contact

#: The Magento simulator's ``interests`` multiselect: 21 Running, 22 "Cycling, road", 23 Swimming.
AS_LIST = {"mapping.fields": {"Interests": "custom_attributes.interests | option_labels"}}


def interests(*values: str) -> FieldSpec:
    return FieldSpec("Interests", "Interests", "multiselectpicklist", 2000, custom_field=True, picklist=values)


def sent_records(world: World) -> dict[str, dict[str, Any]]:
    """The last record each email was sent as, in the upserts Zoho received."""
    records: dict[str, dict[str, Any]] = {}
    for request in world.zoho.log:
        if request.path.endswith("/Contacts/upsert"):
            records.update({r["Email"]: r for r in json.loads(request.body)["data"]})
    return records


def test_a_multiselect_reaches_a_multi_select_picklist_as_a_list_and_a_rerun_writes_nothing(make_world: Any) -> None:
    world: World = make_world(0)
    world.zoho.change_fields(add=[interests("Running", "Cycling, road", "Swimming")])  # an admin adds the field
    runner = add_customer(world, "runner@example.com", custom_attributes={"interests": "23,22"})
    add_customer(world, "one@example.com", custom_attributes={"interests": "21"})
    add_customer(world, "none@example.com", custom_attributes={"interests": ""})  # every option cleared
    add_customer(world, "absent@example.com")

    first = world.sync(**AS_LIST)
    assert (first.tally.inserted, first.tally.failures) == (4, [])
    sent = sent_records(world)
    assert sent["runner@example.com"]["Interests"] == ["Cycling, road", "Swimming"]  # the option order, whole labels
    assert sent["one@example.com"]["Interests"] == ["Running"]
    assert "Interests" not in sent["none@example.com"] and "Interests" not in sent["absent@example.com"]  # no []
    assert contact(world, "runner@example.com")["Interests"] == ["Cycling, road", "Swimming"]
    assert contact(world, "none@example.com")["Interests"] is None

    writes = world.zoho.stats()["writes"]
    again = world.sync(**AS_LIST)  # nothing changed: the lists hash as they did
    assert (again.tally.mode, again.tally.inserted, again.tally.updated) == ("incremental", 0, 0)
    assert world.zoho.stats()["writes"] == writes

    world.magento.backend.set_custom_attribute(runner, "interests", "22,23")  # the same options, saved in another order
    full = world.sync(full=True, **AS_LIST)  # every customer mapped and compared again
    assert (full.tally.mode, full.tally.inserted, full.tally.updated, full.tally.unchanged) == ("full", 0, 0, 4)
    assert world.zoho.stats()["writes"] == writes

    world.magento.backend.set_custom_attribute(runner, "interests", "")  # cleared in Magento
    world.magento.backend.update_customer(runner, firstname="Changed")
    cleared = world.sync(**AS_LIST)
    assert (cleared.tally.updated, cleared.tally.failures) == (1, [])
    kept = contact(world, "runner@example.com")
    assert kept["First_Name"] == "Changed" and kept["Interests"] == ["Cycling, road", "Swimming"]  # never blanked


@pytest.mark.parametrize("unknown_values", ["reject", "accept"])  # [UNVERIFIED] a label the pick list lacks
def test_a_label_the_pick_list_lacks_fails_only_that_customer_or_is_taken(make_world: Any, unknown_values: str) -> None:
    lacking = interests("Running", "Cycling, road")  # no Swimming
    config = ZohoConfig(extra_fields=(lacking,), multiselect_unknown_values=unknown_values)
    world: World = make_world(0, zoho_kwargs={"config": config})
    add_customer(world, "runner@example.com", custom_attributes={"interests": "21"})
    swimmer = add_customer(world, "swimmer@example.com", custom_attributes={"interests": "23,21"})

    result = world.sync(**AS_LIST)  # never a stopped run
    assert result.tally.inserted == (1 if unknown_values == "reject" else 2)
    assert contact(world, "runner@example.com")["Interests"] == ["Running"]
    if unknown_values == "accept":
        assert result.tally.failures == []
        assert contact(world, "swimmer@example.com")["Interests"] == ["Running", "Swimming"]
        assert "Swimming" in world.zoho.backend.specs["Interests"].picklist  # added by Zoho
        return
    [failure] = result.tally.failures
    assert (failure.customer_id, failure.email, failure.code) == (swimmer, "swimmer@example.com", "INVALID_DATA")
    assert failure.details["api_name"] == "Interests"
    assert "field Interests" in failure.message and "add the labels this customer has in Magento" in failure.message
    assert world.zoho.contacts_by_email("swimmer@example.com") == []

    world.zoho.change_fields(add=[interests("Running", "Cycling, road", "Swimming")])  # the admin adds the value
    retried = world.sync(**AS_LIST)  # the failed customer is tried again on the next run
    assert (retried.tally.inserted, retried.tally.failures) == (1, [])
    assert contact(world, "swimmer@example.com")["Interests"] == ["Running", "Swimming"]


def test_text_on_a_multi_select_picklist_or_a_list_on_a_text_field_stops_the_run_before_any_write(
    make_world: Any,
) -> None:
    text_field = FieldSpec("Interests_Text", "Interests Text", "text", 255, custom_field=True)
    config = ZohoConfig(extra_fields=(interests("Running"), text_field))
    world: World = make_world(0, zoho_kwargs={"config": config})
    add_customer(world, "runner@example.com", custom_attributes={"interests": "21"})
    with pytest.raises(ConfigError) as info:
        world.sync(**{"mapping.fields": {"Interests": "custom_attributes.interests | option_label"}})
    assert 'use option_labels instead of option_label: Interests = "custom_attributes.interests | option_labels"' in (
        str(info.value)
    )
    with pytest.raises(ConfigError) as info:
        world.sync(**{"mapping.fields": {"Interests_Text": "custom_attributes.interests | option_labels"}})
    assert "only a multi-select picklist field takes" in str(info.value)
    assert world.zoho.stats()["writes"] == 0
    result = world.sync(
        **{
            "mapping.fields": {
                "Interests": "custom_attributes.interests | option_labels",
                "Interests_Text": "custom_attributes.interests | option_label",
            }
        }
    )
    assert result.tally.failures == []
    synced = contact(world, "runner@example.com")
    assert (synced["Interests"], synced["Interests_Text"]) == (["Running"], "Running")
