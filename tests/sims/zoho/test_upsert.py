"""Upsert: duplicate-check fields and their order/ignore rules, partial updates, pre-existing duplicates."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.zoho import ZohoSimulator

from .conftest import assert_error_shape, contact


def upsert(api: httpx2.Client, records: list[dict[str, Any]], **extra: Any) -> httpx2.Response:
    return api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": records, **extra}).encode())


def test_insert_then_update_by_email(api: httpx2.Client, sim: ZohoSimulator) -> None:
    first = upsert(api, [contact(1)], duplicate_check_fields=["Email"])
    assert first.status_code == 201
    [inserted] = first.json()["data"]
    assert inserted["action"] == "insert" and inserted["duplicate_field"] is None
    assert inserted["message"] == "record added"
    assert set(inserted) == {"code", "duplicate_field", "action", "details", "message", "status"}
    second = upsert(api, [{"Email": "JANE1@example.com", "Title": "Buyer"}], duplicate_check_fields=["Email"])
    assert second.status_code == 200
    [updated] = second.json()["data"]
    assert updated["action"] == "update" and updated["duplicate_field"] == "Email"
    assert updated["message"] == "record updated"
    assert updated["details"]["id"] == inserted["details"]["id"]
    stored = sim.contact(updated["details"]["id"])
    assert stored is not None
    assert stored["Title"] == "Buyer"
    assert stored["Last_Name"] == "Doe1"  # partial update: unspecified fields untouched
    assert stored["Email"] == "JANE1@example.com"


def test_update_path_does_not_need_last_name(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Known", Email="known@example.com")
    response = upsert(api, [{"Email": "known@example.com", "Phone": "+1 555 0101"}])
    assert response.status_code == 200
    [item] = response.json()["data"]
    assert item["action"] == "update"


def test_a_field_sent_as_null_in_an_upsert_that_updates_is_cleared(api: httpx2.Client, sim: ZohoSimulator) -> None:
    record_id = sim.add_contact(Last_Name="Known", Email="known@example.com", Phone="+49 30 1234")
    response = upsert(api, [{"Email": "known@example.com", "Mailing_City": "Paris", "Phone": None}])
    assert response.json()["data"][0]["action"] == "update"
    stored = sim.contact(record_id)
    assert stored is not None
    assert stored["Mailing_City"] == "Paris" and stored.get("Phone") is None


def test_insert_path_needs_last_name(api: httpx2.Client) -> None:
    response = upsert(api, [{"Email": "new@example.com"}])
    assert response.status_code == 400
    assert response.json()["data"][0]["details"] == {"api_name": "Last_Name", "json_path": "$.data[0].Last_Name"}


def test_mixed_insert_and_update_status(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Known", Email="jane1@example.com")
    records = [contact(1), contact(2)]
    response = upsert(api, records)
    assert response.status_code == 207  # default: hostile reading of "mixed"
    assert [i["action"] for i in response.json()["data"]] == ["update", "insert"]
    sim.config.upsert_mixed_status = 200
    assert upsert(api, [contact(1), contact(3)]).status_code == 200


def test_case_insensitive_match_by_default_and_switch(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Mixed", Email="Mixed.Case@Example.com")
    assert upsert(api, [contact(1, Email="mixed.case@example.com")]).json()["data"][0]["action"] == "update"
    sim.set_email_case_sensitive(True)
    assert upsert(api, [contact(2, Email="MIXED.CASE@example.com")]).json()["data"][0]["action"] == "insert"


def test_duplicate_check_fields_order(api: httpx2.Client, sim: ZohoSimulator) -> None:
    by_email = sim.add_contact(Last_Name="ByEmail", Email="order@example.com")
    by_magento = sim.add_contact(Last_Name="ByMagento", Email="other@example.com", Magento_Customer_ID="42")
    record = contact(1, Email="order@example.com", Magento_Customer_ID="42")
    first = upsert(api, [record], duplicate_check_fields=["Magento_Customer_ID", "Email"]).json()["data"][0]
    assert (first["duplicate_field"], first["details"]["id"]) == ("Magento_Customer_ID", by_magento)
    second = upsert(
        api, [{**record, "Magento_Customer_ID": "43"}], duplicate_check_fields=["Email", "Magento_Customer_ID"]
    )
    item = second.json()["data"][0]
    assert (item["duplicate_field"], item["details"]["id"]) == ("Email", by_email)


def test_email_ignored_when_not_listed(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Existing", Email="listed@example.com")
    response = upsert(
        api,
        [contact(1, Email="listed@example.com", Magento_Customer_ID="7")],
        duplicate_check_fields=["Magento_Customer_ID"],
    )
    [item] = response.json()["data"]
    assert item["action"] == "insert"  # Email was not a duplicate-check field
    assert len(sim.contacts_by_email("listed@example.com")) == 2


def test_default_check_is_email_then_unique_fields(api: httpx2.Client, sim: ZohoSimulator) -> None:
    target = sim.add_contact(Last_Name="Unique", Email="u@example.com", Magento_Customer_ID="99")
    item = upsert(api, [contact(1, Email="changed@example.com", Magento_Customer_ID="99")]).json()["data"][0]
    assert (item["action"], item["duplicate_field"], item["details"]["id"]) == ("update", "Magento_Customer_ID", target)


def test_non_unique_duplicate_check_field_is_rejected(api: httpx2.Client) -> None:
    response = upsert(api, [contact(1)], duplicate_check_fields=["Phone"])
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "INVALID_DATA")
    assert body["details"] == {"api_name": "Phone", "json_path": "$.duplicate_check_fields[0]"}


def test_unique_custom_field_collision_on_update_is_duplicate_data(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="A", Email="a@example.com", Magento_Customer_ID="1")
    holder = sim.add_contact(Last_Name="B", Email="b@example.com", Magento_Customer_ID="2")
    response = upsert(api, [{"Email": "a@example.com", "Magento_Customer_ID": "2"}], duplicate_check_fields=["Email"])
    [item] = response.json()["data"]
    assert item["code"] == "DUPLICATE_DATA"
    assert item["details"]["api_name"] == "Magento_Customer_ID"
    assert item["details"]["duplicate_record"]["id"] == holder


@pytest.mark.parametrize("policy", ["oldest", "newest"])
def test_two_existing_contacts_share_the_email(api: httpx2.Client, sim: ZohoSimulator, policy: str) -> None:
    older = sim.add_contact(Last_Name="Older", Email="shared@example.com")
    newer = sim.add_contact(Last_Name="Newer", Email="SHARED@example.com")
    sim.config.duplicate_match = policy  # type: ignore[assignment]
    item = upsert(api, [{"Email": "shared@example.com", "Title": "T"}]).json()["data"][0]
    assert item["details"]["id"] == (older if policy == "oldest" else newer)


def test_two_existing_contacts_share_the_email_error_policy(api: httpx2.Client, sim: ZohoSimulator) -> None:
    older = sim.add_contact(Last_Name="Older", Email="shared@example.com")
    sim.add_contact(Last_Name="Newer", Email="shared@example.com")
    sim.config.duplicate_match = "error"
    response = upsert(api, [{"Email": "shared@example.com", "Title": "T"}])
    assert response.status_code == 400
    [item] = response.json()["data"]
    assert item["code"] == "DUPLICATE_DATA"
    assert item["details"]["duplicate_record"]["id"] == older


def test_same_email_twice_in_one_upsert(api: httpx2.Client, sim: ZohoSimulator) -> None:
    records = [contact(1, Email="twice@example.com"), contact(2, Email="Twice@example.com")]
    items = upsert(api, records).json()["data"]
    assert [i["action"] for i in items] == ["insert", "insert"]  # default: both matched against the old state
    assert len(sim.contacts_by_email("twice@example.com")) == 2
    sim.config.same_batch_duplicates = "sequential"
    items = upsert(api, [contact(3, Email="thrice@example.com"), contact(4, Email="thrice@example.com")]).json()["data"]
    assert [i["action"] for i in items] == ["insert", "update"]


def test_v2_alias_answers(api: httpx2.Client) -> None:
    response = api.post("/crm/v2/Contacts/upsert", content=json.dumps({"data": [contact(1)]}).encode())
    assert response.status_code == 201
    assert response.json()["data"][0]["action"] == "insert"
