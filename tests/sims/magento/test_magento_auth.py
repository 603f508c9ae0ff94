"""Admin tokens, lockout, 2FA, token expiry, integration tokens as Bearer, ACL (reference §1)."""

from __future__ import annotations

import base64
import json

import httpx2
import pyotp
import pytest
from magento_helpers import ADMIN, criteria, search

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import Integration, MagentoConfig, MagentoSimulator, TwoFactorState

TOKEN_PATH = "/rest/V1/integration/admin/token"
GOOGLE_PATH = "/rest/V1/tfa/provider/google/authenticate"
BAD_CREDENTIALS = {
    "message": "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
}
NOT_AUTHORIZED = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Customer::customer"},
}


def test_admin_token_is_a_bare_json_string_shaped_like_a_jwt(client: httpx2.Client, clock: Clock) -> None:
    response = client.post(TOKEN_PATH, json=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content.startswith(b'"') and response.content.endswith(b'"')
    header, payload, _signature = response.json().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))) == {"kid": "1", "alg": "HS256"}
    assert claims["utypid"] == 2
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] == int(clock.now())


def test_token_input_errors_single_and_aggregate(client: httpx2.Client) -> None:
    both = client.post(TOKEN_PATH, json={})
    assert both.status_code == 400
    assert both.json() == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "username"}},
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": "password"}},
        ],
    }
    one = client.post(TOKEN_PATH, json={"username": "admin", "password": ""})
    assert one.status_code == 400
    assert one.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "password"},
    }


def test_bad_password_and_unknown_and_inactive_user_give_the_same_401(
    client: httpx2.Client, sim: MagentoSimulator
) -> None:
    assert client.post(TOKEN_PATH, json={"username": "admin", "password": "nope"}).json() == BAD_CREDENTIALS
    assert client.post(TOKEN_PATH, json={"username": "ghost", "password": "x"}).status_code == 401
    sim.config.admins[0].active = False
    inactive = client.post(TOKEN_PATH, json=ADMIN)
    assert (inactive.status_code, inactive.json()) == (401, BAD_CREDENTIALS)


def test_lockout_after_six_failures_even_with_the_right_password(
    client: httpx2.Client, sim: MagentoSimulator, clock: Clock
) -> None:
    for _ in range(5):
        assert client.post(TOKEN_PATH, json={**ADMIN, "password": "wrong"}).status_code == 401
    assert client.post(TOKEN_PATH, json=ADMIN).status_code == 200  # success resets the counter
    for _ in range(6):
        client.post(TOKEN_PATH, json={**ADMIN, "password": "wrong"})
    locked = client.post(TOKEN_PATH, json=ADMIN)
    assert (locked.status_code, locked.json()) == (401, BAD_CREDENTIALS)
    clock.advance(1799)
    assert client.post(TOKEN_PATH, json=ADMIN).status_code == 401  # the lock is still on (and slides)
    clock.advance(1801)
    assert client.post(TOKEN_PATH, json=ADMIN).status_code == 200
    assert sim.backend.auth.failures("admin") == 0


def test_expired_garbage_and_missing_tokens_are_guests(
    client: httpx2.Client, auth: dict[str, str], clock: Clock, sim: MagentoSimulator
) -> None:
    assert search(client, auth, criteria(page_size=1)).status_code == 200
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Bearer a b"}):
        response = search(client, headers, criteria(page_size=1))
        assert (response.status_code, response.json()) == (401, NOT_AUTHORIZED)
    lower = {"Authorization": auth["Authorization"].replace("Bearer", "bEaReR")}
    assert search(client, lower, criteria(page_size=1)).status_code == 200
    clock.advance(3600)
    expired = search(client, auth, criteria(page_size=1))
    assert (expired.status_code, expired.json()) == (401, NOT_AUTHORIZED)


def test_token_ttl_docs_mode_and_control_expiry(clock: Clock) -> None:
    sim = MagentoSimulator(customers=3, clock=clock, config=MagentoConfig(admin_token_ttl=14400))
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        headers = {"Authorization": f"Bearer {client.post(TOKEN_PATH, json=ADMIN).json()}"}
        clock.advance(3700)
        assert client.get("/rest/V1/customers/1", headers=headers).status_code == 200
        sim.backend.auth.expire_tokens()
        assert client.get("/rest/V1/customers/1", headers=headers).status_code == 401


def test_two_factor_mode_refuses_plain_tokens_and_accepts_google_totp(clock: Clock) -> None:
    config = MagentoConfig(two_factor_enabled=True)
    sim = MagentoSimulator(customers=3, clock=clock, config=config)
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        refused = client.post(TOKEN_PATH, json=ADMIN)
        assert refused.status_code == 400
        assert refused.json() == {
            "message": "Please use the 2fa provider-specific endpoints to obtain a token.",
            "parameters": {"active_providers": ["google"]},
        }
        assert client.post(TOKEN_PATH, json={**ADMIN, "password": "bad"}).status_code == 401
        secret = config.admins[0].totp_secret
        wrong = client.post(GOOGLE_PATH, json={**ADMIN, "otp": "000000"})
        assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid code."})
        otp = pyotp.TOTP(secret).at(int(clock.now()))
        good = client.post(GOOGLE_PATH, json={**ADMIN, "otp": otp})
        assert good.status_code == 200
        headers = {"Authorization": f"Bearer {good.json()}"}
        assert client.get("/rest/V1/customers/2", headers=headers).status_code == 200
        drifted = pyotp.TOTP(secret).at(int(clock.now()) - 25)
        assert client.post(GOOGLE_PATH, json={**ADMIN, "otp": drifted}).status_code == 200
        stale = pyotp.TOTP(secret).at(int(clock.now()) - 300)
        assert client.post(GOOGLE_PATH, json={**ADMIN, "otp": stale}).status_code == 401


@pytest.mark.parametrize(
    ("state", "body"),
    [
        (
            TwoFactorState.NOT_ASSIGNED,
            {"message": "Please ask an administrator with sufficient access to configure 2FA first"},
        ),
        (
            TwoFactorState.NOT_CONFIGURED,
            {
                "message": "You are required to configure personal Two-Factor Authorization in order to login. "
                "Please check your email.",
                "parameters": {"providers": ["google"], "active_providers": []},
            },
        ),
    ],
)
def test_two_factor_other_states(clock: Clock, state: TwoFactorState, body: dict[str, object]) -> None:
    config = MagentoConfig(two_factor_enabled=True)
    config.admins[0].two_factor = state
    sim = MagentoSimulator(customers=1, clock=clock, config=config)
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        response = client.post(TOKEN_PATH, json=ADMIN)
        assert (response.status_code, response.json()) == (400, body)


def test_ims_mode_disables_admin_tokens(clock: Clock) -> None:
    sim = MagentoSimulator(customers=1, clock=clock, config=MagentoConfig(ims_enabled=True))
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        response = client.post(TOKEN_PATH, json=ADMIN)
        assert response.status_code == 401
        assert response.json() == {"message": "Admin token generation is disabled. Please use Adobe IMS ACCESS_TOKEN."}


def test_integration_bearer_refused_unless_the_store_flag_is_on(clock: Clock) -> None:
    integration = Integration()
    for flag, status in ((False, 401), (True, 200)):
        config = MagentoConfig(enable_integration_as_bearer=flag, integrations=[integration])
        sim = MagentoSimulator(customers=2, clock=clock, config=config)
        with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
            headers = {"Authorization": f"Bearer {integration.access_token}"}
            response = client.get("/rest/V1/customers/1", headers=headers)
            assert response.status_code == status
            if status == 401:
                assert response.json() == NOT_AUTHORIZED


def test_integration_without_the_customer_resource_gets_401(clock: Clock) -> None:
    integration = Integration(resources=("Magento_Backend::stores",))
    config = MagentoConfig(enable_integration_as_bearer=True, integrations=[integration])
    sim = MagentoSimulator(customers=2, clock=clock, config=config)
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        headers = {"Authorization": f"Bearer {integration.access_token}"}
        assert client.get("/rest/V1/store/websites", headers=headers).status_code == 200
        denied = client.get("/rest/V1/customers/1", headers=headers)
        assert (denied.status_code, denied.json()) == (401, NOT_AUTHORIZED)


def test_credentials_for_every_mode(sim: MagentoSimulator) -> None:
    creds = sim.credentials()
    assert creds["username"] == "admin" and creds["password"] == "magento-demo-1"
    for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        assert len(creds[key]) == 32
    assert pyotp.TOTP(creds["totp_secret"]).now().isdigit()
