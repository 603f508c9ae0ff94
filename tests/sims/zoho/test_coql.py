"""COQL: the subset a sync needs, error shapes, limits, info block, 204."""

from __future__ import annotations

import httpx2
import pytest

from magento_zoho_sims.zoho import ZohoSimulator
from magento_zoho_sims.zoho.coql import QuoteEscape

from .conftest import assert_error_shape


def coql(api: httpx2.Client, query: str) -> httpx2.Response:
    return api.post("/crm/v8/coql", json={"select_query": query})


@pytest.fixture
def people(sim: ZohoSimulator) -> dict[str, str]:
    return {
        "ann": sim.add_contact(Last_Name="Ann", Email="Ann@Example.com", Phone="+1 555 0001"),
        "bob": sim.add_contact(Last_Name="Bob", Email="bob@example.com"),
        "bob2": sim.add_contact(Last_Name="Bobby", Email="BOB@example.com", Magento_Customer_ID="17"),
        "cy": sim.add_contact(Last_Name="Cy", Email="cy@other.org"),
    }


def test_select_by_email_is_case_insensitive(api: httpx2.Client, people: dict[str, str]) -> None:
    response = coql(api, "select Last_Name, Email from Contacts where Email = 'bob@example.com' limit 10")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [
        {"Last_Name": "Bob", "Email": "bob@example.com", "id": people["bob"]},
        {"Last_Name": "Bobby", "Email": "BOB@example.com", "id": people["bob2"]},
    ]
    assert body["info"] == {"count": 2, "more_records": False}


def test_in_like_is_null_and_or(api: httpx2.Client, people: dict[str, str]) -> None:
    def ids(query: str) -> list[str]:
        return [r["id"] for r in coql(api, query).json()["data"]]

    assert ids("select Email from Contacts where Email in ('ann@example.com', 'cy@other.org')") == [
        people["ann"],
        people["cy"],
    ]
    assert ids("select Email from Contacts where Email like '%@example.com'") == [
        people["ann"],
        people["bob"],
        people["bob2"],
    ]
    assert ids("select Email from Contacts where Phone is null and Last_Name like 'Bob%'") == [
        people["bob"],
        people["bob2"],
    ]
    assert ids("select Email from Contacts where (Last_Name = 'Ann' or Last_Name = 'Cy')") == [
        people["ann"],
        people["cy"],
    ]
    nested = "((Email like '%example%' and Phone is null) and Magento_Customer_ID is not null)"
    assert ids(f"select Email from Contacts where {nested}") == [people["bob2"]]  # noqa: S608 (a COQL string, not SQL)


def test_order_by_and_limit_offset(api: httpx2.Client, people: dict[str, str]) -> None:
    body = coql(api, "select Last_Name from Contacts where Email like '%' order by Last_Name desc limit 1, 2").json()
    assert [r["Last_Name"] for r in body["data"]] == ["Bobby", "Bob"]
    assert body["info"] == {"count": 2, "more_records": True}
    same = coql(
        api, "select Last_Name from Contacts where Email like '%' order by Last_Name desc limit 2 offset 1"
    ).json()
    assert same["data"] == body["data"]


def test_no_rows_is_204(api: httpx2.Client, people: dict[str, str]) -> None:
    response = coql(api, "select Email from Contacts where Email = 'nobody@example.com'")
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    "query",
    [
        "selec Email from Contacts",
        "select Email from Contacts where Email = ",
        "select Email from Contacts where Email = 'a' and Last_Name = 'b' and Phone = 'c'",
        "select Email Contacts",
    ],
)
def test_syntax_error(api: httpx2.Client, people: dict[str, str], query: str) -> None:
    response = coql(api, query)
    assert response.status_code == 400
    assert_error_shape(response.json(), "SYNTAX_ERROR")
    details = response.json()["details"]  # where, as OAS coql.json Parse_Error_Details
    assert set(details) == {"line", "column", "near"} and details["line"] == 1
    assert 1 <= details["column"] <= len(query) + 1


@pytest.mark.parametrize(
    ("query", "near", "column"),
    [
        ("select Email from Contacts where Email = 'a' and Last_Name = 'b' and Phone = 'c'", "and", 66),
        ("selec Email from Contacts", "selec", 1),
        ("select Email from Contacts where Email = ", "end of query", 41),
        ("select Email from Contacts where Email = 'a' limit x", "x", 52),
        ("select Email from Contacts where Email ~ 'a'", "~ 'a'", 40),
    ],
)
def test_syntax_error_says_where(api: httpx2.Client, query: str, near: str, column: int) -> None:
    details = coql(api, query).json()["details"]
    assert details == {"line": 1, "column": column, "near": near}
    assert near == "end of query" or query[column - 1 :].startswith(near)


def test_invalid_column_and_module(api: httpx2.Client) -> None:
    column = coql(api, "select Nope from Contacts where Email = 'a'")
    assert column.status_code == 400
    assert column.json() == {
        "code": "INVALID_QUERY",
        "details": {"column_name": "Nope", "reason": "column given seems to be invalid"},
        "message": "invalid query formed",
        "status": "error",
    }
    module = coql(api, "select Email from Leads where Email = 'a'")
    assert_error_shape(module.json(), "INVALID_QUERY")


def test_limits(api: httpx2.Client) -> None:
    assert_error_shape(coql(api, "select Email from Contacts where Email = 'a' limit 2001").json(), "LIMIT_EXCEEDED")
    assert_error_shape(
        coql(api, "select Email from Contacts where Email = 'a' limit 99999, 2000").json(), "LIMIT_EXCEEDED"
    )
    fields = ", ".join(f"Email{i}" for i in range(51))
    assert_error_shape(coql(api, "select " + fields + " from Contacts").json(), "LIMIT_EXCEEDED")  # noqa: S608


def test_missing_select_query(api: httpx2.Client) -> None:
    response = api.post("/crm/v8/coql", json={"query": "select Email from Contacts"})
    assert response.status_code == 400
    assert_error_shape(response.json(), "REQUIRED_PARAM_MISSING")


def test_case_sensitive_switch(api: httpx2.Client, sim: ZohoSimulator, people: dict[str, str]) -> None:
    sim.set_email_case_sensitive(True)
    body = coql(api, "select Email from Contacts where Email = 'bob@example.com'").json()
    assert [r["id"] for r in body["data"]] == [people["bob"]]


CASE_RULES = [  # (the upsert match's case rule, COQL's switch, what Email = 'bob@example.com' finds)
    (False, True, ["bob"]),  # a case-sensitive COQL beside a case-insensitive upsert match
    (True, False, ["bob", "bob2"]),  # and the other way round: the exact index is not used
    (True, None, ["bob"]),
    (False, None, ["bob", "bob2"]),
]


@pytest.mark.parametrize("rule", CASE_RULES)
def test_coqls_case_rule_can_differ_from_the_upsert_match(
    api: httpx2.Client, sim: ZohoSimulator, people: dict[str, str], rule: tuple[bool, bool | None, list[str]]
) -> None:
    matching, coql_switch, found = rule
    sim.set_email_case_sensitive(matching)
    sim.config.coql_email_case_sensitive = coql_switch
    for where in ("Email = 'bob@example.com'", "Email in ('bob@example.com', 'nobody@example.com')"):
        body = coql(api, f"select Email from Contacts where {where}").json()  # noqa: S608
        assert [r["id"] for r in body["data"]] == [people[name] for name in found], where


def test_where_id_accepts_strings_and_numbers(api: httpx2.Client, people: dict[str, str]) -> None:
    quoted = coql(api, f"select Email from Contacts where id in ('{people['ann']}', '{people['cy']}')").json()  # noqa: S608
    assert [r["id"] for r in quoted["data"]] == [people["ann"], people["cy"]]
    bare = coql(api, f"select Email from Contacts where id = {people['bob']}").json()  # noqa: S608
    assert [r["id"] for r in bare["data"]] == [people["bob"]]


@pytest.mark.parametrize("escape", ["backslash", "doubled", "both"])  # [UNVERIFIED] how COQL escapes a quote
def test_a_quote_in_a_string_is_escaped_as_the_switch_says(
    api: httpx2.Client, sim: ZohoSimulator, escape: QuoteEscape
) -> None:
    sim.config.coql_quote_escape = escape
    wanted = sim.add_contact(Last_Name="OBrien", Email="o'brien@example.com")
    for written, taken in (("o\\'brien", escape != "doubled"), ("o''brien", escape != "backslash")):
        response = coql(api, f"select id from Contacts where Email = '{written}@example.com'")  # noqa: S608 - test literals
        if taken:
            assert [row["id"] for row in response.json()["data"]] == [wanted], written
        else:
            assert response.status_code == 400 and response.json()["code"] == "SYNTAX_ERROR", written
