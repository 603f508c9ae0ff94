"""zoho/client.py: upsert/update/tags/delete results item by item, COQL lookups, metadata, retries, credits."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
import stamina
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError, ZohoAuthError, ZohoError, ZohoRateLimited, ZohoRequestRefused
from magento_zoho_sync.http import ApiStats
from magento_zoho_sync.settings import MagentoSettings, RetrySettings, Settings, ZohoSettings
from magento_zoho_sync.zoho.auth import ZohoTokenManager
from magento_zoho_sync.zoho.client import (
    MAX_COQL_VALUES,
    REFUSALS_PER_BATCH,
    RecordResult,
    ZohoClient,
    coql_quote,
)

ACCOUNTS = "https://accounts.zoho.com"
API = "https://www.zohoapis.com"
ACCESS = "1000.00000000000000000000000000000001.00000000000000000000000000000001"
CLIENT_SECRET = "canary-client-secret-77"
REFRESH = "1000.canaryrefresh.canaryrefresh"

Api = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    redact.clear_secrets()
    with stamina.set_testing(True, attempts=3):
        yield
    redact.clear_secrets()


def _json(status: int, body: object, **headers: str) -> httpx2.Response:
    return httpx2.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json;charset=UTF-8", **headers}
    )


class Recorder:
    """Accounts answer with one token; CRM calls go to ``api`` and are recorded with their decoded body."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.token_calls = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        for secret in (CLIENT_SECRET, REFRESH, ACCESS):
            assert secret not in str(request.url)  # credentials never travel in a URL
        if request.url.host == "accounts.zoho.com":
            with self.lock:
                self.token_calls += 1
            return _json(200, {"access_token": ACCESS, "api_domain": API, "token_type": "Bearer", "expires_in": 3600})
        assert request.headers["Authorization"] == f"Zoho-oauthtoken {ACCESS}"
        body = json.loads(request.content) if request.content else None
        with self.lock:
            self.calls.append((request.method, request.url.path, dict(request.url.params), body))
        return self.api(request)


def _client(
    api: Api, *, trigger: list[str] | None = None, stats: ApiStats | None = None
) -> tuple[ZohoClient, Recorder]:
    recorder = Recorder(api)
    transport = httpx2.MockTransport(recorder)
    stats = stats or ApiStats()
    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id="id",
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH),
        transport=transport,
        stats=stats,
    )
    client = ZohoClient(api_url=API, token_manager=manager, trigger=trigger or [], transport=transport, stats=stats)
    return client, recorder


def _records(n: int) -> list[dict[str, Any]]:
    return [{"Email": f"c{i}@example.com", "Last_Name": f"Name{i}"} for i in range(n)]


def _success(action: str, record_id: str) -> dict[str, Any]:
    return {
        "code": "SUCCESS",
        "duplicate_field": "Email" if action == "update" else None,
        "action": action,
        "details": {
            "Modified_Time": "2026-11-27T10:31:43+05:30",
            "id": record_id,
            "Created_Time": "2026-11-27T10:31:43+05:30",
        },
        "message": "record updated" if action == "update" else "record added",
        "status": "success",
    }


MANDATORY = {
    "code": "MANDATORY_NOT_FOUND",
    "details": {"api_name": "Last_Name", "json_path": "$.data[2].Last_Name"},
    "message": "required field not found",
    "status": "error",
}
DUPLICATE = {
    "code": "DUPLICATE_DATA",
    "details": {
        "api_name": "Email",
        "json_path": "$.data[1].Email",
        "duplicate_record": {
            "module": {"api_name": "Contacts", "id": "1"},
            "id": "4150868000000376008",
            "Owner": {"name": "Patricia", "id": "9"},
        },
    },
    "message": "duplicate data",
    "status": "error",
}
TOO_LONG = {
    "code": "INVALID_DATA",
    "details": {"api_name": "First_Name", "json_path": "$.data[3].First_Name", "maximum_length": 40},
    "message": "invalid data",
    "status": "error",
}


# ---------------------------------------------------------------------------------------------------- upsert


def test_upsert_sends_duplicate_check_fields_and_an_empty_trigger() -> None:
    client, recorder = _client(lambda r: _json(201, {"data": [_success("insert", "11"), _success("insert", "12")]}))
    results = client.upsert_contacts(_records(2))
    ((method, path, params, body),) = recorder.calls
    assert (method, path, params) == ("POST", "/crm/v8/Contacts/upsert", {})
    assert body == {"data": _records(2), "duplicate_check_fields": ["Email"], "trigger": []}
    assert [(r.ok, r.action, r.id, r.code) for r in results] == [
        (True, "insert", "11", "SUCCESS"),
        (True, "insert", "12", "SUCCESS"),
    ]


def test_upsert_207_is_read_item_by_item_in_input_order() -> None:
    answer = {"data": [_success("update", "101"), DUPLICATE, MANDATORY, TOO_LONG, _success("insert", "105")]}
    client, _ = _client(lambda r: _json(207, answer))
    results = client.upsert_contacts(_records(5))
    assert [(r.ok, r.action, r.id, r.code) for r in results] == [
        (True, "update", "101", "SUCCESS"),
        (False, None, None, "DUPLICATE_DATA"),
        (False, None, None, "MANDATORY_NOT_FOUND"),
        (False, None, None, "INVALID_DATA"),
        (True, "insert", "105", "SUCCESS"),
    ]
    assert results[1].details["duplicate_record"]["id"] == "4150868000000376008"
    assert results[2].describe() == "MANDATORY_NOT_FOUND: required field not found (field Last_Name)"
    assert results[3].describe() == "INVALID_DATA: invalid data (field First_Name, maximum length 40)"
    assert "existing record 4150868000000376008" in results[1].describe()


def test_upsert_400_with_every_record_failed_is_read_item_by_item() -> None:
    client, _ = _client(lambda r: _json(400, {"data": [MANDATORY, TOO_LONG]}))
    results = client.upsert_contacts(_records(2))
    assert [r.code for r in results] == ["MANDATORY_NOT_FOUND", "INVALID_DATA"]
    assert not any(r.ok for r in results)


def test_a_configured_trigger_is_sent() -> None:
    client, recorder = _client(lambda r: _json(200, {"data": [_success("update", "1")]}), trigger=["workflow"])
    client.upsert_contacts(_records(1))
    assert recorder.calls[0][3]["trigger"] == ["workflow"]


def test_a_whole_request_error_fails_every_record_of_the_batch() -> None:
    error = {
        "code": "INVALID_DATA",
        "details": {"expected_data_type": "jsonarray"},
        "message": "invalid data",
        "status": "error",
    }
    client, _ = _client(lambda r: _json(400, error))
    results = client.upsert_contacts(_records(3))
    assert [r.code for r in results] == ["INVALID_DATA"] * 3
    assert all(not r.ok and "whole batch" in r.message for r in results)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            {
                "code": "INVALID_MODULE",
                "details": {},
                "message": "the module name given seems to be invalid",
                "status": "error",
            },
            ZohoRequestRefused,
        ),
        (
            404,
            {
                "code": "INVALID_URL_PATTERN",
                "details": {},
                "message": "Please check if the URL trying to access is a correct one",
                "status": "error",
            },
            ZohoRequestRefused,
        ),
        (
            401,
            {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "Unauthorized", "status": "error"},
            ZohoAuthError,
        ),
        (
            403,
            {"code": "NO_PERMISSION", "details": {}, "message": "permission denied", "status": "error"},
            ZohoAuthError,
        ),
    ],
)
def test_request_errors_that_would_repeat_stop_the_run(
    status: int, body: dict[str, Any], error: type[Exception]
) -> None:
    client, recorder = _client(lambda r: _json(status, body))
    with pytest.raises(error) as info:
        client.upsert_contacts(_records(2))
    assert body["code"] in str(info.value)
    assert len(recorder.calls) == 1  # never retried
    assert CLIENT_SECRET not in str(info.value) and ACCESS not in str(info.value)


@pytest.mark.parametrize(
    ("json_path", "api_name", "setting"),
    [
        ("$.trigger", "trigger", "MZSYNC_ZOHO_TRIGGER"),
        ("$.duplicate_check_fields[0]", "Phone", "MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS"),
    ],
)
def test_a_refused_request_setting_stops_the_run_with_the_setting_to_fix(
    json_path: str, api_name: str, setting: str
) -> None:
    body = {
        "code": "INVALID_DATA",
        "details": {"api_name": api_name, "json_path": json_path},
        "message": "invalid data",
        "status": "error",
    }
    client, recorder = _client(lambda r: _json(400, body))
    with pytest.raises(ConfigError) as info:  # not a failure of each customer: every batch would be refused
        client.upsert_contacts(_records(2))
    assert setting in str(info.value) and json_path in str(info.value)
    assert len(recorder.calls) == 1


def test_scope_mismatch_names_the_scope() -> None:
    body = {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "Unauthorized", "status": "error"}
    client, _ = _client(lambda r: _json(401, body))
    with pytest.raises(ZohoAuthError, match=r"ZohoCRM\.coql\.READ"):
        client.find_contacts_by_email(["a@example.com"])


def test_a_result_count_that_does_not_match_fails_the_batch_safely() -> None:
    client, _ = _client(lambda r: _json(200, {"data": [_success("update", "1")]}))
    results = client.upsert_contacts(_records(3))
    assert [r.code for r in results] == ["UNEXPECTED_RESPONSE"] * 3


def test_an_empty_204_never_crashes() -> None:
    client, _ = _client(lambda r: httpx2.Response(204))
    assert [r.code for r in client.upsert_contacts(_records(2))] == ["NO_RESULT", "NO_RESULT"]
    assert client.contact_fields() == []
    assert list(client.scan_contacts()) == []
    assert client.find_contacts_by_email(["a@example.com"]) == {"a@example.com": []}


def test_batches_are_limited_to_100_and_empty_batches_cost_nothing() -> None:
    client, recorder = _client(lambda r: _json(200, {"data": []}))
    with pytest.raises(ValueError, match="100"):
        client.upsert_contacts(_records(101))
    assert client.upsert_contacts([]) == []
    assert client.delete_contacts([]) == []
    assert recorder.calls == []


# ---------------------------------------------------------------------------------------------------- other writes


def test_update_contacts_puts_records_with_ids() -> None:
    answer = {"data": [{"code": "SUCCESS", "details": {"id": "7"}, "message": "record updated", "status": "success"}]}
    client, recorder = _client(lambda r: _json(200, answer))
    (result,) = client.update_contacts([{"id": "7", "Email": "new@example.com"}])
    assert result == RecordResult(True, "update", "7", "SUCCESS", "record updated", {"id": "7"})
    assert recorder.calls[0][:2] == ("PUT", "/crm/v8/Contacts")
    assert recorder.calls[0][3] == {"data": [{"id": "7", "Email": "new@example.com"}], "trigger": []}
    with pytest.raises(ValueError, match="'id'"):
        client.update_contacts([{"Email": "x@example.com"}])


def test_add_tags_and_delete() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        if request.method == "DELETE":
            return _json(
                200,
                {
                    "data": [
                        {"code": "SUCCESS", "details": {"id": "1"}, "message": "record deleted", "status": "success"},
                        {
                            "code": "INVALID_DATA",
                            "details": {"id": "2"},
                            "message": "record not deleted",
                            "status": "error",
                        },
                    ]
                },
            )
        if request.url.path.endswith("/coql"):  # is contact 2, which Zoho did not delete, still there? yes
            return _json(200, {"data": [{"id": "2"}], "info": {"count": 1, "more_records": False}})
        return _json(
            200,
            {
                "data": [
                    {
                        "code": "SUCCESS",
                        "details": {"id": i, "tags": [{"name": "Gone"}]},
                        "message": "tags updated successfully",
                        "status": "success",
                    }
                    for i in ("1", "2")
                ]
            },
        )

    client, recorder = _client(api)
    tagged = client.add_tags(["1", "2"], "Gone")
    assert [r.id for r in tagged] == ["1", "2"]
    assert recorder.calls[0][:2] == ("POST", "/crm/v8/Contacts/actions/add_tags")
    assert recorder.calls[0][3] == {"tags": [{"name": "Gone"}], "ids": ["1", "2"], "over_write": False}
    deleted = client.delete_contacts(["1", "2"])
    assert [(r.ok, r.code) for r in deleted] == [(True, "SUCCESS"), (False, "INVALID_DATA")]
    assert recorder.calls[1][:3] == ("DELETE", "/crm/v8/Contacts", {"ids": "1,2", "wf_trigger": "false"})


def test_a_delete_refused_for_a_contact_that_is_gone_counts_as_deleted() -> None:
    """A delete sent again after its first answer was lost or cut short (the first call deleted the contacts): Zoho
    says "record not deleted" for contacts that are no longer there, which is what was asked."""
    refused = {"code": "INVALID_DATA", "details": {"id": "2"}, "message": "record not deleted", "status": "error"}

    def api(request: httpx2.Request) -> httpx2.Response:
        if request.method == "DELETE":
            return _json(400, {"data": [refused, {**refused, "details": {"id": "3"}}]})
        assert "where id in (2,3)" in request.content.decode()
        return _json(200, {"data": [{"id": "3"}], "info": {"count": 1, "more_records": False}})  # 3 is still there

    client, recorder = _client(api)
    two, three = client.delete_contacts(["2", "3"])
    assert (two.ok, two.id, two.code) == (True, "2", "SUCCESS")
    assert (three.ok, three.code, three.message) == (False, "INVALID_DATA", "record not deleted")
    assert [call[:2] for call in recorder.calls] == [("DELETE", "/crm/v8/Contacts"), ("POST", "/crm/v8/coql")]


# ---------------------------------------------------------------------------------------------------- COQL


def test_coql_quote_escapes_quotes_and_backslashes() -> None:
    assert coql_quote("o'brien@example.com") == "'o\\'brien@example.com'"
    assert coql_quote("a\\b@example.com") == "'a\\\\b@example.com'"


def test_find_contacts_by_email_chunks_escapes_and_groups_exactly() -> None:
    emails = [f"user{i}@example.com" for i in range(118)] + ["O'Brien@Example.com ", "USER0@example.com"]

    def api(request: httpx2.Request) -> httpx2.Response:
        query = json.loads(request.content)["select_query"]
        rows = []
        if "'user0@example.com'" in query:
            rows += [
                {"id": "30", "Email": "User0@Example.com", "Created_Time": "2024-02-01T00:00:00+00:00"},
                {"id": "20", "Email": "user0@example.com", "Created_Time": "2023-01-01T00:00:00+00:00"},
                {"id": "99", "Email": "user0@example.com.au", "Created_Time": None},  # not an exact match
            ]
        if "'o\\'brien@example.com'" in query:
            rows.append({"id": "40", "Email": "o'brien@example.com", "Created_Time": "2022-05-05T00:00:00+00:00"})
        if not rows:
            return httpx2.Response(204)
        return _json(200, {"data": rows, "info": {"count": len(rows), "more_records": False}})

    client, recorder = _client(api)
    found = client.find_contacts_by_email(emails)
    queries = [call[3]["select_query"] for call in recorder.calls]
    assert len(queries) == 4  # 119 distinct emails in chunks of 50, and the one with a quote alone
    assert all(call[:2] == ("POST", "/crm/v8/coql") for call in recorder.calls)
    assert queries[0].startswith(
        "select id, Email, Created_Time from Contacts where Email in ('user0@example.com','user1@example.com',"
    )
    assert [q.count("@") for q in queries] == [MAX_COQL_VALUES, MAX_COQL_VALUES, 18, 1]
    assert len(found) == 119
    assert [ref.id for ref in found["user0@example.com"]] == ["20", "30"]  # oldest first
    assert [ref.email for ref in found["o'brien@example.com"]] == ["o'brien@example.com"]
    assert found["user5@example.com"] == []
    assert client.stats.zoho_credits == 4


@pytest.mark.parametrize("read", [True, False])
def test_an_answer_that_is_not_json_names_the_api_url_to_check(read: bool) -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404, content=b"<html>Not Found</html>", headers={"Content-Type": "text/html"})

    client, _ = _client(api)
    with pytest.raises(ZohoError, match="not JSON") as info:
        if read:
            client.find_contacts_by_email(["ann@example.com"])
        else:
            client.upsert_contacts([{"Email": "ann@example.com", "Last_Name": "Lee"}])
    assert f"Is ZOHO_API_URL ({API})" in str(info.value) and "ZOHO_REGION" in str(info.value)


def test_coql_quote_doubled() -> None:
    assert coql_quote("o'brien@example.com", doubled=True) == "'o''brien@example.com'"


def test_a_quote_zoho_refuses_after_a_backslash_is_sent_doubled_and_that_is_kept() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        query = json.loads(request.content)["select_query"]
        if "\\'" in query:
            return _json(400, {"code": "SYNTAX_ERROR", "details": {}, "message": "error", "status": "error"})
        value = query.split("in (")[1].rstrip(")")
        return _json(200, {"data": [{"id": "7", "Email": value[1:-1].replace("''", "'")}], "info": {}})

    client, recorder = _client(api)
    found = client.find_contacts_by_email(["o'brien@example.com", "d'arcy@example.com"])
    assert [ref.id for ref in found["o'brien@example.com"]] == ["7"] and len(found["d'arcy@example.com"]) == 1
    queries = [call[3]["select_query"] for call in recorder.calls]
    assert ["\\'" in q for q in queries] == [True, False, False]  # learned on the first email
    client.find_contacts_by_email(["o'hara@example.com", "plain@example.com", "d'arcy@example.com"])
    assert recorder.calls[-1][3]["select_query"].count("@") == 3 and len(recorder.calls) == 4  # then one query


def test_a_coql_refusal_other_than_a_syntax_error_is_not_retried_with_the_other_escape() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        return _json(400, {"code": "INVALID_QUERY", "details": {}, "message": "invalid query", "status": "error"})

    client, recorder = _client(api)
    with pytest.raises(ZohoError, match="INVALID_QUERY"):
        client.find_contacts_by_email(["o'brien@example.com"])
    assert len(recorder.calls) == 1


def test_more_records_splits_the_chunk() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        query = json.loads(request.content)["select_query"]
        values = query.split("in (")[1].rstrip(")").split(",")
        rows = [{"id": str(i), "Email": v.strip("'")} for i, v in enumerate(values)]
        return _json(200, {"data": rows, "info": {"count": len(rows), "more_records": len(values) > 2}})

    client, recorder = _client(api)
    found = client.find_contacts_by_email([f"p{i}@example.com" for i in range(8)])
    assert all(len(refs) == 1 for refs in found.values())
    assert len(recorder.calls) == 1 + 2 + 4


# ---------------------------------------------------------------------------------------------------- reads


def test_contact_fields() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/settings/fields"):
            return _json(
                200,
                {
                    "fields": [
                        {
                            "api_name": "Last_Name",
                            "data_type": "text",
                            "length": 80,
                            "system_mandatory": True,
                            "field_label": "Last Name",
                        },
                        {"api_name": "Email", "data_type": "email", "length": 100, "unique": {"casesensitive": False}},
                        {"api_name": "Mailing_Street", "data_type": "textarea", "length": "250"},
                        {"data_type": "broken"},
                    ]
                },
            )
        return _json(404, {"code": "INVALID_URL_PATTERN", "message": "not a path the client calls"})

    client, recorder = _client(api)
    fields = client.contact_fields()
    assert [(f.api_name, f.data_type, f.length) for f in fields] == [
        ("Last_Name", "text", 80),
        ("Email", "email", 100),
        ("Mailing_Street", "textarea", 250),
    ]
    assert fields[0].system_mandatory and fields[1].unique and not fields[2].unique
    assert [call[:3] for call in recorder.calls] == [("GET", "/crm/v8/settings/fields", {"module": "Contacts"})]


def test_scan_contacts_walks_coql_by_id_keyset() -> None:
    queries: list[str] = []

    def api(request: httpx2.Request) -> httpx2.Response:
        assert request.method == "POST" and request.url.path == "/crm/v8/coql"
        query = json.loads(request.content)["select_query"]
        queries.append(query)
        last = int(query.split("where id > ")[1].split(" ")[0])
        rows = [
            {"id": str(i), "Email": None if i % 3 == 0 else f"c{i}@x.com", "Created_Time": "t"}
            for i in range(last + 1, min(last + 2000, 4500) + 1)
        ]
        if not rows:
            return httpx2.Response(204)
        return _json(200, {"data": rows, "info": {"count": len(rows), "more_records": len(rows) == 2000}})

    client, _ = _client(api)
    refs = list(client.scan_contacts())
    assert len(refs) == 4500 - 4500 // 3
    assert refs[0].id == "1" and refs[-1].id == "4499"
    assert [q.split("where ")[1] for q in queries] == [
        "id > 0 order by id asc limit 2000",
        "id > 2000 order by id asc limit 2000",
        "id > 4000 order by id asc limit 2000",
    ]


# ---------------------------------------------------------------------------------------------------- retries, credits


def test_500_then_success_is_retried_and_only_the_answered_call_is_charged() -> None:
    answers = [
        _json(500, {"code": "INTERNAL_ERROR", "details": {}, "message": "Internal Server Error", "status": "error"})
    ]

    def api(request: httpx2.Request) -> httpx2.Response:
        if answers:
            return answers.pop()
        return _json(
            201, {"data": [_success("insert", str(i)) for i in range(25)]}, **{"X-API-CREDITS-REMAINING": "4321"}
        )

    client, recorder = _client(api)
    results = client.upsert_contacts(_records(25))
    assert all(r.ok for r in results)
    assert len(recorder.calls) == 2
    assert client.stats.zoho_calls == 2
    assert client.stats.zoho_credits == 3  # ⌈25/10⌉, the 500 is not charged
    assert client.stats.zoho_credits_remaining == 4321
    assert client.stats.zoho_token_calls == 1


def test_persistent_429_becomes_zoho_rate_limited() -> None:
    body = {"code": "TOO_MANY_REQUESTS", "details": {}, "message": "API limit exceeded", "status": "error"}
    client, recorder = _client(lambda r: _json(429, body))
    with pytest.raises(ZohoRateLimited, match="429") as info:
        client.upsert_contacts(_records(1))
    assert len(recorder.calls) == 3
    assert "MZSYNC_ZOHO_CONCURRENCY" in str(info.value)
    assert client.stats.zoho_credits == 0


@pytest.mark.parametrize(
    ("remaining", "message", "spent"),
    [
        ("0", "Too many requests", True),
        ("2", "Too many requests", True),  # fewer than the 3 credits the call costs
        ("50", "Too many requests", False),  # credits left: too many calls at once
        (None, "Many requests fired than the allowed limit for the past 24 hours.", True),  # Zoho's legacy words
        (None, "API credits exceeded", True),
        (None, "Too many requests", False),
    ],
)
def test_a_429_for_spent_credits_stops_at_once_and_says_when_to_run_again(
    remaining: str | None, message: str, spent: bool
) -> None:
    body = {"code": "TOO_MANY_REQUESTS", "details": {}, "message": message, "status": "error"}
    headers = {"X-API-CREDITS-REMAINING": remaining} if remaining is not None else {}
    client, recorder = _client(lambda r: _json(429, body, **headers))
    with pytest.raises(ZohoRateLimited) as info:
        client.upsert_contacts(_records(25))
    if not spent:
        assert len(recorder.calls) == 3 and "MZSYNC_ZOHO_CONCURRENCY" in str(info.value)  # retried, then said
        return
    assert len(recorder.calls) == 1  # not retried: it cannot help
    said = str(info.value)
    assert "the org's daily API credits are spent" in said
    assert ("(2 left, the call needs 3)" in said) is (remaining == "2")
    assert "run again later, at the latest after 2" in said  # a date: 2025-…


def test_after_a_refusal_for_spent_credits_no_call_is_sent_at_all() -> None:
    """The other writers' next batches are refused with the same words without reaching Zoho (which would refuse
    them too): at most the calls already on their way follow the refusal."""
    body = {"code": "TOO_MANY_REQUESTS", "details": {}, "message": "API credits exceeded", "status": "error"}
    client, recorder = _client(lambda r: _json(429, body, **{"X-API-CREDITS-REMAINING": "0"}))
    with pytest.raises(ZohoRateLimited) as first:
        client.upsert_contacts(_records(25))
    for call in (lambda: client.upsert_contacts(_records(5)), lambda: client.find_contacts_by_email(["a@b.example"])):
        with pytest.raises(ZohoRateLimited) as again:
            call()
        assert str(again.value) == str(first.value) and again.value.hint == first.value.hint
    assert len(recorder.calls) == 1


def test_a_dropped_connection_is_retried() -> None:
    drops = [httpx2.RemoteProtocolError("Server disconnected without sending a response.")]

    def api(request: httpx2.Request) -> httpx2.Response:
        if drops:
            raise drops.pop()
        return _json(200, {"data": [_success("update", "1")]})

    client, recorder = _client(api)
    assert client.upsert_contacts(_records(1))[0].ok
    assert len(recorder.calls) == 2


def test_unreachable_api_is_a_zoho_error() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")

    client, _ = _client(api)
    with pytest.raises(ZohoError, match=r"could not be reached .* after 3 attempts \(ConnectError\)") as info:
        client.contact_fields()
    assert not isinstance(info.value, ZohoRateLimited)


def test_writer_threads_share_one_token() -> None:
    client, recorder = _client(lambda r: _json(200, {"data": [_success("update", "1")]}))
    start = threading.Barrier(10)

    def worker() -> None:
        start.wait()
        client.upsert_contacts(_records(1))

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(recorder.calls) == 10
    assert recorder.token_calls == 1
    assert client.stats.zoho_calls == 10


def test_from_settings_wires_trigger_fields_and_retries() -> None:
    settings = Settings(
        magento=MagentoSettings(base_url="https://shop.example.com", username="u", password=SecretStr("p")),
        zoho=ZohoSettings(
            accounts_url=ACCOUNTS,
            api_url=API,
            client_id="id",
            client_secret=SecretStr(CLIENT_SECRET),
            refresh_token=SecretStr(REFRESH),
            trigger=["workflow"],
            duplicate_check_fields=["Magento_Id", "Email"],
        ),
        retry=RetrySettings(attempts=2),
    )
    recorder = Recorder(lambda r: _json(200, {"data": [_success("update", "1")]}))
    client = ZohoClient.from_settings(settings, transport=httpx2.MockTransport(recorder))
    client.upsert_contacts(_records(1))
    assert recorder.calls[0][3]["duplicate_check_fields"] == ["Magento_Id", "Email"]
    assert recorder.calls[0][3]["trigger"] == ["workflow"]
    client.close()


def test_existing_contact_ids_asks_coql_by_id_in_chunks_of_50() -> None:
    asked: list[str] = []

    def api(request: httpx2.Request) -> httpx2.Response:
        query = json.loads(request.content)["select_query"]
        asked.append(query)
        inside = query.split("in (")[1].rstrip(")").split(",")
        return _json(200, {"data": [{"id": i} for i in inside if int(i) % 2 == 0], "info": {"more_records": False}})

    client, _ = _client(api)
    ids = [str(i) for i in range(1, 121)] + ["12", "x1; delete", ""]
    assert client.existing_contact_ids(ids) == {str(i) for i in range(2, 121, 2)}
    assert len(asked) == 3  # 120 distinct ids, 50 a query; what is not all digits is never sent
    assert asked[0] == f"select id from Contacts where id in ({','.join(str(i) for i in range(1, 51))})"  # noqa: S608 - the expected query
    client, recorder = _client(lambda r: httpx2.Response(204))
    assert client.existing_contact_ids(["7"]) == set()
    assert client.existing_contact_ids([]) == set() and len(recorder.calls) == 1


def test_a_body_mislabelled_as_gzip_names_the_proxy_or_web_server() -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    client, _ = _client(lambda r: httpx2.Response(200, content=b'{"fields": []}', headers=headers))
    with pytest.raises(ZohoError) as info:
        client.contact_fields()
    assert "/settings/fields to Zoho CRM failed (DecodingError: the body is not encoded" in info.value.message
    assert info.value.hint is not None and "proxy or the web server" in info.value.hint
    accounts = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id="id",
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH),
        transport=httpx2.MockTransport(lambda r: httpx2.Response(200, content=b"{}", headers=headers)),
    )
    with pytest.raises(ZohoError) as token_info:
        accounts.access_token()
    assert "Content-Encoding" in token_info.value.message and token_info.value.hint is not None


def test_a_whole_batch_refused_without_a_message_says_so_with_its_code() -> None:
    client, _ = _client(lambda r: _json(400, {"code": "INVALID_DATA", "details": {}, "status": "error"}))
    results = client.upsert_contacts(_records(2))
    assert [r.message for r in results] == [
        "Zoho refused the whole batch: Zoho gave no message; code INVALID_DATA, details: none"
    ] * 2


def test_a_request_refused_for_one_record_fails_that_record_and_sends_the_others_again() -> None:
    """A request-level refusal whose json_path names ``$.data[i]``: nothing was written, so only record i fails."""

    def api(request: httpx2.Request) -> httpx2.Response:
        sent = json.loads(request.content)["data"]
        bad = [i for i, record in enumerate(sent) if record["Last_Name"] in ("Name1", "Name3")]
        if bad:
            path = f"$.data[{bad[0]}].Last_Name"
            details = {"api_name": "Last_Name", "json_path": path}
            return _json(
                400, {"code": "INVALID_DATA", "details": details, "message": "invalid data", "status": "error"}
            )
        return _json(200, {"data": [_success("insert", f"z{r['Last_Name']}") for r in sent]})

    client, recorder = _client(api)
    results = client.upsert_contacts(_records(5))
    assert [(r.ok, r.code, r.id) for r in results] == [
        (True, "SUCCESS", "zName0"),
        (False, "INVALID_DATA", None),
        (True, "SUCCESS", "zName2"),
        (False, "INVALID_DATA", None),
        (True, "SUCCESS", "zName4"),
    ]
    assert results[1].details["json_path"] == "$.data[1].Last_Name"  # as Zoho named it, in the call that failed
    assert [len(body["data"]) for _, _, _, body in recorder.calls] == [5, 4, 3]
    assert all(body["duplicate_check_fields"] == ["Email"] for _, _, _, body in recorder.calls)


def test_a_request_refused_for_a_record_it_does_not_hold_fails_the_whole_batch_as_before() -> None:
    details = {"api_name": "Email", "json_path": "$.data[7].Email"}
    client, recorder = _client(lambda r: _json(400, {"code": "INVALID_DATA", "details": details, "message": "bad"}))
    results = client.upsert_contacts(_records(3))
    assert [r.message for r in results] == ["Zoho refused the whole batch: bad"] * 3 and len(recorder.calls) == 1


def _refusing(*bad_names: str, path: str = "$.data[{i}].Last_Name") -> Any:
    """A Zoho that refuses a whole request naming its first record whose Last_Name is in ``bad_names``."""

    def api(request: httpx2.Request) -> httpx2.Response:
        sent = json.loads(request.content)["data"]
        bad = [i for i, record in enumerate(sent) if record["Last_Name"] in bad_names]
        if bad:
            details = {"api_name": "Last_Name", "json_path": path.format(i=bad[0])}
            return _json(
                400, {"code": "INVALID_DATA", "details": details, "message": "invalid data", "status": "error"}
            )
        return _json(200, {"data": [_success("insert", f"z{r['Last_Name']}") for r in sent]})

    return api


def test_a_fault_every_record_has_costs_a_bounded_number_of_calls_per_batch() -> None:
    """A refusal every record meets (a field made mandatory during the run): the first REFUSALS_PER_BATCH records
    get their own answers, the rest of the batch fails with Zoho's words at once: a few calls, not one per record."""
    client, recorder = _client(_refusing(*(f"Name{n}" for n in range(100))))
    results = client.upsert_contacts(_records(100))
    assert len(results) == 100 and not any(r.ok for r in results)
    assert [r.details["json_path"] for r in results[:2]] == ["$.data[0].Last_Name"] * 2  # as each call named it
    singled = REFUSALS_PER_BATCH
    assert all(r.message == "invalid data" for r in results[:singled])  # their own answers
    assert all("refused the whole batch: invalid data" in r.message for r in results[singled:])
    assert all("the next run tries them again" in r.message for r in results[singled:])
    assert len(recorder.calls) <= REFUSALS_PER_BATCH + REFUSALS_PER_BATCH // 2 + 2
    credits = sum(-(-len(body["data"]) // 10) for _, _, _, body in recorder.calls)
    assert credits < 100  # not the 156 of singling out all 100, nor the 550 of taking them out one by one


@pytest.mark.parametrize("bad", [1, 2, 5, 10])
def test_many_refused_records_in_a_batch_never_fail_a_good_one(bad: int) -> None:
    names = {f"Name{n}" for n in range(0, 100, 100 // bad)}
    client, recorder = _client(_refusing(*names))
    results = client.upsert_contacts(_records(100))
    assert [r.ok for r in results] == [f"Name{n}" not in names for n in range(100)]
    assert all(r.id == f"zName{n}" for n, r in enumerate(results) if r.ok)
    assert len(recorder.calls) <= 1 + bad + (bad + 1) // 2 + 1  # about one call more per refused record


def test_beyond_the_bound_the_rest_of_the_batch_fails_saying_it_is_tried_again() -> None:
    names = {f"Name{n}" for n in range(0, 100, 100 // 12)}  # 13 refused records
    client, recorder = _client(_refusing(*names))
    results = client.upsert_contacts(_records(100))
    refused = [n for n, r in enumerate(results) if not r.ok]
    assert {f"Name{n}" for n in refused} >= names  # every refused record failed
    assert all(r.id == f"zName{n}" for n, r in enumerate(results) if r.ok)  # a written one is linked right
    apart = [r for r in results if not r.ok and "whole batch" not in r.message]
    assert len(apart) == REFUSALS_PER_BATCH
    assert len(recorder.calls) <= REFUSALS_PER_BATCH + REFUSALS_PER_BATCH // 2 + 3


def test_a_single_record_refused_gets_zohos_own_words() -> None:
    client, recorder = _client(_refusing("Name0"))
    [result] = client.upsert_contacts(_records(1))
    assert (result.ok, result.code, result.message) == (False, "INVALID_DATA", "invalid data")
    assert len(recorder.calls) == 1


def test_an_update_refused_as_a_whole_for_an_unknown_id_fails_that_record_and_sends_the_others() -> None:
    def api(request: httpx2.Request) -> httpx2.Response:
        sent = json.loads(request.content)["data"]
        gone = [record["id"] for record in sent if record["id"] == "404"]
        if gone:  # Zoho's words for an id no contact has: details without a json_path
            body = {"code": "INVALID_DATA", "details": {"id": gone[0]}, "message": "the id given seems to be invalid"}
            return _json(400, {**body, "status": "error"})
        return _json(200, {"data": [_success("update", record["id"]) for record in sent]})

    client, recorder = _client(api)
    records = [{"id": i, "Last_Name": "X"} for i in ("1", "404", "3")]
    results = client.update_contacts(records)
    assert [(r.ok, r.id, r.details.get("id")) for r in results] == [
        (True, "1", "1"),
        (False, None, "404"),
        (True, "3", "3"),
    ]
    assert len(recorder.calls) == 2
