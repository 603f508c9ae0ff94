"""Routing, store codes, the error envelope, JSON encoding, body checks, faults and the control plane
(reference §1.6, §5, §11), in-process and over a real socket."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx2
import pytest
from magento_helpers import ADMIN, criteria, keyset, search

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.faults import FaultKind
from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator

REPORT = re.compile(r"^Internal Error\. Details are available in Magento log file\. Report ID: webapi-[0-9a-f]{13}$")


@pytest.fixture
def server(sim: MagentoSimulator) -> Iterator[ThreadedServer]:
    started = sim.serve()
    yield started
    started.stop()


@pytest.mark.parametrize("prefix", ["/rest/V1", "/rest/default/V1", "/rest/all/V1", "/rest/eu/V1"])
def test_store_code_prefixes(client: httpx2.Client, auth: dict[str, str], prefix: str) -> None:
    response = client.get(f"{prefix}/customers/3", headers=auth)
    assert response.status_code == 200 and response.json()["id"] == 3


def test_unknown_store_route_and_method(client: httpx2.Client, auth: dict[str, str]) -> None:
    store = client.get("/rest/nostore/V1/customers/3", headers=auth)
    assert (store.status_code, store.json()) == (400, {"message": "Specified request cannot be processed."})
    route = client.get("/rest/V1/nothing/here", headers=auth)
    assert (route.status_code, route.json()) == (404, {"message": "Request does not match any route."})
    wrong_verb = client.post("/rest/V1/customers/search", headers=auth, json={})
    assert wrong_verb.status_code == 404
    patch = client.patch("/rest/V1/customers/3", headers=auth)
    assert (patch.status_code, patch.json()) == (405, {"message": "The PATCH HTTP method is not supported."})


def test_php_json_encoding_and_headers(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    sim.backend.create_customer(email="a/b@example.com", firstname="Zoë", lastname="山田")
    response = client.get("/rest/V1/customers/51", headers=auth)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert b'"email":"a\\/b@example.com"' in response.content
    assert b'"firstname":"Zo\\u00eb"' in response.content
    assert b", " not in response.content and b": " not in response.content
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == sim.clock.now() // 1


def test_body_checks(client: httpx2.Client) -> None:
    path = "/rest/V1/integration/admin/token"
    cases = [
        ({}, b'{"username":"admin"}', "Content-Type header is empty."),
        (
            {"Content-Type": "text/plain"},
            b"{}",
            "Server cannot understand Content-Type HTTP header media type text/plain",
        ),
        ({"Content-Type": "application/json; charset=iso-8859-1"}, b"{}", "UTF-8 is the only supported charset."),
        ({"Content-Type": "application/json"}, b'{"username":', "Decoding error."),
    ]
    for headers, body, message in cases:
        response = client.post(path, headers=headers, content=body)
        assert (response.status_code, response.json()) == (400, {"message": message})


def test_developer_mode_adds_a_trace(clock: Clock) -> None:
    sim = MagentoSimulator(customers=2, clock=clock, config=MagentoConfig(developer_mode=True))
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        body = client.post("/rest/V1/integration/admin/token", json={"username": "admin", "password": "x"}).json()
        assert list(body) == ["message", "trace"] and isinstance(body["trace"], str)


def test_injected_500_has_a_report_id(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    sim.faults.script(FaultKind.ERROR, 1, path_pattern="customers/search")
    failed = search(client, auth, keyset(0, 5))
    assert failed.status_code == 500
    assert REPORT.match(failed.json()["message"]) and list(failed.json()) == ["message"]
    assert search(client, auth, keyset(0, 5)).status_code == 200


def test_maintenance_is_a_503_html_page_on_every_path(client: httpx2.Client, sim: MagentoSimulator) -> None:
    sim.faults.maintenance = True
    for path in ("/rest/V1/customers/1", "/rest/V1/integration/admin/token"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "Service Temporarily Unavailable" in response.text
    assert client.get("/_sim/stats").status_code == 200  # the control plane is never faulted


def test_throttle_and_drop(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    sim.faults.script(FaultKind.THROTTLE)
    throttled = client.get("/rest/V1/customers/1", headers=auth)
    assert (throttled.status_code, throttled.json()) == (429, {"message": "Too Many Requests", "trace": None})
    sim.faults.script(FaultKind.DROP)
    with pytest.raises(httpx2.RemoteProtocolError):
        client.get("/rest/V1/customers/1", headers=auth)
    assert client.get("/rest/V1/customers/1", headers=auth).status_code == 200


def test_apply_then_drop_applies_the_delete(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    sim.faults.script(FaultKind.APPLY_THEN_DROP)
    with pytest.raises(httpx2.RemoteProtocolError):
        client.delete("/rest/V1/customers/4", headers=auth)
    assert sim.backend.get(4) is None


def test_a_truncated_page_is_half_an_answer(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    whole = search(client, auth, keyset(0, 5)).content
    sim.faults.script(FaultKind.TRUNCATED, path_pattern="customers/search")
    cut = search(client, auth, keyset(0, 5))
    assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
    assert cut.content == whole[: len(whole) // 2] and int(cut.headers["content-length"]) == len(cut.content)


def test_a_truncated_delete_is_applied(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    sim.faults.script(FaultKind.TRUNCATED)
    answer = client.delete("/rest/V1/customers/4", headers=auth)
    assert answer.status_code == 200 and answer.content == b"tr"  # "true", cut in half
    assert sim.backend.get(4) is None


def test_an_html_200_answers_a_page_and_applies_nothing(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    client.post("/_sim/faults", json={"html_200_rate": 1.0, "path_pattern": "/customers/"})
    answer = client.delete("/rest/V1/customers/4", headers=auth)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "<html>" in answer.text
    assert sim.backend.get(4) is not None
    client.delete("/_sim/faults")
    assert client.get("/rest/V1/customers/4", headers=auth).json()["id"] == 4


def test_a_malformed_fault_is_refused(client: httpx2.Client) -> None:
    for body in ({"script": [{"kind": "meltdown"}]}, {"script": [{"count": 1}]}, {"error_rate": "often"}):
        answer = client.post("/_sim/faults", json=body)
        assert answer.status_code == 400 and "faults:" in answer.json()["error"]
    assert client.post("/_sim/faults", json={"truncated_rate": 0.5}).json()["faults"]["truncated_rate"] == 0.5


def test_a_malformed_fault_body_changes_nothing(client: httpx2.Client, auth: dict[str, str]) -> None:
    body = {"html_200_rate": 1.0, "script": [{"kind": "truncated"}, {"kind": "meltdown"}]}
    assert client.post("/_sim/faults", json=body).status_code == 400
    answer = client.get("/rest/V1/customers/4", headers=auth)  # neither the rate nor the first scripted fault
    assert answer.status_code == 200 and answer.json()["id"] == 4


def test_request_log(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    search(client, auth, keyset(0, 3))
    logged = sim.log.matching(lambda r: "customers/search" in r.path)
    assert len(logged) == 1 and logged[0].status == 200 and "entity_id" in logged[0].query


def test_over_a_real_socket(server: ThreadedServer, sim: MagentoSimulator) -> None:
    with httpx2.Client(base_url=server.url) as client:
        token = client.post("/rest/V1/integration/admin/token", json=ADMIN).json()
        auth = {"Authorization": f"Bearer {token}"}
        response = search(client, auth, criteria(sorts=[("entity_id", "ASC")], page_size=10, current_page=2))
        assert [i["id"] for i in response.json()["items"]] == list(range(11, 21))
        assert len(response.headers.get_list("date")) == 1
        assert client.get("/rest/V1/customers/404", headers=auth).status_code == 404
        sim.faults.script(FaultKind.MAINTENANCE)
        assert client.get("/rest/V1/customers/1", headers=auth).status_code == 503
        sim.faults.script(FaultKind.DROP)
        with pytest.raises(httpx2.TransportError):
            client.get("/rest/V1/customers/1", headers=auth)


def test_control_plane_over_http(server: ThreadedServer, sim: MagentoSimulator) -> None:
    with httpx2.Client(base_url=server.url) as client:
        created = client.post("/_sim/customers", json={"email": "c@example.com", "firstname": "C", "lastname": "D"})
        assert created.status_code == 200 and created.json()["id"] == 51
        assert client.put("/_sim/customers/51", json={"lastname": "E"}).json()["lastname"] == "E"
        assert client.post("/_sim/customers/51/addresses", json={"city": "Q"}).json()["addresses"][0]["city"] == "Q"
        assert client.delete("/_sim/customers/3").status_code == 200
        assert client.get("/_sim/stats").json()["customers"] == 50
        client.post("/_sim/faults", json={"script": [{"kind": "error", "count": 1}]})
        assert client.get("/rest/V1/customers/1").status_code == 500
        client.post("/_sim/faults", json={"maintenance": True})
        assert client.get("/rest/V1/customers/1").status_code == 503
        client.delete("/_sim/faults")
        assert client.get("/rest/V1/customers/1").status_code == 401
        token = client.post("/rest/V1/integration/admin/token", json=ADMIN).json()
        client.post("/_sim/tokens/expire")
        assert client.get("/rest/V1/customers/1", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        client.post("/_sim/reset")
        assert client.get("/_sim/stats").json()["customers"] == 50 and sim.backend.get(3) is not None


def test_reset_zeroes_the_stats_counters(client: httpx2.Client, auth: dict[str, str]) -> None:
    """``POST /_sim/reset`` is "back to the seeded store": ``searches`` kept counting across it, beside a zeroed
    ``requests``, so a harness reading ``/_sim/stats`` after a reset saw the searches of the run before."""
    assert search(client, auth, keyset(0, 10)).status_code == 200
    assert client.get("/_sim/stats").json()["searches"] == 1
    client.post("/_sim/reset")
    stats = client.get("/_sim/stats").json()
    assert stats["searches"] == 0 and stats["requests"] == 1  # the stats call itself
    assert search(client, auth, keyset(0, 10)).status_code == 401  # the admin token is forgotten too


def test_helper_endpoints(client: httpx2.Client, auth: dict[str, str]) -> None:
    websites = client.get("/rest/V1/store/websites", headers=auth).json()
    assert [w["id"] for w in websites] == [0, 1, 2]
    views = client.get("/rest/V1/store/storeViews", headers=auth).json()
    assert {v["code"] for v in views} == {"admin", "default", "eu"}
    groups = client.get("/rest/V1/customerGroups/search?searchCriteria=", headers=auth).json()
    assert groups["total_count"] == 4


def test_throttle_variants_html_and_retry_after(clock: Clock) -> None:
    sim = MagentoSimulator(customers=2, clock=clock, config=MagentoConfig(throttle_html=True, retry_after=7))
    sim.faults.script(FaultKind.THROTTLE)
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        response = client.get("/rest/V1/customers/1")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"
        assert response.headers["content-type"].startswith("text/html") and "Limit Exceeded" in response.text


def test_non_rest_paths_are_storefront_html(client: httpx2.Client) -> None:
    response = client.get("/customer/account")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


def test_messages_are_translated_for_a_german_store_view(client: httpx2.Client) -> None:
    response = client.get("/rest/eu/V1/customers/1")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Der Consumer ist nicht berechtigt, auf %resources zuzugreifen.",
        "parameters": {"resources": "Magento_Customer::customer"},
    }
    assert client.get("/rest/default/V1/customers/1").json()["message"].startswith("The consumer isn't")


def test_a_store_view_whose_messages_hold_no_english_word(clock: Clock) -> None:
    """The parameters and the status tell a missing customer from a missing route, in any language."""
    config = MagentoConfig(store_codes=("default", "eu", "jp"), store_locales={"eu": "de_DE", "jp": "ja_JP"})
    sim = MagentoSimulator(customers=3, clock=clock, config=config)
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        token = client.post("/rest/V1/integration/admin/token", json=ADMIN).json()
        auth = {"Authorization": f"Bearer {token}"}
        missing = client.get("/rest/jp/V1/customers/99", headers=auth)
        assert (missing.status_code, missing.json()) == (
            404,
            {
                "message": "%fieldName = %fieldValue のエンティティは存在しません",
                "parameters": {"fieldName": "customerId", "fieldValue": 99},
            },
        )
        route = client.get("/rest/jp/V1/nothing/here", headers=auth)
        assert (route.status_code, route.json()) == (404, {"message": "リクエストに一致するルートがありません。"})
        attribute = client.get("/rest/eu/V1/attributeMetadata/customer/attribute/nope", headers=auth).json()
        assert attribute["message"].startswith("Keine Entität") and attribute["parameters"]["field2Value"] == "nope"


def test_unrouted_paths_answer_as_a_route_that_is_not_there(
    sim: MagentoSimulator, client: httpx2.Client, auth: dict[str, str]
) -> None:
    assert client.post("/_sim/config", json={"unrouted_paths": r"^/V1/customers/\d+$"}).status_code == 200
    gone = client.get("/rest/eu/V1/customers/3", headers=auth)
    assert (gone.status_code, gone.json()) == (404, {"message": "Die Anfrage entspricht keiner Route."})
    assert client.get("/rest/V1/customers/3").status_code == 404  # no route: before any authentication
    assert search(client, auth, keyset(0, 5)).status_code == 200
    assert client.post("/_sim/config", json={"unrouted_paths": None}).status_code == 200
    assert client.get("/rest/eu/V1/customers/3", headers=auth).status_code == 200


def test_truncated_and_html_200_over_a_real_socket(server: ThreadedServer, sim: MagentoSimulator) -> None:
    """Scripted through the control plane: the cut answer's Content-Length is the bytes sent (HTTP reads it, and the
    same connection serves the next request), only its JSON is broken; the path pattern picks the request."""
    with httpx2.Client(base_url=server.url) as client:
        token = client.post("/rest/V1/integration/admin/token", json=ADMIN).json()
        auth = {"Authorization": f"Bearer {token}"}
        whole = search(client, auth, keyset(0, 5)).content
        changed = {"customer": {**client.get("/rest/V1/customers/4", headers=auth).json(), "lastname": "Changed"}}
        script = [{"kind": "truncated", "path_pattern": "/search"}, {"kind": "html_200", "path_pattern": "/4$"}]
        assert client.post("/_sim/faults", json={"script": script}).status_code == 200
        assert client.get("/rest/V1/customers/1", headers=auth).json()["id"] == 1  # matches neither pattern
        cut = search(client, auth, keyset(0, 5))
        assert cut.status_code == 200 and cut.headers["content-type"].startswith("application/json")
        assert cut.content == whole[: len(whole) // 2] and int(cut.headers["content-length"]) == len(cut.content)
        with pytest.raises(ValueError):
            cut.json()
        page = client.put("/rest/V1/customers/4", headers=auth, json=changed)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.text.lstrip().startswith("<!DOCTYPE html>")
        assert sim.backend.get(4)["lastname"] != "Changed"  # the page stood in for Magento: nothing applied
        assert search(client, auth, keyset(0, 5)).content == whole  # the script is used up, the connection fine
        client.put("/rest/V1/customers/4", headers=auth, json=changed).raise_for_status()
        assert sim.backend.get(4)["lastname"] == "Changed"  # the same write, with nothing in between, is applied
