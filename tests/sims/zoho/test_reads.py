"""Reads: list (fields, paging, page tokens, 204/304), get by id, search (params, criteria, index lag, limits)."""

from __future__ import annotations

import json

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoSimulator

from .conftest import assert_error_shape

INFO_KEYS = {
    "call",
    "per_page",
    "next_page_token",
    "count",
    "sort_by",
    "page",
    "previous_page_token",
    "page_token_expiry",
    "sort_order",
    "email",
    "more_records",
}


def fill(sim: ZohoSimulator, n: int) -> list[str]:
    return [sim.add_contact(Last_Name=f"L{i}", Email=f"c{i}@example.com") for i in range(n)]


def test_list_requires_fields_in_v8_but_not_v2(api: httpx2.Client, sim: ZohoSimulator) -> None:
    fill(sim, 1)
    response = api.get("/crm/v8/Contacts")
    assert response.status_code == 400
    assert response.json() == {
        "code": "REQUIRED_PARAM_MISSING",
        "details": {"param_name": "fields"},
        "message": "One of the expected parameter is missing",
        "status": "error",
    }
    v2 = api.get("/crm/v2/Contacts")
    assert v2.status_code == 200
    assert "Mailing_City" in v2.json()["data"][0]


def test_list_shape_and_info(api: httpx2.Client, sim: ZohoSimulator) -> None:
    ids = fill(sim, 3)
    response = api.get("/crm/v8/Contacts", params={"fields": "Email,Last_Name,Phone", "per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body["info"]) == INFO_KEYS
    assert body["info"]["more_records"] is True and body["info"]["count"] == 2
    assert body["info"]["sort_by"] == "id" and body["info"]["sort_order"] == "desc"
    assert body["data"][0] == {"Email": "c2@example.com", "Last_Name": "L2", "Phone": None, "id": ids[2]}


def test_list_limits(api: httpx2.Client, sim: ZohoSimulator) -> None:
    fill(sim, 1)
    too_many = ",".join(["Email"] * 51)
    assert_error_shape(api.get("/crm/v8/Contacts", params={"fields": too_many}).json(), "LIMIT_EXCEEDED")
    assert api.get("/crm/v8/Contacts", params={"fields": "Email", "per_page": 201}).status_code == 400
    beyond = api.get("/crm/v8/Contacts", params={"fields": "Email", "page": 11})
    assert beyond.status_code == 400
    assert_error_shape(beyond.json(), "DISCRETE_PAGINATION_LIMIT_EXCEEDED")


def test_page_token_walks_past_2000_and_is_bound_to_params(
    api: httpx2.Client, sim: ZohoSimulator, clock: Clock
) -> None:
    sim.load_bulk_contacts(2300)
    seen: list[str] = []
    params: dict[str, str | int] = {"fields": "Email", "per_page": 200}
    page = api.get("/crm/v8/Contacts", params=params).json()
    seen += [r["id"] for r in page["data"]]
    token = page["info"]["next_page_token"]
    while token:
        body = api.get("/crm/v8/Contacts", params={**params, "page_token": token}).json()
        seen += [r["id"] for r in body["data"]]
        token = body["info"]["next_page_token"]
    assert len(seen) == len(set(seen)) == 2300
    first = api.get("/crm/v8/Contacts", params=params).json()["info"]["next_page_token"]
    mismatch = api.get("/crm/v8/Contacts", params={"fields": "Email,Phone", "per_page": 200, "page_token": first})
    assert_error_shape(mismatch.json(), "TOKEN_BOUND_DATA_MISMATCH")
    both = api.get("/crm/v8/Contacts", params={**params, "page": 2, "page_token": first})
    assert_error_shape(both.json(), "AMBIGUITY_DURING_PROCESSING")
    clock.advance(24 * 3600 + 1)
    fresh = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}  # the old access token died too
    expired = api.get("/crm/v8/Contacts", params={**params, "page_token": first}, headers=fresh)
    assert_error_shape(expired.json(), "EXPIRED_VALUE")


def test_empty_list_is_204_without_body(api: httpx2.Client) -> None:
    response = api.get("/crm/v8/Contacts", params={"fields": "Email"})
    assert response.status_code == 204
    assert response.content == b""


def test_if_modified_since(api: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    fill(sim, 2)
    since = sim.backend.fmt_time(clock.now() + 5)
    none = api.get("/crm/v8/Contacts", params={"fields": "Email"}, headers={"If-Modified-Since": since})
    assert none.status_code == 304
    clock.advance(10)
    sim.add_contact(Last_Name="Late", Email="late@example.com")
    some = api.get("/crm/v8/Contacts", params={"fields": "Email"}, headers={"If-Modified-Since": since})
    assert [r["Email"] for r in some.json()["data"]] == ["late@example.com"]


def test_sort_by_modified_time(api: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    a, b = fill(sim, 2)
    clock.advance(5)
    api.put(f"/crm/v8/Contacts/{a}", content=json.dumps({"data": [{"Title": "x"}]}))
    body = api.get(
        "/crm/v8/Contacts", params={"fields": "Email", "sort_by": "Modified_Time", "sort_order": "desc"}
    ).json()
    assert [r["id"] for r in body["data"]] == [a, b]


def test_get_by_id_and_unknown(api: httpx2.Client, sim: ZohoSimulator) -> None:
    [record_id] = fill(sim, 1)
    body = api.get(f"/crm/v8/Contacts/{record_id}").json()
    assert body["data"][0]["id"] == record_id
    assert body["data"][0]["Email"] == "c0@example.com"
    missing = api.get("/crm/v8/Contacts/5843104000009999999")
    assert missing.status_code == 204
    sim.config.missing_record_status = 400
    missing = api.get("/crm/v8/Contacts/5843104000009999999")
    assert missing.status_code == 400
    assert missing.json()["details"] == {"id": "5843104000009999999"}


def test_search_by_email_matches_secondary_email_and_ignores_case(api: httpx2.Client, sim: ZohoSimulator) -> None:
    primary = sim.add_contact(Last_Name="P", Email="Someone@Example.com")
    secondary = sim.add_contact(Last_Name="S", Email="other@example.com", Secondary_Email="someone@example.com")
    response = api.get("/crm/v8/Contacts/search", params={"email": "someone@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["data"]] == [primary, secondary]
    assert body["info"] == {"per_page": 200, "count": 2, "page": 1, "more_records": False}


def test_search_nothing_is_204_empty(api: httpx2.Client) -> None:
    response = api.get("/crm/v8/Contacts/search", params={"email": "nobody@example.com"})
    assert response.status_code == 204
    assert response.content == b""


def test_search_needs_a_parameter(api: httpx2.Client) -> None:
    response = api.get("/crm/v8/Contacts/search")
    assert response.status_code == 400
    assert_error_shape(response.json(), "EXPECTED_PARAM_MISSING")
    assert response.json()["message"] == "mandatory param missing"


def test_search_precedence_criteria_over_email(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Burns", Email="one@example.com")
    sim.add_contact(Last_Name="Other", Email="two@example.com")
    body = api.get(
        "/crm/v8/Contacts/search", params={"criteria": "(Last_Name:equals:Burns)", "email": "two@example.com"}
    ).json()
    assert [r["Email"] for r in body["data"]] == ["one@example.com"]


def test_criteria_equals_behaves_like_contains(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="ABC Inc", Email="abc@example.com")
    sim.add_contact(Last_Name="abc", Email="abc2@example.com")
    body = api.get("/crm/v8/Contacts/search", params={"criteria": "(Last_Name:equals:ABC)"}).json()
    assert sorted(r["Last_Name"] for r in body["data"]) == ["ABC Inc", "abc"]


def test_criteria_escaping(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Burns,B", First_Name="Monty", Email="m@example.com")
    ok = api.get(
        "/crm/v8/Contacts/search", params={"criteria": r"((Last_Name:equals:Burns\,B)and(First_Name:starts_with:M))"}
    )
    assert ok.status_code == 200
    unescaped = api.get("/crm/v8/Contacts/search", params={"criteria": "(Last_Name:equals:Burns,B)"})
    assert unescaped.status_code == 400
    assert_error_shape(unescaped.json(), "INVALID_QUERY")
    assert unescaped.json()["message"] == "invalid query formed"


@pytest.mark.parametrize(
    "criteria",
    [
        "(No_Field:equals:x)",
        "(Last_Name:greater_than:x)",
        "(Last_Name:equals:x",
        "Last_Name:equals:x",
        "((A:equals:x)and(B:equals:y)or(C:equals:z))",
    ],
)
def test_invalid_criteria(api: httpx2.Client, criteria: str) -> None:
    response = api.get("/crm/v8/Contacts/search", params={"criteria": criteria})
    assert response.status_code == 400
    assert_error_shape(response.json(), "INVALID_QUERY")


def test_criteria_at_most_ten_conditions(api: httpx2.Client) -> None:
    conds = "and".join(f"(Last_Name:equals:x{i})" for i in range(11))
    response = api.get("/crm/v8/Contacts/search", params={"criteria": f"({conds})"})
    assert response.status_code == 400
    assert_error_shape(response.json(), "LIMIT_EXCEEDED")


def test_search_beyond_2000_is_limit_reached(api: httpx2.Client) -> None:
    response = api.get("/crm/v8/Contacts/search", params={"word": "jane", "page": 11, "per_page": 200})
    assert response.status_code == 400
    assert response.json() == {
        "code": "LIMIT_REACHED",
        "details": {"limit": 2000},
        "message": "Maximum response iteration limit reached",
        "status": "error",
    }


def test_index_lag_hides_fresh_writes_from_search_only(api: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    sim.set_index_lag(30)
    api.post("/crm/v8/Contacts", content=json.dumps({"data": [{"Last_Name": "Fresh", "Email": "fresh@example.com"}]}))
    assert api.get("/crm/v8/Contacts/search", params={"email": "fresh@example.com"}).status_code == 204
    coql = api.post(
        "/crm/v8/coql", json={"select_query": "select Email from Contacts where Email = 'fresh@example.com'"}
    )
    assert coql.status_code == 200  # COQL reads the database directly
    clock.advance(31)
    assert api.get("/crm/v8/Contacts/search", params={"email": "fresh@example.com"}).status_code == 200


def test_search_by_phone_and_word(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.add_contact(Last_Name="Phoned", Email="p@example.com", Mobile="+1 (555) 123-4567")
    assert api.get("/crm/v8/Contacts/search", params={"phone": "5551234567"}).json()["data"][0]["Last_Name"] == "Phoned"
    assert api.get("/crm/v8/Contacts/search", params={"word": "phoned"}).status_code == 200
    bad = api.get("/crm/v8/Contacts/search", params={"word": "a"})
    assert bad.status_code == 400
    assert_error_shape(bad.json(), "INVALID_DATA")
