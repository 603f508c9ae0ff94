"""The HTTP layer: Magento's REST wire format over the backend (routing, store codes, auth, envelopes)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from magento_zoho_sims.common.faults import FaultRenderers
from magento_zoho_sims.magento import oauth1
from magento_zoho_sims.magento.attributes import attribute_metadata
from magento_zoho_sims.magento.auth import Principal
from magento_zoho_sims.magento.backend import MagentoBackend
from magento_zoho_sims.magento.config import CUSTOMER_RESOURCE, MagentoConfig
from magento_zoho_sims.magento.errors import MagentoError, internal_error, new_report_id, not_authorized, required_many
from magento_zoho_sims.magento.inputs import typed_customer
from magento_zoho_sims.magento.phpjson import encode
from magento_zoho_sims.magento.searchcriteria import criteria_from_params as _criteria
from magento_zoho_sims.magento.searchcriteria import parse_fields, parse_php_query, project
from magento_zoho_sims.magento.translations import translate

JSON_TYPE = "application/json; charset=utf-8"
_NUMERIC_ID = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_VERSION = re.compile(r"^V\d+$")
MAINTENANCE_PAGE = """<!doctype html>
<html xmlns="http://www.w3.org/1999/xhtml" >
<head>
    <title>Error 503: Service Unavailable</title>
    <meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>
</head>
<body>
<main class="page-main">
    <h1>Service Temporarily Unavailable</h1>
    <p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems.
    Please try again later.</p>
</main>
</body>
</html>
"""
STOREFRONT_404 = (
    "<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Whoops, our bad...</h1></body></html>"
)
FASTLY_429 = (
    "<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head><body>"
    "<h1>Error 429 Too Many Requests</h1><p>Limit Exceeded</p><hr><p>Varnish cache server</p></body></html>"
)
WEBSITES = [
    {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
    {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1},
    {"id": 2, "code": "eu", "name": "EU Website", "default_group_id": 2},
]
STORE_VIEWS = [
    {"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1},
    {"id": 1, "code": "default", "name": "Default Store View", "website_id": 1, "store_group_id": 1, "is_active": 1},
    {"id": 2, "code": "eu", "name": "EU Store View", "website_id": 2, "store_group_id": 2, "is_active": 1},
]
GROUPS = [
    {"id": 0, "code": "NOT LOGGED IN", "tax_class_id": 3, "tax_class_name": "Retail Customer"},
    {"id": 1, "code": "General", "tax_class_id": 3, "tax_class_name": "Retail Customer"},
    {"id": 2, "code": "Wholesale", "tax_class_id": 3, "tax_class_name": "Retail Customer"},
    {"id": 3, "code": "Retailer", "tax_class_id": 3, "tax_class_name": "Retail Customer"},
]


@dataclass(frozen=True)
class Encoded:
    """A response body already encoded (search pages assembled from cached items)."""

    body: bytes


@dataclass
class Call:
    """One REST call after routing."""

    request: Request
    backend: MagentoBackend
    params: dict[str, str]
    store: str
    body: bytes
    principal: Principal | None = None

    def json_body(self) -> Any:
        content_type = self.request.headers.get("content-type")
        if not content_type:
            raise MagentoError(400, "Content-Type header is empty.")
        media, _, rest = content_type.partition(";")
        media = media.strip().lower()
        charset = re.search(r"charset\s*=\s*([^;\s]+)", rest, re.IGNORECASE)
        if charset and charset.group(1).strip('"').lower() not in ("utf-8", "utf8"):
            raise MagentoError(400, "UTF-8 is the only supported charset.")
        if media not in ("application/json", "application/xml", "text/xml"):
            raise MagentoError(400, f"Server cannot understand Content-Type HTTP header media type {media}")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            detail = f"Decoding error: {exc}" if self.backend.config.developer_mode else "Decoding error."
            raise MagentoError(400, detail) from exc


Handler = Callable[[Call], Any]


def _customer_id(raw: str) -> int:
    if not _NUMERIC_ID.match(raw):
        raise MagentoError(
            400, f'The "{raw}" value\'s type is invalid. The "int" type was expected. Verify and try again.'
        )
    return int(float(raw))


def _admin_token(call: Call) -> Any:
    return call.backend.auth.admin_token(call.json_body())


def _google(call: Call) -> Any:
    if not call.backend.config.two_factor_enabled:  # Magento_TwoFactorAuth disabled: the route does not exist
        raise MagentoError(404, "Request does not match any route.")
    return call.backend.auth.google_authenticate(call.json_body())


def _search(call: Call) -> Any:
    backend, config = call.backend, call.backend.config
    query = call.request.scope.get("query_string", b"").decode("latin-1")
    params = parse_php_query(query)
    criteria = _criteria(params, developer_mode=config.developer_mode)
    if config.input_limit_enabled:
        if criteria.page_size is None:
            criteria = criteria.with_page_size(config.default_page_size)
        elif criteria.page_size > config.max_page_size:
            raise MagentoError(400, "Maximum SearchCriteria pageSize is %max", {"max": config.max_page_size})
    fields = params.get("fields")
    if isinstance(fields, str) and fields:
        items, total = backend.search(criteria)
        result = {"items": items, "search_criteria": criteria.echo(), "total_count": total}
        return project(result, parse_fields(fields))
    fragments, total = backend.search_encoded(criteria)
    return Encoded(
        b'{"items":['
        + b",".join(fragments)
        + b'],"search_criteria":'
        + encode(criteria.echo())
        + b',"total_count":'
        + str(total).encode()
        + b"}"
    )


def _get_customer(call: Call) -> Any:
    return call.backend.require(_customer_id(call.params["id"]))


def _save_customer(call: Call) -> Any:
    cid = _customer_id(call.params["id"])
    body = call.json_body()
    customer = body.get("customer") if isinstance(body, dict) else None
    if not isinstance(customer, dict):
        raise required_many(["customer"])
    customer = typed_customer(customer)  # ServiceInputProcessor: the declared types, before the repository
    missing = [f for f in ("email", "firstname", "lastname") if not customer.get(f)]
    if missing:
        raise required_many(missing)
    return call.backend.save_customer(cid, customer)


def _delete_customer(call: Call) -> Any:
    call.backend.delete_customer(_customer_id(call.params["id"]))
    return True


def _groups(call: Call) -> Any:
    criteria = _criteria(parse_php_query(call.request.scope.get("query_string", b"").decode("latin-1")))
    return {"items": GROUPS, "search_criteria": criteria.echo(), "total_count": len(GROUPS)}


ANONYMOUS = "anonymous"
# (method, path pattern, handler, ACL resource); exact paths are listed before templates.
ROUTES: list[tuple[str, re.Pattern[str], Handler, str]] = [
    ("POST", re.compile(r"^/V1/integration/admin/token$"), _admin_token, ANONYMOUS),
    ("POST", re.compile(r"^/V1/tfa/provider/google/authenticate$"), _google, ANONYMOUS),
    ("GET", re.compile(r"^/V1/customers/search$"), _search, CUSTOMER_RESOURCE),
    ("GET", re.compile(r"^/V1/customerGroups/search$"), _groups, "Magento_Customer::group"),
    (
        "GET",
        re.compile(r"^/V1/attributeMetadata/(?P<entity>customer|customerAddress)/attribute/(?P<code>[^/]+)$"),
        lambda call: attribute_metadata(call.params["entity"], call.params["code"]),
        CUSTOMER_RESOURCE,
    ),
    ("GET", re.compile(r"^/V1/store/websites$"), lambda call: WEBSITES, "Magento_Backend::stores"),
    ("GET", re.compile(r"^/V1/store/storeViews$"), lambda call: STORE_VIEWS, "Magento_Backend::stores"),
    ("GET", re.compile(r"^/V1/customers/(?P<id>[^/]+)$"), _get_customer, CUSTOMER_RESOURCE),
    ("PUT", re.compile(r"^/V1/customers/(?P<id>[^/]+)$"), _save_customer, "Magento_Customer::manage"),
    ("DELETE", re.compile(r"^/V1/customers/(?P<id>[^/]+)$"), _delete_customer, "Magento_Customer::delete"),
]


def json_response(status: int, data: Any, now: float) -> Response:
    headers = {"Date": formatdate(now, usegmt=True), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    body = data.body if isinstance(data, Encoded) else encode(data)
    return Response(body, status_code=status, headers=headers, media_type=JSON_TYPE)


def fault_renderers(config: MagentoConfig) -> FaultRenderers:
    def error() -> Response:
        return Response(encode(internal_error().body()), status_code=500, media_type=JSON_TYPE)

    def throttle() -> Response:
        headers = {} if config.retry_after is None else {"Retry-After": str(config.retry_after)}
        if config.throttle_html:
            return HTMLResponse(FASTLY_429, status_code=429, headers=headers)
        body = encode({"message": "Too Many Requests", "trace": None})
        return Response(body, status_code=429, headers=headers, media_type=JSON_TYPE)

    def maintenance() -> Response:
        return HTMLResponse(MAINTENANCE_PAGE, status_code=503)

    return FaultRenderers(error=error, throttle=throttle, maintenance=maintenance)


class RestApp:
    """ASGI app answering ``/rest/...`` like Magento, and ``/_sim/...`` through the control app."""

    def __init__(self, backend: MagentoBackend, control: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.backend = backend
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/_sim"):
            await self.control(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        response = self.handle(request, body)
        await response(scope, receive, send)
        self.backend.fragments.schedule()  # read ahead of a keyset reader once its page is on the wire

    def handle(self, request: Request, body: bytes) -> Response:
        response = self._handle(request, body)
        if not self.backend.config.date_header:  # a proxy in front of the store that drops it
            del response.headers["Date"]
        return response

    def _handle(self, request: Request, body: bytes) -> Response:
        # The Date header is the time the answer is sent, after the query ran (as the web tier stamps it).
        backend = self.backend
        path: str = request.scope["path"]
        if not path.startswith("/rest/"):
            return HTMLResponse(STOREFRONT_404, status_code=404)
        try:
            data = self._dispatch(request, path[len("/rest") :], body)
            return json_response(200, data, backend.web_clock.now())
        except MagentoError as exc:
            segment = path[len("/rest/") :].split("/", 1)[0]
            locale = backend.config.store_locales.get(segment)
            body_out = translate(exc.body(developer_mode=backend.config.developer_mode), locale)
            return json_response(exc.status, body_out, backend.web_clock.now())
        except Exception as exc:  # any bug becomes the masked 500, as in production
            error = internal_error(repr(exc), developer_mode=backend.config.developer_mode)
            return json_response(500, error.body(developer_mode=backend.config.developer_mode), backend.web_clock.now())

    def _dispatch(self, request: Request, path: str, body: bytes) -> Any:
        method = request.method
        if method not in ("GET", "POST", "PUT", "DELETE"):
            raise MagentoError(405, f"The {method} HTTP method is not supported.")
        segments = path.strip("/").split("/", 1)
        store = "default"
        if not _VERSION.match(segments[0]):
            if segments[0] not in (*self.backend.config.store_codes, "all") or len(segments) < 2:
                raise MagentoError(400, "Specified request cannot be processed.")
            store, path = segments[0], "/" + segments[1]
        unrouted = self.backend.config.unrouted_paths
        if unrouted and re.search(unrouted, path):
            raise MagentoError(404, "Request does not match any route.")
        for route_method, pattern, handler, resource in ROUTES:
            found = pattern.match(path)
            if found is None or route_method != method:
                continue
            call = Call(request, self.backend, found.groupdict(), store, body)
            if resource != ANONYMOUS:
                call.principal = self._principal(request, body)
                if call.principal is None or not call.principal.allows(resource):
                    raise not_authorized(resource)
            return handler(call)
        raise MagentoError(404, "Request does not match any route.")

    def _principal(self, request: Request, body: bytes) -> Principal | None:
        header = request.headers.get("authorization")
        if oauth1.is_oauth(header):
            scope = request.scope
            host = request.headers.get("host") or f"{scope['server'][0]}:{scope['server'][1]}"
            return oauth1.verify(
                config=self.backend.config,
                auth=self.backend.auth,
                method=request.method,
                url=oauth1.normalized_url(scope.get("scheme", "http"), host, scope["path"]),
                query=scope.get("query_string", b"").decode("latin-1"),
                header=str(header),
                content_type=request.headers.get("content-type", ""),
                body=body,
            )
        return self.backend.auth.resolve_authorization(header)


__all__ = ["RestApp", "encode", "fault_renderers", "json_response", "new_report_id"]
