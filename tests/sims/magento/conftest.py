"""Fixtures for the Magento simulator tests: a small seeded store on a frozen clock, an in-process client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from magento_helpers import ADMIN, NOW

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator


@pytest.fixture
def clock() -> Clock:
    return Clock(frozen_at=NOW)


@pytest.fixture
def config() -> MagentoConfig:
    return MagentoConfig()


@pytest.fixture
def sim(clock: Clock, config: MagentoConfig) -> MagentoSimulator:
    return MagentoSimulator(customers=50, seed=7, clock=clock, config=config)


@pytest.fixture
def client(sim: MagentoSimulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(transport=sim.transport(), base_url="http://magento.test") as c:
        yield c


@pytest.fixture
def token(client: httpx2.Client) -> str:
    response = client.post("/rest/V1/integration/admin/token", json=ADMIN)
    assert response.status_code == 200
    value = response.json()
    assert isinstance(value, str)
    return value


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
