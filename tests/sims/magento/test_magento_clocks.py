"""Two clocks (reference §4): MySQL stamps ``updated_at``, the web server stamps the ``Date`` header and runs PHP's
time checks; ``date_header_skew_seconds`` sets how far apart they are. And late commits: a row stamped before it
becomes visible."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx2
import pyotp
import pytest
from magento_helpers import ADMIN, NOW

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator
from magento_zoho_sims.magento.seed import fmt_ts


@pytest.mark.parametrize("skew", [-900, 0, 300])
def test_the_date_header_follows_the_web_servers_clock_and_updated_at_the_databases(
    sim: MagentoSimulator, client: httpx2.Client, auth: dict[str, str], skew: int
) -> None:
    sim.config.date_header_skew_seconds = skew
    sim.backend.update_customer(3, firstname="Edited")
    response = client.get("/rest/V1/customers/3", headers=auth)
    assert response.json()["updated_at"] == fmt_ts(int(NOW))
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == NOW + skew
    missing = client.get("/rest/V1/customers/999", headers=auth)  # errors carry the web server's Date too
    assert parsedate_to_datetime(missing.headers["date"]).timestamp() == NOW + skew


def test_phps_time_checks_follow_the_web_servers_clock(clock: Clock) -> None:
    config = MagentoConfig(two_factor_enabled=True, date_header_skew_seconds=600)
    sim = MagentoSimulator(customers=3, clock=clock, config=config)
    secret = config.admins[0].totp_secret
    path = "/rest/V1/tfa/provider/google/authenticate"
    with httpx2.Client(transport=sim.transport(), base_url="http://m.test") as client:
        on_the_database_clock = pyotp.TOTP(secret).at(int(NOW))
        assert client.post(path, json={**ADMIN, "otp": on_the_database_clock}).status_code == 401
        on_the_web_clock = pyotp.TOTP(secret).at(int(NOW) + 600)
        assert client.post(path, json={**ADMIN, "otp": on_the_web_clock}).status_code == 200


def test_the_skew_is_a_switch_of_the_control_api(client: httpx2.Client, auth: dict[str, str]) -> None:
    assert client.post("/_sim/config", json={"date_header_skew_seconds": -120}).status_code == 200
    assert client.get("/_sim/config").json()["config"]["date_header_skew_seconds"] == -120
    response = client.get("/rest/V1/customers/3", headers=auth)
    assert parsedate_to_datetime(response.headers["date"]).timestamp() == NOW - 120
    assert client.post("/_sim/config", json={"date_header_skew_seconds": 1.5}).status_code == 400


def test_a_late_commit_keeps_the_time_its_statement_ran(sim: MagentoSimulator, client: httpx2.Client) -> None:
    stamped = fmt_ts(int(NOW) - 700)
    late = sim.backend.update_customer(4, firstname="Late", updated_at=stamped)
    assert late["updated_at"] == stamped and late["firstname"] == "Late"
    created = sim.backend.create_customer(email="late@example.com", firstname="L", lastname="C", updated_at=stamped)
    assert created["updated_at"] == stamped
    over_http = client.put("/_sim/customers/5", json={"lastname": "Later", "updated_at": stamped})
    assert over_http.json()["updated_at"] == stamped
