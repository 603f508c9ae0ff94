"""The read APIs of the Contacts module: list (with page tokens), get by id, search (with index lag), COQL."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from magento_zoho_sims.zoho import coql as coql_mod
from magento_zoho_sims.zoho.backend import ZohoBackend
from magento_zoho_sims.zoho.criteria import compile_criteria
from magento_zoho_sims.zoho.errors import ZohoError, limit_exceeded, required_param_missing
from magento_zoho_sims.zoho.store import Contact
from magento_zoho_sims.zoho.user import CURRENT_USER

MAX_PER_PAGE = 200
MAX_FIELDS = 50
DISCRETE_LIMIT = 2000
PAGE_TOKEN_LIMIT = 100_000
PAGE_TOKEN_TTL = 24 * 3600
MAX_LIVE_PAGE_TOKENS = 20_000
SORT_FIELDS = ("id", "Created_Time", "Modified_Time")
_PHONE_FIELDS = ("Phone", "Mobile", "Home_Phone", "Other_Phone", "Asst_Phone", "Fax")
_WORD_FIELDS = (
    "First_Name",
    "Last_Name",
    "Email",
    "Secondary_Email",
    "Title",
    "Department",
    "Mailing_City",
    "Description",
)


@dataclass(frozen=True)
class PageToken:
    params_key: str
    user_id: str
    offset: int
    expires: float


class Reader:
    """Read operations over a :class:`ZohoBackend` (which holds the data and the lock)."""

    def __init__(self, backend: ZohoBackend) -> None:
        self.backend = backend
        self._tokens: dict[str, PageToken] = {}

    # ------------------------------------------------------------------------------------------ helpers
    def _fields(self, raw: str | None, *, required: bool) -> list[str] | None:
        if raw is None or not raw.strip():
            if required:
                raise required_param_missing("fields")
            return None
        names = [name.strip() for name in raw.split(",") if name.strip()]
        if len(names) > MAX_FIELDS:
            raise limit_exceeded("fields", MAX_FIELDS)
        for name in names:
            if name not in self.backend.specs and name != "Tag":
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"api_name": name, "param_name": "fields"})
        return names

    def _int_param(self, params: Mapping[str, str], name: str, default: int, maximum: int | None = None) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ZohoError(
                400, "INVALID_DATA", "invalid data", {"param_name": name, "expected_data_type": "integer"}
            ) from None
        if value < 1 or (maximum is not None and value > maximum):
            details: dict[str, Any] = {"param_name": name}
            if maximum is not None:
                details["maximum_length"] = str(maximum)  # a string, as OAS record.json API_Exception types it
            raise ZohoError(400, "INVALID_DATA", "invalid data", details)
        return value

    def getter(self, contact: Contact) -> Callable[[str], Any]:
        values = contact.values()

        def get(name: str) -> Any:
            if name == "id":
                return contact.id
            if name == "Created_Time":
                return contact.created
            if name == "Modified_Time":
                return contact.modified
            return values.get(name)

        return get

    # --------------------------------------------------------------------------------------------- get
    def get(self, raw_id: str, fields: str | None) -> tuple[int, dict[str, Any] | None]:
        names = self._fields(fields, required=False)
        contact_id = int(raw_id) if raw_id.isdigit() and len(raw_id) <= 19 else None
        with self.backend.lock:
            contact = self.backend.store.get(contact_id) if contact_id is not None else None
            if contact is None:
                if self.backend.config.missing_record_status == 204:
                    return 204, None
                raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid", {"id": raw_id})
            return 200, {"data": [self.backend.to_json(contact, names)]}

    # -------------------------------------------------------------------------------------------- list
    def list_records(
        self, params: Mapping[str, str], *, version: str, if_modified_since: float | None
    ) -> tuple[int, dict[str, Any] | None]:
        names = self._fields(params.get("fields"), required=version != "v2")
        per_page = self._int_param(params, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)
        sort_by = params.get("sort_by", "id")
        sort_order = params.get("sort_order", "desc")
        if sort_by not in SORT_FIELDS:
            raise ZohoError(
                400, "INVALID_DATA", "invalid data", {"param_name": "sort_by", "supported_values": list(SORT_FIELDS)}
            )
        if sort_order not in {"asc", "desc"}:
            raise ZohoError(
                400, "INVALID_DATA", "invalid data", {"param_name": "sort_order", "supported_values": ["asc", "desc"]}
            )
        raw_token = params.get("page_token")
        if raw_token is not None and params.get("page") is not None:
            raise ZohoError(
                400,
                "AMBIGUITY_DURING_PROCESSING",
                "page and page_token cannot be given together",
                {"param_names": ["page", "page_token"]},
            )
        bound = {k: v for k, v in params.items() if k not in {"page", "page_token"}}
        params_key = hashlib.sha256(repr(sorted(bound.items())).encode()).hexdigest()
        now = self.backend.clock.now()
        if raw_token is not None:
            token = self._tokens.get(raw_token)
            if token is None:
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "page_token"})
            if token.expires < now:
                raise ZohoError(400, "EXPIRED_VALUE", "the given page_token has expired", {"param_name": "page_token"})
            if token.params_key != params_key:
                raise ZohoError(
                    400,
                    "TOKEN_BOUND_DATA_MISMATCH",
                    "the given page_token does not match the parameters",
                    {"param_name": "page_token"},
                )
            offset, page = token.offset, token.offset // per_page + 1
        else:
            page = self._int_param(params, "page", 1)
            offset = (page - 1) * per_page
            if offset + per_page > DISCRETE_LIMIT:
                raise ZohoError(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "you cannot fetch more than 2000 records without page_token",
                    {"limit": DISCRETE_LIMIT},
                )
        if offset + per_page > PAGE_TOKEN_LIMIT:
            raise ZohoError(400, "PAGINATION_LIMIT_EXCEEDED", "pagination limit exceeded", {"limit": PAGE_TOKEN_LIMIT})
        ids_param = params.get("ids")
        with self.backend.lock:
            rows: Iterable[Contact]
            store = self.backend.store
            if ids_param:
                rows = [
                    c
                    for raw in ids_param.split(",")
                    if raw.strip().isdigit() and (c := store.get(int(raw))) is not None
                ]
            elif sort_by == "id":
                rows = reversed(store.contacts.values()) if sort_order == "desc" else iter(store.contacts.values())
            else:
                attr = "created" if sort_by == "Created_Time" else "modified"
                rows = sorted(
                    store.contacts.values(), key=lambda c: (getattr(c, attr), c.id), reverse=sort_order == "desc"
                )
            if if_modified_since is not None:
                rows = (c for c in rows if c.modified > if_modified_since)
            window = list(itertools.islice(rows, offset, offset + per_page + 1))
            more = len(window) > per_page
            data = [self.backend.to_json(c, names) for c in window[:per_page]]
        if not data:
            return (304 if if_modified_since is not None else 204), None
        info: dict[str, Any] = {
            "call": False,
            "per_page": per_page,
            "count": len(data),
            "sort_by": sort_by,
            "page": page,
            "sort_order": sort_order,
            "email": False,
            "more_records": more,
        }
        if version != "v2":
            next_token = None
            expiry = None
            if more:
                next_token = secrets.token_hex(16)
                if len(self._tokens) >= MAX_LIVE_PAGE_TOKENS:  # forget expired (then the oldest) tokens
                    live = {k: t for k, t in self._tokens.items() if t.expires >= now}
                    self._tokens = dict(list(live.items())[-MAX_LIVE_PAGE_TOKENS // 2 :])
                self._tokens[next_token] = PageToken(
                    params_key, CURRENT_USER["id"], offset + per_page, now + PAGE_TOKEN_TTL
                )
                expiry = self.backend.fmt_time(now + PAGE_TOKEN_TTL)
            info.update({"next_page_token": next_token, "previous_page_token": raw_token, "page_token_expiry": expiry})
        return 200, {"data": data, "info": info}

    # ------------------------------------------------------------------------------------------ search
    def search(self, params: Mapping[str, str]) -> tuple[int, dict[str, Any] | None]:
        names = self._fields(params.get("fields"), required=False)
        per_page = self._int_param(params, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)
        page = self._int_param(params, "page", 1)
        if page * per_page > DISCRETE_LIMIT:
            raise ZohoError(400, "LIMIT_REACHED", "Maximum response iteration limit reached", {"limit": DISCRETE_LIMIT})
        matches = self._search_matches(params)
        lag = self.backend.config.index_lag
        horizon = self.backend.clock.now() - lag
        with self.backend.lock:
            visible = (c for c in matches if lag <= 0 or c.modified <= horizon)
            window = list(itertools.islice(visible, (page - 1) * per_page, page * per_page + 1))
            more = len(window) > per_page
            data = [self.backend.to_json(c, names) for c in window[:per_page]]
        if not data:
            return 204, None
        return 200, {
            "data": data,
            "info": {"per_page": per_page, "count": len(data), "page": page, "more_records": more},
        }

    def _search_matches(self, params: Mapping[str, str]) -> Iterator[Contact]:
        """criteria > email > phone > word: only the first one given is used."""
        store = self.backend.store
        if params.get("criteria"):
            predicate = compile_criteria(params["criteria"], self.backend.specs)
            return (c for c in store if predicate(self.getter(c)))
        if params.get("email"):
            email = params["email"].strip()
            with self.backend.lock:
                ids = sorted(set(store.lookup("Email", email)) | set(store.lookup("Secondary_Email", email)))
                return iter([c for cid in ids if (c := store.get(cid)) is not None])
        if params.get("phone"):
            digits = "".join(ch for ch in params["phone"] if ch.isdigit())
            if len(digits) < 2:
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "phone"})
            return (
                c
                for c in store
                if any(
                    isinstance(v := c.get(f), str) and digits in "".join(ch for ch in v if ch.isdigit())
                    for f in _PHONE_FIELDS
                )
            )
        if params.get("word") is not None:
            word = params["word"].strip()
            if len(word) < 2 or any(not (ch.isalnum() or ch in " .@_-'") for ch in word):
                raise ZohoError(
                    400,
                    "INVALID_DATA",
                    "The search value contains special characters or does not contain at least two characters",
                    {"param_name": "word"},
                )
            needle = word.lower()
            return (
                c for c in store if any(isinstance(v := c.get(f), str) and needle in v.lower() for f in _WORD_FIELDS)
            )
        raise ZohoError(
            400,
            "EXPECTED_PARAM_MISSING",
            "mandatory param missing",
            {"param_names": ["criteria", "email", "phone", "word"]},
        )

    # -------------------------------------------------------------------------------------------- COQL
    def coql(self, body: Any) -> tuple[int, dict[str, Any] | None, int]:
        """Returns (status, body, rows asked for) — the caller charges credits by the LIMIT."""
        if not isinstance(body, dict) or not isinstance(body.get("select_query"), str):
            raise ZohoError(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "select_query"},
            )
        config = self.backend.config
        query = coql_mod.parse(
            body["select_query"],
            self.backend.specs,
            max_rows=config.coql_max_rows,
            max_reachable=config.coql_max_reachable,
            escape=config.coql_quote_escape,
        )
        coql_sensitive = config.coql_email_case_sensitive
        coql_sensitive = config.email_case_sensitive if coql_sensitive is None else coql_sensitive
        sensitive = frozenset({"Email", "Secondary_Email"}) if coql_sensitive else frozenset()
        predicate = coql_mod.compile_where(query.where, case_sensitive_fields=sensitive)
        store = self.backend.store
        with self.backend.lock:
            # the store's email index is exact when its matching is case-sensitive: it would miss the other letter
            # cases a case-insensitive COQL finds, which then reads every contact
            exact_index = store.email_case_sensitive and not coql_sensitive
            usable = frozenset(store.indexes) - ({"Email", "Secondary_Email"} if exact_index else frozenset())
            hint = coql_mod.exact_candidates(query.where, usable)
            rows: list[Contact]
            if hint is not None:
                ids = sorted({cid for value in hint[1] for cid in store.lookup(hint[0], value)})
                rows = [c for cid in ids if (c := store.get(cid)) is not None]
            else:
                rows = list(store.contacts.values())
            rows = [c for c in rows if predicate(self._coql_getter(c))]
            for name, desc in reversed(query.order_by):
                rows.sort(key=lambda c, n=name: _sort_key(self._coql_getter(c)(n)), reverse=desc)  # type: ignore[misc]
            window = rows[query.offset : query.offset + query.limit + 1]
            more = len(window) > query.limit
            data = [self._coql_row(c, query.fields) for c in window[: query.limit]]
        if not data and self.backend.config.coql_empty_status == 204:
            return 204, None, query.limit
        return 200, {"data": data, "info": {"count": len(data), "more_records": more}}, query.limit

    def _coql_getter(self, contact: Contact) -> Callable[[str], Any]:
        values = contact.values()
        fmt = self.backend.fmt_time

        def get(name: str) -> Any:
            if name == "id":
                return str(contact.id)
            if name == "Created_Time":
                return fmt(contact.created)
            if name == "Modified_Time":
                return fmt(contact.modified)
            if name in {"Owner", "Created_By", "Modified_By"}:
                return CURRENT_USER["id"]
            return values.get(name)

        return get

    def _coql_row(self, contact: Contact, fields: list[str]) -> dict[str, Any]:
        full = self.backend.to_json(contact, fields)
        for name in fields:
            if name in {"Owner", "Created_By", "Modified_By"}:
                full[name] = {"id": CURRENT_USER["id"]}  # COQL returns lookups as {"id": …}
        return full


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)


def parse_http_date(value: str | None) -> float | None:
    """``If-Modified-Since`` / ``If-Unmodified-Since`` as Zoho takes them (ISO 8601 with offset)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "If-Modified-Since"}) from None
    if parsed.tzinfo is None:
        raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "If-Modified-Since"})
    return parsed.timestamp()
