"""[UNVERIFIED] how Zoho answers a COQL query that finds no row: 204 with an empty body, as its other reads do, or
200 with ``"data": []`` (the simulator's ``coql_empty_status``). The sync reads both alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, add_customer


@pytest.mark.parametrize("empty_status", [204, 200])
def test_a_coql_query_finding_nothing_is_read_alike_under_either_answer(make_world: Any, empty_status: int) -> None:
    world: World = make_world(0)
    world.zoho.config.coql_empty_status = empty_status
    ids = [add_customer(world, f"c{n}@example.com", lastname=f"Lee{n}") for n in range(5)]
    assert world.sync().tally.inserted == 5  # the first run: Zoho holds no contact, its queries find nothing
    first_id = world.zoho.contacts_by_email("c0@example.com")[0]["id"]

    world.magento.backend.update_customer(ids[0], email="moved@example.com")  # no contact holds the new email
    moved = world.sync()
    assert moved.tally.inserted == 0 and moved.tally.updated == 1 and not moved.tally.failures
    assert [c["id"] for c in world.zoho.contacts_by_email("moved@example.com")] == [first_id]

    full = world.sync(full=True)  # reads every contact, page by page, to a page with no row
    assert full.tally.inserted == 0 and not full.tally.failures
    assert world.zoho.count() == 5 and len(world.zoho.duplicate_emails()) == 0
    coql = [r.status for r in world.zoho.log if r.path.endswith("/coql")]
    assert coql and (204 in coql) == (empty_status == 204)  # Zoho answered the empty queries as configured
