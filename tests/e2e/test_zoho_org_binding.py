"""A state file serves one Zoho org: after a sync into a sandbox, a run pointed at production (or at another data
centre) with the same state is refused before any call, instead of taking every customer for already there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from magento_zoho_sims.common import InProcessTransport
from magento_zoho_sims.zoho import ZohoSimulator
from magento_zoho_sync.app import RunResult, run_sync
from magento_zoho_sync.cli import main
from magento_zoho_sync.errors import EXIT_FATAL, ConfigError, SyncError
from magento_zoho_sync.state import StateStore
from magento_zoho_sync.store_identity import ZOHO_META_KEY
from tests.e2e.conftest import MAGENTO_HOST, World

SANDBOX = "sandbox.zohoapis.com"
PRODUCTION = "www.zohoapis.com"


class TwoOrgs:
    """One store and two Zoho orgs (a sandbox and production), each at its own API URL, in-process."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orgs = {SANDBOX: world.zoho, PRODUCTION: ZohoSimulator(seed=11)}
        self.tokens = {SANDBOX: world.refresh_token, PRODUCTION: self.orgs[PRODUCTION].issue_refresh_token()}
        apps = {MAGENTO_HOST: world.magento.app, **{host: sim.app for host, sim in self.orgs.items()}}
        # each simulator serves its Accounts endpoints too: reached here under an Accounts host of its own
        apps |= {f"accounts.{host}": sim.app for host, sim in self.orgs.items()}
        for host, sim in self.orgs.items():
            sim.config.api_domain = f"https://{host}"  # what the token answer names, as Zoho's accounts server does
        self.transport = InProcessTransport(apps)

    def sync(self, host: str, *, url: str | None = None, dry_run: bool = False) -> RunResult:
        org = self.orgs[host]
        api_url = url or f"https://{host}"
        settings = self.world.settings(
            **{
                "zoho.accounts_url": f"https://accounts.{host}",
                "zoho.api_url": api_url,
                "zoho.client_id": org.client_id,
                "zoho.client_secret": org.client_secret,
                "zoho.refresh_token": self.tokens[host],
            }
        )
        return run_sync(settings, dry_run=dry_run, transport=self.transport)


@pytest.fixture
def two_orgs(make_world: Any) -> TwoOrgs:
    world: World = make_world(0)
    for n in range(5):
        world.magento.backend.create_customer(email=f"c{n}@example.com", firstname="F", lastname=f"L{n}")
    return TwoOrgs(world)


def test_a_state_that_synced_into_a_sandbox_refuses_production_before_any_call(two_orgs: TwoOrgs) -> None:
    assert two_orgs.sync(SANDBOX).tally.inserted == 5
    production = two_orgs.orgs[PRODUCTION]
    for dry_run in (False, True):  # a dry run works on a copy of the state: refused the same way
        with pytest.raises(ConfigError) as info:
            two_orgs.sync(PRODUCTION, dry_run=dry_run)
        message = str(info.value)
        assert info.value.exit_code == EXIT_FATAL == 2
        assert str(two_orgs.world.state_path) in message  # the user's file, not the dry run's copy
        assert f"the Zoho org at {SANDBOX}" in message and f"ZOHO_API_URL https://{PRODUCTION}" in message
        assert "--state PATH or MZSYNC_STATE" in message and "delete the state file" in message
    assert production.log.total == 0 and production.count() == 0  # not even a token was asked for
    assert two_orgs.orgs[SANDBOX].count() == 5


def test_the_same_org_written_another_way_is_the_same_org(two_orgs: TwoOrgs) -> None:
    assert two_orgs.sync(SANDBOX).tally.inserted == 5
    again = two_orgs.sync(SANDBOX, url="HTTPS://Sandbox.ZohoAPIs.com:443/")
    assert again.tally.read == 5 and again.tally.failed == 0


def test_a_state_written_before_the_binding_gets_it_recorded(two_orgs: TwoOrgs) -> None:
    assert two_orgs.sync(SANDBOX).tally.inserted == 5
    store = StateStore.open(two_orgs.world.state_path)
    store.commit_meta(ZOHO_META_KEY, None)  # as an older version left it
    store.close()
    assert two_orgs.sync(SANDBOX).tally.failed == 0  # not refused: this org is recorded now
    with pytest.raises(ConfigError):
        two_orgs.sync(PRODUCTION)


def test_a_first_run_that_failed_before_syncing_anyone_does_not_bind_the_state(two_orgs: TwoOrgs) -> None:
    two_orgs.world.magento.faults.error_rate = 1.0  # Magento fails the first run before any customer is synced
    with pytest.raises(SyncError):  # whatever stops it; the point is what comes after
        two_orgs.sync(SANDBOX)
    two_orgs.world.magento.faults.error_rate = 0.0
    assert two_orgs.sync(PRODUCTION).tally.inserted == 5  # the org used afterwards is not "another org"


def test_the_cli_exits_2_naming_both_urls_and_writes_a_failed_report(make_world: Any, tmp_path: Path) -> None:
    world: World = make_world(0)
    world.magento.backend.create_customer(email="one@example.com", firstname="F", lastname="One")
    production = ZohoSimulator(seed=12)
    report = tmp_path / "report.json"
    runner = CliRunner()
    with world.served() as env, production.serve() as server:
        first = runner.invoke(main, ["sync", "--report", str(report)], env=env, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        other = {
            **env,
            "ZOHO_ACCOUNTS_URL": server.url,
            "ZOHO_API_URL": server.url,
            "ZOHO_CLIENT_ID": production.client_id,
            "ZOHO_CLIENT_SECRET": production.client_secret,
            "ZOHO_REFRESH_TOKEN": production.issue_refresh_token(),
        }
        result = runner.invoke(main, ["sync", "--report", str(report)], env=other, catch_exceptions=False)
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    sandbox = env["ZOHO_API_URL"].removeprefix("http://")
    assert f"error: The state file {world.state_path} holds the sync into the Zoho org at {sandbox}," in line
    assert f"not into ZOHO_API_URL {server.url}" in line and "MZSYNC_STATE" in line
    assert json.loads(report.read_text())["status"] == "failed"
    assert production.log.total == 0 and production.count() == 0
