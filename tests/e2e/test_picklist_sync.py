"""A Magento select attribute synced to a Zoho (single) picklist field, restricted to its values or not."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.fields import FieldSpec
from tests.e2e.conftest import World, add_customer, contact

#: The Magento simulator's ``preferred_language`` select: 11 English, 12 Français, 13 Deutsch, 14 日本語.
AS_LABEL = {"mapping.fields": {"Language": "custom_attributes.preferred_language | option_label"}}


def language(*values: str, restricted: bool) -> FieldSpec:
    return FieldSpec("Language", "Language", "picklist", 120, custom_field=True, picklist=values, restricted=restricted)


@pytest.mark.parametrize("restricted", [False, True])
@pytest.mark.parametrize("at_request_level", ["never", "all_failed", "invalid_record"])
def test_a_label_the_pick_list_lacks_is_added_or_fails_only_that_customer_with_what_to_do(
    make_world: Any, restricted: bool, at_request_level: str
) -> None:
    config = ZohoConfig(
        extra_fields=(language("English", "Deutsch", restricted=restricted),),
        record_errors_at_request_level=at_request_level,  # type: ignore[arg-type]
    )
    world: World = make_world(0, zoho_kwargs={"config": config})
    add_customer(world, "english@example.com", custom_attributes={"preferred_language": "11"})
    french = add_customer(world, "french@example.com", custom_attributes={"preferred_language": "12"})
    add_customer(world, "german@example.com", custom_attributes={"preferred_language": "13"})

    result = world.sync(**AS_LABEL)  # never a stopped run
    assert contact(world, "english@example.com")["Language"] == "English"
    assert contact(world, "german@example.com")["Language"] == "Deutsch"
    picklist = world.zoho.backend.specs["Language"].picklist
    if not restricted:  # Zoho takes the value and adds it to the pick list
        assert (result.tally.inserted, result.tally.failures) == (3, [])
        assert contact(world, "french@example.com")["Language"] == "Français"
        assert picklist == ("English", "Deutsch", "Français")
        return
    assert result.tally.inserted == 2 and picklist == ("English", "Deutsch")
    [failure] = result.tally.failures
    assert (failure.customer_id, failure.email, failure.code) == (french, "french@example.com", "INVALID_DATA")
    assert failure.details["api_name"] == "Language" and failure.details["expected_data_type"] == "picklist"
    assert "field Language" in failure.message
    assert "add the value this customer has in Magento to the field's pick list" in failure.message
    assert world.zoho.contacts_by_email("french@example.com") == []

    world.zoho.change_fields(add=[language("English", "Deutsch", "Français", restricted=True)])  # the admin adds it
    retried = world.sync(**AS_LABEL)  # the failed customer is tried again on the next run
    assert (retried.tally.inserted, retried.tally.failures) == (1, [])
    assert contact(world, "french@example.com")["Language"] == "Français"
