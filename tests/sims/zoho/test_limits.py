"""Limits: rolling 24 h credits, X-API-CREDITS-REMAINING, 429s, concurrency and sub-concurrency gates."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoSimulator

from .conftest import contact

TOO_MANY = "TOO_MANY_REQUESTS"


def test_credit_costs(api: httpx2.Client, sim: ZohoSimulator) -> None:
    api.get("/crm/v8/org")
    assert sim.credits_used() == 1
    api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(100)]}))
    assert sim.credits_used() == 11  # 100 records = 10 credits
    api.post("/crm/v8/Contacts", content=json.dumps({"data": [contact(200 + n) for n in range(11)]}))
    assert sim.credits_used() == 13  # ceil(11 / 10)
    api.post("/crm/v8/coql", json={"select_query": "select Email from Contacts where Email = 'x@y.co' limit 2000"})
    assert sim.credits_used() == 16


def test_remaining_header_after_half_and_429_when_spent(api: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    sim.set_credits(10)
    for _ in range(4):
        assert "x-api-credits-remaining" not in api.get("/crm/v8/org").headers
    fifth = api.get("/crm/v8/org")
    assert fifth.headers["x-api-credits-remaining"] == "5"
    for _ in range(5):
        assert api.get("/crm/v8/org").status_code == 200
    spent = api.get("/crm/v8/org")
    assert spent.status_code == 429
    assert spent.json()["code"] == TOO_MANY
    assert set(spent.json()) == {"code", "details", "message", "status"}
    assert spent.json()["message"] == "Many requests fired than the allowed limit for the past 24 hours."
    assert spent.headers["x-api-credits-remaining"] == "0"  # what tells a client the credits are spent
    assert "retry-after" not in spent.headers
    clock.advance(24 * 3600 + 1)  # rolling window
    sim.accounts.access_tokens.clear()
    fresh = {"Authorization": f"Zoho-oauthtoken {sim.issue_access_token()}"}
    assert api.get("/crm/v8/org", headers=fresh).status_code == 200


def test_a_write_the_remaining_credits_cannot_pay_is_refused_saying_how_many_remain(
    api: httpx2.Client, sim: ZohoSimulator
) -> None:
    sim.set_credits(10)
    assert api.get("/crm/v8/org").status_code == 200  # 9 left: less than half used, no header yet
    refused = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(100)]}))
    assert refused.status_code == 429 and refused.headers["x-api-credits-remaining"] == "9"  # a write of 10 credits
    assert sim.count() == 0 and sim.credits_used() == 1
    invalid = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(101)]}))
    assert invalid.status_code == 400 and "x-api-credits-remaining" not in invalid.headers
    sim.spend_credits(4)
    invalid = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(101)]}))
    assert invalid.headers["x-api-credits-remaining"] == "5"  # errors report them too, once half is used


def _in_flight(sim: ZohoSimulator, count: int) -> Callable[[], None]:
    """Wait until ``count`` requests are held inside the simulator."""

    def wait() -> None:
        deadline = time.monotonic() + 10
        while sim.gate.stats.in_flight < count:
            assert time.monotonic() < deadline, "requests never reached the simulator"
            time.sleep(0.005)

    return wait


def _hold(api: httpx2.Client, method: str, path: str, body: bytes | None, results: list[int]) -> threading.Thread:
    """Send one request from a background thread (it is held inside the simulator by injected latency)."""

    def run() -> None:
        results.append(api.request(method, path, content=body).status_code)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _delay_started(sim: ZohoSimulator, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once a request has read its injected latency (it is held for it from then on, whatever is set later)."""
    started = threading.Event()
    read_delay = sim.faults.delay

    def delay() -> float:
        wait = read_delay()
        started.set()
        return wait

    monkeypatch.setattr(sim.faults, "delay", delay)
    return started


def test_concurrency_gate_counts_requests_held_by_latency(api: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.set_concurrency(2)
    sim.faults.latency = 2.0  # the rejected request must reach the gate while the two are held, on a slow machine too
    results: list[int] = []
    threads = [_hold(api, "GET", "/crm/v8/org", None, results) for _ in range(2)]
    _in_flight(sim, 2)()
    rejected = api.get("/crm/v8/org")
    for thread in threads:
        thread.join()
    assert rejected.status_code == 429
    assert rejected.json() == {
        "code": TOO_MANY,
        "details": {},
        "message": "Too many concurrent requests. Please try again after some time.",
        "status": "error",
    }
    assert "retry-after" not in rejected.headers
    assert results == [200, 200]
    assert sim.stats()["concurrency_rejected"] == 1
    assert any(r.status == 429 for r in sim.log)  # rejected calls are in the request log


def test_sub_concurrency_for_large_writes_and_coql(
    api: httpx2.Client, sim: ZohoSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_concurrency(20, sub_limit=1)
    sim.faults.latency = 2.0  # the three calls below (no latency) are made while the first is held
    started = _delay_started(sim, monkeypatch)
    big = json.dumps({"data": [contact(n) for n in range(11)]}).encode()
    results: list[int] = []
    holder = _hold(api, "POST", "/crm/v8/Contacts/upsert", big, results)
    _in_flight(sim, 1)()
    assert started.wait(10)  # it read its latency: the others may go without
    sim.faults.latency = 0.0
    small = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(100, 110)]}))
    second_big = api.post("/crm/v8/Contacts/upsert", content=big)
    coql = api.post("/crm/v8/coql", json={"select_query": "select Email from Contacts where Email = 'a@b.co'"})
    holder.join()
    assert small.status_code == 201  # 10 records: not a heavy call
    assert second_big.status_code == 429
    assert coql.status_code == 429
    assert second_big.json()["code"] == TOO_MANY
    assert results == [201]


def test_edition_sets_concurrency(sim: ZohoSimulator) -> None:
    sim.set_edition("professional")
    assert sim.config.concurrency() == 15
    sim.set_edition("free")
    assert sim.config.concurrency() == 5
    sim.set_concurrency(7)
    assert sim.config.concurrency() == 7


def test_oversized_batch_costs_nothing_and_spend_credits(api: httpx2.Client, sim: ZohoSimulator) -> None:
    response = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n) for n in range(101)]}))
    assert response.status_code == 400
    assert sim.credits_used() == 0
    assert sim.spend_credits(sim.config.credits_per_day - 3)
    assert api.get("/crm/v8/org").headers["x-api-credits-remaining"] == "2"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("charged", (3, 2, 3)), ("refused_requests_free", (3, 0, 0)), ("free", (2, 0, 0))],
)
def test_what_refused_records_cost_is_a_switch(
    api: httpx2.Client, sim: ZohoSimulator, setting: str, expected: tuple[int, int, int]
) -> None:
    sim.config.refused_write_credits = setting  # type: ignore[assignment]
    spent: list[int] = []

    def upsert(records: list[dict[str, Any]]) -> httpx2.Response:
        before = sim.credits_used()
        answer = api.post("/crm/v8/Contacts/upsert", content=json.dumps({"data": records}))
        spent.append(sim.credits_used() - before)
        return answer

    # 25 records sent (3 credits), the 13 without a Last_Name refused: 12 written (2 credits)
    answer = upsert([contact(n) if n % 2 else contact(n, Last_Name="") for n in range(25)])
    assert answer.status_code == 207 and sim.count() == 12
    # 11 records, every one refused, each with its own answer
    answer = upsert([contact(100 + n, Last_Name="") for n in range(11)])
    assert answer.status_code == 400 and {item["status"] for item in answer.json()["data"]} == {"error"}
    # the whole request refused for one record: nothing written
    sim.config.record_errors_at_request_level = "invalid_record"
    answer = upsert([contact(200 + n) if n else contact(200, Last_Name="") for n in range(21)])
    assert answer.status_code == 400 and answer.json()["code"] == "MANDATORY_NOT_FOUND"
    assert tuple(spent) == expected and sim.count() == 12
    # a batch refused for its size costs nothing either way
    assert upsert([contact(n) for n in range(101)]).status_code == 400 and spent[-1] == 0


def test_refused_records_that_cost_nothing_still_need_the_credits_to_be_sent(
    api: httpx2.Client, sim: ZohoSimulator
) -> None:
    # the price is checked before the write runs, as Zoho cannot know in advance what it will refuse
    sim.config.refused_write_credits = "free"
    sim.set_credits(5)
    answer = api.post(
        "/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n, Last_Name="") for n in range(60)]})
    )
    assert answer.status_code == 429 and sim.credits_used() == 0
    answer = api.post(
        "/crm/v8/Contacts/upsert", content=json.dumps({"data": [contact(n, Last_Name="") for n in range(50)]})
    )
    assert answer.status_code == 400 and sim.credits_used() == 0
    assert api.get("/crm/v8/org").status_code == 200 and sim.credits_used() == 1
