"""magento/client.py: keyset pages, loop guard, 404, the Date header, malformed answers and transient errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx2
import pytest
import stamina
from pydantic import SecretStr

from magento_zoho_sync.errors import MagentoError
from magento_zoho_sync.http import ApiStats
from magento_zoho_sync.magento.auth import IntegrationBearerAuth
from magento_zoho_sync.magento.client import MagentoClient
from magento_zoho_sync.magento.wire import error_message, is_html, php_output
from magento_zoho_sync.settings import MagentoSettings, NetworkSettings, RetrySettings, Settings, ZohoSettings

BASE = "https://shop.example.com"
DATE = "Fri, 27 Nov 2026 10:11:12 GMT"
TOKEN = "integrationtoken0123456789abcdef"

Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture(autouse=True)
def _no_waiting() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


def _json(status: int, body: object) -> httpx2.Response:
    return httpx2.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "Date": DATE},
    )


def criteria(request: httpx2.Request) -> dict[str, str]:
    """The searchCriteria of a request, decoded as Magento does (split, rawurldecode)."""
    query = request.url.query.decode("ascii")
    return {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in query.split("&"))} if query else {}


class FakeStore:
    """Implements customers/search the way Magento 2.4 does for the filters the client sends."""

    def __init__(self, count: int, *, ignore_filters: bool = False, repeat_ids: bool = False) -> None:
        self.customers: list[dict[str, Any]] = [
            {"id": i, "email": f"c{i}@example.com", "updated_at": f"2026-11-{1 + i % 27:02d} 00:00:00"}
            for i in range(1, count + 1)
        ]
        self.ignore_filters = ignore_filters
        self.repeat_ids = repeat_ids
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if (
            request.url.path.startswith("/rest/all/V1/customers/")
            and request.url.path != "/rest/all/V1/customers/search"
        ):
            customer_id = int(request.url.path.rsplit("/", 1)[1])
            for customer in self.customers:
                if customer["id"] == customer_id:
                    return _json(200, customer)
            return _json(
                404,
                {
                    "message": "No such entity with %fieldName = %fieldValue",
                    "parameters": {"fieldName": "customerId", "fieldValue": customer_id},
                },
            )
        q = criteria(request)
        self.queries.append(q)
        rows = self.customers
        if not self.ignore_filters:
            group = 0
            while f"searchCriteria[filter_groups][{group}][filters][0][field]" in q:
                prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
                field, value, op = q[f"{prefix}[field]"], q[f"{prefix}[value]"], q[f"{prefix}[condition_type]"]
                if field == "entity_id" and op == "gt":
                    rows = [c for c in rows if c["id"] > int(value)]
                elif field == "updated_at" and op == "gteq":
                    rows = [c for c in rows if c["updated_at"] >= value]
                group += 1
        size = int(q["searchCriteria[pageSize]"])
        page = rows[:size]
        if self.repeat_ids and page:
            page = [page[0], *page]  # a buggy extension repeats a row
        return _json(200, {"items": page, "search_criteria": {"filter_groups": []}, "total_count": len(rows)})


def _client(handler: Handler, *, page_size: int = 200, stats: ApiStats | None = None) -> MagentoClient:
    return MagentoClient(
        base_url=BASE + "/",
        auth=IntegrationBearerAuth(access_token=SecretStr(TOKEN)),
        page_size=page_size,
        stats=stats,
        transport=httpx2.MockTransport(handler),
    )


def test_keyset_pages_until_a_short_page() -> None:
    store = FakeStore(450)
    pages = list(_client(store).iter_customer_pages())
    assert [len(p.items) for p in pages] == [200, 200, 50]
    assert [p.last_id for p in pages] == [200, 400, 450]
    assert [c["id"] for p in pages for c in p.items] == list(range(1, 451))
    assert [q["searchCriteria[filter_groups][0][filters][0][value]"] for q in store.queries] == ["0", "200", "400"]
    assert {q["searchCriteria[currentPage]"] for q in store.queries} == {"1"}
    assert {q["searchCriteria[sortOrders][0][field]"] for q in store.queries} == {"entity_id"}
    assert {q["searchCriteria[sortOrders][0][direction]"] for q in store.queries} == {"ASC"}
    assert pages[0].server_time == datetime(2026, 11, 27, 10, 11, 12, tzinfo=UTC)


def test_a_store_of_exactly_full_pages_ends_with_an_empty_page() -> None:
    store = FakeStore(400)
    pages = list(_client(store).iter_customer_pages())
    assert [len(p.items) for p in pages] == [200, 200]
    assert len(store.queries) == 3


def test_after_id_page_size_and_updated_since_are_sent() -> None:
    store = FakeStore(30)
    pages = list(_client(store).iter_customer_pages(after_id=10, page_size=7, updated_since="2026-11-15 00:00:00"))
    ids = [c["id"] for p in pages for c in p.items]
    assert ids == [c["id"] for c in store.customers if c["id"] > 10 and c["updated_at"] >= "2026-11-15 00:00:00"]
    first = store.queries[0]
    assert first["searchCriteria[pageSize]"] == "7"
    assert first["searchCriteria[filter_groups][1][filters][0][field]"] == "updated_at"


def test_a_page_that_does_not_advance_stops_with_an_error_instead_of_looping() -> None:
    store = FakeStore(50, ignore_filters=True)
    iterator = _client(store, page_size=10).iter_customer_pages()
    first = next(iterator)
    assert [c["id"] for c in first.items] == list(range(1, 11))
    with pytest.raises(MagentoError, match=r"page of customers .* without any id above 10"):
        next(iterator)
    assert len(store.queries) == 2


def test_repeated_ids_are_dropped() -> None:
    store = FakeStore(25, repeat_ids=True)
    pages = list(_client(store, page_size=10).iter_customer_pages())
    ids = [c["id"] for p in pages for c in p.items]
    assert ids == list(range(1, 26))


def test_get_customer_and_404_is_none() -> None:
    client = _client(FakeStore(3))
    customer = client.get_customer(2)
    assert customer is not None and customer["email"] == "c2@example.com"
    assert client.get_customer(999) is None


def test_another_customer_answered_for_get_customer_is_an_error_not_synced() -> None:
    client = _client(lambda r: _json(200, {"id": 7, "email": "c7@example.com"}))
    with pytest.raises(MagentoError, match="with customer 7, not 5"):
        client.get_customer(5)


def test_a_404_for_a_route_is_an_error_not_a_missing_customer() -> None:
    client = _client(lambda r: _json(404, {"message": "Request does not match any route."}))
    with pytest.raises(MagentoError, match="MAGENTO_BASE_URL"):
        client.get_customer(1)
    html = _client(lambda r: httpx2.Response(404, text="<html>Not Found</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(MagentoError, match="HTML page"):
        html.get_customer(1)


NO_SUCH_CUSTOMER = {"fieldName": "customerId", "fieldValue": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"message": "No such entity with %fieldName = %fieldValue", "parameters": NO_SUCH_CUSTOMER},
        {"message": "Keine Entität mit %fieldName = %fieldValue", "parameters": NO_SUCH_CUSTOMER},
        {"message": "%fieldName = %fieldValue のエンティティは存在しません", "parameters": NO_SUCH_CUSTOMER},
        {"message": "x", "parameters": {"fieldName": "customerId", "fieldValue": "1"}},
    ],
)
def test_a_missing_customer_is_told_by_the_parameters_of_the_404_in_any_language(body: dict[str, Any]) -> None:
    assert _client(lambda r: _json(404, body)).get_customer(1) is None


@pytest.mark.parametrize(
    "body",
    [
        {"message": "リクエストに一致するルートがありません。"},  # a route 404 in Japanese: no English word
        {"message": "La solicitud no coincide con ninguna ruta."},
        {"message": "No such entity."},  # NoSuchEntityException without parameters: about what?
        {"message": "No such entity with %fieldName = %fieldValue", "parameters": {"fieldName": "customerId"}},
        {"message": "No such entity with %fieldName = %fieldValue", "parameters": ["customerId", 1]},
        {
            "message": "No such entity with %fieldName = %fieldValue",
            "parameters": {"fieldName": "storeId", "fieldValue": 3},
        },
        {"messages": {"error": [{"code": 404, "message": "Not found"}]}},
    ],
)
def test_a_404_that_does_not_name_the_customer_is_an_error_whatever_its_words(body: dict[str, Any]) -> None:
    with pytest.raises(MagentoError, match="HTTP 404"):
        _client(lambda r: _json(404, body)).get_customer(1)


def test_a_missing_attribute_is_told_by_the_parameters_of_the_404() -> None:
    double = {"fieldName": "entityType", "fieldValue": "customer", "field2Name": "attributeCode", "field2Value": "x"}
    missing = {"message": "%fieldName = %fieldValue, %field2Name = %field2Value のエンティティは存在しません"}
    assert _client(lambda r: _json(404, {**missing, "parameters": double})).attribute_metadata("customer", "x") is None
    with pytest.raises(MagentoError, match="HTTP 404"):
        _client(lambda r: _json(404, {"message": "Die Anfrage entspricht keiner Route."})).attribute_metadata(
            "customer", "x"
        )


def test_server_time_comes_from_the_first_date_header() -> None:
    client = _client(FakeStore(1))
    assert client.server_time is None
    list(client.iter_customer_pages())
    assert client.server_time == datetime(2026, 11, 27, 10, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            httpx2.Response(200, text="<html><body>Home page</body></html>", headers={"Content-Type": "text/html"}),
            "HTML page",
        ),
        (httpx2.Response(200, text="not json at all", headers={"Content-Type": "application/json"}), "not JSON"),
        (_json(200, {"total_count": 3}), "without an 'items' list"),
        (_json(200, ["a", "b"]), "without an 'items' list"),
        (httpx2.Response(301, headers={"Location": "https://www.shop.example.com/rest"}), "redirected"),
        (_json(400, {"message": "Specified request cannot be processed."}), "HTTP 400: Specified request"),
    ],
)
def test_malformed_answers_are_clear_errors_naming_path_and_status(response: httpx2.Response, expected: str) -> None:
    with pytest.raises(MagentoError) as info:
        list(_client(lambda r: response).iter_customer_pages())
    text = str(info.value)
    assert expected in text
    assert "/rest/all/V1/customers/search" in text
    assert "Home page" not in text and TOKEN not in text
    assert "searchCriteria" not in text  # never the query string
    assert ".." not in text  # Magento's own full stop is not doubled


@pytest.mark.parametrize(
    "bad", [None, "abc", "\u00b2", "", 0, -5, 10**19, "10000000000000000000", "9223372036854775808", True, 1.5]
)
def test_an_item_without_a_valid_id_is_rejected_for_the_engine_to_report_not_a_stop(bad: object) -> None:
    items = [{"id": 1, "email": "a@example.com"}, {"id": bad, "email": "b@example.com"}, "junk", {"id": 3}]
    pages = list(_client(lambda r: _json(200, {"items": items, "total_count": 4})).iter_customer_pages())
    assert len(pages) == 1
    assert [c["id"] for c in pages[0].items] == [1, 3] and pages[0].last_id == 3
    assert pages[0].rejected == ({"id": bad, "email": "b@example.com"}, "junk")


@pytest.mark.parametrize("given", [2**63 - 1, "9223372036854775807", "42", 42])
def test_an_id_is_read_as_the_same_number_given_as_an_int_or_as_its_digits(given: object) -> None:
    items = [{"id": given, "email": "a@example.com"}]
    [page] = list(_client(lambda r: _json(200, {"items": items, "total_count": 1})).iter_customer_pages())
    assert page.last_id == int(str(given)) and page.rejected == ()


def test_a_short_page_with_customers_left_by_total_count_is_followed_by_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An extension or a proxy that drops customers from one page must not end the run there (they'd go unread)."""
    store = FakeStore(25)
    inner = store
    calls: list[int] = []

    def dropping(request: httpx2.Request) -> httpx2.Response:
        response = inner(request)
        body = json.loads(response.content)
        calls.append(len(body["items"]))
        if len(calls) == 1:
            body["items"] = body["items"][:7]  # 10 asked for, 7 answered, total_count still says 25 are left
        return _json(200, body)

    pages = list(_client(dropping, page_size=10).iter_customer_pages())
    read = [c["id"] for page in pages for c in page.items]
    assert read == [*range(1, 8), *range(8, 26)]  # 8..10 come on the next page: nothing unread
    assert "total_count says 25 are left" in caplog.text


def test_a_capped_page_without_total_count_is_followed_until_an_empty_page(caplog: pytest.LogCaptureFixture) -> None:
    """Without total_count a short page may not be the last one (a proxy capping the page size): read on."""
    store = FakeStore(25)

    def capping_without_count(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(store(request).content)
        body["items"] = body["items"][:4]
        del body["total_count"]
        return _json(200, body)

    pages = list(_client(capping_without_count, page_size=10).iter_customer_pages())
    assert [c["id"] for page in pages for c in page.items] == list(range(1, 26))
    assert len(store.queries) == 8  # 7 pages of at most 4, then the empty page that ends the read
    warnings = [record.getMessage() for record in caplog.records if "where 10 were asked for" in record.getMessage()]
    assert len(warnings) == 1 and "had no total_count and more came after it" in warnings[0]
    assert "set MZSYNC_MAGENTO_PAGE_SIZE to 4" in warnings[0]


def test_a_short_last_page_without_total_count_costs_one_more_request_and_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore(25)

    def without_count(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(store(request).content)
        del body["total_count"]
        return _json(200, body)

    pages = list(_client(without_count, page_size=10).iter_customer_pages())
    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert len(store.queries) == 4
    assert "were asked for" not in caplog.text


def test_a_store_capping_the_page_size_is_read_whole_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeStore(25)

    def capping(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(store(request).content)
        body["items"] = body["items"][:4]  # a proxy that answers 4 whatever is asked for
        return _json(200, body)

    pages = list(_client(capping, page_size=10).iter_customer_pages())
    assert [c["id"] for page in pages for c in page.items] == list(range(1, 26))
    warnings = [record for record in caplog.records if "where 10 were asked for" in record.getMessage()]
    assert len(warnings) == 1
    assert "set MZSYNC_MAGENTO_PAGE_SIZE to 4" in warnings[0].getMessage()


def test_a_short_last_page_ends_without_an_extra_call() -> None:
    store = FakeStore(25)
    calls: list[str] = []
    inner = store

    def counting(request: httpx2.Request) -> httpx2.Response:
        calls.append(str(request.url))
        return inner(request)

    pages = list(_client(counting, page_size=10).iter_customer_pages())
    assert [len(page.items) for page in pages] == [10, 10, 5] and len(calls) == 3


def test_a_page_out_of_id_order_stops_the_run_instead_of_leaving_customers_unread() -> None:
    items = [{"id": 9}, {"id": 8}, {"id": 7}]  # DESC: the sort order ignored
    with pytest.raises(MagentoError, match=r"out of id order \(9 before 8\).*sort order by entity_id"):
        list(_client(lambda r: _json(200, {"items": items, "total_count": 3})).iter_customer_pages())


def test_php_notices_before_the_json_are_named_at_once_not_retried_nor_blamed_on_the_url() -> None:
    calls: list[int] = []
    body = '<br />\n<b>Deprecated</b>: Creation of dynamic property in <b>/var/www/x.php</b><br />\n{"items": []}'

    def answer(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(200, text=body, headers={"Content-Type": "application/json"})

    with pytest.raises(MagentoError) as info:
        list(_client(answer).iter_customer_pages())
    text = str(info.value)
    assert "PHP's notices or warnings" in text and "display_errors" in text
    assert "Check MAGENTO_BASE_URL" not in text
    assert len(calls) == 1


def test_maintenance_page_is_retried_then_succeeds() -> None:
    answers = [httpx2.Response(503, text="<html><title>Error 503: Service Unavailable</title></html>")]
    store = FakeStore(3)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return answers.pop() if answers else store(request)

    stats = ApiStats()
    pages = list(_client(handler, stats=stats).iter_customer_pages())
    assert [c["id"] for p in pages for c in p.items] == [1, 2, 3]
    assert stats.magento_calls == 2


def test_a_page_cut_short_is_read_again_and_one_that_stays_unreadable_says_where_to_look() -> None:
    cut = httpx2.Response(200, content=b'{"items": [{"id": 1, "em', headers={"Content-Type": "application/json"})
    answers = [cut]
    store = FakeStore(3)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return answers.pop() if answers else store(request)

    pages = list(_client(handler).iter_customer_pages())
    assert [c["id"] for p in pages for c in p.items] == [1, 2, 3]  # one bad answer from a proxy: not a failed run
    calls: list[httpx2.Request] = []

    def broken(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(200, text="Notice: Undefined index {}", headers={"Content-Type": "application/json"})

    with pytest.raises(MagentoError) as info:
        list(_client(broken).iter_customer_pages())
    assert len(calls) == 3  # every attempt (3 under test)
    assert "HTTP 200 but a body that is not JSON" in str(info.value) and "PHP's logs" in str(info.value)


def test_persistent_maintenance_becomes_a_magento_error() -> None:
    calls = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(
            503, text="<html>Service Temporarily Unavailable</html>", headers={"Content-Type": "text/html"}
        )

    with pytest.raises(MagentoError) as info:
        list(_client(handler).iter_customer_pages())
    assert len(calls) == 3
    assert "HTTP 503" in str(info.value)
    assert "maintenance" in str(info.value)


def test_dropped_connections_and_timeouts_are_retried() -> None:
    failures: list[Exception] = [
        httpx2.RemoteProtocolError("Server disconnected without sending a response."),
        httpx2.ReadTimeout("timed out"),
    ]
    store = FakeStore(2)

    def handler(request: httpx2.Request) -> httpx2.Response:
        if failures:
            raise failures.pop(0)
        return store(request)

    assert len(next(_client(handler).iter_customer_pages()).items) == 2


def test_an_unreachable_store_is_a_magento_error_after_the_attempts() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused")

    with pytest.raises(MagentoError, match=r"could not be reached .* after 3 attempts \(ConnectError"):
        list(_client(handler).iter_customer_pages())


def test_a_store_too_slow_for_the_timeout_names_the_settings_to_raise() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out")

    with pytest.raises(MagentoError) as info:
        list(_client(handler).iter_customer_pages())
    assert "MZSYNC_MAGENTO_TIMEOUT" in str(info.value) and "MZSYNC_RETRY_TIMEOUT" in str(info.value)


def test_attempts_are_counted_in_words() -> None:
    from magento_zoho_sync.retry import attempts_text

    assert (attempts_text(1), attempts_text(6)) == ("1 attempt", "6 attempts")


def test_from_settings_uses_store_code_page_size_and_url_policy() -> None:
    settings = Settings(
        magento=MagentoSettings(
            base_url="http://127.0.0.1:8081",
            auth="integration-bearer",
            access_token=SecretStr(TOKEN),
            store_code="default",
            page_size=2,
        ),
        zoho=ZohoSettings(
            accounts_url="https://accounts.zoho.com",
            api_url="https://www.zohoapis.com",
            client_id="id",
            client_secret=SecretStr("secret"),
            refresh_token=SecretStr("refresh"),
        ),
        retry=RetrySettings(attempts=2),
        network=NetworkSettings(),
    )
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return _json(200, {"items": [{"id": 1}], "total_count": 1})

    client = MagentoClient.from_settings(settings, transport=httpx2.MockTransport(handler))
    assert [len(p.items) for p in client.iter_customer_pages()] == [1]
    assert seen == ["/rest/default/V1/customers/search"]
    assert client.page_size == 2
    client.close()


def test_json_nested_thousands_deep_is_an_unreadable_answer_not_a_crash() -> None:
    deep = b"[" * 5000 + b"]" * 5000
    client = _client(lambda r: httpx2.Response(200, content=deep, headers={"Content-Type": "application/json"}))
    with pytest.raises(MagentoError, match="HTTP 200 but a body that is not JSON"):
        list(client.iter_customer_pages())
    error = _client(lambda r: httpx2.Response(400, content=deep, headers={"Content-Type": "application/json"}))
    with pytest.raises(MagentoError, match="HTTP 400: a body that is not JSON"):
        list(error.iter_customer_pages())


#: What a store with display_errors on sends: PHP's deprecation notice, then Magento's JSON, labelled JSON.
PHP_NOTICE = (
    b"<br />\n<b>Deprecated</b>:  Optional parameter $options declared before required parameter $type is implicitly "
    b"treated as a required parameter in <b>/var/www/html/app/code/Acme/Loyalty/Model/Points.php</b> on line "
    b"<b>42</b><br />\n"
)


def _php_notice(status: int, body: object) -> httpx2.Response:
    content = PHP_NOTICE + json.dumps(body).encode()
    return httpx2.Response(status, content=content, headers={"Content-Type": "application/json; charset=utf-8"})


def test_php_notices_before_the_json_are_named_as_the_stores_php_output_not_a_wrong_url() -> None:
    with pytest.raises(MagentoError) as info:
        list(_client(lambda r: _php_notice(200, {"items": [], "total_count": 0})).iter_customer_pages())
    said = f"{info.value.message} {info.value.hint}"
    assert "HTML page" not in said and "Check MAGENTO_BASE_URL" not in said
    assert "display_errors" in said and "MAGENTO_BASE_URL is not the cause" in said


def test_php_output_is_told_apart_from_an_html_page() -> None:
    notice = _php_notice(200, {"items": []})
    assert php_output(notice) and not is_html(notice)
    # PHP's markup says so even when the notice comes with PHP's default content type
    plain = httpx2.Response(200, content=PHP_NOTICE + b'{"items": []}', headers={"Content-Type": "text/html"})
    assert php_output(plain) and not is_html(plain)
    page = httpx2.Response(200, text="<html><body>Home page</body></html>", headers={"Content-Type": "text/html"})
    assert is_html(page) and not php_output(page)
    assert not php_output(_json(200, {"items": []}))
    refused = _php_notice(401, {"message": "The consumer isn't authorized to access %resources."})
    assert error_message(refused) == "PHP notices or warnings before the JSON (display_errors is on)"


def test_a_body_mislabelled_as_gzip_names_the_proxy_or_web_server() -> None:
    def mislabelled(request: httpx2.Request) -> httpx2.Response:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return httpx2.Response(200, content=b'{"items": []}', headers=headers)

    with pytest.raises(MagentoError) as info:
        list(_client(mislabelled).iter_customer_pages())
    assert "DecodingError: the body is not encoded as its Content-Encoding header says" in info.value.message
    assert "a proxy or the web server mislabels the encoding" in info.value.message


def test_an_item_without_an_id_after_the_last_short_page_without_total_count_ends_the_read() -> None:
    """The extra request finds only an item it cannot use: the short page was the last one, not a broken filter."""
    store = FakeStore(25)

    def garbling(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(store(request).content)
        body["items"].append({"id": "not-a-number", "email": "x@example.com"})
        del body["total_count"]
        return _json(200, body)

    pages = list(_client(garbling, page_size=10).iter_customer_pages())
    assert [c["id"] for page in pages for c in page.items] == list(range(1, 26))
    # each answer's comes after its last valid id, which the next request reads again: said with the next page,
    # and the last answer's (the same item again) is not said twice
    assert [len(page.rejected) for page in pages] == [0, 1, 1, 1]


def _garbling(store: FakeStore, garbled: set[int]) -> Handler:
    """An extension that garbles the id of some customers in every search answer."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(store(request).content)
        for item in body["items"]:
            if item["id"] in garbled:
                item["id"] = f"#{item['id']}"
        return _json(200, body)

    return handler


@pytest.mark.parametrize(
    ("customers", "garbled", "rejected"),
    [
        (25, 10, [0, 1, 0]),  # the last of a full page: read again by the next request, said with its page
        (20, 20, [0, 0, 1]),  # the last of the last full page: the next answer holds only it
        (25, 25, [0, 0, 0, 1]),  # the last of the last, short, page: on a page of its own, past the last id
        (25, 11, [0, 1, 0]),  # the first after a full page
        (25, 5, [1, 0, 0]),  # inside a page
    ],
)
def test_a_customer_whose_id_the_store_garbles_is_said_once(customers: int, garbled: int, rejected: list[int]) -> None:
    """Keyset paging reads again what comes after a page's last valid id: the garbled customer at the end of a
    page came in the next page's answer too, and was said (and counted in the run's read) twice."""
    pages = list(_client(_garbling(FakeStore(customers), {garbled}), page_size=10).iter_customer_pages())
    assert [c["id"] for page in pages for c in page.items] == [i for i in range(1, customers + 1) if i != garbled]
    assert [len(page.rejected) for page in pages] == rejected
    [item] = [item for page in pages for item in page.rejected]
    assert item["id"] == f"#{garbled}"
    said = next(page for page in pages if page.rejected)
    assert not said.items or said.last_id >= garbled  # said with a page past it: a resumed run reads it again


def test_an_item_without_an_id_the_next_answer_does_not_hold_again_is_still_said() -> None:
    """One answer garbles customer 10, the next gives its id: the garbled copy was read, and is said."""
    store = FakeStore(25)
    answers = [0]

    def once(request: httpx2.Request) -> httpx2.Response:
        answers[0] += 1
        return _garbling(store, {10} if answers[0] == 1 else set())(request)

    pages = list(_client(once, page_size=10).iter_customer_pages())
    assert [c["id"] for page in pages for c in page.items] == list(range(1, 26))
    assert [len(page.rejected) for page in pages] == [0, 1, 0]
