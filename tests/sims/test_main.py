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

from magento_zoho_sims.__main__ import main


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
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "export ZOHO_REFRESH_TOKEN=" in out
    assert not ready.exists()


def test_refuses_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["magento", "--host", "192.0.2.10", "--port", "0"])
    assert exited.value.code == 2
    assert "not a loopback address" in capsys.readouterr().err
