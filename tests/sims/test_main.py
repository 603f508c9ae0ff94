"""``python -m magento_zoho_sims``: the standalone simulators start, write their ready file and answer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from magento_zoho_sims.__main__ import (
    auth_modes,
    build_parser,
    env_vars,
    magento_info,
    main,
    make_magento,
    make_zoho,
    print_banner,
    sync_command,
    zoho_info,
)
from magento_zoho_sims.magento import MagentoSimulator
from magento_zoho_sims.zoho import ZohoSimulator


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        if proc.poll() is not None:
            raise AssertionError(f"the simulators exited with {proc.returncode}: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no ready file")


def test_both_standalone_writes_ready_file_and_answers(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [
            sys.executable,
            "-m",
            "magento_zoho_sims",
            "both",
            "--magento-port",
            "0",
            "--zoho-port",
            "0",
            "--customers",
            "50",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = _wait_for(ready, proc)
        magento, zoho, env = info["magento"], info["zoho"], info["env"]
        assert magento["url"].startswith("http://127.0.0.1:")
        assert zoho["url"].startswith("http://127.0.0.1:")
        assert env["MAGENTO_BASE_URL"] == magento["url"]
        assert env["ZOHO_API_URL"] == env["ZOHO_ACCOUNTS_URL"] == zoho["url"]
        # every Magento auth mode's credentials, with the admin mode that works as started
        assert env["MAGENTO_AUTH"] == magento["auth"] == "admin"
        for name in ("MAGENTO_TOTP_SECRET", "MAGENTO_CONSUMER_KEY", "MAGENTO_CONSUMER_SECRET", "MAGENTO_ACCESS_TOKEN"):
            assert env[name]
        assert env["MAGENTO_ACCESS_TOKEN_SECRET"] == magento["access_token_secret"]
        assert set(magento["auth_modes"]) == {"admin", "admin-totp", "integration-oauth1", "integration-bearer"}
        assert not magento["auth_modes"]["integration-bearer"]["accepted"]
        # the simulated store's own state file, not the real store's default one
        assert env["MZSYNC_STATE"].endswith(f"mzsync-simulated-store-{info['pid']}.sqlite")
        assert oct(ready.stat().st_mode & 0o777) == "0o600"

        with httpx2.Client(base_url=magento["url"], timeout=30) as client:
            token = client.post(
                "/rest/V1/integration/admin/token",
                json={"username": magento["username"], "password": magento["password"]},
            )
            assert token.status_code == 200
            page = client.get(
                "/rest/V1/customers/search",
                params={"searchCriteria[pageSize]": "10", "searchCriteria[currentPage]": "1"},
                headers={"Authorization": f"Bearer {token.json()}"},
            )
            assert page.status_code == 200
            assert page.json()["total_count"] == 50
            index = client.get("/_sim/")
            assert index.status_code == 200 and index.json()["simulator"] == "magento"

        with httpx2.Client(base_url=zoho["url"], timeout=30) as client:
            grant = client.post(
                "/oauth/v2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": env["ZOHO_REFRESH_TOKEN"],
                    "client_id": env["ZOHO_CLIENT_ID"],
                    "client_secret": env["ZOHO_CLIENT_SECRET"],
                },
            )
            assert grant.status_code == 200
            access = grant.json()["access_token"]
            assert grant.json()["api_domain"] == zoho["url"]
            upsert = client.post(
                "/crm/v8/Contacts/upsert",
                json={"data": [{"Last_Name": "Ng", "Email": "ng@example.com"}], "duplicate_check_fields": ["Email"]},
                headers={"Authorization": f"Zoho-oauthtoken {access}"},
            )
            assert upsert.status_code in (200, 201)
            assert client.get("/_sim/stats").json()["contacts"] == 1
            assert client.get("/_sim/").json()["simulator"] == "zoho"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "export ZOHO_REFRESH_TOKEN=" in out
    assert "export MAGENTO_CONSUMER_KEY=" in out and "export MAGENTO_TOTP_SECRET=" in out
    assert "magento-zoho-sync sync" in out and "run: magento-zoho-sync" not in out
    assert "#   integration-bearer  MAGENTO_ACCESS_TOKEN  (refused: start with --bearer-tokens)" in out
    assert not ready.exists()


def test_refuses_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["magento", "--host", "192.0.2.10", "--port", "0"])
    assert exited.value.code == 2
    assert "not a loopback address" in capsys.readouterr().err


def _magento(*flags: str) -> MagentoSimulator:
    return make_magento(build_parser().parse_args(["magento", "--customers", "5", *flags]))


def test_auth_modes_follow_the_flags() -> None:
    default = auth_modes(_magento())
    assert {mode: m["accepted"] for mode, m in default.items()} == {
        "admin": True,
        "admin-totp": False,
        "integration-oauth1": True,
        "integration-bearer": False,
    }
    assert default["admin-totp"]["env"]["MAGENTO_TOTP_SECRET"] == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    both = _magento("--two-factor", "--bearer-tokens")
    modes = auth_modes(both)
    assert {mode: m["accepted"] for mode, m in modes.items()} == {
        "admin": False,
        "admin-totp": True,
        "integration-oauth1": True,
        "integration-bearer": True,
    }
    env = env_vars({"magento": magento_info(both, "http://127.0.0.1:1")})
    assert env["MAGENTO_AUTH"] == "admin-totp"
    for mode in modes.values():
        assert mode["env"].items() - {("MAGENTO_AUTH", mode["env"]["MAGENTO_AUTH"])} <= env.items()


def test_bearer_tokens_flag_lets_the_integration_token_in() -> None:
    for flags, status in (((), 401), (("--bearer-tokens",), 200)):
        sim = _magento(*flags)
        token = sim.config.integrations[0].access_token
        with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as client:
            response = client.get("/rest/V1/customers/1", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status


def test_magento_config_switches_over_http() -> None:
    sim = _magento()
    token = sim.config.integrations[0].access_token
    with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as client:
        assert client.get("/_sim/config").json()["config"]["enable_integration_as_bearer"] is False
        refused = client.post("/_sim/config", json={"enable_integration_as_bearer": 1})
        assert refused.status_code == 400 and "expected bool" in refused.json()["error"]
        unknown = client.post("/_sim/config", json={"admins": [], "chaos_order": True})
        assert unknown.status_code == 400 and "admins" in unknown.json()["error"]
        assert sim.config.chaos_order is False  # all or nothing
        changed = client.post("/_sim/config", json={"enable_integration_as_bearer": True, "retry_after": 7})
        assert changed.status_code == 200 and changed.json()["config"]["retry_after"] == 7
        assert client.get("/rest/V1/customers/1", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.post("/_sim/config", json={"retry_after": None}).json()["config"]["retry_after"] is None
        assert client.get("/_sim/nothing").status_code == 404


def test_zoho_contacts_and_scripted_faults_over_http() -> None:
    sim = ZohoSimulator()
    with httpx2.Client(transport=sim.transport(), base_url="http://zoho.test") as client:
        created = client.post("/_sim/contacts", json={"Last_Name": "Ng", "Email": "NG@example.com"})
        assert created.status_code == 200 and sim.contact(created.json()["id"]) is not None
        assert client.post("/_sim/contacts", json={}).status_code == 400
        assert len(client.get("/_sim/contacts", params={"email": "ng@example.com"}).json()["contacts"]) == 1
        client.post("/_sim/faults", json={"script": [{"kind": "throttle", "count": 1}]})
        assert client.get("/crm/v8/org").status_code == 429
        assert client.post("/_sim/faults", json={"script": [{"count": 1}]}).status_code == 400
        assert client.get("/_sim/config").json()["config"]["upsert_mixed_status"] == 207
        assert client.post("/_sim/unknown").json()["code"] == "INVALID_URL_PATTERN"


def test_sync_command_names_the_console_script() -> None:
    command = sync_command()
    assert command.endswith("magento-zoho-sync") and " " not in command


def test_refresh_limit_flag_sets_zohos_token_refresh_limit_and_the_banner_says_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each doctor or sync spends a refresh: the banner says how many the simulator allows, and how to raise it."""
    assert make_zoho(build_parser().parse_args(["zoho"])).config.refresh_throttle_limit == 10  # as Zoho
    sim = make_zoho(build_parser().parse_args(["zoho", "--refresh-limit", "500"]))
    assert sim.config.refresh_throttle_limit == 500
    both = build_parser().parse_args(["both", "--refresh-limit", "7"])
    assert make_zoho(both).config.refresh_throttle_limit == 7
    info = zoho_info(sim, "http://127.0.0.1:8082")
    assert info["refresh_limit"] == 500
    print_banner({"zoho": info})
    assert "500 token refreshes per 10 minutes" in capsys.readouterr().out


def test_both_standalone_serve_https_with_the_certificate_given(tmp_path: Path) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain, key, ca_file = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    for pem in cert.cert_chain_pems:
        pem.write_to_path(str(chain), append=True)
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "magento_zoho_sims", "both", "--magento-port", "0", "--zoho-port", "0"]
    tls = ["--tls-cert", str(chain), "--tls-key", str(key), "--customers", "5", "--ready-file", str(ready)]
    proc = subprocess.Popen([*command, *tls], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        info = _wait_for(ready, proc)
        assert info["magento"]["url"].startswith("https://127.0.0.1:")
        assert info["env"]["ZOHO_API_URL"].startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(ca_file))
        with httpx2.Client(base_url=info["magento"]["url"], verify=trusted, timeout=30) as client:
            assert client.get("/_sim/").json()["simulator"] == "magento"
        with httpx2.Client(base_url=info["zoho"]["url"], verify=trusted, timeout=30) as client:
            assert client.get("/_sim/").json()["simulator"] == "zoho"
        with httpx2.Client(base_url=info["zoho"]["url"], timeout=30) as client, pytest.raises(httpx2.ConnectError):
            client.get("/_sim/")  # the system's CAs do not know the test CA
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_tls_flags_go_together_and_a_certificate_that_cannot_be_loaded_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["magento", "--port", "0", "--tls-cert", str(tmp_path / "chain.pem")])
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
    (tmp_path / "chain.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    with pytest.raises(SystemExit):
        main(["zoho", "--port", "0", "--tls-cert", str(tmp_path / "chain.pem"), "--tls-key", str(tmp_path / "key.pem")])
    assert "cannot load the certificate and its key" in capsys.readouterr().err
