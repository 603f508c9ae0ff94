"""``ZohoClient``: the Zoho CRM API v8 calls the sync and the doctor make, under ``{api_url}/crm/v8``.

Writes (upsert, update, tags, delete) return one :class:`RecordResult` per input record, in input order, read
item by item from ``data[]`` whatever the HTTP status (200, 201, 207, 400): a partial failure is never mistaken
for success or failure of the whole batch. A request-level error (``{"code", "details", "message",
"status"}`` without ``data``) is fatal when it can only repeat (module, URL, permission, scope, auth);
otherwise every record of that batch fails with its code and the run goes on.

Transient failures (timeouts, dropped connections, 5xx, 429) are retried with the retry policy; after that a
429 becomes :class:`ZohoRateLimited` and anything else :class:`ZohoError`. Every request sent and the credits
Zoho charges (1 per read, ⌈n/10⌉ per write of n records) are counted in :class:`ApiStats`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import httpx2

from magento_zoho_sync import jsonio
from magento_zoho_sync.errors import (
    ConfigError,
    ZohoAuthError,
    ZohoError,
    ZohoRateLimited,
    ZohoReadRefused,
    ZohoRequestRefused,
)
from magento_zoho_sync.http import (
    ApiStats,
    build_client,
    content_kind,
    credits_remaining,
    cut_short_hint,
    cut_short_json,
    in_between_hint,
    transport_hint,
    transport_problem,
    zoho_coql_credits,
    zoho_write_credits,
)
from magento_zoho_sync.proxy import proxy_hint, proxy_note
from magento_zoho_sync.retry import RetriesExhausted, RetryPolicy, TransientStatus, is_transient_status
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.tls import tls_fix, unreached
from magento_zoho_sync.zoho.auth import ZohoAuth, ZohoTokenManager
from magento_zoho_sync.zoho.credits import credits_spent, says_credits_spent
from magento_zoho_sync.zoho.pacing import CallPacer
from magento_zoho_sync.zoho.records import (
    FATAL_REQUEST_CODES,
    SCOPES,
    ContactRef,
    FieldMeta,
    RecordResult,
    blamed_record,
    coql_quote,
    no_message,
    normalise_email,
    record_result,
    same_for_all,
    text,
)
from magento_zoho_sync.zoho.scopes import lacking_scopes

__all__ = [
    "API_PREFIX",
    "MAX_COQL_VALUES",
    "MAX_RECORDS",
    "SCOPES",
    "ContactRef",
    "FieldMeta",
    "RecordResult",
    "ZohoClient",
    "coql_quote",
    "normalise_email",
]

logger = logging.getLogger(__name__)

API_PREFIX = "/crm/v8"
MAX_RECORDS = 100
#: Values per COQL ``in (...)`` (current docs allow 100, older ones 50).
MAX_COQL_VALUES = 50
#: Records per list read (Zoho's maximum).
SCAN_PAGE_SIZE = 2000  # COQL rows per call (v4+)


#: Request-level parts of a write that come from the settings: Zoho refusing one is a configuration error.
_REQUEST_SETTINGS = {
    "$.trigger": "MZSYNC_ZOHO_TRIGGER ([zoho] trigger): workflow, approval, blueprint, pathfinder, orchestration",
    "$.duplicate_check_fields": "MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS ([zoho] duplicate_check_fields): Email, or "
    "unique fields of Contacts (their API names)",
}


#: When Zoho refuses a whole request naming one record, that record fails and the others are sent again without
#: it; this many times, then the rest goes as two halves (each handled alike; not below 10 records, which cost a
#: credit either way), so that many refused records cost fewer credits: about one call per refused record in all,
#: each call the credits of the records it carries.
RESENDS_BEFORE_HALVES = 1

#: Records of one batch singled out that way at most: a refusal every record meets (a field made mandatory during
#: the run) would otherwise cost about a call per customer; the rest of the batch then fails with Zoho's words and
#: is tried again by the next run, after its check of the Zoho fields.
REFUSALS_PER_BATCH = 10


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _json(response: httpx2.Response) -> Any:
    """The decoded body; None for 204 or an empty body; raises ValueError for a body that is not JSON."""
    if response.status_code == 204 or not response.content.strip():
        return None
    return jsonio.loads(response.content)


#: What :meth:`ZohoClient._call` gives for a body that is not JSON.
NOT_JSON: Final = object()


class ZohoClient:
    """Zoho CRM API v8 for Contacts. Safe to share between the engine's writer threads."""

    def __init__(
        self,
        *,
        api_url: str,
        token_manager: ZohoTokenManager,
        trigger: Sequence[str] = (),
        duplicate_check_fields: Sequence[str] = ("Email",),
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        stats: ApiStats | None = None,
        allow_insecure_http: bool = False,
        verify_tls: bool = True,
        transport: httpx2.BaseTransport | None = None,
        max_concurrency: int = 10,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_manager = token_manager
        #: how many calls run at once: lowered while Zoho answers 429 (see :mod:`~magento_zoho_sync.zoho.pacing`)
        self.pacer = CallPacer(max_concurrency)
        self.trigger = list(trigger)
        self.duplicate_check_fields = list(duplicate_check_fields)
        self.stats = stats if stats is not None else ApiStats()
        #: how Zoho's COQL takes a quote in a string (doubled, or after a backslash), once a query told
        self._coql_doubled: bool | None = None
        #: whether ZOHO_API_URL has answered JSON: then a 2xx answer that is not JSON was cut short or replaced by
        #: something in between (a proxy, a firewall), and is tried again, as a 5xx is
        self._answered_json = False
        #: the refusal of a call for spent credits: every later call (another writer's next batch) is refused with
        #: it without being sent, as Zoho would refuse it too
        self._spent: ZohoRateLimited | None = None
        self._retry = retry if retry is not None else RetryPolicy()
        self._http = build_client(
            base_url=self.api_url + API_PREFIX,
            setting="ZOHO_API_URL",
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            verify_tls=verify_tls,
            transport=transport,
            auth=ZohoAuth(token_manager),
            on_request=self.stats.count_zoho_request,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        stats: ApiStats | None = None,
        transport: httpx2.BaseTransport | None = None,
        token_manager: ZohoTokenManager | None = None,
    ) -> ZohoClient:
        stats = stats if stats is not None else ApiStats()
        z = settings.zoho
        return cls(
            api_url=z.api_url,
            token_manager=token_manager or ZohoTokenManager.from_settings(settings, stats=stats, transport=transport),
            trigger=z.trigger,
            duplicate_check_fields=z.duplicate_check_fields,
            timeout=z.timeout,
            retry=RetryPolicy.from_settings(settings.retry),
            stats=stats,
            allow_insecure_http=settings.network.allow_insecure_http,
            verify_tls=settings.network.verify_tls,
            transport=transport,
            max_concurrency=z.concurrency,
        )

    def close(self) -> None:
        self._http.close()
        self.token_manager.close()

    def __enter__(self) -> ZohoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        credits: int = 1,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> tuple[httpx2.Response, Any]:
        """One API call with retries: the final non-transient response (auth problems raised) and its decoded body
        (None when empty, :data:`NOT_JSON` when not JSON)."""
        encoded = jsonio.dumps(body) if body is not None else b""

        def attempt() -> tuple[httpx2.Response, Any]:
            with self.pacer.slot():
                refused = self._spent  # read once the slot is ours: a call that waited for it is not sent either
                if refused is not None:
                    raise ZohoRateLimited(refused.message, hint=refused.hint)
                if body is None:
                    response = self._http.request(method, path, params=params)
                else:
                    response = self._http.request(
                        method, path, params=params, content=encoded, headers={"Content-Type": jsonio.CONTENT_TYPE}
                    )
                self.stats.charge_zoho(credits, response)
                spent = response.status_code == 429 and says_credits_spent(
                    response, credits, self.stats.zoho_credits_remaining
                )
                if response.status_code == 429 and not spent:
                    self.pacer.refused()  # too many calls at once (spent credits are not helped by fewer)
                elif response.status_code != 429:
                    self.pacer.answered()
            if spent:
                self._spent = credits_spent(f"{method} {API_PREFIX}{path}", credits_remaining(response), credits)
                raise self._spent
            if is_transient_status(response.status_code):
                raise TransientStatus.from_response("Zoho CRM", response)
            try:
                decoded = _json(response)
            except (ValueError, UnicodeDecodeError):
                if self._answered_json and 200 <= response.status_code < 300:  # every call here may be sent again:
                    raise TransientStatus.from_response(  # upserts and updates by id write the same data twice
                        "Zoho CRM", response, detail=f" but a body that is not JSON ({content_kind(response)})"
                    ) from None
                if self._answered_json and cut_short_json(response):  # an error cut off on its way: asked again
                    raise TransientStatus.from_response(
                        "Zoho CRM", response, detail=f" but JSON cut off after {len(response.content):,} bytes"
                    ) from None
                return response, NOT_JSON
            if decoded is not None:
                self._answered_json = True
            return response, decoded

        try:
            response, decoded = self._retry.call(f"zoho {method} {path}", attempt)
        except RetriesExhausted as exc:
            last = exc.last
            if isinstance(last, TransientStatus) and last.status_code == 429:
                raise ZohoRateLimited(
                    f"Zoho CRM kept answering {method} {API_PREFIX}{path} with HTTP 429 (TOO_MANY_REQUESTS) after "
                    f"{exc.tries}, at {self.pacer.limit} call(s) at once: the org's API credits for the "
                    "last 24 hours are probably used up, or other apps take its concurrent calls.",
                    hint="Run again when credits are back (a rolling 24 hours); what Zoho acknowledged is saved. If "
                    "other integrations call the same org at the same time, lower MZSYNC_ZOHO_CONCURRENCY.",
                ) from None
            if isinstance(last, TransientStatus) and (last.status_code < 300 or last.detail):
                raise ZohoError(
                    f"Zoho CRM kept answering {method} {API_PREFIX}{path} with HTTP {last.status_code}{last.detail} "
                    f"after {exc.tries}.",
                    hint=in_between_hint(
                        "Zoho CRM",
                        "ZOHO_API_URL",
                        kept="What Zoho acknowledged is saved and the next run goes on from there.",
                    ),
                ) from None
            if isinstance(last, TransientStatus):
                raise ZohoError(
                    f"Zoho CRM kept answering {method} {API_PREFIX}{path} with HTTP {last.status_code} after "
                    f"{exc.tries}.",
                    hint="Zoho is failing (status.zoho.com says when it is down): run again later; what Zoho "
                    "acknowledged is saved and the next run goes on from there. A proxy in front of ZOHO_API_URL "
                    "can answer so too.",
                ) from None
            raise ZohoError(
                f"Zoho CRM at {self.api_url} {unreached(last)}{proxy_note(self.api_url)} for {method} "
                f"{API_PREFIX}{path} after {exc.tries} ({transport_problem(last)}).",
                hint=tls_fix(last, "ZOHO_API_URL")
                or proxy_hint(self.api_url, last, "Check ZOHO_API_URL (or ZOHO_REGION) and the network."),
            ) from None
        except httpx2.HTTPError as exc:
            raise ZohoError(
                f"{method} {API_PREFIX}{path} to Zoho CRM{proxy_note(self.api_url)} failed ({transport_problem(exc)}).",
                hint=proxy_hint(self.api_url, exc, transport_hint(exc)),
            ) from None
        self._raise_for_access(response, method, path, operation)
        return response, decoded

    def _raise_for_access(self, response: httpx2.Response, method: str, path: str, operation: str) -> None:
        status = response.status_code
        where = f"{method} {API_PREFIX}{path}"
        if 300 <= status < 400:
            raise ZohoError(
                f"Zoho CRM redirected {where} (HTTP {status}); redirects are not followed.",
                hint="Set ZOHO_API_URL to your data centre's API domain (or set ZOHO_REGION).",
            )
        if status not in (401, 403):
            return
        try:
            body = _json(response)
        except (ValueError, UnicodeDecodeError):
            body = None
        code = text(body.get("code")) if isinstance(body, dict) else ""
        message = text(body.get("message")) if isinstance(body, dict) else ""
        said = f"Zoho CRM refused {where} (HTTP {status} {code or 'without an error code'}"
        said += f": {message})." if message else ")."
        if code == "OAUTH_SCOPE_MISMATCH":
            raise ZohoAuthError(
                said,
                hint=f"The refresh token lacks the scope(s) "
                f"{lacking_scopes(SCOPES.get(operation, '?'), self.token_manager.scope)}; "
                "create a new one with `magento-zoho-sync auth zoho-grant` and every scope the "
                "README lists.",
            )
        if status == 403:
            raise ZohoAuthError(
                said,
                hint="The Zoho user's profile may not do this on Contacts; give it the "
                "permission or use another user's refresh token.",
            )
        raise ZohoAuthError(
            said,
            hint="Zoho rejected a freshly refreshed access token: the refresh token probably belongs to another "
            "data centre or environment (production vs sandbox) than ZOHO_API_URL; set ZOHO_REGION, or make "
            "ZOHO_API_URL match ZOHO_ACCOUNTS_URL.",
        )

    # ------------------------------------------------------------------------------------------------ writes

    def _write(
        self,
        method: str,
        path: str,
        records: Sequence[Any],
        *,
        operation: str,
        default_action: str | None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        credits: int | None = None,
        resends_left: int = RESENDS_BEFORE_HALVES,
        refusals_left: list[int] | None = None,
    ) -> list[RecordResult]:
        n = len(records)
        credits = zoho_write_credits(n) if credits is None else credits
        response, payload = self._call(method, path, operation=operation, credits=credits, params=params, body=body)
        where = f"{method} {API_PREFIX}{path}"
        if payload is NOT_JSON:
            raise self._not_json(where, response)
        if payload is None:
            return same_for_all(n, "NO_RESULT", f"Zoho answered {where} with HTTP {response.status_code} and no body")
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            items: list[Any] = payload["data"]
            if len(items) != n:
                logger.warning("Zoho answered %s with %d results for %d records", where, len(items), n)
                return same_for_all(
                    n,
                    "UNEXPECTED_RESPONSE",
                    f"Zoho answered {len(items)} results for {n} records; they cannot be matched to records safely",
                )
            return [record_result(item, default_action=default_action) for item in items]
        if isinstance(payload, dict) and payload.get("code"):
            code, message = text(payload.get("code")), text(payload.get("message"))
            raw_details = payload.get("details")
            details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
            message = message if message.strip() else no_message(code, details)
            if code in FATAL_REQUEST_CODES or response.status_code in (404, 405, 415):
                raise ZohoRequestRefused(f"Zoho CRM refused {where} (HTTP {response.status_code} {code}: {message}).")
            setting = _REQUEST_SETTINGS.get(text(details.get("json_path")).split("[")[0])
            if setting is not None:  # a setting every batch sends: every batch would be refused the same way
                raise ConfigError(
                    f"Zoho CRM refused {where} (HTTP {response.status_code} {code}: {message} in "
                    f"{text(details.get('json_path'))}, {text(details.get('api_name'))!r})",
                    hint=f"Check {setting}.",
                )
            blamed = blamed_record(details, body, records)
            budget = [REFUSALS_PER_BATCH] if refusals_left is None else refusals_left  # shared by the batch's parts
            if blamed is not None and budget[0] <= 0:
                return same_for_all(
                    n,
                    code,
                    f"Zoho refused the whole batch: {message} ({REFUSALS_PER_BATCH} records of this batch Zoho refused "
                    "were sent apart already; the rest are not, to spare credits, and the next run tries them again)",
                    details,
                )
            if blamed is not None:  # one record's fault: it fails alone, and the others are sent again without it
                budget[0] -= 1
                failure = RecordResult(ok=False, action=None, id=None, code=code, message=message, details=details)
                if n == 1:
                    return [failure]
                return self._without_record(
                    blamed,
                    failure,
                    method,
                    path,
                    records,
                    operation=operation,
                    default_action=default_action,
                    params=params,
                    body=body,
                    resends_left=resends_left,
                    refusals_left=budget,
                )
            return same_for_all(n, code, f"Zoho refused the whole batch: {message}", details)
        raise ZohoError(f"Zoho CRM answered {where} with HTTP {response.status_code} but no 'data' list.")

    def _without_record(
        self,
        index: int,
        failure: RecordResult,
        method: str,
        path: str,
        records: Sequence[Any],
        *,
        operation: str,
        default_action: str | None,
        params: Mapping[str, str] | None,
        body: dict[str, Any],
        resends_left: int,
        refusals_left: list[int],
    ) -> list[RecordResult]:
        """The results of ``records`` when Zoho refused the whole request naming ``records[index]`` (its
        ``json_path`` ``$.data[index]``, or the id it holds): nothing was written, so that record fails with Zoho's
        words and the others are sent again without it, :data:`RESENDS_BEFORE_HALVES` times, then as two halves,
        each handled alike. Each record gets its own answer, up to :data:`REFUSALS_PER_BATCH` refused records per
        batch: k refused records cost about k + k/2 calls more than none (a refused call takes out one record), and
        a record Zoho takes is failed for another's fault only beyond that bound (and tried again next run)."""
        others = [record for i, record in enumerate(records) if i != index]
        if resends_left > 0 or zoho_write_credits(len(others)) == 1:  # halves of 10 records would cost no less
            parts, left = [others], resends_left - 1
        else:  # Zoho keeps refusing: halves cost fewer credits per refused call
            half = len(others) // 2
            parts, left = [others[:half], others[half:]], RESENDS_BEFORE_HALVES
        results: list[RecordResult] = []
        for part in parts:
            results += self._write(
                method,
                path,
                part,
                operation=operation,
                default_action=default_action,
                params=params,
                body={**body, "data": part},
                resends_left=left,
                refusals_left=refusals_left,
            )
        results.insert(index, failure)
        return results

    @staticmethod
    def _check_size(items: Sequence[Any], what: str) -> None:
        if len(items) > MAX_RECORDS:
            raise ValueError(f"Zoho accepts at most {MAX_RECORDS} {what} per call, got {len(items)}")

    def upsert_contacts(self, records: list[dict[str, Any]]) -> list[RecordResult]:
        """``POST /Contacts/upsert`` (≤100 records) with the configured duplicate-check fields and trigger."""
        self._check_size(records, "records")
        if not records:
            return []
        body = {"data": records, "duplicate_check_fields": self.duplicate_check_fields, "trigger": self.trigger}
        return self._write(
            "POST", "/Contacts/upsert", records, operation="upsert_contacts", default_action=None, body=body
        )

    def update_contacts(self, records: list[dict[str, Any]]) -> list[RecordResult]:
        """``PUT /Contacts`` (≤100 records, each with its ``id``) with the configured trigger."""
        self._check_size(records, "records")
        if any(not record.get("id") for record in records):
            raise ValueError("every record of update_contacts needs its Zoho 'id'")
        if not records:
            return []
        body = {"data": records, "trigger": self.trigger}
        return self._write("PUT", "/Contacts", records, operation="update_contacts", default_action="update", body=body)

    def add_tags(self, ids: Sequence[str], tag: str) -> list[RecordResult]:
        """``POST /Contacts/actions/add_tags``: add ``tag`` to each contact (≤100 ids)."""
        self._check_size(ids, "ids")
        if not ids:
            return []
        body = {"tags": [{"name": tag}], "ids": [str(i) for i in ids], "over_write": False}
        return self._write(
            "POST",
            "/Contacts/actions/add_tags",
            ids,
            operation="add_tags",
            default_action=None,
            body=body,
            credits=math.ceil(len(ids) / 50),  # 1 credit per 50 records
        )

    def delete_contacts(self, ids: Sequence[str]) -> list[RecordResult]:
        """``DELETE /Contacts?ids=...`` (≤100; to the recycle bin); workflows only if a trigger is configured."""
        self._check_size(ids, "ids")
        if not ids:
            return []
        params = {"ids": ",".join(str(i) for i in ids), "wf_trigger": "true" if self.trigger else "false"}
        results = self._write(  # 1 credit per call of up to 100 records
            "DELETE", "/Contacts", ids, operation="delete_contacts", default_action=None, params=params, credits=1
        )
        return self._already_deleted(ids, results)

    def _already_deleted(self, ids: Sequence[str], results: list[RecordResult]) -> list[RecordResult]:
        """A delete sent again because its first answer was lost or cut short (the first call applied it) gets
        ``INVALID_DATA`` "record not deleted" for contacts that are gone: those are deleted, as asked."""
        refused = [str(i) for i, r in zip(ids, results, strict=False) if not r.ok and r.code == "INVALID_DATA"]
        if not refused:
            return results
        try:
            gone = set(refused) - self.existing_contact_ids(refused)
        except ZohoError:
            return results  # could not tell: Zoho's refusal stands
        return [
            RecordResult(True, None, str(i), "SUCCESS", "record already deleted", r.details) if str(i) in gone else r
            for i, r in zip(ids, results, strict=False)
        ]

    # ------------------------------------------------------------------------------------------------ reads

    def _not_json(self, where: str, response: httpx2.Response) -> ZohoError:
        """Zoho CRM answers JSON, even for its errors: anything else comes from another server (a wrong URL, a
        proxy), so the message names the setting. JSON cut off on its way is said as such."""
        if cut_short_json(response):
            return ZohoError(
                f"Zoho CRM answered {where} with HTTP {response.status_code} and JSON cut off after "
                f"{len(response.content):,} bytes.",
                hint=cut_short_hint(
                    "Zoho CRM",
                    "ZOHO_API_URL",
                    kept="what Zoho acknowledged is saved, and a write sent again is an "
                    "upsert or an update by id: no contact is doubled.",
                ),
            )
        return ZohoError(
            f"Zoho CRM answered {where} with HTTP {response.status_code} and a body that is not JSON.",
            hint=(
                f"Is ZOHO_API_URL ({self.api_url}) Zoho's CRM API for your data centre? It is the api_domain of "
                "Zoho's token answer (https://www.zohoapis.com, .eu, .in, .com.au, ...), without /crm/v8; or set "
                "ZOHO_REGION instead. A proxy in between can also answer this."
            ),
        )

    def _read(
        self,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        method: str = "GET",
        credits: int = 1,
    ) -> Any:
        response, payload = self._call(method, path, operation=operation, credits=credits, params=params, body=body)
        where = f"{method} {API_PREFIX}{path}"
        if payload is NOT_JSON:
            raise self._not_json(where, response)
        if response.status_code >= 400:
            code = text(payload.get("code")) if isinstance(payload, dict) else ""
            message = text(payload.get("message")) if isinstance(payload, dict) else ""
            refusal = f"Zoho CRM refused {where} (HTTP {response.status_code} {code}: {message})."
            raise ZohoReadRefused(refusal, code=code)
        if payload is not None and not isinstance(payload, dict):
            raise ZohoError(f"Zoho CRM answered {where} with JSON that is not an object.")
        return payload

    def find_contacts_by_email(self, emails: Sequence[str]) -> dict[str, list[ContactRef]]:
        """Contacts whose Email equals one of ``emails``, by COQL (no search-index delay, exact match).

        Keys are the normalised (trimmed, lower-cased) emails asked for, each with a possibly empty list of
        contacts, oldest first. Queries carry at most :data:`MAX_COQL_VALUES` values each.
        """
        wanted = list(dict.fromkeys(normalise_email(e) for e in emails if e and e.strip()))
        found: dict[str, list[ContactRef]] = {email: [] for email in wanted}
        for chunk in _chunks(wanted, MAX_COQL_VALUES):
            for ref in self._coql_emails(chunk):
                key = normalise_email(ref.email)
                if key in found and all(r.id != ref.id for r in found[key]):
                    found[key].append(ref)
        for refs in found.values():
            refs.sort(key=lambda r: (r.created_time or "", r.id))
        return found

    def _coql_emails(self, chunk: list[str]) -> list[ContactRef]:
        if self._coql_doubled is not None:  # the escape Zoho takes is known: one query, quotes or not
            return self._coql_email_rows(chunk, doubled=self._coql_doubled)
        plain = [email for email in chunk if "'" not in email]
        quoted = [email for email in chunk if "'" in email]
        refs = self._coql_email_rows(plain) if plain else []
        if quoted:  # o'brien@example.com: the first alone tells the escape (a refusal costs no other email)
            refs += self._coql_quoted_email(quoted[0])
            if len(quoted) > 1:
                refs += self._coql_email_rows(quoted[1:], doubled=bool(self._coql_doubled))
        return refs

    def _coql_quoted_email(self, email: str) -> list[ContactRef]:
        """The contacts of an email with a quote in it. Zoho's COQL pages do not say how a quote is escaped in a
        string: a backslash is tried, then the quote written twice; the one Zoho takes is kept for the run."""
        try:
            refs = self._coql_email_rows([email], doubled=False)
        except ZohoReadRefused as exc:
            if exc.code != "SYNTAX_ERROR":
                raise
            refs, self._coql_doubled = self._coql_email_rows([email], doubled=True), True
        else:
            self._coql_doubled = False
        return refs

    def _coql_email_rows(self, chunk: list[str], *, doubled: bool = False) -> list[ContactRef]:
        values = ",".join(coql_quote(e, doubled=doubled) for e in chunk)
        query = f"select id, Email, Created_Time from Contacts where Email in ({values})"  # noqa: S608 - quoted
        payload = self._read("/coql", operation="find_contacts_by_email", body={"select_query": query}, method="POST")
        if payload is None:
            return []
        rows = payload.get("data")
        if not isinstance(rows, list):
            raise ZohoError(f"Zoho CRM answered POST {API_PREFIX}/coql without a 'data' list.")
        info = payload.get("info") if isinstance(payload.get("info"), dict) else {}
        if info.get("more_records") is True:
            if len(chunk) > 1:  # more rows than one COQL page: ask for each half separately
                half = len(chunk) // 2
                return self._coql_email_rows(chunk[:half], doubled=doubled) + self._coql_email_rows(
                    chunk[half:], doubled=doubled
                )
            logger.warning("more than one page of Zoho contacts share one email; using the first page")
        refs = []
        for row in rows:
            if isinstance(row, dict) and row.get("id") and isinstance(row.get("Email"), str):
                created = row.get("Created_Time")
                refs.append(ContactRef(str(row["id"]), row["Email"], created if isinstance(created, str) else None))
        return refs

    def existing_contact_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are contacts in Zoho now (COQL ``id in (...)``, :data:`MAX_COQL_VALUES` a query).

        A dry run asks before it plans an update by id, so that a contact deleted or merged away in Zoho is
        planned as the real run would do it (an upsert on the email). Ids that are not all digits exist nowhere.
        """
        wanted = list(dict.fromkeys(i for i in ids if i.isdigit()))
        found: set[str] = set()
        for chunk in _chunks(wanted, MAX_COQL_VALUES):
            query = f"select id from Contacts where id in ({','.join(chunk)})"  # noqa: S608 - digits only
            payload = self._read("/coql", operation="existing_contact_ids", body={"select_query": query}, method="POST")
            rows = payload.get("data") if payload else []
            if not isinstance(rows, list):
                raise ZohoError(f"Zoho CRM answered POST {API_PREFIX}/coql without a 'data' list.")
            found.update(str(row["id"]) for row in rows if isinstance(row, dict) and row.get("id"))
        return found

    def scan_contacts(self) -> Iterator[ContactRef]:
        """Every contact that has an Email (id, Email, Created_Time), by COQL keyset on ``id``.

        COQL returns up to 2,000 rows a call, is immediately consistent (no search-index delay), and walking
        ``id > last order by id`` never meets the offset ceilings of list reads (2,000 by page number,
        100,000 by page token) or of COQL's own ``limit offset, n``.
        """
        last = 0
        while True:
            query = (
                "select id, Email, Created_Time from Contacts "  # noqa: S608 - last is an int
                f"where id > {last} order by id asc limit {SCAN_PAGE_SIZE}"
            )
            payload = self._read(
                "/coql",
                operation="scan_contacts",
                body={"select_query": query},
                method="POST",
                credits=zoho_coql_credits(SCAN_PAGE_SIZE),
            )
            if payload is None:
                return
            rows = payload.get("data")
            if not isinstance(rows, list):
                raise ZohoError(f"Zoho CRM answered POST {API_PREFIX}/coql without a 'data' list.")
            ids: list[int] = []
            for row in rows:
                if not isinstance(row, dict) or not str(row.get("id") or "").isdigit():
                    continue
                ids.append(int(row["id"]))
                if isinstance(row.get("Email"), str) and row["Email"]:
                    created = row.get("Created_Time")
                    yield ContactRef(str(row["id"]), row["Email"], created if isinstance(created, str) else None)
            info = payload.get("info") if isinstance(payload.get("info"), dict) else {}
            if not ids or (len(rows) < SCAN_PAGE_SIZE and info.get("more_records") is not True):
                return
            if max(ids) <= last:
                raise ZohoError("Zoho CRM's COQL answer did not move past the last contact id; stopping the scan.")
            last = max(ids)

    def contact_fields(self) -> list[FieldMeta]:
        """``GET /settings/fields?module=Contacts``: API name, data type and maximum length of each field."""
        payload = self._read("/settings/fields", operation="contact_fields", params={"module": "Contacts"})
        fields = payload.get("fields") if payload else None
        result = []
        for item in fields if isinstance(fields, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("api_name"), str):
                continue
            length = item.get("length")
            unique = item.get("unique")
            result.append(
                FieldMeta(
                    api_name=item["api_name"],
                    data_type=str(item.get("data_type", "")),
                    length=int(length) if isinstance(length, int | str) and str(length).isdigit() else None,
                    label=item.get("field_label") if isinstance(item.get("field_label"), str) else None,
                    json_type=item.get("json_type") if isinstance(item.get("json_type"), str) else None,
                    read_only=bool(item.get("read_only") or item.get("field_read_only")),
                    system_mandatory=bool(item.get("system_mandatory")),
                    unique=bool(unique),
                )
            )
        return result
