"""The thin HTTP layer: Zoho Accounts (``/oauth/v2/…``), the CRM API (``/crm/v8/…`` and ``/crm/v2/…``), ``/_sim/``."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from email import policy as email_policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from magento_zoho_sims.zoho.errors import ZohoError, error_body, required_param_missing
from magento_zoho_sims.zoho.fields import minimal_module_fields
from magento_zoho_sims.zoho.limits import (
    CREDITS_EXHAUSTED_MESSAGE,
    JSON_CONTENT_TYPE,
    SCOPE_JSON_KEY,
    coql_credits,
    tag_credits,
)
from magento_zoho_sims.zoho.metadata import (
    MODULES,
    current_user_payload,
    layouts_payload,
    modules_payload,
    org_payload,
)
from magento_zoho_sims.zoho.reads import parse_http_date
from magento_zoho_sims.zoho.writes import MAX_RECORDS_PER_WRITE, write_credits

if TYPE_CHECKING:
    from magento_zoho_sims.zoho import ZohoSimulator

_CRM_PATH = re.compile(r"^/crm/(v2|v2\.1|v[3-8])/(.*)$")
_READ = "ZohoCRM.modules.contacts.READ"
_NO_CONTENT = object()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"content-type": JSON_CONTENT_TYPE.decode(), **(headers or {})}
    if body is None:
        all_headers.pop("content-type")
        return Response(status_code=status, headers=all_headers)
    return Response(content=json_bytes(body), status_code=status, headers=all_headers)


def json_bytes(body: Any) -> bytes:
    """UTF-8 JSON; a text holding a lone surrogate (a record stored from ``"\\ud800"``) as that ASCII escape, as
    any JSON serializer writes what UTF-8 cannot hold, where encoding it would fail with a 500."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(body, separators=(",", ":")).encode()


def _invalid_method() -> ZohoError:
    return ZohoError(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")


def _invalid_url() -> ZohoError:
    return ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")


class ZohoApp:
    """One ASGI app for the accounts server and the CRM API of one simulated data centre."""

    def __init__(self, sim: ZohoSimulator, control: Callable[[Request], Awaitable[Response]]) -> None:
        self.sim = sim
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path: str = scope["path"]
        try:
            if path.startswith("/oauth/v2/token"):
                response = await self._accounts(request)
            elif path == "/_sim" or path.startswith("/_sim/"):
                response = await self.control(request)
            else:
                match = _CRM_PATH.match(path)
                if match is None:
                    raise _invalid_url()
                response = await self._crm(request, match.group(1), match.group(2).rstrip("/"))
        except ZohoError as exc:
            response = json_response(exc.status, exc.body)
        await response(scope, receive, send)

    # ------------------------------------------------------------------------------------- accounts
    async def _accounts(self, request: Request) -> Response:
        if request.method != "POST":
            return json_response(200, {"error": "invalid_request_method"})  # [UNVERIFIED]
        params = _form_params(request.headers.get("content-type", ""), await request.body())
        params.update(dict(request.query_params))
        if request.url.path.rstrip("/") == "/oauth/v2/token/revoke":
            status, body_out = self.sim.accounts.revoke_endpoint(params)
        elif request.url.path.rstrip("/") == "/oauth/v2/token":
            base = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
            status, body_out = self.sim.accounts.token_endpoint(params, base_url=base)
        else:
            raise _invalid_url()
        return json_response(status, body_out)

    # ------------------------------------------------------------------------------------------ CRM
    def _auth(self, request: Request, *scopes: str) -> None:
        self.sim.accounts.authenticate(request.headers.get("authorization"), scopes)

    def _charge(self, cost: int) -> None:
        if not self.sim.ledger.charge(cost):
            raise ZohoError(
                429, "TOO_MANY_REQUESTS", self.sim.config.too_many_requests_message or CREDITS_EXHAUSTED_MESSAGE
            )

    def _charge_write(self, body: Any) -> int:
        """1 credit per 10 records, charged before the write (a 429 when the credits cannot pay for it); a batch
        rejected for its size (LIMIT_EXCEEDED) costs nothing. Returns the credits charged."""
        count = _count(body)
        if count > MAX_RECORDS_PER_WRITE:
            return 0
        cost = write_credits(count)
        self._charge(cost)
        return cost

    def _write(self, op: Literal["insert", "update", "upsert"], body: Any, **options: Any) -> tuple[int, Any]:
        """A write, paid for before it runs; what Zoho does not charge of it ([UNVERIFIED] ``refused_write_credits``)
        is given back: ``free``, the price of the records it refused (1 credit per 10 records written, nothing
        when none was); ``refused_requests_free``, the price of a write it refused as a whole (an error status,
        nothing written), a write with a record written costing every record sent."""
        charged = self._charge_write(body)
        price = self.sim.config.refused_write_credits
        try:
            status, out = self.sim.backend.write(op, body, **options)
        except ZohoError:
            if price != "charged":
                self.sim.ledger.refund(charged)
            raise
        if price != "charged":  # the answer is read only when what it wrote changes the price
            written = _written(out)
            if price == "free":
                self.sim.ledger.refund(charged - (write_credits(written) if written else 0))
            elif not written:
                self.sim.ledger.refund(charged)
        return status, out

    async def _json(self, request: Request) -> Any:
        parsed = request.scope.get(SCOPE_JSON_KEY, _NO_CONTENT)
        if parsed is _NO_CONTENT:
            raw = await request.body()  # Content-Type is not required (the official SDK omits it)
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = ValueError
        if parsed is ValueError:
            raise ZohoError(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        return parsed

    async def _crm(self, request: Request, version: str, rest: str) -> Response:
        spent = False
        try:
            status, body = await self._crm_call(request, version, rest.split("/") if rest else [])
        except ZohoError as exc:  # errors report the credits too
            status, body = exc.status, exc.body
            spent = status == 429  # the only 429 raised here: the credits (the gate refuses concurrent calls)
        headers: dict[str, str] = {}
        remaining = str(self.sim.ledger.remaining()) if spent else self.sim.ledger.header()
        if remaining is not None:  # once half the day's credits are used, and always when they are spent
            headers["X-API-CREDITS-REMAINING"] = remaining
        return json_response(status, body, headers)

    async def _crm_call(self, request: Request, version: str, parts: list[str]) -> tuple[int, Any]:
        method = request.method
        params = request.query_params
        head = parts[0] if parts else ""
        if head == "coql" and len(parts) == 1:
            if method != "POST":
                raise _invalid_method()
            self._auth(request, "ZohoCRM.coql.READ", _READ, "ZohoCRM.settings.fields.READ")
            body = await self._json(request)
            status, out, limit = self.sim.reader.coql(body)
            self._charge(coql_credits(limit) if self.sim.config.coql_credits == "by_limit" else 1)
            return status, out
        if head == "settings":
            return self._settings(request, parts[1:])
        if head in {"users", "org"} and len(parts) == 1:
            if method != "GET":
                raise _invalid_method()
            if head == "users":
                self._auth(request, "ZohoCRM.users.READ")
                self._charge(1)
                return 200, current_user_payload()
            self._auth(request, "ZohoCRM.org.READ")
            self._charge(1)
            return 200, org_payload(self.sim.config.edition)
        if head != "Contacts":
            if not head:
                raise _invalid_url()
            raise ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": head})
        return await self._contacts(request, version, parts[1:], method, params)

    async def _contacts(
        self, request: Request, version: str, parts: list[str], method: str, params: Any
    ) -> tuple[int, Any]:
        backend, reader = self.sim.backend, self.sim.reader
        if not parts:
            if method == "GET":
                self._auth(request, _READ)
                self._charge(1)
                since = parse_http_date(request.headers.get("if-modified-since"))
                return reader.list_records(params, version=version, if_modified_since=since)
            if method == "POST":
                self._auth(request, "ZohoCRM.modules.contacts.CREATE")
                body = await self._json(request)
                return self._write("insert", body)
            if method == "PUT":
                self._auth(request, "ZohoCRM.modules.contacts.UPDATE")
                body = await self._json(request)
                since = parse_http_date(request.headers.get("if-unmodified-since"))
                return self._write("update", body, if_unmodified_since=since)
            if method == "DELETE":
                self._auth(request, "ZohoCRM.modules.contacts.DELETE")
                ids = [i for i in params.get("ids", "").split(",") if i.strip()]
                if not ids:
                    raise required_param_missing("ids")
                self._charge(1)
                return backend.delete([i.strip() for i in ids])
            raise _invalid_method()
        if parts == ["upsert"]:
            if method != "POST":
                raise _invalid_method()
            self._auth(request, "ZohoCRM.modules.contacts.CREATE", "ZohoCRM.modules.contacts.UPDATE")
            body = await self._json(request)
            return self._write("upsert", body)
        if parts == ["search"]:
            if method != "GET":
                raise _invalid_method()
            self._auth(request, "ZohoSearch.securesearch.READ", _READ)
            self._charge(1)
            return reader.search(params)
        if parts == ["actions", "add_tags"]:
            if method != "POST":
                raise _invalid_method()
            self._auth(request, "ZohoCRM.modules.contacts.UPDATE")
            body = await self._json(request)
            ids = [i for i in params.get("ids", "").split(",") if i]
            self._charge(tag_credits(len(body.get("ids", ids)) if isinstance(body, dict) else 1))
            return backend.add_tags(body, ids)
        if parts == ["actions", "count"]:
            if method != "GET":
                raise _invalid_method()
            self._auth(request, _READ)
            self._charge(1)
            email = params.get("email")
            with backend.lock:
                count = len(backend.store.lookup("Email", email)) if email else len(backend.store)
            return 200, {"count": count}
        if len(parts) == 1:
            record_id = parts[0]
            if method == "GET":
                self._auth(request, _READ)
                self._charge(1)
                return reader.get(record_id, params.get("fields"))
            if method == "PUT":
                self._auth(request, "ZohoCRM.modules.contacts.UPDATE")
                body = await self._json(request)
                since = parse_http_date(request.headers.get("if-unmodified-since"))
                return self._write("update", body, path_id=record_id, if_unmodified_since=since)
            if method == "DELETE":
                self._auth(request, "ZohoCRM.modules.contacts.DELETE")
                self._charge(1)
                return backend.delete([record_id])
            raise _invalid_method()
        raise _invalid_url()

    def _settings(self, request: Request, parts: list[str]) -> tuple[int, Any]:
        if request.method != "GET":
            raise _invalid_method()
        params = request.query_params
        if parts in (["fields"], ["layouts"]):
            self._auth(request, f"ZohoCRM.settings.{parts[0]}.READ")
            module = params.get("module")
            if not module:
                raise required_param_missing("module")
            if module not in MODULES:
                raise ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": module})
            self._charge(1)
            fields = self.sim.backend.fields_metadata() if module == "Contacts" else minimal_module_fields(module)
            return 200, {"fields": fields} if parts == ["fields"] else layouts_payload(fields)
        if parts and parts[0] == "modules" and len(parts) <= 2:
            self._auth(request, "ZohoCRM.settings.modules.READ")
            self._charge(1)
            if len(parts) == 1:
                return 200, modules_payload()
            if parts[1] not in MODULES:
                raise ZohoError(
                    400, "INVALID_MODULE", "the module name given seems to be invalid", {"module": parts[1]}
                )
            return 200, {"modules": [MODULES[parts[1]]]}
        raise _invalid_url()


def _form_params(content_type: str, body: bytes) -> dict[str, str]:
    """Token endpoint parameters from a urlencoded or multipart body (Content-Type optional for urlencoded)."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=email_policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        params: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                params[name] = payload.decode("utf-8", "replace")
        return params
    text = body.decode("utf-8", "replace")
    return dict(parse_qsl(text)) if "=" in text else {}


def _count(body: Any) -> int:
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return len(body["data"])
    return 1


def _written(answer: Any) -> int:
    """How many records of a write's answer were written (``"status": "success"``)."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        return 0
    return sum(1 for item in data if isinstance(item, dict) and item.get("status") == "success")


def error_response(status: int, code: str, message: str) -> Response:
    return json_response(status, error_body(code, message))
