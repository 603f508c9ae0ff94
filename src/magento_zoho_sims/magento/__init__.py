"""The Magento 2.4 REST simulator: ``MagentoSimulator`` wires backend, HTTP layer, faults and request log.

sim = MagentoSimulator(customers=10_000, seed=1)
client = httpx2.Client(transport=sim.transport(), base_url="http://magento.test")   # in-process
server = sim.serve(port=8081)                                                        # loopback port
"""

from __future__ import annotations

from starlette.types import ASGIApp

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.faults import FaultMiddleware, FaultPlan
from magento_zoho_sims.common.requestlog import RequestLog
from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.common.transport import InProcessTransport
from magento_zoho_sims.magento.app import RestApp, fault_renderers
from magento_zoho_sims.magento.auth import Principal
from magento_zoho_sims.magento.backend import MagentoBackend
from magento_zoho_sims.magento.config import AdminUser, Integration, MagentoConfig, TwoFactorState
from magento_zoho_sims.magento.control import control_app
from magento_zoho_sims.magento.errors import MagentoError
from magento_zoho_sims.magento.searchcriteria import SearchCriteria, parse_search_criteria


class MagentoSimulator:
    """One simulated store. ``faults`` may be replaced by a new ``FaultPlan`` at any time."""

    def __init__(
        self,
        *,
        customers: int = 0,
        seed: int = 1,
        clock: Clock | None = None,
        config: MagentoConfig | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.config = config or MagentoConfig()
        self.backend = MagentoBackend(customers=customers, seed=seed, clock=self.clock, config=self.config)
        self.faults = FaultPlan()
        self.log = RequestLog()
        rest = RestApp(self.backend, control_app(self.backend, lambda: self.faults, self.log))
        self.app: ASGIApp = FaultMiddleware(
            rest, plan=lambda: self.faults, renderers=fault_renderers(self.config), log=self.log
        )

    def credentials(self) -> dict[str, str]:
        """What a client needs for each auth mode (first admin, first integration), e.g. for the demo banner."""
        admin, integration = self.config.admins[0], self.config.integrations[0]
        return {
            "username": admin.username,
            "password": admin.password,
            "totp_secret": admin.totp_secret,
            "consumer_key": integration.consumer_key,
            "consumer_secret": integration.consumer_secret,
            "access_token": integration.access_token,
            "access_token_secret": integration.access_token_secret,
        }

    def reset(self) -> None:
        """Back to the seeded store: no changes, no tokens, no faults, an empty request log."""
        self.backend.reset()
        self.faults.clear()
        self.log.clear()

    def transport(self) -> InProcessTransport:
        """A sync ``httpx2`` transport that calls the app directly (no sockets)."""
        return InProcessTransport(self.app)

    def serve(self, port: int = 0) -> ThreadedServer:
        """Start the app on 127.0.0.1 (``port=0``: an ephemeral port; see ``.url``)."""
        # The simulator sends its own Date header (from its Clock); uvicorn would add a second one.
        return ThreadedServer(self.app, port=port, date_header=False).start()


__all__ = [
    "AdminUser",
    "Integration",
    "MagentoBackend",
    "MagentoConfig",
    "MagentoError",
    "MagentoSimulator",
    "Principal",
    "SearchCriteria",
    "TwoFactorState",
    "parse_search_criteria",
]
