"""``MagentoClient``: customers page by page (keyset on ``entity_id``), one customer by id, the server's time.

Every request goes to ``{base_url}/rest/{store_code}/V1/...`` through one :class:`httpx2.Client` built by
:func:`magento_zoho_sync.http.build_client` (no redirects, URL policy, timeouts) with the auth of
``MAGENTO_AUTH``. Transient failures are retried by :class:`~magento_zoho_sync.retry.RetryPolicy`; when they
persist, or Magento answers something that is not the JSON we expect, a :class:`MagentoError` says which path
and which status, never a body that could hold a secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx2

from magento_zoho_sync import jsonio
from magento_zoho_sync.errors import MagentoError
from magento_zoho_sync.http import (
    ApiStats,
    build_client,
    content_kind,
    cut_short_json,
    in_between_hint,
    transport_hint,
    transport_problem,
)
from magento_zoho_sync.magento.auth import MagentoAuth, build_magento_auth
from magento_zoho_sync.magento.search import (
    MAX_EMAILS_PER_QUERY,
    MAX_PAGE_SIZE,
    customer_keyset_query,
    customers_by_email_query,
    customers_by_id_query,
)
from magento_zoho_sync.magento.wire import (
    HTML_PAGE,
    PHP_OUTPUT_HINT,
    error_body,
    error_message,
    is_html,
    php_output,
    server_date,
)
from magento_zoho_sync.mapping import MAX_INT, int_from_digits, normalise_email
from magento_zoho_sync.proxy import proxy_hint, proxy_note
from magento_zoho_sync.retry import RetriesExhausted, RetryPolicy, TransientStatus, is_transient_status
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.tls import tls_fix, unreached

__all__ = ["NOT_READ", "CustomerPage", "MagentoClient", "customer_id_of"]

log = logging.getLogger(__name__)

#: The highest customer id the tool takes (SQLite's integers are 64-bit; Magento's entity_id is an unsigned int).
MAX_CUSTOMER_ID = MAX_INT
#: pages read per ``email in (...)`` search: 100 emails held by 3 customers each fit in 1 of 300; 10 bound a loop
MAX_EMAIL_PAGES = 10

#: The body of an answer that is not a 200 with JSON (an error, a redirect, an HTML page): not read as JSON.
NOT_READ: Any = object()


@dataclass(frozen=True)
class CustomerPage:
    """One keyset page: customers with ids above the previous page's ``last_id``, ascending."""

    items: list[dict[str, Any]]
    last_id: int
    server_time: datetime | None
    #: Magento's ``total_count``: customers matching the query from this page on (for progress and ETA).
    total_count: int | None = None
    #: Items of the page without a valid customer id (an object without ``id``, ids of 0, ``"abc"``, ``null``):
    #: they cannot be synced or tracked, so the engine reports each one instead of dropping it.
    rejected: tuple[Any, ...] = ()


class MagentoClient:
    """Reads customers from one Magento 2 store. Safe to share between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: MagentoAuth,
        store_code: str = "all",
        page_size: int = 200,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        stats: ApiStats | None = None,
        allow_insecure_http: bool = False,
        verify_tls: bool = True,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.auth = auth
        self.page_size = page_size
        self.stats = stats if stats is not None else ApiStats()
        self._retry = retry if retry is not None else RetryPolicy()
        self._http = build_client(
            base_url=f"{base_url.rstrip('/')}/rest/{store_code}/V1",
            setting="MAGENTO_BASE_URL",
            timeout=timeout,
            allow_insecure_http=allow_insecure_http,
            verify_tls=verify_tls,
            transport=transport,
            auth=auth,
            on_request=self.stats.count_magento_request,
        )
        self._lock = threading.Lock()
        #: The ``Date`` header of the first response: the watermark of an incremental run.
        self.server_time: datetime | None = None
        #: whether MAGENTO_BASE_URL has answered JSON (or the admin login has, :meth:`MagentoAuth.store_answered`): then
        #: an HTML page with a 200 comes from something in front of the store (a firewall's or a CDN's check, a login
        #: page), not from a wrong URL, and is tried again
        self._answered_json = False

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        stats: ApiStats | None = None,
        transport: httpx2.BaseTransport | None = None,
    ) -> MagentoClient:
        m = settings.magento
        return cls(
            base_url=m.base_url,
            auth=build_magento_auth(m),
            store_code=m.store_code,
            page_size=m.page_size,
            timeout=m.timeout,
            retry=RetryPolicy.from_settings(settings.retry),
            stats=stats,
            allow_insecure_http=settings.network.allow_insecure_http,
            verify_tls=settings.network.verify_tls,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ requests

    def _get(self, path: str, query: str | None = None) -> tuple[httpx2.Response, Any]:
        """GET ``path`` (relative to ``/V1``) with retries: any non-transient response, and its JSON body when it is
        a 200 that is not an HTML page (else :data:`NOT_READ`).

        A 200 whose JSON cannot be read (cut short by a proxy or a dropped connection) is tried again, as a 5xx is.
        """
        url = f"{path}?{query}" if query else path

        def attempt() -> tuple[httpx2.Response, Any]:
            response = self._http.get(url)
            if is_transient_status(response.status_code):
                detail = (
                    " (an HTML page: maintenance mode?)" if response.status_code == 503 and is_html(response) else ""
                )
                raise TransientStatus.from_response("Magento", response, detail=detail)
            answered = self._answered_json or self.auth.store_answered()
            if response.status_code == 200 and answered and is_html(response):
                raise TransientStatus.from_response("Magento", response, detail=f" but {HTML_PAGE}")
            if response.status_code != 200 and answered and cut_short_json(response):  # a 404 cut off on its way
                raise TransientStatus.from_response(  # (a deleted customer's, say) is read again, as a 200 is
                    "Magento", response, detail=f" but JSON cut off after {len(response.content):,} bytes"
                )
            if response.status_code != 200 or is_html(response) or php_output(response):
                return response, NOT_READ  # PHP's notices will be there on every try: said at once, by _json
            try:
                decoded = jsonio.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                raise TransientStatus.from_response(
                    "Magento", response, detail=f" but a body that is not JSON ({content_kind(response)})"
                ) from None
            self._answered_json = True
            return response, decoded

        try:
            response, body = self._retry.call(f"magento GET {path}", attempt)
        except RetriesExhausted as exc:
            last = exc.last
            if isinstance(last, TransientStatus):
                hint = "Try again later; a 503 HTML page means the store is in maintenance mode."
                if not is_transient_status(last.status_code):  # a 200, or an error answer, that could not be read
                    hint = (
                        "Something between the tool and Magento cuts its answers short, or PHP prints notices into "
                        "them (display_errors on): see the web server's and PHP's logs."
                    )
                if last.detail.endswith(HTML_PAGE):
                    hint = in_between_hint("Magento", "MAGENTO_BASE_URL", kept="Nothing was lost.")
                raise MagentoError(
                    f"Magento kept answering {last.method} {last.path} with HTTP {last.status_code}{last.detail} "
                    f"after {exc.tries}.",
                    hint=hint,
                ) from None
            hint = "Check MAGENTO_BASE_URL, the network and the store's availability."
            if isinstance(last, httpx2.TimeoutException):
                waited = self._http.timeout.read
                hint = (
                    f"Each call waits {waited:g} s for an answer (MZSYNC_MAGENTO_TIMEOUT) and all attempts of a call "
                    "at most MZSYNC_RETRY_TIMEOUT: raise them if the store is slow; else check MAGENTO_BASE_URL and "
                    "the network."
                )
            base = self._http.base_url
            raise MagentoError(
                f"Magento at {base.host} {unreached(last)}{proxy_note(base)} for GET {path} "
                f"after {exc.tries} ({transport_problem(last)}).",
                hint=tls_fix(last, "MAGENTO_BASE_URL") or proxy_hint(base, last, hint),
            ) from None
        except httpx2.HTTPError as exc:
            base = self._http.base_url
            raise MagentoError(
                f"GET {path} to Magento{proxy_note(base)} failed ({transport_problem(exc)}).",
                hint=proxy_hint(base, exc, transport_hint(exc)),
            ) from None
        with self._lock:
            if self.server_time is None:
                self.server_time = server_date(response)
        refusal = self.auth.refusal(response)
        if refusal is not None:
            raise refusal
        return response, body

    def _json(self, response: httpx2.Response, body: Any) -> Any:
        """``body``, the JSON of a 200; for any other answer, the :class:`MagentoError` that says what to fix."""
        if body is not NOT_READ:
            return body
        where = f"GET {response.request.url.path}"
        if 300 <= response.status_code < 400:
            raise MagentoError(
                f"Magento redirected {where} (HTTP {response.status_code}) to "
                f"{response.headers.get('Location', '?')}; redirects are not followed.",
                hint="Set MAGENTO_BASE_URL to the store's final address (https, with or without www).",
            )
        if response.status_code != 200:
            hint = None
            if response.status_code in (400, 404):
                hint = "Check MAGENTO_BASE_URL (without /rest) and the store code (MAGENTO_STORE_CODE)."
            elif response.status_code == 403:
                hint = "The Magento user or integration may not read customers (Magento_Customer::customer)."
            raise MagentoError(
                f"Magento answered {where} with HTTP {response.status_code}: {error_message(response).rstrip('.')}.",
                hint=hint,
            )
        if php_output(response):
            raise MagentoError(
                f"Magento answered {where} with HTTP 200 but PHP's notices or warnings before (or instead of) its "
                "JSON.",
                hint=PHP_OUTPUT_HINT,
            )
        raise MagentoError(
            f"Magento answered {where} with HTTP 200 but an HTML page instead of JSON.",
            hint="Check MAGENTO_BASE_URL: it must be the store's base URL, without /rest or /admin.",
        )

    # ------------------------------------------------------------------------------------------------ customers

    def iter_customer_pages(
        self, *, after_id: int = 0, updated_since: str | None = None, page_size: int | None = None
    ) -> Iterator[CustomerPage]:
        """Customers with ``entity_id > after_id`` (and ``updated_at >= updated_since``), page by page.

        Keyset paging: every request asks for page 1 of ``entity_id gt <last id seen>`` sorted by ``entity_id
        ASC``, so deep offsets never happen and concurrent inserts or deletes shift nothing. Stops at an empty page,
        or at a page with fewer items than the page size that holds all ``total_count`` says are left: a short page
        that leaves customers behind (an extension or a proxy that drops some) is followed by the next one, and so
        is a short page of an answer without ``total_count`` (one more request, which finds an empty page). Ids at
        or below the last one seen, or repeated inside a page, are dropped; items without a valid id go to the
        page's ``rejected``, once: those after an answer's last valid id, which the next request reads again (it
        starts after that id), go to the next page's instead, where the same item read again is not said twice
        (:func:`_not_read_again`). A page out of ascending id order (the sort order ignored, which would leave customers
        unread) or one that does not advance raises :class:`MagentoError` instead of missing customers or looping.
        Only one page is held at a time.
        """
        size = page_size or self.page_size
        last = after_id
        warned = False
        short_without_count: int | None = None  # the length of the last page when short and without total_count
        carried: list[Any] = []  # the last answer's items without an id after its last valid id: not said yet
        while True:
            response, body = self._search(
                customer_keyset_query(after_id=last, page_size=size, updated_since=updated_since)
            )
            path = response.request.url.path
            raw_items: list[Any] = body["items"]
            uncounted_short, short_without_count = short_without_count, None
            fresh: list[dict[str, Any]] = []
            rejected: list[Any] = []
            seen: set[int] = set()
            previous = 0
            head = settled = 0  # how many items without an id came before the first valid id, and before the last
            for item in raw_items:
                customer_id = customer_id_of(item)
                if customer_id is None:
                    rejected.append(item)
                    continue
                if customer_id < previous:
                    raise MagentoError(
                        f"Magento answered GET {path} with customers out of id order ({previous} before "
                        f"{customer_id}): the sort order by entity_id is being ignored, so paging would leave "
                        "customers unread. Stopping before any is missed.",
                        hint="An extension or a proxy may rewrite customer search; compare with "
                        "GET /V1/customers/search?searchCriteria[sortOrders][0][field]=entity_id directly.",
                    )
                previous = customer_id
                if customer_id <= last or customer_id in seen:
                    continue
                if not fresh:
                    head = len(rejected)
                seen.add(customer_id)
                fresh.append(item)
                settled = len(rejected)
            total = body.get("total_count")
            total_count = total if type(total) is int and total >= 0 else None
            # the last page: none, or a short one with nothing left beyond it
            ends = not raw_items or (
                len(raw_items) < size and total_count is not None and total_count <= len(raw_items)
            )
            keep = settled if fresh else len(rejected)
            said = [*_not_read_again(carried, rejected[:head] if fresh else rejected), *rejected[:keep]]
            carried = rejected[keep:]
            if uncounted_short is not None and not fresh:  # the short page was the last one
                if said:
                    yield CustomerPage([], last, server_date(response), total_count, tuple(said))
                return
            if uncounted_short is not None and not warned:
                warned = True
                _warn_short_page(uncounted_short, size, "its answer had no total_count and more came after it")
            if fresh or said:
                if fresh:
                    last = customer_id_of(fresh[-1]) or last
                yield CustomerPage(
                    items=fresh,
                    last_id=last,
                    server_time=server_date(response),
                    total_count=total_count,
                    rejected=tuple(said),
                )
            if ends:
                if carried:  # after the last valid id of the last page: a page of their own, saved when the run ends
                    yield CustomerPage([], last, server_date(response), total_count, tuple(carried))
                return
            if not fresh:
                raise MagentoError(
                    f"Magento returned a page of customers for GET {path} without any id above {last}: "
                    "the entity_id filter or the sort order is being ignored. Stopping instead of looping.",
                    hint="An extension may rewrite customer search; check with GET /V1/customers/search directly.",
                )
            if len(raw_items) < size:
                if total_count is None:
                    short_without_count = len(raw_items)  # said only if the next answer has customers after it
                elif not warned:
                    warned = True  # once per read: a store or a proxy that caps the page size would repeat it
                    _warn_short_page(len(raw_items), size, f"its total_count says {total_count} are left")

    def _search(self, query: str) -> tuple[httpx2.Response, dict[str, Any]]:
        """``GET /V1/customers/search?<query>``: the answer, checked to be a search result (an ``items`` list)."""
        response, body = self._get("/customers/search", query)
        body = self._json(response, body)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise MagentoError(
                f"Magento answered GET {response.request.url.path} without an 'items' list; "
                "this is not a customer search result.",
                hint="Check MAGENTO_BASE_URL and that no extension rewrites /V1/customers/search.",
            )
        return response, body

    def get_customers(self, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The customers among ``customer_ids`` that still exist, one search call per page size of ids."""
        ids = sorted({int(customer_id) for customer_id in customer_ids})
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            _, body = self._search(customers_by_id_query(chunk))
            wanted = set(chunk)
            found.extend(item for item in body["items"] if customer_id_of(item) in wanted)
        return found

    def emails_held(self, emails: Sequence[str]) -> set[str]:
        """Which of these (normalised) emails a customer holds now, compared trimmed and lower-cased: ``email in
        (...)`` searches, :data:`MAX_EMAILS_PER_QUERY` emails each (emails with a comma, invalid anyway, are
        left out)."""
        wanted = sorted({email for email in emails if email and "," not in email})
        held: set[str] = set()
        for start in range(0, len(wanted), MAX_EMAILS_PER_QUERY):
            chunk = wanted[start : start + MAX_EMAILS_PER_QUERY]
            page, read = 1, 0
            while True:
                _, body = self._search(customers_by_email_query(chunk, page=page))
                items = body["items"]
                held.update(
                    normalise_email(item["email"])
                    for item in items
                    if isinstance(item, dict) and isinstance(item.get("email"), str)
                )
                read += len(items)
                total = body.get("total_count")
                if not items or type(total) is not int or read >= total or page >= MAX_EMAIL_PAGES:
                    break
                page += 1
        return held & set(wanted)

    def get_customer(self, customer_id: int) -> dict[str, Any] | None:
        """``GET /V1/customers/{id}``; None when Magento answers that it has no such customer (a 404 naming the id
        in its parameters: a deletion is confirmed by what Magento says, never by the words it uses)."""
        response, body = self._get(f"/customers/{int(customer_id)}")
        if response.status_code == 404 and _is_no_such_entity(response, int(customer_id)):
            return None
        body = self._json(response, body)
        if not isinstance(body, dict) or customer_id_of(body) is None:
            raise MagentoError(
                f"Magento answered GET {response.request.url.path} with something that is not a customer."
            )
        if customer_id_of(body) != int(customer_id):  # another customer's data would be synced (and checkpointed)
            raise MagentoError(
                f"Magento answered GET {response.request.url.path} with customer {customer_id_of(body)}, not "
                f"{int(customer_id)}: a proxy or a cache in front of the store is answering for another request.",
                hint="Check the caches and proxies in front of the REST API (they must not cache /rest/ answers).",
            )
        return body

    def attribute_metadata(self, entity: str, code: str) -> dict[str, Any] | None:
        """``GET /V1/attributeMetadata/{customer|customerAddress}/attribute/{code}``: a custom attribute's metadata
        (``frontend_input``, ``options``: ``{label, value}``); None when Magento has no such attribute (404)."""
        response, body = self._get(f"/attributeMetadata/{entity}/attribute/{quote(code, safe='')}")
        if response.status_code == 404 and _is_no_such_entity(response):
            return None
        body = self._json(response, body)
        if not isinstance(body, dict):
            raise MagentoError(
                f"Magento answered GET {response.request.url.path} with something that is not attribute metadata."
            )
        return body


def _is_no_such_entity(response: httpx2.Response, field_value: object = None) -> bool:
    """Magento's NoSuchEntityException (a 404): its JSON carries the exception's ``parameters``, ``fieldName`` and
    ``fieldValue`` (``NoSuchEntityException::singleField``/``doubleField``, reference §3 and §5.1). The message is
    a template translated into the store view's language, so it is never read: a 404 for a route that is not there
    ("Request does not match any route.", a ``Webapi\\Exception``) has no parameters in any language, and a web
    server's or a proxy's 404 is no Magento JSON at all. With ``field_value``, the answer must name that value (a
    404 about another entity is no answer about this one)."""
    body = error_body(response)
    parameters = body.get("parameters") if body is not None else None
    if not isinstance(parameters, dict) or "fieldName" not in parameters or "fieldValue" not in parameters:
        return False
    return field_value is None or str(parameters["fieldValue"]) == str(field_value)


def _warn_short_page(got: int, size: int, why: str) -> None:
    """Said once per read: a page shorter than asked for that was not the last one."""
    log.warning(
        "Magento answered a page of %d customers where %d were asked for, though %s: an extension or a proxy may "
        "drop customers from search results, or cap the page size (if every page has %d, set "
        "MZSYNC_MAGENTO_PAGE_SIZE to %d). Reading on; said once per read.",
        got,
        size,
        why,
        got,
        got,
    )


def _not_read_again(carried: Sequence[Any], head: Sequence[Any]) -> list[Any]:
    """The items without an id after the last answer's last valid id (``carried``) that this answer does not read
    again before its first valid id (``head``): each item of ``head`` is one of ``carried`` read again, at most once.
    (A customer whose id the store garbles every time was said by both answers, and counted twice in ``read``.)"""
    again = list(head)
    left: list[Any] = []
    for item in carried:
        if item in again:
            again.remove(item)
        else:
            left.append(item)
    return left


def customer_id_of(item: Any) -> int | None:
    """A customer's id: a positive integer (or its digits) that SQLite can hold; None for anything else."""
    if not isinstance(item, dict):
        return None
    value = item.get("id")
    if type(value) is int:
        return value if 0 < value <= MAX_CUSTOMER_ID else None
    number = int_from_digits(value) if isinstance(value, str) else None
    return number if number else None
