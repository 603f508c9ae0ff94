"""docs/simulators.md keeps up with the simulators: every control route, CLI flag, switch and auth mode is in it.

The routes come from ``GET /_sim/`` of each simulator, which is built from the table that routes the requests.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

from magento_zoho_sims.__main__ import AUTH_MODE_ENV, build_parser
from magento_zoho_sims.common.faults import RATES, FaultKind
from magento_zoho_sims.magento import MagentoSimulator
from magento_zoho_sims.magento.control import CONFIG_SWITCHES
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator
from magento_zoho_sims.zoho.control import TOKEN_ACTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulators.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _index(sim: MagentoSimulator | ZohoSimulator) -> list[dict[str, Any]]:
    with httpx2.Client(transport=sim.transport(), base_url="http://sim.test") as client:
        response = client.get("/_sim/")
        assert response.status_code == 200
        body = response.json()
        assert client.get("/_sim").json() == body
    endpoints: list[dict[str, Any]] = body["endpoints"]
    return endpoints


@pytest.mark.parametrize("kind", ["magento", "zoho"])
def test_every_control_route_is_documented(kind: str, doc: str) -> None:
    endpoints = _index(MagentoSimulator(customers=3) if kind == "magento" else ZohoSimulator())
    assert {"method": "GET", "path": "/_sim/", "description": "this index of the control endpoints"} in endpoints
    assert len(endpoints) > 5
    missing = [f"{e['method']} {e['path']}" for e in endpoints if f"`{e['method']} {e['path']}`" not in doc]
    assert missing == [], f"control endpoints missing from {DOC.name}: {missing}"
    for endpoint in endpoints:
        assert endpoint["description"] and "\n" not in endpoint["description"]


def test_every_cli_flag_is_documented(doc: str) -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {
        option
        for sub in subparsers.choices.values()
        for action in sub._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert "--bearer-tokens" in flags
    assert sorted(f for f in flags if f"`{f}" not in doc) == []


def test_every_switch_token_action_and_auth_mode_is_documented(doc: str) -> None:
    switches = set(CONFIG_SWITCHES) | {f.name for f in dataclasses.fields(ZohoConfig)}
    assert sorted(s for s in switches if f"`{s}`" not in doc) == []
    assert [a for a in TOKEN_ACTIONS if f"`{a}`" not in doc] == []
    for mode, variables in AUTH_MODE_ENV.items():
        assert f"`{mode}`" in doc
        assert [v for v in variables if f"`{v}=" not in doc and f"`{v}`" not in doc] == []


def test_every_fault_kind_and_rate_is_documented(doc: str) -> None:
    """Each rate of ``POST /_sim/faults`` has its row in the faults table, each kind its place in ``script``."""
    section = doc.split("## Faults (both simulators)", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| `")}
    documented = {name.strip().strip("`") for row in rows for name in row.split(",")}
    assert set(RATES) <= documented
    [script] = [line for line in section.splitlines() if line.startswith("| `script`")]
    assert {kind.value for kind in FaultKind} <= set(re.findall(r'"(\w+)"', script))
