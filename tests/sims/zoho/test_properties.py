"""Properties: criteria escaping round-trips any value; contacts stay compact enough for a million."""

from __future__ import annotations

import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from magento_zoho_sims.zoho import ZohoSimulator
from magento_zoho_sims.zoho.criteria import Condition, parse


def escape(value: str) -> str:
    """The documented escaping: backslash before ( ) , and before a backslash."""
    return "".join("\\" + ch if ch in "(),\\" else ch for ch in value)


@given(st.text(min_size=1, max_size=40))
def test_escaped_values_parse_back_exactly(value: str) -> None:
    node = parse(f"(Last_Name:equals:{escape(value)})")
    assert node == Condition(field="Last_Name", operator="equals", values=(value,))


@given(st.lists(st.text(alphabet="abc,()\\ ", min_size=1, max_size=8), min_size=1, max_size=5))
def test_in_values_split_on_unescaped_commas_only(values: list[str]) -> None:
    node = parse("(Last_Name:in:" + ",".join(escape(v) for v in values) + ")")
    assert node.values == tuple(values)


def test_a_contact_costs_well_under_a_kilobyte() -> None:
    sim = ZohoSimulator(seed=1)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sim.load_bulk_contacts(20_000)
        per_contact = (tracemalloc.get_traced_memory()[0] - before) / 20_000
    finally:
        tracemalloc.stop()
    assert per_contact < 1000  # a million contacts stay far below 1.5 GB
