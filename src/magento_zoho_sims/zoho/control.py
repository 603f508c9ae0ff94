"""The ``/_sim/`` HTTP control plane, for the standalone mode (tests use the Python facade instead).

- ``POST /_sim/reset``: empty the org, tokens, credits, log and faults (the demo client stays registered)
- ``GET /_sim/stats``: counts, credits, concurrency peaks, token requests
- ``GET /_sim/contacts[?email=…]``: dump contacts as the API returns them
- ``POST /_sim/faults``: JSON with any FaultPlan field (latency, error_rate, throttle_rate, drop_rate,
  apply_then_drop_rate, maintenance, path_pattern); ``{"clear": true}`` clears
- ``POST /_sim/config``: JSON with any ZohoConfig field (index_lag, email_unique, credits_per_day, …)
- ``POST /_sim/tokens``: ``{"action": …, "scopes": […], "token": …}`` with action one of refresh_token,
  grant_code, expire_access, revoke
- ``GET /_sim/writes``: the writes received, with their ``trigger``
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from magento_zoho_sims.zoho.accounts import DEFAULT_SCOPES
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.errors import ZohoError

if TYPE_CHECKING:
    from magento_zoho_sims.zoho import ZohoSimulator

_FAULT_FIELDS = {
    "latency",
    "latency_jitter",
    "error_rate",
    "throttle_rate",
    "drop_rate",
    "apply_then_drop_rate",
    "maintenance",
    "path_pattern",
}
_CONFIG_FIELDS = {f.name for f in dataclasses.fields(ZohoConfig)}


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode(), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        raise ZohoError(400, "INVALID_DATA", "control body must be JSON") from None
    if not isinstance(parsed, dict):
        raise ZohoError(400, "INVALID_DATA", "control body must be a JSON object")
    return parsed


def control_plane(sim: ZohoSimulator) -> Any:
    async def handle(request: Request) -> Response:
        path = request.url.path.rstrip("/")
        method = request.method
        if path == "/_sim/reset" and method == "POST":
            sim.reset()
            return _json(200, {"status": "reset"})
        if path == "/_sim/stats" and method == "GET":
            return _json(200, sim.stats())
        if path == "/_sim/contacts" and method == "GET":
            email = request.query_params.get("email")
            return _json(200, {"contacts": sim.contacts_by_email(email) if email else sim.contacts()})
        if path == "/_sim/writes" and method == "GET":
            return _json(200, {"writes": [dataclasses.asdict(w) for w in sim.writes()]})
        if path == "/_sim/faults" and method == "POST":
            body = await _body(request)
            if body.get("clear"):
                sim.faults.clear()
            for key, value in body.items():
                if key in _FAULT_FIELDS:
                    setattr(sim.faults, key, value)
            return _json(200, {"faults": {k: getattr(sim.faults, k) for k in sorted(_FAULT_FIELDS)}})
        if path == "/_sim/config" and method == "POST":
            body = await _body(request)
            unknown = sorted(set(body) - _CONFIG_FIELDS)
            if unknown:
                raise ZohoError(400, "INVALID_DATA", f"unknown config keys: {unknown}")
            for key, value in body.items():
                if key == "email_case_sensitive":
                    sim.set_email_case_sensitive(bool(value))
                else:
                    setattr(sim.config, key, value)
            return _json(200, {"config": dataclasses.asdict(sim.config)})
        if path == "/_sim/tokens" and method == "POST":
            body = await _body(request)
            action = body.get("action")
            scopes = body.get("scopes") or list(DEFAULT_SCOPES)
            if action == "refresh_token":
                return _json(
                    200,
                    {
                        "refresh_token": sim.issue_refresh_token(scopes),
                        "client_id": sim.client_id,
                        "client_secret": sim.client_secret,
                    },
                )
            if action == "grant_code":
                return _json(
                    200,
                    {
                        "code": sim.issue_grant_code(scopes),
                        "client_id": sim.client_id,
                        "client_secret": sim.client_secret,
                    },
                )
            if action == "expire_access":
                sim.expire_access_tokens()
                return _json(200, {"status": "expired"})
            if action == "revoke":
                return _json(200, {"revoked": sim.revoke_refresh_token(str(body.get("token", "")))})
            raise ZohoError(400, "INVALID_DATA", "unknown action")
        raise ZohoError(404, "INVALID_URL_PATTERN", "unknown control path")

    return handle
