"""The ``/_sim/`` control plane over HTTP (standalone use): reset, faults, stats, customer mutations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from magento_zoho_sims.common.faults import FaultPlan
from magento_zoho_sims.common.requestlog import RequestLog
from magento_zoho_sims.magento.backend import MagentoBackend
from magento_zoho_sims.magento.errors import MagentoError

_FAULT_FIELDS = ("latency", "latency_jitter", "error_rate", "throttle_rate", "drop_rate", "apply_then_drop_rate")


def control_app(backend: MagentoBackend, faults: Callable[[], FaultPlan], log: RequestLog) -> Starlette:
    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("a JSON object is expected")
        return data

    def guarded(handler: Callable[[Request, dict[str, Any]], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                result = handler(request, await body(request))
            except MagentoError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(result)

        return endpoint

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
        if request.method == "DELETE":
            plan.clear()
            return {"ok": True}
        for name in _FAULT_FIELDS:
            if name in data:
                setattr(plan, name, float(data[name]))
        if "maintenance" in data:
            plan.maintenance = bool(data["maintenance"])
        if "path_pattern" in data:
            plan.path_pattern = data["path_pattern"]
        for item in data.get("script", []):
            plan.script(item["kind"], int(item.get("count", 1)), path_pattern=item.get("path_pattern"))
        return {"ok": True}

    def create(request: Request, data: dict[str, Any]) -> Any:
        return backend.create_customer(**data)

    def change(request: Request, data: dict[str, Any]) -> Any:
        cid = int(request.path_params["cid"])
        if request.method == "DELETE":
            backend.delete_customer(cid)
            return {"ok": True}
        return backend.update_customer(cid, **data)

    def address(request: Request, data: dict[str, Any]) -> Any:
        cid = int(request.path_params["cid"])
        address_id = data.pop("address_id", None)
        return backend.edit_address(cid, address_id, **data)

    def expire(request: Request, data: dict[str, Any]) -> Any:
        backend.auth.expire_tokens()
        return {"ok": True}

    return Starlette(
        routes=[
            Route("/_sim/reset", guarded(reset), methods=["POST"]),
            Route("/_sim/stats", guarded(stats), methods=["GET"]),
            Route("/_sim/faults", guarded(set_faults), methods=["POST", "DELETE"]),
            Route("/_sim/customers", guarded(create), methods=["POST"]),
            Route("/_sim/customers/{cid:int}", guarded(change), methods=["PUT", "DELETE"]),
            Route("/_sim/customers/{cid:int}/addresses", guarded(address), methods=["POST"]),
            Route("/_sim/tokens/expire", guarded(expire), methods=["POST"]),
        ]
    )
