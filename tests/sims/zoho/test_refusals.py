"""Records refused as one top-level error, two records of one upsert sharing an email, restricted picklists."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator

from .conftest import BASE, assert_error_shape, contact


def _sim(clock: Clock, **config: Any) -> tuple[ZohoSimulator, httpx2.Client]:
    sim = ZohoSimulator(seed=1, clock=clock, config=ZohoConfig(**config))
    headers = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}
    return sim, httpx2.Client(transport=sim.transport(), base_url=BASE, headers=headers)


UPSERT = "P/crm/v8/Contacts/upsert"
INSERT = "P/crm/v8/Contacts"
UPDATE = "U/crm/v8/Contacts"


def _request(api: httpx2.Client, target: str, *records: Any) -> httpx2.Response:
    method = {"P": "POST", "U": "PUT"}[target[0]]
    return api.request(method, target[1:], content=json.dumps({"data": list(records)}).encode())


def test_by_default_a_write_whose_every_record_fails_is_one_top_level_error(clock: Clock) -> None:
    sim, api = _sim(clock)
    assert sim.config.record_errors_at_request_level == "all_failed"
    with api:
        response = _request(api, UPSERT, {"Email": "a@example.com"}, contact(1, Phone="030/1"))
        assert response.status_code == 400
        assert response.json() == {  # the first record's error, flat: no "data"
            "code": "MANDATORY_NOT_FOUND",
            "details": {"api_name": "Last_Name", "json_path": "$.data[0].Last_Name"},
            "message": "required field not found",
            "status": "error",
        }
        partial = _request(api, UPSERT, contact(2), contact(3, Phone="030/1"))
        assert partial.status_code == 207  # one written: each record answered in "data"
        assert [item["status"] for item in partial.json()["data"]] == ["success", "error"]
    assert sim.count() == 1 and len(sim.writes("upsert")) == 2  # the refused call was received all the same


def test_never_answers_every_record_in_data(clock: Clock) -> None:
    _, api = _sim(clock, record_errors_at_request_level="never")
    with api:
        response = _request(api, INSERT, {"Email": "a@example.com"})
    assert response.status_code == 400
    [item] = response.json()["data"]
    assert_error_shape(item, "MANDATORY_NOT_FOUND")


def test_invalid_record_refuses_the_whole_request_and_writes_nothing(clock: Clock) -> None:
    sim, api = _sim(clock, record_errors_at_request_level="invalid_record")
    with api:
        response = _request(
            api, UPSERT, contact(1), contact(2), contact(3, First_Name="x" * 41), contact(4, Phone="x/")
        )
        assert response.status_code == 400
        body = response.json()
        assert_error_shape(body, "INVALID_DATA")
        assert body["details"] == {
            "api_name": "First_Name",
            "json_path": "$.data[2].First_Name",
            "maximum_length": "40",
        }
        assert sim.count() == 0  # the good records were not written either
        assert _request(api, UPSERT, contact(1), contact(2)).status_code == 201
        # an upsert that matches a contact updates it: Last_Name is not needed, so the record is valid
        assert _request(api, UPSERT, {"Email": "jane1@example.com", "First_Name": "J"}, contact(5)).status_code == 207
        missing = _request(api, UPSERT, contact(6), {"Email": "new@example.com"})
        assert missing.json()["details"]["json_path"] == "$.data[1].Last_Name"
        [first] = sim.contacts_by_email("jane1@example.com")
        unknown = _request(api, UPDATE, {"id": first["id"], "First_Name": "Kept"}, {"id": "5843104000000999999"})
        assert (unknown.status_code, unknown.json()["details"]) == (400, {"id": "5843104000000999999"})
        assert sim.contacts_by_email("jane1@example.com")[0]["First_Name"] == "J"
        blanked = _request(api, UPDATE, {"id": first["id"], "Last_Name": " "})
        assert blanked.json()["details"]["json_path"] == "$.data[0].Last_Name"
    assert sim.count() == 3


def test_the_second_record_of_an_upsert_with_the_same_email_is_refused_with_reject_second(clock: Clock) -> None:
    sim, api = _sim(clock, same_batch_duplicates="reject_second")
    with api:
        response = _request(api, UPSERT, contact(1, Email="twice@example.com"), contact(2, Email="Twice@Example.com"))
        assert response.status_code == 207
        written, refused = response.json()["data"]
        assert_error_shape(refused, "DUPLICATE_DATA")
        assert refused["details"]["json_path"] == "$.data[1].Email"
        assert refused["details"]["duplicate_record"]["id"] == written["details"]["id"]
    assert [c["Last_Name"] for c in sim.contacts_by_email("twice@example.com")] == ["Doe1"]


def test_an_upsert_holding_an_email_twice_is_refused_whole_with_reject_request(clock: Clock) -> None:
    sim, api = _sim(clock, same_batch_duplicates="reject_request", record_errors_at_request_level="never")
    with api:
        response = _request(
            api, UPSERT, contact(1), contact(2, Email="twice@example.com"), contact(3, Email="TWICE@example.org")
        )
        assert response.status_code == 201  # no repeat (another domain is another email)
        response = _request(api, UPSERT, contact(4), contact(5), contact(6, Email="jane4@EXAMPLE.com"))
        assert response.status_code == 400
        assert response.json() == {
            "code": "DUPLICATE_DATA",
            "details": {"api_name": "Email", "json_path": "$.data[2].Email"},
            "message": "duplicate data",
            "status": "error",
        }
    assert sim.count() == 3
