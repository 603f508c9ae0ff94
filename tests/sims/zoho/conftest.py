"""Fixtures for the Zoho simulator tests: a simulator, and an httpx2 client talking to it in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator

BASE = "http://zoho.sim.test"


@pytest.fixture
def clock() -> Clock:
    return Clock(frozen_at=1_760_000_000.0)


@pytest.fixture
def config() -> ZohoConfig:
    """Records Zoho refuses answered one by one in ``data`` (the documented shape, which these tests look into);
    test_refusals.py tries the answers as one top-level error."""
    return ZohoConfig(record_errors_at_request_level="never")


@pytest.fixture
def sim(clock: Clock, config: ZohoConfig) -> ZohoSimulator:
    return ZohoSimulator(seed=1, clock=clock, config=config)


@pytest.fixture
def raw(sim: ZohoSimulator) -> Iterator[httpx2.Client]:
    """No credentials."""
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as client:
        yield client


@pytest.fixture
def api(sim: ZohoSimulator) -> Iterator[httpx2.Client]:
    """Authorised with a fresh access token holding the default scopes."""
    token = sim.issue_access_token()
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    with httpx2.Client(transport=sim.transport(), base_url=BASE, headers=headers) as client:
        yield client


def contact(n: int = 0, **extra: Any) -> dict[str, Any]:
    return {"Last_Name": f"Doe{n}", "First_Name": "Jane", "Email": f"jane{n}@example.com", **extra}


def assert_error_shape(body: Any, code: str) -> None:
    assert set(body) == {"code", "details", "message", "status"}
    assert body["code"] == code
    assert body["status"] == "error"
    assert isinstance(body["details"], dict)
