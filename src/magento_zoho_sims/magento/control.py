"""The ``/_sim/`` control plane over HTTP (standalone use): reset, faults, stats, config, customer mutations.

Every endpoint is one row of ``endpoints()``; the Starlette routes and the ``GET /_sim/`` index are both built
from those rows. ``docs/simulators.md`` describes each endpoint with its body.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from magento_zoho_sims.common.control import INDEX_PATH, ControlEndpoint, control_index
from magento_zoho_sims.common.faults import FaultPlan
from magento_zoho_sims.common.requestlog import RequestLog
from magento_zoho_sims.magento.backend import MagentoBackend
from magento_zoho_sims.magento.config import MagentoConfig
from magento_zoho_sims.magento.errors import MagentoError
from magento_zoho_sims.magento.phpjson import encode

# The MagentoConfig switches that POST /_sim/config may change, with the JSON types each takes. The others
# (admins, integrations, store codes and locales) are structures fixed at startup.
_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "int | None": (int, type(None)),
    "str | None": (str, type(None)),
}
CONFIG_SWITCHES: dict[str, tuple[type, ...]] = {
    f.name: _SCALAR_TYPES[str(f.type)] for f in dataclasses.fields(MagentoConfig) if str(f.type) in _SCALAR_TYPES
}

Handler = Callable[[Request, dict[str, Any]], Any]


def _json(data: Any, status_code: int = 200) -> Response:
    """A control answer, encoded as the REST API's (ASCII escapes): a customer whose name holds a lone surrogate
    (``"\\ud800"``, as a client may send) is answered, where UTF-8 (Starlette's JSONResponse) could not encode it."""
    return Response(encode(data), status_code=status_code, media_type="application/json")


def set_config(config: MagentoConfig, data: dict[str, Any]) -> None:
    """Apply ``{switch: value}`` to ``config`` after checking every key and type (all or nothing)."""
    unknown = sorted(set(data) - set(CONFIG_SWITCHES))
    if unknown:
        raise ValueError(f"unknown or read-only config keys: {unknown}; settable: {sorted(CONFIG_SWITCHES)}")
    for key, value in data.items():
        types = CONFIG_SWITCHES[key]
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ValueError(f"{key}: expected {' or '.join(t.__name__ for t in types)}, got {value!r}")
    for key, value in data.items():
        setattr(config, key, value)


def config_view(config: MagentoConfig) -> dict[str, Any]:
    return {"config": {name: getattr(config, name) for name in CONFIG_SWITCHES}}


def endpoints(backend: MagentoBackend, faults: Callable[[], FaultPlan], log: RequestLog) -> list[ControlEndpoint]:
    """The control endpoints of the Magento simulator: (method, path, description, handler)."""

    def reset(request: Request, data: dict[str, Any]) -> Any:
        backend.reset()
        faults().clear()
        log.clear()
        return {"ok": True}

    def stats(request: Request, data: dict[str, Any]) -> Any:
        return {
            "customers": backend.count(),
            "requests": log.total,
            "searches": backend.searches,
            "encoded_on_demand": backend.fragments.misses,
            "encoded_cached": len(backend.fragments),
        }

    def set_faults(request: Request, data: dict[str, Any]) -> Any:
        plan = faults()
        plan.configure(data)  # a ValueError is the control plane's 400
        return {"ok": True, "faults": plan.settings()}

    def clear_faults(request: Request, data: dict[str, Any]) -> Any:
        faults().clear()
        return {"ok": True}

    def get_config(request: Request, data: dict[str, Any]) -> Any:
        return config_view(backend.config)

    def post_config(request: Request, data: dict[str, Any]) -> Any:
        set_config(backend.config, data)
        return config_view(backend.config)

    def create(request: Request, data: dict[str, Any]) -> Any:
        return backend.create_customer(**data)

    def update(request: Request, data: dict[str, Any]) -> Any:
        return backend.update_customer(int(request.path_params["cid"]), **data)

    def delete(request: Request, data: dict[str, Any]) -> Any:
        backend.delete_customer(int(request.path_params["cid"]))
        return {"ok": True}

    def address(request: Request, data: dict[str, Any]) -> Any:
        cid = int(request.path_params["cid"])
        address_id = data.pop("address_id", None)
        return backend.edit_address(cid, address_id, **data)

    def expire(request: Request, data: dict[str, Any]) -> Any:
        backend.auth.expire_tokens()
        return {"ok": True}

    return [
        ControlEndpoint("POST", "/_sim/reset", "back to the seeded store: no changes, tokens, faults or log", reset),
        ControlEndpoint("GET", "/_sim/stats", "customers, requests, searches and read-ahead counters", stats),
        ControlEndpoint(
            "POST",
            "/_sim/faults",
            'set fault rates, latency, maintenance, scripted faults; {"clear": true} clears',
            set_faults,
        ),
        ControlEndpoint("DELETE", "/_sim/faults", "clear every fault and the latency", clear_faults),
        ControlEndpoint("GET", "/_sim/config", "the behaviour switches that POST /_sim/config may change", get_config),
        ControlEndpoint(
            "POST", "/_sim/config", "change behaviour switches, e.g. enable_integration_as_bearer", post_config
        ),
        ControlEndpoint(
            "POST", "/_sim/customers", "create a customer: email, firstname, lastname and any other fields", create
        ),
        ControlEndpoint("PUT", "/_sim/customers/{cid:int}", "change a customer's fields (bumps updated_at)", update),
        ControlEndpoint("DELETE", "/_sim/customers/{cid:int}", "delete a customer", delete),
        ControlEndpoint("POST", "/_sim/customers/{cid:int}/addresses", "add or change an address", address),
        ControlEndpoint("POST", "/_sim/tokens/expire", "every admin token issued so far expires now", expire),
    ]


def control_app(backend: MagentoBackend, faults: Callable[[], FaultPlan], log: RequestLog) -> Starlette:
    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        return data

    def guarded(handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                result = handler(request, await body(request))
            except MagentoError as exc:
                return _json(exc.body(), status_code=exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return _json({"error": str(exc)}, status_code=400)
            return _json(result)

        return endpoint

    table = endpoints(backend, faults, log)
    index = control_index("magento", table)

    async def show_index(request: Request) -> Response:
        return _json(index)

    routes = [
        Route(INDEX_PATH, show_index, methods=["GET"]),
        Route(INDEX_PATH.rstrip("/"), show_index, methods=["GET"]),
    ]
    routes += [Route(e.path, guarded(e.handler), methods=[e.method]) for e in table]
    return Starlette(routes=routes)
