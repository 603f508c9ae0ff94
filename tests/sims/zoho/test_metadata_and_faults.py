"""Metadata endpoints, URL/module/method errors, injected faults, the seed, the /_sim/ control plane."""

from __future__ import annotations

import json

import httpx2
import pytest

from magento_zoho_sims.common.faults import FaultKind
from magento_zoho_sims.zoho import ZohoSimulator

from .conftest import BASE, assert_error_shape, contact


def test_fields_fixture(api: httpx2.Client) -> None:
    response = api.get("/crm/v8/settings/fields", params={"module": "Contacts"})
    assert response.status_code == 200
    fields = {f["api_name"]: f for f in response.json()["fields"]}
    lengths = {name: fields[name]["length"] for name in ("First_Name", "Last_Name", "Email", "Phone", "Mailing_Street")}
    assert lengths == {"First_Name": 40, "Last_Name": 80, "Email": 100, "Phone": 30, "Mailing_Street": 250}
    assert fields["Last_Name"]["system_mandatory"] is True
    assert fields["First_Name"]["system_mandatory"] is False
    assert fields["Email"]["data_type"] == "email" and fields["Email"]["json_type"] == "string"
    assert fields["Email"]["unique"] == {}  # org setting off by default
    assert fields["Magento_Customer_ID"]["custom_field"] is True
    assert fields["Magento_Customer_ID"]["unique"] == {"casesensitive": False}
    assert fields["Owner"]["json_type"] == "jsonobject"
    for field in fields.values():
        assert {
            "id",
            "api_name",
            "data_type",
            "json_type",
            "length",
            "system_mandatory",
            "unique",
            "custom_field",
            "read_only",
        } <= set(field)


#: every key OAS fields.json (zoho/crm-oas v8.0) lists as required of a field: Zoho answers them all
OAS_FIELD_KEYS = frozenset(
    [
        "associated_module",
        "data_type",
        "operation_type",
        "system_mandatory",
        "webhook",
        "blueprint_supported",
        "virtual_field",
        "field_read_only",
        "customizable_properties",
        "read_only",
        "custom_field",
        "businesscard_supported",
        "filterable",
        "visible",
        "available_in_user_layout",
        "display_field",
        "pick_list_values_sorted_lexically",
        "sortable",
        "layout_associations",
        "separator",
        "searchable",
        "enable_colour_code",
        "mass_update",
        "json_type",
        "created_source",
        "type",
        "display_label",
        "column_name",
        "api_name",
        "display_type",
        "ui_type",
        "colour_code_enabled_by_system",
        "length",
        "decimal_place",
        "quick_sequence_number",
        "email_parser",
        "rollup_summary",
        "refer_from_field",
        "created_time",
        "modified_time",
        "show_type",
        "category",
        "id",
        "multi_module_lookup",
        "sharing_properties",
        "currency",
        "file_upolad_optionlist",
        "lookup",
        "profiles",
        "view_type",
        "unique",
        "sub_module",
        "subform",
        "external",
        "formula",
        "convert_mapping",
        "multiselectlookup",
        "multiuserlookup",
        "autonumber",
        "auto_number",
        "pick_list_values",
        "crypt",
        "tooltip",
        "history_tracking",
        "association_details",
        "allowed_modules",
        "additional_column",
        "field_label",
        "common.picklist",
        "hipaa_compliance_enabled",
        "hipaa_compliance",
        "_update_existing_records",
        "number_separator",
        "textarea",
        "static_field",
    ]
)


def test_fields_carry_every_key_zoho_answers(api: httpx2.Client) -> None:
    fields = api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
    assert len(OAS_FIELD_KEYS) == 75
    for field in fields:
        assert set(field) >= OAS_FIELD_KEYS, field["api_name"]
        assert isinstance(field["view_type"]["edit"], bool) and field["layout_associations"][0]["api_name"]
        for value in field["pick_list_values"]:
            assert set(value) >= {"display_value", "actual_value", "id", "sequence_number", "colour_code"}


def test_fields_reflect_email_uniqueness(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.set_email_unique(True)
    fields = {
        f["api_name"]: f for f in api.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
    }
    assert fields["Email"]["unique"] == {"casesensitive": False}


def test_modules_layouts_users_org(api: httpx2.Client) -> None:
    modules = api.get("/crm/v8/settings/modules").json()["modules"]
    assert any(m["api_name"] == "Contacts" and m["api_supported"] for m in modules)
    layouts = api.get("/crm/v8/settings/layouts", params={"module": "Contacts"}).json()["layouts"]
    assert layouts[0]["sections"][0]["fields"]
    user = api.get("/crm/v8/users", params={"type": "CurrentUser"}).json()
    assert {"id", "email", "full_name", "role", "profile"} <= set(user["users"][0])
    org = api.get("/crm/v8/org").json()["org"][0]
    assert {"id", "zgid", "company_name", "time_zone", "license_details"} <= set(org)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/crm/v8/Leeds?fields=Email", 400, "INVALID_MODULE"),
        ("GET", "/crm/v8/settings/fields?module=Nope", 400, "INVALID_MODULE"),
        ("GET", "/crm/v9/Contacts", 404, "INVALID_URL_PATTERN"),
        ("GET", "/something/else", 404, "INVALID_URL_PATTERN"),
        ("PATCH", "/crm/v8/Contacts", 400, "INVALID_REQUEST_METHOD"),
        ("GET", "/crm/v8/Contacts/upsert", 400, "INVALID_REQUEST_METHOD"),
    ],
)
def test_path_errors(api: httpx2.Client, method: str, path: str, status: int, code: str) -> None:
    response = api.request(method, path)
    assert response.status_code == status
    assert_error_shape(response.json(), code)


def test_injected_500_and_429_envelopes(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.faults.script(FaultKind.ERROR)
    error = api.get("/crm/v8/org")
    assert error.status_code == 500
    assert error.json() == {
        "code": "INTERNAL_ERROR",
        "details": {},
        "message": "Internal Server Error",
        "status": "error",
    }
    sim.faults.script(FaultKind.THROTTLE)
    throttled = api.get("/crm/v8/org")
    assert throttled.status_code == 429
    assert_error_shape(throttled.json(), "TOO_MANY_REQUESTS")
    assert "retry-after" not in throttled.headers


def test_maintenance(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.faults.maintenance = True
    response = api.get("/crm/v8/org")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")


def test_drop_and_apply_then_drop(api: httpx2.Client, sim: ZohoSimulator) -> None:
    body = json.dumps({"data": [contact(1)]}).encode()
    sim.faults.script(FaultKind.DROP)
    with pytest.raises(httpx2.RemoteProtocolError):
        api.post("/crm/v8/Contacts/upsert", content=body)
    assert sim.count() == 0
    sim.faults.script(FaultKind.APPLY_THEN_DROP)
    with pytest.raises(httpx2.RemoteProtocolError):
        api.post("/crm/v8/Contacts/upsert", content=body)
    assert sim.count() == 1  # the write happened; the client never heard of it


def test_a_truncated_answer_is_cut_after_the_write_and_an_html_200_applies_nothing(
    api: httpx2.Client, sim: ZohoSimulator
) -> None:
    body = json.dumps({"data": [contact(1)]}).encode()
    sim.faults.script(FaultKind.TRUNCATED)
    cut = api.post("/crm/v8/Contacts/upsert", content=body)
    assert sim.count() == 1  # applied: only the answer is cut off
    assert cut.status_code in (200, 201) and cut.headers["content-type"].startswith("application/json")
    assert int(cut.headers["content-length"]) == len(cut.content) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    whole = api.post("/crm/v8/Contacts/upsert", content=body).content  # the same answer, whole (an update now)
    assert whole.startswith(cut.content[: cut.content.index(b'"code"')])
    sim.faults.script(FaultKind.HTML_200)
    page = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(2)]}).encode())
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.lstrip().startswith("<!DOCTYPE html>")
    assert sim.count() == 1  # not applied


def test_truncated_and_html_200_rates_are_set_through_the_control_plane(sim: ZohoSimulator) -> None:
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as raw:
        answer = raw.post("/_sim/faults", json={"html_200_rate": 1.0, "path_pattern": "/oauth/"}).json()
        assert answer["faults"]["html_200_rate"] == 1.0 and answer["faults"]["truncated_rate"] == 0.0
        token = raw.post("/oauth/v2/token", data={"grant_type": "refresh_token"})
        assert token.status_code == 200 and token.headers["content-type"].startswith("text/html")
        raw.post("/_sim/faults", json={"html_200_rate": 0.0, "truncated_rate": 1.0, "path_pattern": "/org"})
        assert raw.post("/_sim/faults", json={"clear": True}).json()["faults"]["truncated_rate"] == 0.0
        refused = raw.post("/_sim/faults", json={"script": [{"kind": "meltdown"}]})
        assert refused.status_code == 400 and refused.json()["code"] == "INVALID_DATA"
        raw.post("/_sim/faults", json={"html_200_rate": 0.5})
        refused = raw.post("/_sim/faults", json={"clear": True, "script": [{"kind": "meltdown"}]})
        assert refused.status_code == 400 and sim.faults.html_200_rate == 0.5  # a refused body clears nothing either


def test_seed_is_deterministic_with_case_variants_and_duplicates() -> None:
    store = [f"customer{n}@shop.example" for n in range(60)]
    one, two = ZohoSimulator(seed=5), ZohoSimulator(seed=5)
    summary = one.seed_org(store)
    assert summary == two.seed_org(store)
    assert [c["Email"] for c in one.contacts()] == [c["Email"] for c in two.contacts()]
    assert summary.case_variants and summary.duplicated
    for email in summary.case_variants:
        [found] = one.contacts_by_email(email)
        assert found["Email"] != email and found["Email"].lower() == email
    for email in summary.duplicated:
        assert len(one.contacts_by_email(email)) == 2
    assert set(summary.duplicated) <= set(one.duplicate_emails())
    other = ZohoSimulator(seed=6)
    other.seed_org(store)
    assert [c["Last_Name"] for c in other.contacts()] != [c["Last_Name"] for c in one.contacts()]


def test_control_plane(sim: ZohoSimulator) -> None:
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as raw:
        issued = raw.post("/_sim/tokens", json={"action": "refresh_token"}).json()
        assert issued["client_id"] == sim.client_id
        token = raw.post(
            "/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": issued["client_id"],
                "client_secret": issued["client_secret"],
                "refresh_token": issued["refresh_token"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Zoho-oauthtoken {token}"}
        raw.post("/crm/v8/Contacts", content=json.dumps({"data": [contact(1)], "trigger": []}), headers=headers)
        assert (
            raw.get("/_sim/contacts", params={"email": "jane1@example.com"}).json()["contacts"][0]["Last_Name"]
            == "Doe1"
        )
        assert raw.get("/_sim/writes").json()["writes"][0]["trigger"] == []
        assert raw.post("/_sim/config", json={"index_lag": 12.5}).json()["config"]["index_lag"] == 12.5
        assert raw.post("/_sim/config", json={"bogus": 1}).status_code == 400
        raw.post("/_sim/faults", json={"error_rate": 1.0})
        assert raw.get("/crm/v8/org", headers=headers).status_code == 500
        raw.post("/_sim/faults", json={"clear": True})
        stats = raw.get("/_sim/stats").json()
        assert stats["contacts"] == 1 and stats["token_requests"] == 1
        raw.post("/_sim/reset")
        assert sim.count() == 0
        assert raw.get("/crm/v8/org", headers=headers).status_code == 401


def test_truncated_and_html_200_over_a_real_socket(sim: ZohoSimulator) -> None:
    """Scripted through the control plane: a cut upsert answer's Content-Length is the bytes sent (HTTP reads it,
    and the same connection serves the next request) and its write is applied; an HTML page applies nothing."""
    server = sim.serve()
    try:
        headers = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}
        with httpx2.Client(base_url=server.url, headers=headers) as client:
            script = [{"kind": "truncated", "path_pattern": "/upsert"}, {"kind": "html_200", "path_pattern": "/upsert"}]
            assert client.post("/_sim/faults", json={"script": script}).status_code == 200
            assert client.get("/crm/v8/settings/fields", params={"module": "Contacts"}).json()["fields"]
            cut = client.post("/crm/v8/Contacts/upsert", json={"data": [contact(1)]})
            assert cut.headers["content-type"].startswith("application/json")
            assert int(cut.headers["content-length"]) == len(cut.content) > 0
            with pytest.raises(json.JSONDecodeError):
                json.loads(cut.content)
            assert sim.count() == 1  # applied: only the answer was cut off
            page = client.post("/crm/v8/Contacts/upsert", json={"data": [contact(2)]})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert sim.count() == 1  # not applied
            whole = client.post("/crm/v8/Contacts/upsert", json={"data": [contact(2)]})
            assert whole.json()["data"][0]["code"] == "SUCCESS" and sim.count() == 2
    finally:
        server.stop()
