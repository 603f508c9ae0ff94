"""The ``/_sim/`` HTTP control plane, for the standalone mode (tests use the Python facade instead).

Every endpoint is one row of ``endpoints()``; the dispatch and the ``GET /_sim/`` index are both built from those
rows. ``docs/simulators.md`` describes each endpoint with its body.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from magento_zoho_sims.common.control import INDEX_PATH, ControlEndpoint, control_index
from magento_zoho_sims.zoho.accounts import DEFAULT_SCOPES
from magento_zoho_sims.zoho.app import json_bytes
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.errors import ZohoError
from magento_zoho_sims.zoho.fields import field_spec

if TYPE_CHECKING:
    from magento_zoho_sims.zoho import ZohoSimulator

_CONFIG_FIELDS = {f.name for f in dataclasses.fields(ZohoConfig)}
#: The ``action`` values of ``POST /_sim/tokens``.
TOKEN_ACTIONS = ("refresh_token", "grant_code", "expire_access", "revoke")

Handler = Callable[[Request], Awaitable[Response]]


def _json(status: int, body: Any) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        raise ZohoError(400, "INVALID_DATA", "control body must be JSON") from None
    if not isinstance(parsed, dict):
        raise ZohoError(400, "INVALID_DATA", "control body must be a JSON object")
    return parsed


def endpoints(sim: ZohoSimulator) -> list[ControlEndpoint]:
    """The control endpoints of the Zoho simulator: (method, path, description, handler)."""

    async def reset(request: Request) -> Response:
        sim.reset()
        return _json(200, {"status": "reset"})

    async def stats(request: Request) -> Response:
        return _json(200, sim.stats())

    async def contacts(request: Request) -> Response:
        email = request.query_params.get("email")
        return _json(200, {"contacts": sim.contacts_by_email(email) if email else sim.contacts()})

    async def add_contact(request: Request) -> Response:
        body = await _body(request)
        if not body:
            raise ZohoError(400, "INVALID_DATA", 'give the contact\'s fields, e.g. {"Last_Name": …, "Email": …}')
        return _json(200, {"id": sim.add_contact(**body)})

    async def writes(request: Request) -> Response:
        return _json(200, {"writes": [dataclasses.asdict(w) for w in sim.writes()]})

    async def faults(request: Request) -> Response:
        body = await _body(request)
        try:
            sim.faults.configure(body)
        except ValueError as exc:
            raise ZohoError(400, "INVALID_DATA", str(exc)) from None
        return _json(200, {"faults": sim.faults.settings()})

    async def get_config(request: Request) -> Response:
        return _json(200, {"config": dataclasses.asdict(sim.config)})

    async def post_config(request: Request) -> Response:
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

    async def fields(request: Request) -> Response:
        body = await _body(request)
        unknown = sorted(set(body) - {"add", "remove"})
        add, remove = body.get("add", []), body.get("remove", [])
        if unknown or not isinstance(add, list) or not isinstance(remove, list):
            raise ZohoError(400, "INVALID_DATA", 'give {"add": [field, …], "remove": [api_name, …]}')
        try:
            sim.change_fields(add=[field_spec(item) for item in add], remove=[str(name) for name in remove])
        except ValueError as exc:
            raise ZohoError(400, "INVALID_DATA", f"fields: {exc}") from None
        return _json(200, {"fields": list(sim.backend.specs)})

    async def tokens(request: Request) -> Response:
        body = await _body(request)
        action = body.get("action")
        scopes = body.get("scopes") or list(DEFAULT_SCOPES)
        client = {"client_id": sim.client_id, "client_secret": sim.client_secret}
        if action == "refresh_token":
            return _json(200, {"refresh_token": sim.issue_refresh_token(scopes), **client})
        if action == "grant_code":
            return _json(200, {"code": sim.issue_grant_code(scopes), **client})
        if action == "expire_access":
            sim.expire_access_tokens()
            return _json(200, {"status": "expired"})
        if action == "revoke":
            return _json(200, {"revoked": sim.revoke_refresh_token(str(body.get("token", "")))})
        raise ZohoError(400, "INVALID_DATA", f"unknown action; one of {list(TOKEN_ACTIONS)}")

    return [
        ControlEndpoint(
            "POST", "/_sim/reset", "empty the org, tokens, credits, log and faults (the client stays)", reset
        ),
        ControlEndpoint("GET", "/_sim/stats", "contacts, requests, writes, credits, concurrency peaks, tokens", stats),
        ControlEndpoint("GET", "/_sim/contacts", "the contacts as the API returns them (?email= to filter)", contacts),
        ControlEndpoint("POST", "/_sim/contacts", "store a pre-existing contact as given (no validation)", add_contact),
        ControlEndpoint("GET", "/_sim/writes", "the write calls received, with the trigger each sent", writes),
        ControlEndpoint(
            "POST",
            "/_sim/faults",
            'set fault rates, latency, maintenance, scripted faults; {"clear": true} clears',
            faults,
        ),
        ControlEndpoint("GET", "/_sim/config", "every behaviour switch (ZohoConfig) and its value", get_config),
        ControlEndpoint(
            "POST", "/_sim/config", "change behaviour switches, the [UNVERIFIED] ones included", post_config
        ),
        ControlEndpoint(
            "POST", "/_sim/fields", "add, change or remove Contacts fields, as an admin does in Setup", fields
        ),
        ControlEndpoint("POST", "/_sim/tokens", "issue a refresh token or grant code, expire or revoke tokens", tokens),
    ]


def control_plane(sim: ZohoSimulator) -> Handler:
    table = endpoints(sim)
    routes: dict[tuple[str, str], Handler] = {(e.method, e.path): e.handler for e in table}
    index = control_index("zoho", table)

    async def handle(request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path == INDEX_PATH.rstrip("/"):
            return _json(200, index)
        handler = routes.get((request.method, path))
        if handler is None:
            raise ZohoError(404, "INVALID_URL_PATTERN", "unknown control path (GET /_sim/ lists them)")
        return await handler(request)

    return handle
