"""Zoho Accounts: token endpoint, errors as HTTP 200, throttle, token limits, expiry, revoke, API auth, scopes."""

from __future__ import annotations

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator

from .conftest import BASE, assert_error_shape


def _refresh(raw: httpx2.Client, sim: ZohoSimulator, refresh_token: str, **over: str) -> httpx2.Response:
    data = {
        "refresh_token": refresh_token,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "grant_type": "refresh_token",
        **over,
    }
    return raw.post("/oauth/v2/token", data=data)


def test_refresh_grant_form_body(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    response = _refresh(raw, sim, sim.issue_refresh_token())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"access_token", "scope", "api_domain", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["api_domain"] == BASE  # the simulator's own base URL
    assert body["access_token"].startswith("1000.")
    assert "expires_in_sec" not in body and "refresh_token" not in body


def test_a_refresh_answer_without_the_scope_list_when_configured(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.config.scope_in_token_response = False  # the reference: "appears in some responses and not others"
    body = _refresh(raw, sim, sim.issue_refresh_token()).json()
    assert set(body) == {"access_token", "api_domain", "token_type", "expires_in"}


def test_refresh_grant_query_string(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    params = {
        "refresh_token": sim.issue_refresh_token(),
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "grant_type": "refresh_token",
    }
    response = raw.post("/oauth/v2/token", params=params)
    assert response.status_code == 200
    assert "access_token" in response.json()


def test_refresh_grant_multipart(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    data = {
        "refresh_token": sim.issue_refresh_token(),
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "grant_type": "refresh_token",
    }
    response = raw.post("/oauth/v2/token", data=data, files={"unused": ("x.txt", b"x")})
    assert "access_token" in response.json()


def test_authorization_code_grant_returns_refresh_token_once(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    code = sim.issue_grant_code(["ZohoCRM.modules.contacts.ALL", "ZohoCRM.settings.fields.READ"])
    data = {
        "grant_type": "authorization_code",
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "code": code,
    }
    body = raw.post("/oauth/v2/token", data=data).json()
    assert set(body) == {"access_token", "refresh_token", "scope", "api_domain", "token_type", "expires_in"}
    assert body["scope"] == "ZohoCRM.modules.contacts.ALL ZohoCRM.settings.fields.READ"
    refreshed = _refresh(raw, sim, body["refresh_token"]).json()
    assert "access_token" in refreshed
    again = raw.post("/oauth/v2/token", data=data)
    assert again.status_code == 200
    assert again.json() == {"error": "invalid_code"}  # single use


def test_grant_code_expires(raw: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    code = sim.issue_grant_code()
    clock.advance(181)
    data = {
        "grant_type": "authorization_code",
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "code": code,
    }
    assert raw.post("/oauth/v2/token", data=data).json() == {"error": "invalid_code"}


@pytest.mark.parametrize("field", ["client_id", "client_secret"])
def test_invalid_client_is_http_200(raw: httpx2.Client, sim: ZohoSimulator, field: str) -> None:
    response = _refresh(raw, sim, sim.issue_refresh_token(), **{field: "wrong"})
    assert response.status_code == 200
    assert response.json() == {"error": "invalid_client"}


def test_unknown_or_revoked_refresh_token_is_invalid_code(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    assert _refresh(raw, sim, "1000.nope.nope").json() == {"error": "invalid_code"}
    token = sim.issue_refresh_token()
    revoke = raw.post("/oauth/v2/token/revoke", params={"token": token})
    assert revoke.status_code == 200
    assert revoke.json() == {"status": "success"}
    assert _refresh(raw, sim, token).json() == {"error": "invalid_code"}


@pytest.mark.parametrize("status", [200, 400])
def test_refresh_throttle_after_ten_per_ten_minutes(
    raw: httpx2.Client, sim: ZohoSimulator, clock: Clock, status: int
) -> None:
    sim.config.throttle_status = status
    token = sim.issue_refresh_token()
    for _ in range(10):
        assert "access_token" in _refresh(raw, sim, token).json()
    denied = _refresh(raw, sim, token)
    assert denied.status_code == status
    assert denied.json() == {
        "error_description": "You have made too many requests continuously. Please try again after some time.",
        "error": "Access Denied",
        "status": "failure",
    }
    other = sim.issue_refresh_token()
    assert "access_token" in _refresh(raw, sim, other).json()  # per refresh token
    clock.advance(601)
    assert "access_token" in _refresh(raw, sim, token).json()


def test_denied_attempts_keep_the_block(raw: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    token = sim.issue_refresh_token()
    for _ in range(10):
        _refresh(raw, sim, token)
    clock.advance(300)
    for _ in range(10):  # a client hammering while blocked
        assert _refresh(raw, sim, token).json()["error"] == "Access Denied"
    clock.advance(301)  # the ten successes left the window, the denied attempts did not
    assert _refresh(raw, sim, token).json()["error"] == "Access Denied"
    clock.advance(601)
    assert "access_token" in _refresh(raw, sim, token).json()


def test_at_most_15_live_access_tokens(raw: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    token = sim.issue_refresh_token()
    minted = []
    for n in range(16):
        if n == 10:
            clock.advance(601)  # stay under the refresh throttle
        minted.append(_refresh(raw, sim, token).json()["access_token"])
    oldest = raw.get("/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {minted[0]}"})
    assert oldest.status_code == 401
    assert oldest.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    newest = raw.get("/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {minted[-1]}"})
    assert newest.status_code == 200


def test_at_most_20_refresh_tokens(sim: ZohoSimulator) -> None:
    tokens = [sim.issue_refresh_token() for _ in range(21)]
    assert tokens[0] not in sim.accounts.refresh_tokens
    assert all(t in sim.accounts.refresh_tokens for t in tokens[1:])


def test_access_token_expires_after_an_hour(raw: httpx2.Client, sim: ZohoSimulator, clock: Clock) -> None:
    access = _refresh(raw, sim, sim.issue_refresh_token()).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {access}"}
    clock.advance(3599)
    assert raw.get("/crm/v8/org", headers=headers).status_code == 200
    clock.advance(2)
    response = raw.get("/crm/v8/org", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


def test_expire_all_access_tokens(api: httpx2.Client, sim: ZohoSimulator) -> None:
    assert api.get("/crm/v8/org").status_code == 200
    sim.expire_access_tokens()
    assert api.get("/crm/v8/org").json()["code"] == "INVALID_TOKEN"


def test_api_domain_override_simulates_another_data_centre(clock: Clock) -> None:
    sim = ZohoSimulator(seed=3, clock=clock, config=ZohoConfig(api_domain="https://www.zohoapis.eu"))
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as raw:
        assert _refresh(raw, sim, sim.issue_refresh_token()).json()["api_domain"] == "https://www.zohoapis.eu"


def test_missing_authorization_is_authentication_failure(raw: httpx2.Client) -> None:
    response = raw.get("/crm/v8/Contacts", params={"fields": "Email"})
    assert response.status_code == 401
    assert response.json() == {
        "code": "AUTHENTICATION_FAILURE",
        "details": {},
        "message": "Authentication failed",
        "status": "error",
    }


def test_unknown_token_is_invalid_token(raw: httpx2.Client) -> None:
    response = raw.get("/crm/v8/org", headers={"Authorization": "Zoho-oauthtoken 1000.dead.beef"})
    assert response.status_code == 401
    assert response.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }


def test_bearer_scheme_is_refused(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    response = raw.get("/crm/v8/org", headers={"Authorization": f"Bearer {sim.issue_access_token()}"})
    assert response.status_code == 401
    assert_error_shape(response.json(), "AUTHENTICATION_FAILURE")


@pytest.mark.parametrize(
    ("scopes", "method", "path", "allowed"),
    [
        (["ZohoCRM.modules.contacts.READ"], "GET", "/crm/v8/Contacts?fields=Email", True),
        (["ZohoCRM.modules.contacts.READ"], "POST", "/crm/v8/Contacts/upsert", False),
        (["ZohoCRM.modules.contacts.CREATE"], "POST", "/crm/v8/Contacts/upsert", False),
        (["ZohoCRM.modules.contacts.ALL"], "POST", "/crm/v8/Contacts/upsert", True),
        (["ZohoCRM.modules.ALL"], "GET", "/crm/v8/Contacts/search?email=a@b.co", False),
        (["ZohoCRM.modules.ALL", "ZohoSearch.securesearch.READ"], "GET", "/crm/v8/Contacts/search?email=a@b.co", True),
        (["ZohoCRM.modules.ALL", "ZohoCRM.settings.ALL"], "GET", "/crm/v8/settings/fields?module=Contacts", True),
        (["ZohoCRM.modules.ALL"], "GET", "/crm/v8/settings/fields?module=Contacts", False),
        (["ZohoCRM.modules.ALL"], "GET", "/crm/v8/users?type=CurrentUser", False),
        (["ZohoCRM.users.READ"], "GET", "/crm/v8/users?type=CurrentUser", True),
        (["ZohoCRM.org.READ"], "GET", "/crm/v8/org", True),
    ],
)
def test_scope_check(
    raw: httpx2.Client, sim: ZohoSimulator, *, scopes: list[str], method: str, path: str, allowed: bool
) -> None:
    token = sim.issue_access_token(scopes)
    body = b'{"data":[{"Last_Name":"X","Email":"x@example.com"}]}' if method == "POST" else None
    response = raw.request(method, path, headers={"Authorization": f"Zoho-oauthtoken {token}"}, content=body)
    if allowed:
        assert response.status_code in (200, 201, 204)
    else:
        assert response.status_code == 401
        assert response.json() == {
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope to access this URL",
            "status": "error",
        }


def test_expired_access_error_switch(raw: httpx2.Client, sim: ZohoSimulator) -> None:
    sim.config.expired_access_error = "AUTHENTICATION_FAILURE"
    response = raw.get("/crm/v8/org", headers={"Authorization": "Zoho-oauthtoken 1000.dead.beef"})
    assert response.status_code == 401
    assert_error_shape(response.json(), "AUTHENTICATION_FAILURE")
