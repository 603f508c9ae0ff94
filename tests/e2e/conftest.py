"""End-to-end fixtures: the real product against the real simulators, in-process (no sockets).

Both simulators are mounted on loopback host names inside one ``InProcessTransport``; the product builds its
clients from ordinary settings, exactly as for a real store, and is handed that transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import stamina

from magento_zoho_sims.common import InProcessTransport
from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.magento import MagentoSimulator
from magento_zoho_sims.zoho import ZohoSimulator
from magento_zoho_sync.app import RunResult, run_sync
from magento_zoho_sync.settings import Settings, load_settings

MAGENTO_HOST = "127.0.0.1:18081"
ZOHO_HOST = "127.0.0.1:18082"


@dataclass
class World:
    magento: MagentoSimulator
    zoho: ZohoSimulator
    state_path: Path
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.transport = InProcessTransport({MAGENTO_HOST: self.magento.app, ZOHO_HOST: self.zoho.app})
        self.refresh_token = self.zoho.issue_refresh_token()

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "magento.base_url": f"http://{MAGENTO_HOST}",
            "magento.username": self.magento.config.admins[0].username,
            "magento.password": self.magento.config.admins[0].password,
            "zoho.accounts_url": f"http://{ZOHO_HOST}",
            "zoho.api_url": f"http://{ZOHO_HOST}",
            "zoho.client_id": self.zoho.client_id,
            "zoho.client_secret": self.zoho.client_secret,
            "zoho.refresh_token": self.refresh_token,
            "sync.state_path": self.state_path,
        }
        values.update(self.overrides)
        values.update(overrides)
        return load_settings(None, values, env={})

    def sync(self, *, full: bool = False, dry_run: bool = False, **overrides: Any) -> RunResult:
        return run_sync(self.settings(**overrides), full=full, dry_run=dry_run, transport=self.transport)

    @contextmanager
    def served(self, tls: tuple[str, str] | None = None) -> Iterator[dict[str, str]]:
        """Both simulators on loopback ports; yields the environment a user would set to sync against them.

        ``tls``: a certificate chain and its key (PEM files) to serve both over https."""
        if tls is None:
            magento, zoho = self.magento.serve(), self.zoho.serve()
        else:
            magento = ThreadedServer(self.magento.app, date_header=False, tls=tls).start()
            zoho = ThreadedServer(self.zoho.app, tls=tls).start()
        admin = self.magento.config.admins[0]
        try:
            yield {
                "MAGENTO_BASE_URL": magento.url,
                "MAGENTO_USERNAME": admin.username,
                "MAGENTO_PASSWORD": admin.password,
                "ZOHO_ACCOUNTS_URL": zoho.url,
                "ZOHO_API_URL": zoho.url,
                "ZOHO_CLIENT_ID": self.zoho.client_id,
                "ZOHO_CLIENT_SECRET": self.zoho.client_secret,
                "ZOHO_REFRESH_TOKEN": self.refresh_token,
                "MZSYNC_STATE": str(self.state_path),
                "MZSYNC_RETRY_ATTEMPTS": "2",
                "MZSYNC_RETRY_WAIT_INITIAL": "0",
                "MZSYNC_RETRY_WAIT_MAX": "0",
            }
        finally:
            magento.stop()
            zoho.stop()


@pytest.fixture(autouse=True)
def _no_retry_sleeps() -> Iterator[None]:
    """Retries still happen (attempt counts are part of what we test), without real waiting."""
    stamina.set_testing(True, attempts=6)
    yield
    stamina.set_testing(False)


@pytest.fixture
def make_world(tmp_path: Path) -> Any:
    def make(customers: int = 0, *, seed: int = 3, zoho_seed: bool = False, **kwargs: Any) -> World:
        magento = MagentoSimulator(customers=customers, seed=seed, **kwargs.pop("magento_kwargs", {}))
        zoho = ZohoSimulator(seed=seed, **kwargs.pop("zoho_kwargs", {}))
        if zoho_seed:
            zoho.seed_org(email for _, email, _ in magento.backend.iter_emails())
        return World(magento, zoho, tmp_path / "state.sqlite", **kwargs)

    return make


def add_customer(world: World, email: str, **kwargs: Any) -> int:
    """A customer created in the Magento simulator (Ann Lee unless told otherwise); its id."""
    kwargs.setdefault("firstname", "Ann")
    kwargs.setdefault("lastname", "Lee")
    return int(world.magento.backend.create_customer(email=email, **kwargs)["id"])


def contact(world: World, email: str) -> dict[str, Any]:
    """The one Zoho contact holding ``email``."""
    [found] = world.zoho.contacts_by_email(email)
    return found
