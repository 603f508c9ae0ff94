"""magento/search.py: the searchCriteria wire format and its encoding (reference §2.2, §1.5, §10)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from magento_zoho_sync.magento.search import (
    MAX_PAGE_SIZE,
    Filter,
    SortOrder,
    customer_keyset_query,
    customers_by_email_query,
    encode_query,
    search_criteria_pairs,
)


def magento_decode(query: str) -> list[tuple[str, str]]:
    """How Magento reads a query for OAuth: split on & and =, rawurldecode (a '+' stays a plus)."""
    pairs = []
    for piece in query.split("&"):
        parts = piece.split("=")
        assert len(parts) == 2, f"a value contains a raw '=': {piece}"
        pairs.append((unquote(parts[0]), unquote(parts[1])))
    return pairs


def test_keyset_query_is_exactly_the_documented_one() -> None:
    assert magento_decode(customer_keyset_query(after_id=0, page_size=200)) == [
        ("searchCriteria[filter_groups][0][filters][0][field]", "entity_id"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "0"),
        ("searchCriteria[filter_groups][0][filters][0][condition_type]", "gt"),
        ("searchCriteria[sortOrders][0][field]", "entity_id"),
        ("searchCriteria[sortOrders][0][direction]", "ASC"),
        ("searchCriteria[pageSize]", "200"),
        ("searchCriteria[currentPage]", "1"),
    ]


def test_updated_since_is_a_separate_filter_group() -> None:
    query = customer_keyset_query(after_id=1234, page_size=50, updated_since="2026-11-20 08:00:00")
    pairs = dict(magento_decode(query))
    assert pairs["searchCriteria[filter_groups][0][filters][0][field]"] == "entity_id"
    assert pairs["searchCriteria[filter_groups][0][filters][0][value]"] == "1234"
    assert pairs["searchCriteria[filter_groups][1][filters][0][field]"] == "updated_at"
    assert pairs["searchCriteria[filter_groups][1][filters][0][value]"] == "2026-11-20 08:00:00"
    assert pairs["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "gteq"
    assert "searchCriteria[filter_groups][0][filters][1][field]" not in pairs  # not OR-ed into group 0
    assert pairs["searchCriteria[currentPage]"] == "1"
    assert "2026-11-20%2008%3A00%3A00" in query
    assert "+" not in query
    assert "[" not in query and "]" not in query


def test_the_emails_query_asks_for_one_list_in_one_group_a_page_of_300_at_a_time() -> None:
    pairs = dict(magento_decode(customers_by_email_query(["a+b@x.io", "c@y.io"], page=2)))
    assert pairs["searchCriteria[filter_groups][0][filters][0][field]"] == "email"
    assert pairs["searchCriteria[filter_groups][0][filters][0][value]"] == "a+b@x.io,c@y.io"
    assert pairs["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "in"
    assert (pairs["searchCriteria[pageSize]"], pairs["searchCriteria[currentPage]"]) == (str(MAX_PAGE_SIZE), "2")
    with pytest.raises(ValueError, match="comma"):
        customers_by_email_query(["a,b@x.io"])
    with pytest.raises(ValueError):
        customers_by_email_query([])


def test_plus_in_an_email_is_percent_encoded() -> None:
    query = encode_query(search_criteria_pairs([[Filter("email", "jane+crm@example.com")]], page_size=1))
    assert "jane%2Bcrm%40example.com" in query
    assert dict(magento_decode(query))["searchCriteria[filter_groups][0][filters][0][value]"] == "jane+crm@example.com"


def test_several_filters_and_sort_orders() -> None:
    pairs = search_criteria_pairs(
        [[Filter("email", "a@x.com"), Filter("email", "b@x.com")], [Filter("website_id", "1", "eq")]],
        sort_orders=[SortOrder("updated_at", "DESC"), SortOrder("entity_id")],
        page_size=10,
        current_page=3,
    )
    keys = dict(pairs)
    assert keys["searchCriteria[filter_groups][0][filters][1][value]"] == "b@x.com"
    assert keys["searchCriteria[filter_groups][1][filters][0][field]"] == "website_id"
    assert keys["searchCriteria[sortOrders][0][direction]"] == "DESC"
    assert keys["searchCriteria[sortOrders][1][field]"] == "entity_id"
    assert keys["searchCriteria[currentPage]"] == "3"


@pytest.mark.parametrize("size", [0, MAX_PAGE_SIZE + 1, -5])
def test_page_size_must_stay_within_magentos_limit(size: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        customer_keyset_query(after_id=0, page_size=size)


@pytest.mark.parametrize("bad", ["2026-11-20", "2026-11-20T08:00:00", "yesterday", "2026-11-20 08:00:00' OR 1"])
def test_updated_since_must_be_magentos_datetime(bad: str) -> None:
    with pytest.raises(ValueError, match="updated_since"):
        customer_keyset_query(after_id=0, page_size=10, updated_since=bad)


def test_negative_after_id_and_empty_groups_are_refused() -> None:
    with pytest.raises(ValueError):
        customer_keyset_query(after_id=-1, page_size=10)
    with pytest.raises(ValueError):
        search_criteria_pairs([[]], page_size=10)


_TEXT = st.text(alphabet=st.characters(codec="utf-8"))


@given(st.lists(st.tuples(_TEXT.filter(bool), _TEXT), min_size=1, max_size=5))
def test_encoding_round_trips_through_magentos_decoder(pairs: list[tuple[str, str]]) -> None:
    query = encode_query(pairs)
    assert "+" not in query and " " not in query
    assert magento_decode(query) == pairs
