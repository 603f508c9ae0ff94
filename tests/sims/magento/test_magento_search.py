"""``GET /V1/customers/search``: searchCriteria semantics, paging, limits, echo (reference §2.2-2.5)."""

from __future__ import annotations

import time

import httpx2
import pytest
from magento_helpers import criteria, keyset, search

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator, parse_search_criteria


def ids(response: httpx2.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_result_shape_and_echo(client: httpx2.Client, auth: dict[str, str]) -> None:
    params = criteria([[("updated_at", "2020-01-01 00:00:00", "gteq")]], [("entity_id", "asc")], 2, 1)
    body = search(client, auth, params).json()
    assert list(body) == ["items", "search_criteria", "total_count"]
    assert body["search_criteria"] == {
        "filter_groups": [
            {"filters": [{"field": "updated_at", "value": "2020-01-01 00:00:00", "condition_type": "gteq"}]}
        ],
        "sort_orders": [{"field": "entity_id", "direction": "ASC"}],
        "page_size": 2,
        "current_page": 1,
    }
    assert body["total_count"] == 50
    bare = search(client, auth, criteria([[("email", "x", None)]])).json()["search_criteria"]
    assert bare == {"filter_groups": [{"filters": [{"field": "email", "value": "x", "condition_type": "eq"}]}]}


def test_echo_keeps_a_filter_value_and_a_sort_direction_not_sent_as_null(
    client: httpx2.Client, auth: dict[str, str]
) -> None:
    """Filter::getValue() and SortOrder::getDirection() are declared ``@return string`` (no ``|null``), so
    DataObjectProcessor emits them when unset, as null (Adobe's spec lists them as required for that reason)."""
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "email",
        "searchCriteria[sortOrders][0][field]": "entity_id",
    }
    response = search(client, auth, params)
    assert response.status_code == 200
    assert response.json()["search_criteria"] == {
        "filter_groups": [{"filters": [{"field": "email", "value": None, "condition_type": "eq"}]}],
        "sort_orders": [{"field": "entity_id", "direction": None}],
    }
    assert b'"direction":null' in response.content


def test_missing_search_criteria_is_400_and_empty_is_everything(client: httpx2.Client, auth: dict[str, str]) -> None:
    missing = client.get("/rest/V1/customers/search", headers=auth)
    assert missing.status_code == 400
    assert missing.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }
    everything = client.get("/rest/V1/customers/search?searchCriteria=", headers=auth).json()
    assert everything["total_count"] == 50 and len(everything["items"]) == 50
    assert everything["search_criteria"] == {"filter_groups": []}


def test_page_size_absent_or_zero_returns_everything(client: httpx2.Client, auth: dict[str, str]) -> None:
    assert len(ids(search(client, auth, criteria([[("entity_id", "0", "gt")]])))) == 50
    assert len(ids(search(client, auth, criteria(page_size=0)))) == 50
    assert len(ids(search(client, auth, criteria(page_size=-3)))) == 1


def test_page_past_the_end_is_empty_with_the_true_total(client: httpx2.Client, auth: dict[str, str]) -> None:
    response = search(client, auth, criteria(sorts=[("entity_id", "ASC")], page_size=20, current_page=4))
    assert response.json()["items"] == []
    assert response.json()["total_count"] == 50
    first = search(client, auth, criteria(sorts=[("entity_id", "ASC")], page_size=20, current_page=0))
    assert ids(first) == list(range(1, 21))
    assert first.json()["search_criteria"]["current_page"] == 0  # echoed as sent


def test_two_three_mode_repeats_the_last_page(clock: Clock) -> None:
    sim = MagentoSimulator(customers=50, seed=7, clock=clock, config=MagentoConfig(repeat_last_page=True))
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        token = client.post(
            "/rest/V1/integration/admin/token", json={"username": "admin", "password": "magento-demo-1"}
        )
        auth = {"Authorization": f"Bearer {token.json()}"}
        page = search(client, auth, criteria(sorts=[("entity_id", "ASC")], page_size=20, current_page=9))
        assert ids(page) == list(range(41, 51))


def test_missing_direction_sorts_descending(client: httpx2.Client, auth: dict[str, str]) -> None:
    assert ids(search(client, auth, criteria(sorts=[("entity_id", None)], page_size=3))) == [50, 49, 48]
    assert ids(search(client, auth, criteria(sorts=[("entity_id", "aSc")], page_size=3))) == [1, 2, 3]


def test_sort_validation(client: httpx2.Client, auth: dict[str, str]) -> None:
    bad = search(client, auth, criteria(sorts=[("entity_id", "UP")]))
    assert bad.status_code == 400
    assert bad.json() == {
        "message": "The sort order has to be specified as %1 for ascending order or %2 for descending order.",
        "parameters": ["ASC", "DESC"],
    }
    symbols = search(client, auth, criteria(sorts=[("entity_id;drop", "ASC")]))
    assert symbols.json() == {
        "message": "Sort order field %1 contains restricted symbols",
        "parameters": ["entity_id;drop"],
    }
    ignored = search(client, auth, criteria(sorts=[("no_such_field", "ASC"), ("entity_id", "DESC")], page_size=2))
    assert ids(ignored) == [50, 49]


def test_sort_by_email_is_case_insensitive(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    emails = [item["email"] for item in search(client, auth, criteria(sorts=[("email", "ASC")])).json()["items"]]
    assert emails == sorted(emails, key=str.casefold)


def test_id_and_unknown_fields_are_400(client: httpx2.Client, auth: dict[str, str]) -> None:
    for field in ("id", "is_subscribed"):
        response = search(client, auth, criteria([[(field, "1", "eq")]]))
        assert response.status_code == 400
        assert response.json() == {
            "message": 'The "%1" attribute name is invalid. Reset the name and try again.',
            "parameters": [field],
        }


def test_or_inside_a_group_and_across_groups(client: httpx2.Client, auth: dict[str, str]) -> None:
    either = criteria([[("entity_id", "3", "eq"), ("entity_id", "7", "eq")]])
    assert sorted(ids(search(client, auth, either))) == [3, 7]
    both = criteria([[("entity_id", "3", "gteq")], [("entity_id", "7", "lteq")]])
    assert sorted(ids(search(client, auth, both))) == [3, 4, 5, 6, 7]
    from_to_same_group = criteria([[("entity_id", "10", "from"), ("entity_id", "12", "to")]])
    assert search(client, auth, from_to_same_group).json()["total_count"] == 50  # ORed: matches everything


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("in", "2,4,6", [2, 4, 6]),
        ("in", "2, 4", [2, 4]),  # no trimming, but on a numeric column MySQL converts " 4" to 4
        ("nin", "1,2", list(range(3, 51))),
        ("neq", "1", list(range(2, 51))),
        ("lt", "3", [1, 2]),
        ("moreq", "5", [5]),  # not implemented by the DB adapter: equality fallback
        ("EQ", "5", [5]),
    ],
)
def test_condition_types_on_entity_id(
    client: httpx2.Client, auth: dict[str, str], condition: str, value: str, expected: list[int]
) -> None:
    assert sorted(ids(search(client, auth, criteria([[("entity_id", value, condition)]])))) == expected


def test_string_conditions(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    customers = list(sim.backend.iter_customers())
    target = customers[4]
    exact = search(client, auth, criteria([[("email", target["email"].upper(), "eq")]]))
    assert target["id"] in ids(exact)  # utf8mb4_general_ci: case-insensitive
    no_wildcards = search(client, auth, criteria([[("email", target["email"][:5], "like")]]))
    assert ids(no_wildcards) == []
    with_wildcards = search(client, auth, criteria([[("email", target["email"][:5] + "%", "like")]]))
    assert target["id"] in ids(with_wildcards)
    untrimmed = search(client, auth, criteria([[("email", f"nobody@example.com, {target['email']}", "in")]]))
    assert target["id"] not in ids(untrimmed)  # " email" keeps its space
    nulls = search(client, auth, criteria([[("middlename", "", "null")]]))
    assert sorted(ids(nulls)) == sorted(c["id"] for c in customers if "middlename" not in c)
    billing_country = search(client, auth, criteria([[("billing_country_id", "US", "eq")]]))
    expected = [
        c["id"] for c in customers for a in c["addresses"] if a.get("default_billing") and a["country_id"] == "US"
    ]
    assert sorted(ids(billing_country)) == sorted(expected)


def test_updated_at_filter_matches_brute_force(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    customers = list(sim.backend.iter_customers())
    stamps = sorted(c["updated_at"] for c in customers)
    watermark = stamps[len(stamps) // 2]
    expected = sorted(c["id"] for c in customers if c["updated_at"] >= watermark)
    response = search(client, auth, criteria([[("updated_at", watermark, "gteq")]], [("entity_id", "ASC")], 300))
    assert ids(response) == expected
    assert response.json()["total_count"] == len(expected)


def test_like_on_a_timestamp_uses_its_text(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    customers = list(sim.backend.iter_customers())
    month = customers[0]["created_at"][:7]
    response = search(client, auth, criteria([[("created_at", f"{month}%", "like")]]))
    assert sorted(ids(response)) == sorted(c["id"] for c in customers if c["created_at"].startswith(month))
    assert ids(response)


def test_input_limits(clock: Clock) -> None:
    sim = MagentoSimulator(customers=30, seed=7, clock=clock, config=MagentoConfig(input_limit_enabled=True))
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        token = client.post(
            "/rest/V1/integration/admin/token", json={"username": "admin", "password": "magento-demo-1"}
        )
        auth = {"Authorization": f"Bearer {token.json()}"}
        too_big = search(client, auth, criteria(page_size=301))
        assert too_big.status_code == 400
        assert too_big.json() == {"message": "Maximum SearchCriteria pageSize is %max", "parameters": {"max": 300}}
        assert search(client, auth, criteria(page_size=300)).status_code == 200
        defaulted = search(client, auth, criteria(sorts=[("entity_id", "ASC")])).json()
        assert len(defaulted["items"]) == 20 and defaulted["search_criteria"]["page_size"] == 20


def test_type_errors_and_unknown_keys(client: httpx2.Client, auth: dict[str, str]) -> None:
    bad = search(client, auth, {"searchCriteria[pageSize]": "abc"})
    assert bad.status_code == 400
    assert bad.json() == {
        "message": 'Error occurred during "pageSize" processing. The "abc" value\'s type is invalid. '
        'The "int" type was expected. Verify and try again.'
    }
    snake = search(client, auth, {"searchCriteria[page_size]": "2", "searchCriteria[current_page]": "1"})
    assert len(ids(snake)) == 2
    typo = search(client, auth, {"searchCriteria[page]": "2"})
    assert typo.status_code == 500
    assert typo.json()["message"].startswith(
        "Internal Error. Details are available in Magento log file. Report ID: webapi-"
    )


def test_sparse_indices_and_camel_case(client: httpx2.Client, auth: dict[str, str]) -> None:
    params = {
        "searchCriteria[filterGroups][5][filters][9][field]": "entity_id",
        "searchCriteria[filterGroups][5][filters][9][value]": "48",
        "searchCriteria[filterGroups][5][filters][9][conditionType]": "gt",
    }
    assert sorted(ids(search(client, auth, params))) == [49, 50]


def test_fields_projection(client: httpx2.Client, auth: dict[str, str]) -> None:
    params = {**keyset(0, 2), "fields": "items[id,email],total_count"}
    body = search(client, auth, params).json()
    assert list(body) == ["items", "total_count"]
    assert [list(item) for item in body["items"]] == [["id", "email"], ["id", "email"]]


def test_keyset_paging_reads_every_customer_once(client: httpx2.Client, auth: dict[str, str]) -> None:
    seen: list[int] = []
    last = 0
    while True:
        page = ids(search(client, auth, keyset(last, 7)))
        seen.extend(page)
        if len(page) < 7:
            break
        last = page[-1]
    assert seen == list(range(1, 51))


def test_total_count_changes_between_pages(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    first = search(client, auth, keyset(0, 10)).json()
    assert first["total_count"] == 50
    sim.backend.delete_customer(30)
    sim.backend.create_customer(email="new@example.com", firstname="N", lastname="Ew")
    second = search(client, auth, keyset(10, 10)).json()
    assert second["total_count"] == 40  # 40 after id 10 before; one deleted (30), one created (51)
    assert search(client, auth, keyset(29, 1)).json()["items"][0]["id"] == 31
    assert 51 in ids(search(client, auth, keyset(45, 10)))


def test_chaos_order_without_sort_orders(clock: Clock) -> None:
    sim = MagentoSimulator(customers=40, seed=7, clock=clock, config=MagentoConfig(chaos_order=True))
    items, total = sim.backend.search(parse_search_criteria("searchCriteria="))
    assert total == 40
    assert sorted(i["id"] for i in items) == list(range(1, 41))
    assert [i["id"] for i in items] != list(range(1, 41))  # shuffled (identity has probability 1/40!)


def test_read_ahead_never_serves_a_stale_customer(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    first = search(client, auth, keyset(0, 10)).json()["items"]
    backend = sim.backend
    deadline = time.monotonic() + 10
    while len(backend.fragments) < 40 and time.monotonic() < deadline:  # the worker encodes ids 11.. meanwhile
        time.sleep(0.01)
    assert len(backend.fragments) >= 40  # read ahead: the case this test is about (not a weaker one)
    backend.update_customer(12, firstname="Fresh")
    backend.delete_customer(13)
    second = search(client, auth, keyset(first[-1]["id"], 10)).json()["items"]
    assert [i["id"] for i in second] == [11, 12, *range(14, 22)]
    assert second[1]["firstname"] == "Fresh"
    assert second[0] == backend.get(11)
