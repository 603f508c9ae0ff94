"""``magento-zoho-sync doctor`` against the simulators: every finding, the all-green case, exit codes, no secrets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import httpx2
import pytest

from magento_zoho_sync.doctor import Check, exit_code, render, render_json, run_doctor, url_check
from magento_zoho_sync.doctor_zoho import needed_scopes, scope_covers
from magento_zoho_sync.settings import NetworkSettings
from tests.e2e.auth_support import (
    MODES,
    HookTransport,
    assert_no_secret,
    invoke,
    magento_config,
    mode_overrides,
    served,
    strip_token_scope,
    transport_with_hosts,
    world_secrets,
)
from tests.e2e.conftest import World

READ_SCOPES = ("ZohoCRM.modules.contacts.READ", "ZohoCRM.coql.READ", "ZohoCRM.settings.fields.READ")
WRITE_SCOPES = ("ZohoCRM.modules.contacts.CREATE", "ZohoCRM.modules.contacts.UPDATE")


def _world(make_world: Any, mode: str = "admin", **switches: Any) -> World:
    switches.setdefault("two_factor_enabled", mode == "admin-totp")
    switches.setdefault("enable_integration_as_bearer", mode == "integration-bearer")
    world: World = make_world(3, magento_kwargs={"config": magento_config(**switches)})
    world.overrides.update(mode_overrides(mode))
    return world


def _doctor(world: World, transport: Any = None, **overrides: Any) -> dict[str, Check]:
    """Run the doctor; check its output holds no secret; return the checks by key."""
    checks = run_doctor(world.settings(**overrides), transport=transport or world.transport)
    assert_no_secret(render(checks) + render_json(checks), world_secrets(world))
    by_key = {c.key: c for c in checks}
    assert len(by_key) == len(checks), "check keys are unique"
    return by_key


def _failed(checks: dict[str, Check]) -> set[str]:
    return {key for key, c in checks.items() if not c.ok}


def _all_ok(checks: dict[str, Check], prefix: str) -> bool:
    return all(c.ok and c.status == "ok" for key, c in checks.items() if key.startswith(prefix))


# ------------------------------------------------------------------------------------------- all green


@pytest.mark.parametrize("mode", MODES)
def test_all_checks_pass_in_each_mode(make_world: Any, mode: str) -> None:
    world = _world(make_world, mode)
    checks = _doctor(world)
    assert _failed(checks) == set()
    assert exit_code(list(checks.values())) == 0
    expected = {"magento.url", "magento.reachable", "magento.clock", "magento.auth", "magento.customers"}
    assert expected <= checks.keys()
    assert {f"zoho.scope.{s}" for s in READ_SCOPES + WRITE_SCOPES} <= checks.keys()
    assert mode in checks["magento.auth"].name
    assert world.zoho.count() == 0  # the doctor writes nothing


def test_the_cli_prints_one_line_per_check_and_exits_0(make_world: Any) -> None:
    world = _world(make_world, "integration-oauth1")
    with served(world) as served_env:
        env = {**served_env, **_env_for("integration-oauth1")}
        result = invoke(["doctor"], env)
        as_json = invoke(["doctor", "--json"], env)
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert "All " in result.output and "checks passed" in result.output
    assert "Magento login (integration-oauth1)" in result.output
    assert_no_secret(result.output, world_secrets(world))
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is True
    assert {c["key"] for c in payload["checks"]} >= {"magento.auth", "zoho.token", "zoho.data_centre"}


def _env_for(mode: str) -> dict[str, str]:
    names = {
        "magento.auth": "MAGENTO_AUTH",
        "magento.username": "MAGENTO_USERNAME",
        "magento.password": "MAGENTO_PASSWORD",
        "magento.totp_secret": "MAGENTO_TOTP_SECRET",
        "magento.access_token": "MAGENTO_ACCESS_TOKEN",
        "magento.consumer_key": "MAGENTO_CONSUMER_KEY",
        "magento.consumer_secret": "MAGENTO_CONSUMER_SECRET",
        "magento.access_token_secret": "MAGENTO_ACCESS_TOKEN_SECRET",
    }
    return {names[k]: v for k, v in mode_overrides(mode).items()}


# ------------------------------------------------------------------------------------------- Magento findings


def test_2fa_required_names_admin_totp_and_zoho_is_still_checked(make_world: Any) -> None:
    world = _world(make_world, "admin", two_factor_enabled=True)
    checks = _doctor(world)
    auth = checks["magento.auth"]
    assert _failed(checks) == {"magento.auth"}
    assert auth.detail.startswith("2FA required")
    assert auth.fix is not None and "MAGENTO_AUTH=admin-totp" in auth.fix
    assert checks["magento.customers"].status == "skip"
    assert _all_ok(checks, "zoho.")  # one failing side does not hide the other
    assert world.magento.log.count("POST", "/V1/integration/admin/token") == 1


def test_bearer_tokens_disabled_names_the_store_setting(make_world: Any) -> None:
    world = _world(make_world, "integration-bearer", enable_integration_as_bearer=False)
    checks = _doctor(world)
    auth = checks["magento.auth"]
    assert _failed(checks) == {"magento.auth"}
    assert "Bearer-style use of integration tokens is off" in auth.detail
    assert auth.fix is not None
    assert "oauth/consumer/enable_integration_as_bearer" in auth.fix
    assert "Stores > Configuration > Services > OAuth > Consumer Settings" in auth.fix
    assert "MAGENTO_AUTH=integration-oauth1" in auth.fix


def test_a_wrong_oauth_secret_is_a_rejected_signature_with_a_clock_check(make_world: Any) -> None:
    world = _world(make_world, "integration-oauth1")
    checks = _doctor(world, **{"magento.consumer_secret": "W" * 32})
    auth = checks["magento.auth"]
    assert _failed(checks) == {"magento.auth"}
    assert auth.detail.startswith("OAuth signature rejected")
    assert auth.fix is not None and "MAGENTO_CONSUMER_SECRET" in auth.fix
    assert "clock agrees with the store's" in auth.fix
    assert checks["magento.clock"].status == "ok"


def test_a_clock_far_ahead_of_the_store_breaks_oauth_and_is_named(make_world: Any) -> None:
    world = _world(make_world, "integration-oauth1")
    world.magento.clock.advance(-900)  # the store is 15 minutes behind this machine
    checks = _doctor(world)
    assert _failed(checks) == {"magento.clock", "magento.auth"}
    assert "900 s ahead of the store's" in checks["magento.clock"].detail or "901 s ahead" in (
        checks["magento.clock"].detail
    )
    assert checks["magento.auth"].detail.startswith("OAuth timestamp or nonce rejected")


def test_a_clock_off_by_a_minute_breaks_totp_codes(make_world: Any) -> None:
    world = _world(make_world, "admin-totp")
    world.magento.clock.advance(120)
    checks = _doctor(world)
    assert "magento.clock" in _failed(checks)
    assert "TOTP" in checks["magento.clock"].detail


def test_a_wrong_totp_secret_is_named_as_the_one_time_code_not_the_password(make_world: Any) -> None:
    world = _world(make_world, "admin-totp")
    checks = _doctor(world, **{"magento.totp_secret": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"})
    auth = checks["magento.auth"]
    assert not auth.ok and auth.detail.startswith("the one-time code was refused: MAGENTO_TOTP_SECRET")
    assert "password refused" not in auth.detail


def test_an_integration_without_the_customer_acl_fails_the_read_not_the_login(make_world: Any) -> None:
    world = _world(make_world, "integration-oauth1", resources=())
    checks = _doctor(world)
    assert _failed(checks) == {"magento.customers"}
    assert checks["magento.auth"].status == "skip"  # Magento's answer cannot tell this from a stripped header
    read = checks["magento.customers"]
    assert read.fix is not None and "Magento_Customer::customer" in read.fix
    assert "Integrations" in read.fix


class _StripsAuthorization(httpx2.BaseTransport):
    """A web server that does not pass the Authorization header to PHP (Apache with PHP-FPM, no CGIPassAuth)."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if "/rest/" in request.url.path:
            request.headers.pop("Authorization", None)
        return self.inner.handle_request(request)


def test_an_authorization_header_stripped_by_the_web_server_is_not_called_an_accepted_signature(
    make_world: Any,
) -> None:
    world = _world(make_world, "integration-oauth1")  # the integration may read customers
    checks = _doctor(world, _StripsAuthorization(world.transport))
    assert _failed(checks) == {"magento.customers"}
    auth, read = checks["magento.auth"], checks["magento.customers"]
    assert auth.status == "skip" and "signature was accepted" not in auth.detail
    assert "Authorization header never reached" in read.detail
    assert "accepted the OAuth 1.0a signature, but" not in read.detail
    assert read.fix is not None and "CGIPassAuth On" in read.fix and "Magento_Customer::customer" in read.fix


def test_an_admin_without_the_customer_acl_fails_the_read(make_world: Any) -> None:
    world = _world(make_world, "admin")
    admin = world.magento.config.admins[0]
    world.magento.backend.auth.resolve_authorization = _acl_less(world.magento.backend.auth.resolve_authorization)
    checks = _doctor(world)
    assert _failed(checks) == {"magento.customers"}
    assert f"{admin.username!r} logged in" in checks["magento.auth"].detail


def test_an_admin_without_a_role_is_told_to_give_it_one_not_to_check_the_password(make_world: Any) -> None:
    world = _world(make_world, "admin")
    world.magento.config.admins[0].has_role = False
    auth = _doctor(world)["magento.auth"]
    assert auth.status == "fail" and auth.detail.startswith("the admin user has no role")
    assert auth.fix is not None and "Magento_Customer::customer" in auth.fix and "MAGENTO_PASSWORD" not in auth.fix


def test_a_store_with_adobe_ims_is_told_to_use_an_integration(make_world: Any) -> None:
    world = _world(make_world, "admin", ims_enabled=True)
    auth = _doctor(world)["magento.auth"]
    assert auth.status == "fail" and "Adobe IMS" in auth.detail
    assert auth.fix is not None and "integration-oauth1" in auth.fix and "MAGENTO_PASSWORD" not in auth.fix


def test_a_non_ascii_admin_password_logs_in(make_world: Any) -> None:
    world = _world(make_world, "admin")
    world.magento.config.admins[0].password = "Pässwörd-€-7f3a"
    checks = _doctor(world, **{"magento.password": "Pässwörd-€-7f3a"})
    assert _failed(checks) == set()
    wrong = _doctor(world, **{"magento.password": "Pässwörd-€-0000"})["magento.auth"]
    assert wrong.status == "fail" and wrong.detail.startswith("user name or password refused")


def test_swapped_integration_token_and_secret_name_the_access_token(make_world: Any) -> None:
    world = _world(make_world, "integration-oauth1")
    overrides = mode_overrides("integration-oauth1")
    swapped = {
        "magento.access_token": overrides["magento.access_token_secret"],
        "magento.access_token_secret": overrides["magento.access_token"],
    }
    auth = _doctor(world, **swapped)["magento.auth"]
    assert auth.status == "fail" and auth.detail.startswith("the integration's access token is unknown")
    assert auth.fix is not None and "not its Access Token Secret" in auth.fix


@pytest.mark.parametrize(("state", "says"), [("not_configured", "e-mailed"), ("not_assigned", "administrator")])
def test_2fa_not_set_up_yet_is_not_answered_with_use_admin_totp(make_world: Any, state: str, says: str) -> None:
    from magento_zoho_sims.magento.config import TwoFactorState

    world = _world(make_world, "admin", two_factor_enabled=True)
    world.magento.config.admins[0].two_factor = TwoFactorState(state)
    auth = _doctor(world)["magento.auth"]
    assert auth.status == "fail" and auth.detail.startswith("2FA is not set up")
    assert auth.fix is not None and says in auth.fix


def _acl_less(resolve: Any) -> Any:
    from magento_zoho_sims.magento.auth import Principal

    def wrapped(header: str | None) -> Any:
        principal = resolve(header)
        return Principal(principal.kind, principal.name, frozenset()) if principal else None

    return wrapped


def test_an_unreachable_store_is_reported_and_zoho_is_still_checked(make_world: Any) -> None:
    world = _world(make_world, "admin")
    checks = _doctor(world, **{"magento.base_url": "http://127.0.0.1:18099"})
    assert _failed(checks) == {"magento.reachable"}
    assert "could not be reached (ConnectError" in checks["magento.reachable"].detail
    assert checks["magento.auth"].status == "skip"
    assert _all_ok(checks, "zoho.")


def test_a_store_in_maintenance_is_reported(make_world: Any) -> None:
    world = _world(make_world, "admin")
    world.magento.faults.maintenance = True
    checks = _doctor(world)
    assert "magento.reachable" in _failed(checks)
    assert "maintenance" in checks["magento.reachable"].detail


def test_a_redirected_store_names_where_without_the_query(make_world: Any) -> None:
    world = _world(make_world)

    def redirect(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if "/rest/" in request.url.path and "/token" not in request.url.path:
            location = "https://login.example.com/sso?session=s3cr3t-session-id&next=%2Fadmin"
            return httpx2.Response(302, headers={"Location": location})
        return None

    checks = _doctor(world, transport=HookTransport(world.transport, redirect))
    reach = checks["magento.reachable"]
    assert not reach.ok and "redirected (HTTP 302) to https://login.example.com/sso (with a query)" in reach.detail
    assert "s3cr3t" not in reach.detail and "MAGENTO_BASE_URL" in (reach.fix or "")


def test_a_redirect_to_a_url_with_credentials_does_not_show_them(make_world: Any) -> None:
    world = _world(make_world)

    def redirect(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if "/rest/" in request.url.path and "/token" not in request.url.path:
            return httpx2.Response(301, headers={"Location": "https://deploy:hunter2-basic@staging.example.com/shop/"})
        return None

    reach = _doctor(world, transport=HookTransport(world.transport, redirect))["magento.reachable"]
    assert not reach.ok and "redirected (HTTP 301) to https://staging.example.com/shop/." in reach.detail
    assert "hunter2" not in reach.detail and "deploy" not in reach.detail


def test_an_unexpected_status_quotes_magentos_message_with_one_full_stop(make_world: Any) -> None:
    world = _world(make_world)

    def refuse(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if "/rest/" in request.url.path and "/token" not in request.url.path:
            return httpx2.Response(409, json={"message": "The request was refused by an extension."})
        return None

    reach = _doctor(world, transport=HookTransport(world.transport, refuse))["magento.reachable"]
    assert not reach.ok
    assert reach.detail.endswith("answered HTTP 409: The request was refused by an extension.")


def test_a_wrong_store_code_is_reported(make_world: Any) -> None:
    world = _world(make_world, "admin")
    checks = _doctor(world, **{"magento.store_code": "nosuchstore"})
    assert _failed(checks) == {"magento.reachable"}
    assert checks["magento.reachable"].fix is not None and "MAGENTO_STORE_CODE" in checks["magento.reachable"].fix


# ------------------------------------------------------------------------------------------- Zoho findings


def test_invalid_client_is_named(make_world: Any) -> None:
    world = _world(make_world)
    checks = _doctor(world, **{"zoho.client_secret": "not-the-secret"})
    assert _failed(checks) == {"zoho.token"}
    assert "(invalid_client)" in checks["zoho.token"].detail
    assert checks["zoho.token"].fix is not None and "ZOHO_CLIENT_SECRET" in checks["zoho.token"].fix
    assert all(c.status == "skip" for k, c in checks.items() if k.startswith("zoho.scope."))
    assert _all_ok(checks, "magento.")


def test_a_revoked_refresh_token_is_named(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.revoke_refresh_token(world.refresh_token)
    checks = _doctor(world)
    token = checks["zoho.token"]
    assert _failed(checks) == {"zoho.token"}
    assert "revoked or unknown (invalid_code)" in token.detail
    assert token.fix is not None and "auth zoho-grant" in token.fix and "20 refresh tokens" in token.fix


def test_throttled_token_requests_are_named(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.config.refresh_throttle_limit = 0
    checks = _doctor(world)
    assert "Access Denied" in checks["zoho.token"].detail


def test_a_token_response_naming_another_data_centre(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.config.api_domain = "https://www.zohoapis.eu"
    transport = transport_with_hosts(world, {"www.zohoapis.com": world.zoho.app})
    checks = _doctor(world, transport, **{"zoho.api_url": "https://www.zohoapis.com"})
    dc = checks["zoho.data_centre"]
    assert _failed(checks) == {"zoho.data_centre"}
    assert dc.detail.startswith("data-centre mismatch")
    assert "data centre eu" in dc.detail
    assert dc.fix is not None and "ZOHO_API_URL=https://www.zohoapis.eu" in dc.fix
    assert checks["zoho.token"].ok
    assert all(c.status == "skip" for k, c in checks.items() if k.startswith("zoho.scope."))


def test_urls_of_two_data_centres_are_named(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.config.api_domain = "https://www.zohoapis.com"
    transport = transport_with_hosts(world, {"accounts.zoho.eu": world.zoho.app, "www.zohoapis.com": world.zoho.app})
    checks = _doctor(
        world,
        transport,
        **{"zoho.accounts_url": "https://accounts.zoho.eu", "zoho.api_url": "https://www.zohoapis.com"},
    )
    assert "zoho.region" in _failed(checks)
    assert "data centre eu but ZOHO_API_URL to us" in checks["zoho.region"].detail


def test_one_zoho_url_of_zoho_s_own_hosts_is_not_said_to_match_the_other(make_world: Any) -> None:
    """ZOHO_REGION=eu with ZOHO_ACCOUNTS_URL set to another host (a proxy) said "data centre eu (ZOHO_REGION=eu)",
    as if both URLs had been found in that data centre."""
    world = _world(make_world)
    transport = transport_with_hosts(world, {"www.zohoapis.eu": world.zoho.app})
    checks = _doctor(world, transport, **{"zoho.api_url": "https://www.zohoapis.eu"})
    detail = checks["zoho.region"].detail
    assert checks["zoho.region"].ok
    assert "ZOHO_API_URL is in data centre eu; ZOHO_ACCOUNTS_URL is not one of Zoho's own hosts" in detail, detail


def test_missing_read_and_write_scopes_are_named(make_world: Any) -> None:
    world = _world(make_world)
    token = world.zoho.issue_refresh_token(("ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.contacts.UPDATE"))
    checks = _doctor(world, **{"zoho.refresh_token": token})
    assert _failed(checks) == {
        "zoho.scope.ZohoCRM.settings.fields.READ",  # by a metadata call
        "zoho.scope.ZohoCRM.coql.READ",  # by a COQL call
        "zoho.scope.ZohoCRM.modules.contacts.CREATE",  # from the token's scope list
    }
    assert "OAUTH_SCOPE_MISMATCH" in checks["zoho.scope.ZohoCRM.settings.fields.READ"].detail
    assert "missing from the token's scope list" in checks["zoho.scope.ZohoCRM.modules.contacts.CREATE"].detail
    assert checks["zoho.scope.ZohoCRM.modules.contacts.UPDATE"].ok
    assert checks["zoho.scope.ZohoCRM.modules.contacts.READ"].ok


def test_write_scopes_that_cannot_be_checked_are_said_so(make_world: Any) -> None:
    world = _world(make_world)
    checks = _doctor(world, HookTransport(world.transport, strip_token_scope))
    create = checks["zoho.scope.ZohoCRM.modules.contacts.CREATE"]
    assert create.status == "skip"
    assert create.detail.startswith("cannot be checked")
    assert checks["zoho.scope.ZohoCRM.modules.contacts.READ"].status == "ok"  # proved by a read
    assert exit_code(list(checks.values())) == 0


def test_scopes_for_the_deleted_customer_policy_are_checked_only_when_configured(make_world: Any) -> None:
    world = _world(make_world)
    token = world.zoho.issue_refresh_token(
        ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.coql.READ", "ZohoCRM.settings.fields.READ")
    )
    plain = _doctor(world, **{"zoho.refresh_token": token})
    tagging = _doctor(world, **{"zoho.refresh_token": token, "sync.on_deleted": "tag"})
    assert "zoho.scope.ZohoCRM.settings.tags.ALL" not in plain
    assert _failed(tagging) == {"zoho.scope.ZohoCRM.settings.tags.ALL"}


def test_credits_remaining_are_shown_when_zoho_reports_them(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.set_credits(2000)
    world.zoho.spend_credits(1500)
    checks = _doctor(world)
    credits = checks["zoho.credits"]
    assert credits.status == "warn"
    remaining = world.zoho.credits_remaining()
    assert f"only {remaining} API credits left" in credits.detail


def test_exhausted_credits_fail(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.set_credits(10)
    world.zoho.spend_credits(10)
    checks = _doctor(world)
    assert "zoho.credits" in _failed(checks)
    assert "used up" in checks["zoho.credits"].detail


def test_an_unreachable_zoho_api_is_reported(make_world: Any) -> None:
    world = _world(make_world)
    checks = _doctor(world, **{"zoho.api_url": "http://127.0.0.1:18098"})
    assert "zoho.reachable" in _failed(checks)
    assert "could not be reached" in checks["zoho.reachable"].detail
    assert _all_ok(checks, "magento.")


def test_the_cli_exits_2_with_the_fix_and_no_secret(make_world: Any) -> None:
    world = _world(make_world)
    world.zoho.revoke_refresh_token(world.refresh_token)
    with served(world) as env:
        result = invoke(["doctor"], env)
    assert result.exit_code == 2
    fail_lines = [line for line in result.output.splitlines() if "FAIL" in line]
    assert len(fail_lines) == 1 and "Zoho access token" in fail_lines[0]
    assert "fix: " in result.output
    assert_no_secret(result.output, world_secrets(world))


def test_settings_that_cannot_be_loaded_are_one_failed_check(make_world: Any) -> None:
    world = _world(make_world)
    with served(world) as env:
        result = invoke(["doctor"], {**env, "MAGENTO_AUTH": "integration-oauth1"})
    assert result.exit_code == 2
    fail_lines = [line for line in result.output.splitlines() if line.strip().startswith("FAIL")]
    assert len(fail_lines) == 4  # one per missing OAuth 1.0a credential
    assert all("Settings" in line and "MAGENTO_AUTH=integration-oauth1" in line for line in fail_lines)
    assert "MAGENTO_CONSUMER_KEY" in fail_lines[0]
    # a Magento problem does not hide Zoho's findings: Zoho is still checked, with the real Zoho settings
    assert "skip  Magento checks" in result.output
    assert "ok    Zoho access token" in result.output and "ok    Zoho scope ZohoCRM.coql.READ" in result.output
    assert "magento.invalid" not in result.output  # the stand-ins are never called nor shown


def test_wrong_settings_that_have_defaults_still_check_both_services(make_world: Any) -> None:
    world = _world(make_world)
    with served(world) as env:
        result = invoke(["doctor"], {**env, "MZSYNC_MAGENTO_PAGE_SIZE": "0", "MZSYNC_ZOHO_CONCURRENCY": "0"})
    assert result.exit_code == 2
    fail_lines = [line for line in result.output.splitlines() if line.strip().startswith("FAIL")]
    assert len(fail_lines) == 2 and "magento.page_size" in fail_lines[0] and "zoho.concurrency" in fail_lines[1]
    assert "README's Settings table" in result.output  # the fix names where settings are, not credentials
    # a page size or a concurrency does not stop the checks: both services are checked (with the defaults)
    assert "ok    Magento login" in result.output and "ok    Magento customer read" in result.output
    assert "ok    Zoho access token" in result.output
    assert "skip  Magento checks" not in result.output and "skip  Zoho checks" not in result.output


def test_missing_zoho_settings_still_check_magento(make_world: Any) -> None:
    world = _world(make_world)
    with served(world) as env:
        result = invoke(["doctor"], {**env, "ZOHO_CLIENT_SECRET": ""})
    assert result.exit_code == 2
    assert "zoho.client_secret" in result.output and "skip  Zoho checks" in result.output
    assert "ok    Magento login" in result.output and "ok    Magento customer read" in result.output
    assert world.zoho.stats()["token_requests"] == 0


# ------------------------------------------------------------------------------------------- pure pieces


def test_url_policy_lines() -> None:
    strict, lax = NetworkSettings(), NetworkSettings(verify_tls=False, allow_insecure_http=True)
    assert url_check("k", "n", "MAGENTO_BASE_URL", "https://shop.example.com", strict).status == "ok"
    assert url_check("k", "n", "MAGENTO_BASE_URL", "https://shop.example.com", lax).status == "warn"
    refused = url_check("k", "n", "MAGENTO_BASE_URL", "http://shop.example.com", strict)
    assert refused.status == "fail" and "--insecure-http" in (refused.fix or refused.detail)
    assert url_check("k", "n", "MAGENTO_BASE_URL", "http://shop.example.com", lax).status == "warn"


def test_scope_coverage() -> None:
    assert scope_covers("ZohoCRM.modules.ALL", "ZohoCRM.modules.contacts.CREATE")
    assert scope_covers("zohocrm.modules.contacts.all", "ZohoCRM.modules.contacts.DELETE")
    assert scope_covers("ZohoCRM.modules.contacts.WRITE", "ZohoCRM.modules.contacts.UPDATE")
    assert not scope_covers("ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.contacts.CREATE")
    assert not scope_covers("ZohoCRM.modules.leads.ALL", "ZohoCRM.modules.contacts.READ")
    assert not scope_covers("ZohoCRM.settings.ALL", "ZohoCRM.modules.contacts.READ")
    needs = {n.scope: n for n in needed_scopes("ignore")}
    assert set(READ_SCOPES + WRITE_SCOPES) <= needs.keys()
    assert "ZohoCRM.modules.contacts.DELETE" not in needs
    assert needs["ZohoCRM.coql.READ"].only_for is None  # full runs scan by COQL
    assert "ZohoCRM.modules.contacts.DELETE" in {n.scope for n in needed_scopes("delete")}


class _TlsFailure(httpx2.BaseTransport):
    """What httpx2 raises when a server's certificate cannot be verified."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request)


def test_a_certificate_that_cannot_be_verified_is_named_as_tls(make_world: Any) -> None:
    world = _world(make_world)
    checks = _doctor(world, _TlsFailure(), **{"magento.base_url": "https://127.0.0.1:18081"})
    reach = checks["magento.reachable"]
    assert checks["magento.url"].status == "ok"
    assert not reach.ok
    assert reach.detail.startswith("TLS failed")
    assert reach.fix is not None and "MZSYNC_VERIFY_TLS=false is for testing only" in reach.fix


@pytest.mark.parametrize("verify", ["true", "false"])
def test_an_https_url_for_a_plain_http_port_names_the_scheme_and_port(make_world: Any, verify: str) -> None:
    world = _world(make_world)
    with served(world) as env:
        https = {
            "MAGENTO_BASE_URL": env["MAGENTO_BASE_URL"].replace("http://", "https://"),
            "ZOHO_ACCOUNTS_URL": env["ZOHO_ACCOUNTS_URL"].replace("http://", "https://"),
            "MZSYNC_VERIFY_TLS": verify,
        }
        result = invoke(["doctor", "--json"], {**env, **_env_for("admin"), **https})
    checks = {c["key"]: c for c in json.loads(result.output)["checks"]}
    for key, setting in (("magento.reachable", "MAGENTO_BASE_URL"), ("zoho.token", "ZOHO_ACCOUNTS_URL")):
        assert checks[key]["status"] == "fail"
        assert "plain http" in checks[key]["detail"]
        assert f"scheme and port in {setting}" in checks[key]["fix"]
        assert "certificate" not in checks[key]["detail"] + checks[key]["fix"]


def test_sync_tries_an_https_url_for_a_plain_http_port_once(make_world: Any) -> None:
    world = _world(make_world)
    with served(world) as env:
        https = {"MAGENTO_BASE_URL": env["MAGENTO_BASE_URL"].replace("http://", "https://")}
        result = invoke(["sync"], {**env, **_env_for("admin"), **https, "MZSYNC_RETRY_ATTEMPTS": "6"})
    assert result.exit_code == 2
    assert "after 1 attempt " in result.output and "plain http" in result.output
    assert "retrying" not in result.output


def test_a_failing_customer_search_after_a_good_login_blames_the_read_not_the_login(make_world: Any) -> None:
    world = _world(make_world, "admin")

    def break_authenticated_searches(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if request.url.path.endswith("/customers/search") and "authorization" in request.headers:
            return httpx2.Response(500, json={"message": "Internal Error. Details are available in Magento log file."})
        return None

    checks = _doctor(world, HookTransport(world.transport, break_authenticated_searches))
    assert _failed(checks) == {"magento.customers"}
    assert checks["magento.auth"].status == "ok"
    assert "HTTP 500" in checks["magento.customers"].detail


def test_zoho_fields_the_settings_name_are_checked_against_the_org(make_world: Any) -> None:
    world = _world(make_world)
    stock = _doctor(world)["zoho.fields"]
    assert stock.ok and "can match on Email" in stock.detail
    bad = _doctor(
        world, **{"mapping.fields": {"Not_A_Zoho_Field": "firstname"}, "zoho.duplicate_check_fields": ["Phone"]}
    )
    assert _failed(bad) == {"zoho.fields"}
    assert "no field 'Not_A_Zoho_Field'" in bad["zoho.fields"].detail
    assert "'Phone' is not a unique field" in bad["zoho.fields"].detail
    good = _doctor(world, **{"mapping.fields": {"Description": "group_id"}})
    assert good["zoho.fields"].ok and "Description" in good["zoho.fields"].detail
    # values of another kind than the field takes: text on Zoho's yes/no Email_Opt_Out
    text = _doctor(world, **{"mapping.fields": {"Email_Opt_Out": "custom_attributes.opt_out"}})
    assert _failed(text) == {"zoho.fields"} and "add the bool transform" in text["zoho.fields"].detail
    yes_no = _doctor(world, **{"mapping.fields": {"Email_Opt_Out": "extension_attributes.is_subscribed | negate"}})
    assert yes_no["zoho.fields"].ok


def test_the_attributes_read_with_option_label_are_checked_only_when_the_mapping_has_one(make_world: Any) -> None:
    world = _world(make_world)
    assert "magento.option_labels" not in _doctor(world)
    labels = {"mapping.fields": {"Description": "custom_attributes.preferred_language | option_label"}}
    good = _doctor(world, **labels)["magento.option_labels"]
    assert good.ok and "preferred_language (4 options)" in good.detail
    text = _doctor(world, **{"mapping.fields": {"Description": "custom_attributes.loyalty_tier | option_label"}})
    assert _failed(text) == {"magento.option_labels"}
    check = text["magento.option_labels"]
    assert "'loyalty_tier' is a text attribute" in check.detail and "drop it from this rule" in (check.fix or "")


# ------------------------------------------------------------------------------------------- the state file


def test_the_state_file_is_checked_against_the_store_and_the_org(make_world: Any) -> None:
    world = _world(make_world)
    state = _doctor(world)["state.file"]
    assert state.status == "ok" and "none yet" in state.detail and str(world.state_path) in state.detail
    world.sync()
    state = _doctor(world)["state.file"]
    assert state.status == "ok" and "holds the sync of 127.0.0.1:18081 into the Zoho org at 127.0.0.1:18082" in (
        state.detail
    )
    # the URL a sync would refuse (a sandbox's, then production's): said by the doctor before the sync fails
    other = _doctor(world, **{"zoho.api_url": "http://127.0.0.1:18099"})["state.file"]
    assert other.status == "fail" and "holds the sync into the Zoho org at 127.0.0.1:18082" in other.detail
    assert other.fix is not None and "--state PATH" in other.fix
    store = _doctor(world, **{"magento.base_url": "http://127.0.0.1:18098"})["state.file"]
    assert store.status == "fail" and "another Magento store (127.0.0.1:18081)" in store.detail
    assert world.state_path.exists() and world.sync().tally.failed == 0  # the doctor wrote nothing to it


def test_a_damaged_state_file_or_a_missing_folder_fails_the_state_check(make_world: Any, tmp_path: Any) -> None:
    world = _world(make_world)
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not an SQLite database, but it is long enough to be read as one" * 100)
    check = _doctor(world, **{"sync.state_path": damaged})["state.file"]
    assert check.status == "fail" and str(damaged) in check.detail
    typo = tmp_path / "no-such-folder" / "deeper" / "state.sqlite"
    check = _doctor(world, **{"sync.state_path": typo})["state.file"]
    assert check.status == "fail" and "does not exist" in check.detail
    assert not typo.parent.exists()  # and made nothing


def test_a_state_file_or_folder_the_sync_could_not_write_fails_the_state_check(
    make_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The doctor read the state and passed while the sync could not write it (exit 2). Tests run as root, which
    writes anyway: what this user may write is told by ``os.access``."""
    world = _world(make_world)
    world.sync()
    path, folder = world.state_path, world.state_path.parent
    path.chmod(0o400)
    before = path.read_bytes()
    real_access = os.access
    denied: set[Path] = {path.resolve()}

    def access(target: Any, mode: int, **kw: Any) -> bool:
        return Path(target) not in denied and real_access(target, mode, **kw)

    monkeypatch.setattr("magento_zoho_sync.state_file.os.access", access)
    # this user's own file: the sync makes it owner-only (0600) before opening it, so it can write it
    assert _doctor(world)["state.file"].status == "ok"
    other_user = os.geteuid() + 1
    monkeypatch.setattr("magento_zoho_sync.state_file.os.geteuid", lambda: other_user)  # another user's file
    check = _doctor(world)["state.file"]
    assert check.status == "fail" and f"The state file {path} cannot be written" in check.detail
    assert check.fix is not None and "--state PATH" in check.fix
    denied = {folder.resolve()}
    check = _doctor(world)["state.file"]
    assert check.status == "fail" and f"The folder {folder.resolve()} of the state file {path}" in check.detail
    assert path.read_bytes() == before and stat.S_IMODE(path.stat().st_mode) == 0o400  # the doctor changed nothing


# ------------------------------------------------------------------------------------------- D1: wrong selectors


def test_a_misspelt_auth_mode_never_falls_back_to_admin(make_world: Any) -> None:
    world = _world(make_world, "admin", two_factor_enabled=True)
    with served(world) as env:
        result = invoke(["doctor"], {**env, **_env_for("admin-totp"), "MAGENTO_AUTH": "admin_totp"})
    assert result.exit_code == 2
    assert "magento.auth" in result.output and "admin_totp" in result.output
    assert "Magento login (admin)" not in result.output  # the mode the user did not choose is not checked
    assert "skip  Magento checks" in result.output
    assert "ok    Zoho access token" in result.output and "skip  State file" in result.output


@pytest.mark.parametrize(
    ("extra", "named", "checked"),
    [
        ({"MAGENTO_AUTH": "oauth1"}, "magento.auth", "ok    Zoho access token"),
        ({"ZOHO_REGION": "xx"}, "zoho.region", "ok    Magento customer read"),
        ({"MAGENTO_PASSWORD_FILE": "/nonexistent/pw"}, "magento.password", "ok    Zoho access token"),
        ({"ZOHO_CLIENT_SECRET_FILE": "/nonexistent/secret"}, "zoho.client_secret", "ok    Magento customer read"),
    ],
)
def test_one_wrong_side_still_checks_the_other(
    make_world: Any, extra: dict[str, str], named: str, checked: str
) -> None:
    world = _world(make_world)
    with served(world) as served_env:
        env = {**served_env, **_env_for("admin")}
        if "MAGENTO_PASSWORD_FILE" in extra:
            env["MAGENTO_PASSWORD"] = ""
        if "ZOHO_CLIENT_SECRET_FILE" in extra:
            env["ZOHO_CLIENT_SECRET"] = ""
        result = invoke(["doctor"], {**env, **extra})
    assert result.exit_code == 2
    fail_lines = [line for line in result.output.splitlines() if line.strip().startswith("FAIL")]
    assert len(fail_lines) == 1 and named in fail_lines[0], result.output
    assert checked in result.output, result.output
    assert "skip  State file" in result.output
    assert "invalid" not in result.output  # the stand-ins are never called nor shown


def test_the_password_file_and_the_password_both_set_still_checks_zoho(make_world: Any, tmp_path: Any) -> None:
    world = _world(make_world)
    secret = tmp_path / "pw"
    secret.write_text("whatever\n")
    with served(world) as env:
        result = invoke(["doctor"], {**env, **_env_for("admin"), "MAGENTO_PASSWORD_FILE": str(secret)})
    assert result.exit_code == 2
    assert "both MAGENTO_PASSWORD and MAGENTO_PASSWORD_FILE" in result.output
    assert "ok    Zoho access token" in result.output and "skip  Magento checks" in result.output


def test_a_token_response_naming_another_local_server_is_not_said_to_match(make_world: Any) -> None:
    world = _world(make_world)
    with served(world) as env:
        other = make_world(1)  # a second Zoho: ZOHO_API_URL names it, the tokens come from the first
        with served(other) as other_env:
            result = invoke(
                ["doctor", "--json"], {**env, **_env_for("admin"), "ZOHO_API_URL": other_env["ZOHO_API_URL"]}
            )
    checks = {c["key"]: c for c in json.loads(result.output)["checks"]}
    dc = checks["zoho.data_centre"]
    assert dc["status"] == "warn" and "which matches" not in dc["detail"]
    assert env["ZOHO_ACCOUNTS_URL"] in dc["fix"]
    # the other server refuses the token: said once, by the first scope probe; the other probes are not run
    probes = [checks[f"zoho.scope.{scope}"] for scope in READ_SCOPES]
    assert [p["status"] for p in probes].count("fail") == 1, probes
    failing = next(p for p in probes if p["status"] == "fail")
    assert all(
        p["status"] == "skip" and f"the same refusal as {failing['name']}" in p["detail"]
        for p in probes
        if p is not failing
    )


def test_php_notices_before_the_stores_json_are_named_as_php_output_not_a_wrong_url(make_world: Any) -> None:
    world = _world(make_world)
    notice = b"<br />\n<b>Deprecated</b>:  Creation of dynamic property is deprecated in <b>/app/Acme.php</b><br />\n"

    def php_notices(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if "/rest/" not in request.url.path:
            return None
        body = notice + response.read()
        return httpx2.Response(response.status_code, content=body, headers={"Content-Type": "application/json"})

    reach = _doctor(world, HookTransport(world.transport, php_notices))["magento.reachable"]
    assert not reach.ok and "PHP notices or warnings before its JSON" in reach.detail
    assert "HTML page" not in reach.detail
    assert reach.fix is not None and "display_errors" in reach.fix


def _mislabelled_gzip(path_part: str) -> Any:
    """A proxy that labels the answers of one path gzip-encoded without encoding them."""

    def hook(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        if path_part not in request.url.path or "authorization" not in request.headers:
            return None
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return httpx2.Response(response.status_code, content=response.read(), headers=headers)

    return hook


def test_answers_mislabelled_as_gzip_blame_the_proxy_or_web_server(make_world: Any) -> None:
    world = _world(make_world)
    magento = _doctor(world, HookTransport(world.transport, _mislabelled_gzip("/customers/search")))
    assert _failed(magento) == {"magento.customers"}
    assert "mislabels the encoding" in magento["magento.customers"].detail
    zoho = _doctor(world, HookTransport(world.transport, _mislabelled_gzip("/crm/v8/settings/fields")))
    fields = zoho["zoho.scope.ZohoCRM.settings.fields.READ"]
    assert not fields.ok and "not encoded as its Content-Encoding header says" in fields.detail
    assert fields.fix is not None and "proxy or the web server" in fields.fix


def _fields_answer(answer: httpx2.Response) -> Any:
    """Zoho's /settings/fields answered with ``answer`` (a proxy's page, an empty list) instead of the fields."""

    def hook(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
        return answer if request.url.path.endswith("/crm/v8/settings/fields") else None

    return hook


def test_an_html_page_for_the_fields_is_not_called_a_missing_scope(make_world: Any) -> None:
    world = _world(make_world)
    page = httpx2.Response(200, text="<html><body>Access denied by proxy</body></html>")
    checks = _doctor(world, HookTransport(world.transport, _fields_answer(page)))
    scope, fields = checks["zoho.scope.ZohoCRM.settings.fields.READ"], checks["zoho.fields"]
    assert _failed(checks) == {"zoho.scope.ZohoCRM.settings.fields.READ"}
    assert scope.detail.startswith("cannot be checked:") and "HTML page, not Zoho's JSON" in scope.detail
    assert "missing" not in scope.detail
    assert fields.status == "skip" and "missing" not in fields.detail
    assert "got no usable answer" in fields.detail


@pytest.mark.parametrize(
    "answer",
    [httpx2.Response(200, json={}), httpx2.Response(200, json={"fields": None}), httpx2.Response(204)],
    ids=["empty object", "null fields", "204"],
)
def test_an_answer_that_lists_no_contacts_field_fails_the_fields_check(make_world: Any, answer: Any) -> None:
    world = _world(make_world)
    checks = _doctor(world, HookTransport(world.transport, _fields_answer(answer)))
    fields = checks["zoho.fields"]
    assert _failed(checks) == {"zoho.fields"}
    assert "Zoho listed no Contacts fields" in fields.detail and "has Email" not in fields.detail
    assert fields.fix is not None and "Profiles" in fields.fix
