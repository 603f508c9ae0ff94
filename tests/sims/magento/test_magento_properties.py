"""Property tests: query-string parsing, the id-range fast paths against a brute-force scan, keyset paging
under concurrent inserts and deletes."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from magento_helpers import criteria, query

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import MagentoSimulator, parse_search_criteria
from magento_zoho_sims.magento.filters import compile_groups
from magento_zoho_sims.magento.seed import fmt_ts

NOW = 1_800_000_000
SIZE = 120
OPS = ["eq", "neq", "gt", "gteq", "lt", "lteq", "from", "to", "in", "nin", "null", "notnull", "like", "moreq"]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@given(
    groups=st.lists(
        st.lists(
            st.tuples(st.sampled_from(["email", "entity_id", "updated_at"]), text, st.sampled_from(OPS)),
            min_size=1,
            max_size=3,
        ),
        max_size=3,
    ),
    page_size=st.none() | st.integers(0, 500),
    current_page=st.none() | st.integers(-2, 50),
)
def test_criteria_round_trip_through_the_query_string(
    groups: list[list[tuple[str, str, str]]], page_size: int | None, current_page: int | None
) -> None:
    params = criteria(groups, [("entity_id", "DESC")], page_size, current_page)
    parsed = parse_search_criteria(query(params))
    assert [[(f.field, f.value, f.condition_type) for f in g] for g in parsed.filter_groups] == groups
    assert parsed.page_size == page_size and parsed.current_page == current_page
    echo = parsed.echo()
    assert echo["sort_orders"] == [{"field": "entity_id", "direction": "DESC"}]
    assert ("page_size" in echo) == (page_size is not None)


def _store() -> MagentoSimulator:
    return MagentoSimulator(customers=SIZE, seed=11, clock=Clock(frozen_at=NOW))


_SIM = _store()
_LAYOUT = _SIM.backend.layout
_TIMES = [_LAYOUT.created_ts(c) for c in (1, SIZE // 3, SIZE // 2, SIZE)] + [_LAYOUT.updated_ts(c) for c in (5, 60)]


_EMAILS = [c["email"] for c in _SIM.backend.iter_customers()]


def _value(field: str, draw_index: int) -> str:
    if field == "email":
        email = _EMAILS[draw_index % len(_EMAILS)]
        return email.upper() if draw_index % 3 == 0 else email
    if field == "entity_id":
        return str(draw_index % (SIZE + 20) - 5)
    return fmt_ts(_TIMES[draw_index % len(_TIMES)] + draw_index % 7 - 3)


filter_strategy = st.builds(
    lambda field, op, n, m: (
        field,
        _value(field, n) if op not in ("in", "nin") else f"{_value(field, n)},{_value(field, m)}",
        op,
    ),
    st.sampled_from(["entity_id", "created_at", "updated_at", "website_id", "email"]),
    st.sampled_from(["eq", "neq", "gt", "gteq", "lt", "lteq", "from", "to", "in", "nin", "null", "notnull"]),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)
mutation = st.tuples(st.sampled_from(["update", "delete", "create", "address"]), st.integers(1, SIZE + 10))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.lists(st.lists(filter_strategy, min_size=1, max_size=3), max_size=3),
    mutations=st.lists(mutation, max_size=8),
    descending=st.booleans(),
)
def test_fast_paths_agree_with_a_brute_force_scan(
    groups: list[list[tuple[str, str, str]]], mutations: list[tuple[str, int]], descending: bool
) -> None:
    sim = _store()
    backend = sim.backend
    for step, (kind, cid) in enumerate(mutations):
        sim.clock.advance(step * 37)
        if backend.get(cid) is None and kind != "create":
            continue
        if kind == "update":
            backend.update_customer(cid, firstname=f"U{step}")
        elif kind == "delete":
            backend.delete_customer(cid)
        elif kind == "address":
            backend.edit_address(cid, None, city="Elsewhere")
        else:
            backend.create_customer(email=f"p{step}@example.com", firstname="P", lastname="Q", website_id=1 + step % 2)
    parsed = parse_search_criteria(query(criteria(groups, [("entity_id", "DESC" if descending else "ASC")])))
    predicate = compile_groups(parsed.filter_groups)
    expected = [c["id"] for c in backend.iter_customers() if predicate(c)]
    if descending:
        expected.reverse()
    items, total = backend.search(parsed)
    assert [i["id"] for i in items] == expected
    assert total == len(expected)
    page, page_total = backend.search(parse_search_criteria(query(criteria(groups, [("entity_id", "ASC")], 7, 2))))
    assert [i["id"] for i in page] == sorted(expected)[7:14] and page_total == total


@settings(max_examples=60, deadline=None)
@given(
    page_size=st.integers(1, 40),
    plan=st.lists(st.tuples(st.sampled_from(["create", "delete"]), st.integers(1, SIZE + 30)), max_size=30),
)
def test_keyset_paging_sees_every_survivor_exactly_once(page_size: int, plan: list[tuple[str, int]]) -> None:
    sim = _store()
    backend = sim.backend
    deleted: set[int] = set()
    created: list[int] = []
    steps = iter(plan)

    def between_pages(_number: int) -> None:
        for kind, cid in [next(steps, ("none", 0)), next(steps, ("none", 0))]:
            if kind == "delete" and backend.get(cid) is not None:
                backend.delete_customer(cid)
                deleted.add(cid)
            elif kind == "create":
                created.append(
                    backend.create_customer(email=f"k{len(created)}@example.com", firstname="K", lastname="L")["id"]
                )

    backend.add_search_hook(between_pages)
    seen: list[int] = []
    last = 0
    while True:
        created_before_this_page = list(created)
        items, _total = backend.search(
            parse_search_criteria(
                query(criteria([[("entity_id", str(last), "gt")]], [("entity_id", "ASC")], page_size, 1))
            )
        )
        ids: list[Any] = [i["id"] for i in items]
        seen += ids
        if len(ids) < page_size:
            break
        last = ids[-1]
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    survivors = set(range(1, SIZE + 1)) - deleted
    assert survivors <= set(seen)
    assert set(created_before_this_page) - deleted <= set(seen)  # new ids are above every id read so far
