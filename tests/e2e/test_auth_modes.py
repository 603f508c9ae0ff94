"""The four Magento auth modes end to end: a full sync in each, tokens expiring mid-run, and each refusal explained."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sync.errors import MagentoAuthError
from magento_zoho_sync.magento.auth import MagentoAuthRefused
from magento_zoho_sync.zoho.auth import ApiDomainMismatch
from tests.e2e.auth_support import (
    MODES,
    TOTP_SECRET,
    HookTransport,
    after_nth,
    assert_no_secret,
    invoke,
    magento_config,
    mode_overrides,
    served,
    transport_with_hosts,
    world_secrets,
)
from tests.e2e.conftest import World

CUSTOMERS = 23
LOGIN_PATHS = ("/V1/integration/admin/token", "/V1/tfa/provider/google/authenticate")


def _store_for(mode: str, **switches: Any) -> dict[str, Any]:
    """Simulator switches under which ``mode`` works: 2FA on for admin-totp, Bearer allowed for bearer mode."""
    switches.setdefault("two_factor_enabled", mode == "admin-totp")
    switches.setdefault("enable_integration_as_bearer", mode == "integration-bearer")
    return {"magento_kwargs": {"config": magento_config(**switches)}}


def _logins(world: World) -> dict[str, int]:
    return {path: world.magento.log.count("POST", path) for path in LOGIN_PATHS}


def _searches(world: World) -> list[Any]:
    return world.magento.log.matching(lambda r: r.path.endswith("/customers/search"))


@pytest.mark.parametrize("mode", MODES)
def test_a_full_sync_works_in_each_mode(make_world: Any, mode: str) -> None:
    world: World = make_world(CUSTOMERS, **_store_for(mode))
    result = world.sync(**mode_overrides(mode), **{"magento.page_size": 5})

    assert result.tally.read == CUSTOMERS
    tally = result.tally
    assert tally.inserted > 0
    assert tally.inserted + tally.merged + len(tally.failures) == CUSTOMERS  # the seeded store's tricky cases
    assert {f.code for f in tally.failures} <= {"INVALID_EMAIL", "MISSING_EMAIL", "MISSING_LAST_NAME"}
    assert world.zoho.count() == tally.inserted
    searches = _searches(world)
    assert len(searches) == CUSTOMERS // 5 + 1  # keyset pages: 5+5+5+5+3
    schemes = {r.headers.get("authorization", "").split(" ")[0] for r in searches}
    assert schemes == {"OAuth" if mode == "integration-oauth1" else "Bearer"}
    expected_logins = {
        "admin": {LOGIN_PATHS[0]: 1, LOGIN_PATHS[1]: 0},
        "admin-totp": {LOGIN_PATHS[0]: 0, LOGIN_PATHS[1]: 1},
    }.get(mode, {LOGIN_PATHS[0]: 0, LOGIN_PATHS[1]: 0})
    assert _logins(world) == expected_logins


@pytest.mark.parametrize("mode", ["admin", "admin-totp"])
def test_an_admin_token_revoked_mid_run_is_replaced_once_and_the_run_completes(make_world: Any, mode: str) -> None:
    world: World = make_world(CUSTOMERS, **_store_for(mode))
    expire = after_nth("/customers/search", 2, world.magento.backend.auth.expire_tokens)
    world.transport = HookTransport(world.transport, expire)

    result = world.sync(**mode_overrides(mode), **{"magento.page_size": 5})

    assert result.tally.read == CUSTOMERS
    assert result.tally.inserted > 0
    assert sum(_logins(world).values()) == 2  # the first login and exactly one more
    refused = [r for r in _searches(world) if r.status == 401]
    assert len(refused) == 1


def test_an_admin_token_outliving_its_ttl_mid_run_is_replaced(make_world: Any) -> None:
    """The store's clock passes the token's 60-minute lifetime between two pages (2.4.4+ JWT admin tokens)."""
    world: World = make_world(CUSTOMERS, **_store_for("admin", admin_token_ttl=3600))
    later = after_nth("/customers/search", 3, lambda: world.magento.clock.advance(3601))
    world.transport = HookTransport(world.transport, later)

    result = world.sync(**mode_overrides("admin"), **{"magento.page_size": 5})

    assert result.tally.read == CUSTOMERS
    assert world.magento.log.count("POST", LOGIN_PATHS[0]) == 2


@pytest.mark.parametrize("expired", ["INVALID_TOKEN", "AUTHENTICATION_FAILURE"])  # [UNVERIFIED] Zoho's code
def test_integration_modes_never_log_in_and_survive_a_zoho_token_expiry(make_world: Any, expired: str) -> None:
    world: World = make_world(CUSTOMERS, **_store_for("integration-oauth1"))
    world.zoho.config.expired_access_error = expired
    expire = after_nth("/crm/v8/coql", 1, world.zoho.expire_access_tokens)  # after the scan, before writes
    world.transport = HookTransport(world.transport, expire)

    result = world.sync(**mode_overrides("integration-oauth1"), **{"magento.page_size": 5})

    assert result.tally.read == CUSTOMERS
    assert result.tally.inserted > 0
    assert sum(_logins(world).values()) == 0
    assert world.zoho.stats()["token_requests"] == 2  # one refresh after the 401


def test_a_2fa_only_store_in_admin_mode_names_admin_totp_and_tries_once(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("admin", two_factor_enabled=True))
    with pytest.raises(MagentoAuthRefused) as caught:
        world.sync(**mode_overrides("admin"))
    assert caught.value.reason == "two_factor_required"
    assert "MAGENTO_AUTH=admin-totp" in str(caught.value)
    assert "MAGENTO_TOTP_SECRET" in str(caught.value)
    assert world.magento.log.count("POST", LOGIN_PATHS[0]) == 1  # no retry: 6 failures lock the admin user
    assert_no_secret(str(caught.value), world_secrets(world))


def test_the_cli_reports_the_2fa_store_in_one_line_with_exit_2(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("admin", two_factor_enabled=True))
    with served(world) as env:
        result = invoke(["sync"], {**env, "MAGENTO_AUTH": "admin"})
    assert result.exit_code == 2
    assert "MAGENTO_AUTH=admin-totp" in result.output
    assert "Traceback" not in result.output
    assert_no_secret(result.output, world_secrets(world))


def test_a_wrong_totp_secret_is_a_refused_login_that_is_not_retried(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("admin-totp"))
    wrong = "JBSWY3DPEHPK3PXP" * 2
    assert wrong != TOTP_SECRET
    with pytest.raises(MagentoAuthRefused) as caught:
        world.sync(**{**mode_overrides("admin-totp"), "magento.totp_secret": wrong})
    assert caught.value.reason == "totp_refused"  # Magento said "Invalid code.": the password was right
    assert "clock" in str(caught.value)  # TOTP codes depend on it
    assert world.magento.log.count("POST", LOGIN_PATHS[1]) == 1


def test_a_refused_bearer_token_names_the_store_setting_and_oauth1(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("integration-bearer", enable_integration_as_bearer=False))
    with pytest.raises(MagentoAuthRefused) as caught:
        world.sync(**mode_overrides("integration-bearer"))
    message = str(caught.value)
    assert caught.value.reason == "bearer_refused"
    assert "Stores > Configuration > Services > OAuth > Consumer Settings" in message
    assert "MAGENTO_AUTH=integration-oauth1" in message
    assert_no_secret(message, world_secrets(world))


def test_a_wrong_consumer_secret_is_reported_as_a_rejected_signature(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("integration-oauth1"))
    wrong = "X" * 32
    with pytest.raises(MagentoAuthRefused) as caught:
        world.sync(**{**mode_overrides("integration-oauth1"), "magento.consumer_secret": wrong})
    message = str(caught.value)
    assert caught.value.reason == "oauth_signature"
    assert "signature is invalid" in message
    assert "MAGENTO_CONSUMER_SECRET" in message
    assert "clock agrees" in message  # the clock was compared with the store's Date header
    assert wrong not in message
    assert_no_secret(message, world_secrets(world))


@pytest.mark.parametrize("token", ["ATOK-XYZ123", "Y" * 32])
def test_a_wrong_oauth_access_token_names_magento_access_token(make_world: Any, token: str) -> None:
    world: World = make_world(3, **_store_for("integration-oauth1"))
    with pytest.raises(MagentoAuthRefused) as caught:  # a short one: Magento's 400 "token length is invalid"
        world.sync(**{**mode_overrides("integration-oauth1"), "magento.access_token": token})
    message = str(caught.value)
    assert "MAGENTO_ACCESS_TOKEN" in message and "MAGENTO_BASE_URL" not in message
    assert token not in message
    assert_no_secret(message, world_secrets(world))


def test_an_integration_without_the_customer_acl_is_refused(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("integration-oauth1", resources=()))
    with pytest.raises(MagentoAuthError) as caught:
        world.sync(**mode_overrides("integration-oauth1"))
    assert "Magento_Customer::customer" in str(caught.value)


def test_a_token_response_naming_another_data_centre_stops_the_sync(make_world: Any) -> None:
    world: World = make_world(3, zoho_kwargs={})
    world.zoho.config.api_domain = "https://www.zohoapis.eu"
    world.transport = transport_with_hosts(world, {"www.zohoapis.com": world.zoho.app})
    with pytest.raises(ApiDomainMismatch) as caught:
        world.sync(**{"zoho.api_url": "https://www.zohoapis.com"})
    assert caught.value.region == "eu"
    assert "ZOHO_API_URL=https://www.zohoapis.eu" in str(caught.value)
    assert world.zoho.count() == 0


def test_a_sync_whose_token_lacks_a_write_scope_names_only_that_scope(make_world: Any) -> None:
    world: World = make_world(3, **_store_for("admin"))
    held = ["ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.contacts.UPDATE", "ZohoCRM.coql.READ"]
    token = world.zoho.issue_refresh_token([*held, "ZohoCRM.settings.fields.READ"])
    with served(world) as env:
        result = invoke(["sync"], {**env, "ZOHO_REFRESH_TOKEN": token})
    assert result.exit_code == 2
    assert "lacks the scope(s) ZohoCRM.modules.contacts.CREATE;" in result.output, result.output
