"""Every kind of answer of the Magento simulator against Adobe's own Swagger definitions (reference §7, §11).

Each JSON answer is validated, with ``jsonschema.Draft4Validator``, against the schema that Adobe's
``admin-schema-2.4.8.yaml`` (trimmed copy in ``adobe_schema/``) names for that route and status (else ``default``),
twice: with the documented relaxations (where real Magento contradicts its spec and the simulator copies Magento,
``adobe_swagger.RELAXATIONS``), and in strict mode (no key the definitions lack; Open Source extension attributes).
The last tests show that the validator does catch wrong answers, and that the relaxations are needed.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pyotp
import pytest
from adobe_swagger import (
    RELAXATIONS,
    SCHEMA_FILE,
    definition_validator,
    problems,
    route_of,
    spec,
    validator_for,
    violations,
)
from magento_helpers import ADMIN, NOW, criteria, keyset, query, search, signed
from oauthlib import oauth1
from openapi_spec_validator import OpenAPIV2SpecValidator, validate

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import AdminUser, MagentoConfig, MagentoSimulator, TwoFactorState
from magento_zoho_sims.magento.app import ROUTES
from magento_zoho_sims.magento.attributes import ENTITIES

TOKEN_PATH = "/rest/V1/integration/admin/token"
GOOGLE_PATH = "/rest/V1/tfa/provider/google/authenticate"
JSON = "application/json; charset=utf-8"


def check(response: httpx2.Response, *, projected: bool = False) -> Any:
    """The answer's JSON, after asserting it matches the spec both relaxed and strict."""
    assert response.headers["content-type"] == JSON, response.text
    method, path, data = response.request.method, response.request.url.path, response.json()
    for strict in (False, True):
        found = violations(method, path, response.status_code, data, strict=strict, projected=projected)
        mode = "strict" if strict else "relaxed"
        assert found == [], f"{method} {path} -> {response.status_code} ({mode}): {found}\n{response.text[:500]}"
    return data


def check_envelope(response: httpx2.Response) -> dict[str, Any]:
    """An error answered outside any route of the spec (no route, 405, unknown store): the error-response."""
    assert response.headers["content-type"] == JSON, response.text
    data: dict[str, Any] = response.json()
    for strict in (False, True):
        assert problems(definition_validator("error-response", strict=strict), data) == [], response.text
    return data


def token_of(client: httpx2.Client) -> dict[str, str]:
    response = client.post(TOKEN_PATH, json=ADMIN)
    assert isinstance(check(response), str)
    return {"Authorization": f"Bearer {response.json()}"}


@pytest.fixture
def big() -> Iterator[tuple[MagentoSimulator, httpx2.Client]]:
    sim = MagentoSimulator(customers=3000, seed=3, clock=Clock(frozen_at=NOW))
    with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as client:
        yield sim, client


# ------------------------------------------------------------------------------------------------ the spec
def test_the_vendored_spec_is_valid_swagger_2_and_covers_every_simulator_route() -> None:
    validate(spec(), cls=OpenAPIV2SpecValidator)
    assert spec()["swagger"] == "2.0" and SCHEMA_FILE.name == f"admin-schema-{spec()['info']['version']}.trimmed.json"
    assert spec()["x-trimmed-from"]["commit"] in SCHEMA_FILE.with_name("NOTICE.md").read_text()
    samples = {
        "/V1/integration/admin/token": "/V1/integration/admin/token",
        "/V1/tfa/provider/google/authenticate": "/V1/tfa/provider/google/authenticate",
        "/V1/customers/search": "/V1/customers/search",
        "/V1/customerGroups/search": "/V1/customerGroups/search",
        "/V1/attributeMetadata/customer/attribute/x": "/V1/attributeMetadata/customer/attribute/{attributeCode}",
        "/V1/attributeMetadata/customerAddress/attribute/x": (
            "/V1/attributeMetadata/customerAddress/attribute/{attributeCode}"
        ),
        "/V1/store/websites": "/V1/store/websites",
        "/V1/store/storeViews": "/V1/store/storeViews",
        "/V1/customers/7": "/V1/customers/{customerId}",
    }
    for method, pattern, _handler, _acl in ROUTES:
        matching = [sample for sample in samples if pattern.match(sample)]
        assert matching, f"a route of the simulator without a sample here: {pattern.pattern}"
        for sample in matching:
            route = route_of("/rest/all" + sample, method)
            assert method.lower() in spec()["paths"][route]
            # PUT and DELETE /V1/customers/search are the template's (id "search", a 400), on Magento as here
            assert route in (samples[sample], "/V1/customers/{customerId}" if method != "GET" else None), sample
    assert route_of("/rest/V1/customers/search", "DELETE") == "/V1/customers/{customerId}"  # id "search": a 400


def test_trim_keeps_exactly_the_routes_and_their_definitions() -> None:
    """Trimming the vendored file again changes nothing: every $ref resolves and nothing unused is kept."""
    loaded = importlib.util.spec_from_file_location("adobe_trim", SCHEMA_FILE.with_name("trim.py"))
    assert loaded is not None and loaded.loader is not None
    trim = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(trim)
    origin = spec()["x-trimmed-from"]
    source = origin["file"].rsplit("/", 1)[1]
    again = trim.trim(spec(), source=source, commit=origin["commit"], blob=origin["blob"])
    assert again["paths"] == spec()["paths"] and again["definitions"] == spec()["definitions"]
    assert again["info"] == spec()["info"] and again["x-trimmed-from"] == origin
    assert set(spec()["paths"]) == set(trim.ROUTES)
    assert SCHEMA_FILE.stat().st_size < 60_000  # kept small: 9 routes of 477


# --------------------------------------------------------------------------------------- customer answers
def test_every_customer_of_a_seeded_store_matches_the_spec(big: tuple[MagentoSimulator, httpx2.Client]) -> None:
    """Keyset pages of 300 (the encoded fast path) and GET /V1/customers/{id} (the record path), 3,000 customers:
    the kinds of customers the checks must meet are counted, so the test fails if the seed stops making one."""
    _sim, client = big
    auth = token_of(client)
    kinds: Counter[str] = Counter()
    last, seen = 0, 0
    while True:
        page = check(search(client, auth, keyset(last, 300)))
        if not page["items"]:
            assert page["total_count"] == 0
            break
        for customer in page["items"]:
            addresses = customer["addresses"]
            kinds["no address"] += not addresses
            kinds["several addresses"] += len(addresses) > 1
            kinds["region-less address"] += any(a["region"]["region_code"] is None for a in addresses)
            kinds["address with a region"] += any(a["region"]["region_code"] is not None for a in addresses)
            kinds["custom_attributes"] += "custom_attributes" in customer
            kinds["subscribed"] += customer["extension_attributes"]["is_subscribed"]
            kinds[f"website {customer.get('website_id')}"] += 1
            kinds["confirmation"] += "confirmation" in customer
            kinds["default_billing"] += "default_billing" in customer
            if customer["id"] % 97 == 0 or customer["id"] in (123, 4999 + 123):
                assert check(client.get(f"/rest/all/V1/customers/{customer['id']}", headers=auth)) == customer
        last, seen = page["items"][-1]["id"], seen + len(page["items"])
    assert seen == 3000
    assert min(kinds.values()) > 0 and {"website 1", "website 2", "website None"} <= set(kinds), kinds


def test_customers_made_through_the_control_api_match_the_spec(
    sim: MagentoSimulator, client: httpx2.Client, auth: dict[str, str]
) -> None:
    backend = sim.backend
    made = [
        backend.create_customer(email="bare@example.com", firstname="Bare", lastname="One"),
        backend.create_customer(
            email="twin@example.com",
            firstname="Twin",
            lastname="Base",
            addresses=[{"country_id": "US", "region_code": "NY", "city": "NYC", "default_billing": True}],
            custom_attributes={"loyalty_tier": "gold", "interests": "21,23"},
            is_subscribed=True,
        ),
        backend.create_customer(
            email="twin@example.com",  # the same e-mail in the other website (account sharing per website)
            firstname="Twin",
            lastname="Eu",
            website_id=2,
            addresses=[
                {"country_id": "SG", "city": "Singapore", "telephone": "+65 6123 4567"},  # no regions
                {"country_id": "DE", "region_code": "BER", "default_shipping": True, "vat_id": "DE123456789"},
            ],
            dob="1990-02-03",
            gender=2,
            middlename="Q.",
            prefix="Dr.",
            suffix="III",
            taxvat="DE999",
        ),
    ]
    backend.edit_address(made[2]["id"], made[2]["addresses"][0]["id"], company="ACME", country_id="FR")
    backend.set_custom_attribute(made[0]["id"], "preferred_language", "12")
    for customer in made:
        one = check(client.get(f"/rest/V1/customers/{customer['id']}", headers=auth))
        assert one["id"] == customer["id"]
    twins = check(search(client, auth, criteria([[("email", "twin@example.com", None)]], [("entity_id", "ASC")])))
    assert [c["website_id"] for c in twins["items"]] == [1, 2]
    assert twins["items"][1]["addresses"][0]["region"] == {"region_code": None, "region": None, "region_id": 0}
    newest = check(search(client, auth, keyset(50, 10)))
    assert [c["id"] for c in newest["items"]] == [c["id"] for c in made]


def test_empty_pages_and_projections_match_the_spec(client: httpx2.Client, auth: dict[str, str]) -> None:
    past_the_end = check(search(client, auth, criteria(sorts=[("entity_id", "ASC")], page_size=20, current_page=9)))
    assert past_the_end["items"] == [] and past_the_end["total_count"] == 50
    nothing = check(search(client, auth, criteria([[("email", "nobody@example.com", "eq")]])))
    assert nothing == {
        "items": [],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "email", "value": "nobody@example.com", "condition_type": "eq"}]}]
        },
        "total_count": 0,
    }
    everything = check(client.get("/rest/V1/customers/search?searchCriteria=", headers=auth))
    assert len(everything["items"]) == 50
    # a filter without value and a sort without direction: echoed with nulls (relaxation of framework-filter/-sort)
    loose = {
        "searchCriteria[filter_groups][0][filters][0][field]": "email",
        "searchCriteria[sortOrders][0][field]": "id",
    }
    check(search(client, auth, loose))
    # fields=: Magento cuts the finished answer, required keys included (firstname, search_criteria)
    params = {**criteria(sorts=[("entity_id", "ASC")], page_size=3), "fields": "items[id,email],total_count"}
    projected = client.get(f"/rest/V1/customers/search?{query(params)}", headers=auth)
    assert list(check(projected, projected=True)) == ["items", "total_count"]
    assert "$: 'search_criteria' is a required property" in violations(
        "GET", "/rest/V1/customers/search", 200, projected.json()
    )


def test_put_and_delete_answers_match_the_spec(
    sim: MagentoSimulator, client: httpx2.Client, auth: dict[str, str]
) -> None:
    original = client.get("/rest/V1/customers/9", headers=auth).json()
    changed = {**original, "group_id": "2", "gender": "1", "addresses": [*original["addresses"], {"country_id": "SG"}]}
    saved = check(client.put("/rest/V1/customers/9", headers=auth, json={"customer": changed}))
    assert saved["group_id"] == 2 and saved["addresses"][-1]["region"]["region_id"] == 0
    deleted = client.delete("/rest/V1/customers/9", headers=auth)
    assert check(deleted) is True
    gone = check(client.delete("/rest/V1/customers/9", headers=auth))
    assert gone["parameters"] == {"fieldName": "customerId", "fieldValue": 9}


def test_groups_stores_and_attribute_metadata_match_the_spec(client: httpx2.Client, auth: dict[str, str]) -> None:
    groups = check(client.get(f"/rest/V1/customerGroups/search?{query(criteria(page_size=10))}", headers=auth))
    assert groups["total_count"] == len(groups["items"]) == 4
    assert [w["code"] for w in check(client.get("/rest/V1/store/websites", headers=auth))] == ["admin", "base", "eu"]
    assert len(check(client.get("/rest/V1/store/storeViews", headers=auth))) == 3
    for entity, attributes in ENTITIES.items():
        for code in attributes:
            data = check(client.get(f"/rest/V1/attributeMetadata/{entity}/attribute/{code}", headers=auth))
            assert data["attribute_code"] == code
        missing = check(client.get(f"/rest/V1/attributeMetadata/{entity}/attribute/nope", headers=auth))
        assert missing["parameters"]["field2Value"] == "nope"


# -------------------------------------------------------------------------------------------------- auth
def test_admin_token_answers_match_the_spec(clock: Clock) -> None:
    admins = [
        AdminUser(),
        AdminUser(username="off", user_id=2, active=False),
        AdminUser(username="norole", user_id=3, has_role=False),
    ]
    sim = MagentoSimulator(customers=1, clock=clock, config=MagentoConfig(admins=admins, lock_max_failures=2))
    with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as client:
        assert isinstance(check(client.post(TOKEN_PATH, json=ADMIN)), str)
        answers = {
            "two missing": client.post(TOKEN_PATH, json={}),
            "one missing": client.post(TOKEN_PATH, json={"username": "admin"}),
            "bad password": client.post(TOKEN_PATH, json={"username": "admin", "password": "wrong"}),
            "inactive": client.post(TOKEN_PATH, json={"username": "off", "password": "magento-demo-1"}),
            "no role": client.post(TOKEN_PATH, json={"username": "norole", "password": "magento-demo-1"}),
            "bad json": client.post(TOKEN_PATH, content=b"{", headers={"Content-Type": "application/json"}),
            "no content type": client.post(TOKEN_PATH, content=b"{}"),
            "locked": client.post(TOKEN_PATH, json={"username": "admin", "password": "wrong"}),
        }
        answers["locked, right password"] = client.post(TOKEN_PATH, json=ADMIN)
        sim.config.ims_enabled = True
        answers["adobe ims"] = client.post(TOKEN_PATH, json=ADMIN)
        statuses = {name: response.status_code for name, response in answers.items()}
        assert statuses == {
            "two missing": 400,
            "one missing": 400,
            "bad password": 401,
            "inactive": 401,
            "no role": 401,
            "bad json": 400,
            "no content type": 400,
            "locked": 401,
            "locked, right password": 401,
            "adobe ims": 401,
        }
        for response in answers.values():
            check(response)
        assert len(answers["two missing"].json()["errors"]) == 2


def test_two_factor_answers_match_the_spec(clock: Clock) -> None:
    admins = [
        AdminUser(),
        AdminUser(username="unassigned", user_id=2, two_factor=TwoFactorState.NOT_ASSIGNED),
        AdminUser(username="unconfigured", user_id=3, two_factor=TwoFactorState.NOT_CONFIGURED),
    ]
    config = MagentoConfig(two_factor_enabled=True, admins=admins)
    sim = MagentoSimulator(customers=1, clock=clock, config=config)
    otp = pyotp.TOTP(admins[0].totp_secret).at(int(clock.now()))
    with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as client:
        refusals = [client.post(TOKEN_PATH, json={"username": a.username, "password": a.password}) for a in admins]
        assert [r.status_code for r in refusals] == [400, 400, 400]
        assert [check(r).get("parameters") for r in refusals] == [
            {"active_providers": ["google"]},
            None,
            {"providers": ["google"], "active_providers": []},
        ]
        token = check(client.post(GOOGLE_PATH, json={**ADMIN, "otp": otp}))
        assert isinstance(token, str)
        assert check(client.get("/rest/V1/customers/1", headers={"Authorization": f"Bearer {token}"}))["id"] == 1
        others = [
            client.post(GOOGLE_PATH, json={**ADMIN, "otp": "000000"}),
            client.post(GOOGLE_PATH, json={"username": "unassigned", "password": admins[1].password, "otp": otp}),
            client.post(GOOGLE_PATH, json={"username": "unconfigured", "password": admins[2].password, "otp": otp}),
            client.post(GOOGLE_PATH, json={"username": "admin"}),
            client.post(GOOGLE_PATH, json={**ADMIN, "password": "wrong", "otp": otp}),
        ]
        assert [r.status_code for r in others] == [401, 400, 400, 400, 401]
        assert [check(r)["message"][:20] for r in others] == [
            "Invalid code.",
            "Provider is not allo",
            "Provider is not conf",
            "One or more input ex",
            "The account sign-in ",
        ]


# ------------------------------------------------------------------------------------------------ errors
def test_error_envelopes_match_the_spec(sim: MagentoSimulator, client: httpx2.Client, auth: dict[str, str]) -> None:
    def searched(params: dict[str, str], headers: dict[str, str] = auth) -> httpx2.Response:
        return client.get(f"/rest/V1/customers/search?{query(params)}", headers=headers)

    answers = {
        "no token": (client.get("/rest/V1/customers/search?searchCriteria="), 401),
        "garbage token": (client.get("/rest/V1/customers/1", headers={"Authorization": "Bearer x"}), 401),
        "no such customer": (client.get("/rest/V1/customers/999", headers=auth), 404),
        "no such customer, de_DE": (client.get("/rest/eu/V1/customers/999", headers=auth), 404),
        "id not a number": (client.get("/rest/V1/customers/abc", headers=auth), 400),
        "no searchCriteria": (client.get("/rest/V1/customers/search", headers=auth), 400),
        "id is not a field": (searched(criteria([[("id", "1", "eq")]])), 400),
        "bad direction": (searched(criteria(sorts=[("email", "up")])), 400),
        "restricted symbols": (searched(criteria(sorts=[("e-mail", "ASC")])), 400),
        "page size not an int": (searched({"searchCriteria[pageSize]": "abc"}), 400),
        "unknown key: masked 500": (searched({"searchCriteria[page]": "2"}), 500),
    }
    sim.config.input_limit_enabled = True
    answers["page size over the limit"] = (searched(criteria(page_size=301)), 400)
    sim.config.developer_mode = True
    answers["developer mode 500 with trace"] = (searched({"searchCriteria[page]": "2"}), 500)
    answers["developer mode 404 with trace"] = (client.get("/rest/V1/customers/999", headers=auth), 404)
    sim.config.developer_mode = False
    sim.faults.script("error")
    answers["injected 500"] = (client.get("/rest/V1/customers/1", headers=auth), 500)
    sim.faults.script("throttle")
    answers["injected 429 (JSON)"] = (client.get("/rest/V1/customers/search?searchCriteria=", headers=auth), 429)
    for name, (response, status) in answers.items():
        assert response.status_code == status, (name, response.text)
        check(response)
    assert answers["id is not a field"][0].json()["parameters"] == ["id"]  # an array (relaxed error-parameters)
    assert answers["no such customer"][0].json()["parameters"]["fieldValue"] == 999  # an int, not a string
    assert re.fullmatch(r".*Report ID: webapi-[0-9a-f]{13}", answers["injected 500"][0].json()["message"])
    assert isinstance(answers["developer mode 500 with trace"][0].json()["trace"], str)
    assert answers["injected 429 (JSON)"][0].json() == {"message": "Too Many Requests", "trace": None}


def test_framework_errors_outside_any_route_and_html_answers(sim: MagentoSimulator, client: httpx2.Client) -> None:
    assert check_envelope(client.request("PATCH", TOKEN_PATH, json=ADMIN)) == {
        "message": "The PATCH HTTP method is not supported."
    }
    assert check_envelope(client.get("/rest/V1/customers/1/nothing"))["message"] == "Request does not match any route."
    assert check_envelope(client.get("/rest/nope/V1/customers/1")) == {
        "message": "Specified request cannot be processed."
    }
    # maintenance: the 503 page of pub/errors, HTML even on /rest (reference §5.4): nothing for the spec to check
    sim.faults.maintenance = True
    maintenance = client.get("/rest/V1/customers/search?searchCriteria=")
    assert maintenance.status_code == 503 and maintenance.headers["content-type"].startswith("text/html")
    assert "Service Temporarily Unavailable" in maintenance.text
    sim.faults.maintenance = False
    sim.config.throttle_html = True
    sim.faults.script("throttle")
    fastly = client.get("/rest/V1/customers/search?searchCriteria=")
    assert fastly.status_code == 429 and fastly.headers["content-type"].startswith("text/html")


def test_oauth_errors_match_the_spec(sim: MagentoSimulator, client: httpx2.Client) -> None:
    integration = sim.config.integrations[0]
    url = f"http://magento.test/rest/V1/customers/search?{query(criteria(page_size=1))}"

    assert len(check(client.get(url, headers=signed(integration, url)))["items"]) == 1
    sha1 = client.get(url, headers=signed(integration, url, signature_method=oauth1.SIGNATURE_HMAC_SHA1))
    assert sha1.status_code == 400 and check(sha1)["parameters"] == ["HMAC-SHA1"]
    wrong = client.get(url, headers=signed(integration, url, secret="0" * 32))
    assert wrong.status_code == 401 and check(wrong)["message"] == "The signature is invalid. Verify and try again."


# ------------------------------------------------------------------------------- the validator can fail
CUSTOMER: dict[str, Any] = {
    "id": 42,
    "group_id": 1,
    "default_billing": "17",
    "created_at": "2023-05-01 09:12:44",
    "updated_at": "2024-02-10 18:03:11",
    "email": "jane@example.com",
    "firstname": "Jane",
    "lastname": "Doe",
    "website_id": 1,
    "addresses": [
        {
            "id": 17,
            "customer_id": 42,
            "region": {"region_code": None, "region": None, "region_id": 0},
            "region_id": 0,
            "country_id": "SG",
            "street": ["1 Main St"],
            "default_billing": True,
        }
    ],
    "disable_auto_group_change": 0,
    "extension_attributes": {"is_subscribed": False},
    "custom_attributes": [{"attribute_code": "loyalty_tier", "value": "gold"}],
}


def _customer_problems(customer: dict[str, Any], *, strict: bool = False, relaxed: bool = True) -> list[str]:
    return problems(validator_for("get", "/V1/customers/{customerId}", 200, strict=strict, relaxed=relaxed), customer)


def _changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    customer = copy.deepcopy(CUSTOMER)
    target: Any = customer
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return customer


def test_the_example_customer_is_valid_in_both_modes() -> None:
    assert _customer_problems(CUSTOMER) == [] and _customer_problems(CUSTOMER, strict=True) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("group_id",), "1", "$.group_id: '1' is not of type 'integer'"),
        (("id",), 42.5, "$.id: 42.5 is not of type 'integer'"),
        (("default_billing",), True, "$.default_billing: True is not of type 'string'"),
        (("addresses", 0, "default_billing"), "17", "$.addresses[0].default_billing: '17' is not of type 'boolean'"),
        (("addresses", 0, "street"), "1 Main St", "$.addresses[0].street: '1 Main St' is not of type 'array'"),
        (("addresses", 0, "region", "region_id"), None, "$.addresses[0].region.region_id: None is not of type"),
        (("addresses", 0, "region"), None, "$.addresses[0].region: None is not of type 'object'"),
        (("extension_attributes", "is_subscribed"), "0", "$.extension_attributes.is_subscribed: '0' is not of type"),
        (("custom_attributes", 0, "value"), 5, "$.custom_attributes[0].value: 5 is not of type 'string'"),
        (("email",), None, "$.email: None is not of type 'string'"),
    ],
)
def test_a_wrong_customer_is_caught(path: tuple[str | int, ...], value: Any, expected: str) -> None:
    found = _customer_problems(_changed(path, value))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_missing_required_keys_are_caught() -> None:
    customer = copy.deepcopy(CUSTOMER)
    del customer["lastname"]
    del customer["addresses"][0]["region"]["region_id"]
    assert _customer_problems(customer) == [
        "$.addresses[0].region: 'region_id' is a required property",
        "$: 'lastname' is a required property",
    ]
    page = {"items": [CUSTOMER], "search_criteria": {"filter_groups": []}}
    assert problems(validator_for("get", "/V1/customers/search", 200), page) == [
        "$: 'total_count' is a required property"
    ]


def test_strict_mode_catches_keys_magento_does_not_send() -> None:
    checks = {
        ("entity_id",): 42,
        ("addresses", 0, "region", "name"): "Singapore",
        ("addresses", 0, "is_default"): True,
        ("extension_attributes", "company_attributes"): {"company_id": 3},  # B2B only: not Open Source
        ("addresses", 0, "extension_attributes"): {"is_valid": True},
    }
    for path, value in checks.items():
        customer = _changed(path, value)
        assert _customer_problems(customer) == [], path  # the spec as written lets unknown keys through
        found = _customer_problems(customer, strict=True)
        assert len(found) == 1 and "Additional properties are not allowed" in found[0], (path, found)


def test_the_relaxations_are_needed() -> None:
    """Adobe's definitions unrelaxed refuse what real Magento sends (and what the simulator therefore sends)."""
    assert _customer_problems(CUSTOMER, relaxed=False) == [
        "$.addresses[0].region.region: None is not of type 'string'",
        "$.addresses[0].region.region_code: None is not of type 'string'",
    ]
    errors = validator_for("get", "/V1/customers/{customerId}", 404, relaxed=False)
    not_found = {"message": "No such entity with %fieldName = %fieldValue", "parameters": {"fieldName": "customerId"}}
    assert problems(errors, not_found) == ["$.parameters: {'fieldName': 'customerId'} is not of type 'array'"]
    assert problems(errors, {"message": "x", "parameters": ["id"]}) == ["$.parameters[0]: 'id' is not of type 'object'"]
    assert problems(errors, {"message": "Too Many Requests", "trace": None}) == [
        "$.trace: None is not of type 'string'"
    ]
    echo = {"filter_groups": [{"filters": [{"field": "email", "value": None}]}], "sort_orders": [{"field": "x"}]}
    page = {"items": [], "search_criteria": echo, "total_count": 0}
    assert problems(validator_for("get", "/V1/customers/search", 200, relaxed=False), page) == [
        "$.search_criteria.filter_groups[0].filters[0].value: None is not of type 'string'",
        "$.search_criteria.sort_orders[0]: 'direction' is a required property",
    ]
    relaxed = set(RELAXATIONS)
    assert relaxed == {
        "customer-data-region-interface",
        "framework-filter",
        "framework-sort-order",
        "error-parameters",
        "error-response",
    }
    assert relaxed <= set(spec()["definitions"])


def test_error_envelopes_that_are_wrong_are_caught() -> None:
    errors = validator_for("get", "/V1/customers/search", 401)
    assert problems(errors, {"parameters": {"resources": "Magento_Customer::customer"}}) == [
        "$: 'message' is a required property"
    ]
    assert problems(errors, {"message": "x", "errors": {"message": "y"}}) == [
        "$.errors: {'message': 'y'} is not of type 'array'"
    ]
    assert problems(errors, {"message": "x", "parameters": "id"})[0].startswith("$.parameters: 'id' is not of type")
    strict = validator_for("get", "/V1/customers/search", 401, strict=True)
    assert problems(strict, {"message": "x", "messages": []}) == [
        "$: Additional properties are not allowed ('messages' was unexpected)"
    ]
    token = validator_for("post", "/V1/integration/admin/token", 200)
    assert problems(token, {"token": "abc"}) == ["$: {'token': 'abc'} is not of type 'string'"]
