"""http.py: the URL policy, the client every service call goes through, and the thread-safe call counters."""

from __future__ import annotations

import socket
import ssl
import threading

import httpx2
import pytest
from pydantic import SecretStr

from magento_zoho_sync.errors import ConfigError, MagentoError
from magento_zoho_sync.http import (
    USER_AGENT,
    ApiStats,
    build_client,
    check_url,
    cut_short_json,
    is_loopback_host,
    transport_problem,
    zoho_write_credits,
)
from magento_zoho_sync.magento.auth import IntegrationBearerAuth
from magento_zoho_sync.magento.client import MagentoClient
from magento_zoho_sync.retry import RetryPolicy


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]", "api.localhost"])
def test_plain_http_is_allowed_to_loopback_hosts(host: str) -> None:
    url = check_url(f"http://{host}:8080/shop", setting="MAGENTO_BASE_URL")
    assert url.scheme == "http"


@pytest.mark.parametrize("host", ["shop.example.com", "10.0.0.5", "192.168.1.1", "localhost.example.com"])
def test_plain_http_to_other_hosts_is_refused_naming_the_setting(host: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_url(f"http://{host}/", setting="MAGENTO_BASE_URL")
    assert "MAGENTO_BASE_URL" in str(info.value)
    assert "--insecure-http" in str(info.value)
    assert "allow_insecure_http" in str(info.value)


def test_plain_http_to_other_hosts_is_allowed_with_the_insecure_flag() -> None:
    assert check_url("http://shop.example.com", setting="X", allow_insecure_http=True).host == "shop.example.com"


def test_https_is_always_allowed() -> None:
    assert check_url("https://shop.example.com", setting="X").host == "shop.example.com"


@pytest.mark.parametrize("url", ["ftp://shop.example.com", "shop.example.com", "https://", "/relative"])
def test_urls_that_are_not_absolute_http_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="ZOHO_API_URL"):
        check_url(url, setting="ZOHO_API_URL")


def test_credentials_inside_a_url_are_refused_without_repeating_them() -> None:
    with pytest.raises(ConfigError) as info:
        check_url("https://admin:CANARY-PW-31337@shop.example.com", setting="MAGENTO_BASE_URL")
    assert "CANARY-PW-31337" not in str(info.value)
    assert "MAGENTO_BASE_URL" in str(info.value)


def test_is_loopback_host() -> None:
    assert is_loopback_host("LOCALHOST")
    assert is_loopback_host("::1")
    assert not is_loopback_host("example.com")
    assert not is_loopback_host("8.8.8.8")


def test_build_client_refuses_insecure_urls_before_any_request() -> None:
    with pytest.raises(ConfigError, match="ZOHO_API_URL"):
        build_client(base_url="http://zoho.example.com", setting="ZOHO_API_URL", timeout=5)


def test_client_does_not_follow_redirects_and_sends_user_agent_and_accept() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(302, headers={"Location": "https://elsewhere.example.com/steal"})

    client = build_client(
        base_url="https://shop.example.com/rest/all/V1",
        setting="MAGENTO_BASE_URL",
        timeout=7.5,
        transport=httpx2.MockTransport(handler),
    )
    response = client.get("/customers/1")
    assert response.status_code == 302  # handed back, not followed
    assert len(seen) == 1
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert seen[0].headers["Accept"] == "application/json"
    assert str(seen[0].url) == "https://shop.example.com/rest/all/V1/customers/1"
    assert client.timeout.read == 7.5
    assert client.timeout.connect is not None and client.timeout.connect <= 7.5


def test_on_request_hook_sees_every_request() -> None:
    stats = ApiStats()
    client = build_client(
        base_url="https://shop.example.com",
        setting="MAGENTO_BASE_URL",
        timeout=5,
        transport=httpx2.MockTransport(lambda r: httpx2.Response(200, json={})),
        on_request=stats.count_magento_request,
    )
    for _ in range(3):
        client.get("/x")
    assert stats.magento_calls == 3


@pytest.mark.parametrize(("records", "credits"), [(0, 1), (1, 1), (10, 1), (11, 2), (55, 6), (100, 10)])
def test_zoho_write_credits_are_one_per_started_ten_records(records: int, credits: int) -> None:
    assert zoho_write_credits(records) == credits


def _response(status: int, remaining: str | None = None) -> httpx2.Response:
    headers = {"X-API-CREDITS-REMAINING": remaining} if remaining is not None else {}
    return httpx2.Response(status, headers=headers, request=httpx2.Request("GET", "https://z.example.com"))


def test_zoho_credits_are_charged_for_answered_calls_only_and_remaining_is_remembered() -> None:
    stats = ApiStats()
    stats.charge_zoho(10, _response(201, "4990"))
    stats.charge_zoho(10, _response(429))
    stats.charge_zoho(10, _response(503))
    stats.charge_zoho(1, _response(400, "not a number"))
    assert stats.zoho_credits == 11
    assert stats.zoho_credits_remaining == 4990
    stats.charge_zoho(1, _response(200, "4989"))
    assert stats.as_dict()["zoho_credits_remaining"] == 4989


def test_api_stats_counts_exactly_from_many_threads() -> None:
    stats = ApiStats()
    request = httpx2.Request("GET", "https://z.example.com")
    response = _response(200)
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(500):
            stats.count_magento()
            stats.count_zoho_request(request)
            stats.charge_zoho(2, response)
            stats.count_zoho_token_call()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.as_dict() == {
        "magento_calls": 4000,
        "zoho_calls": 4000,
        "zoho_token_calls": 4000,
        "zoho_credits": 8000,
        "zoho_credits_remaining": None,
    }


def _raised(outer: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        try:
            if cause is not None:
                raise cause
        except BaseException as inner:
            raise outer from inner
        raise outer
    except BaseException as caught:
        return caught


@pytest.mark.parametrize(
    ("exc", "phrase"),
    [
        (_raised(httpx2.ConnectError("[Errno -2] Name or service not known")), "does not resolve (DNS)"),
        (
            _raised(httpx2.ConnectError("boom"), ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")),
            "TLS handshake failed",
        ),
        (
            _raised(httpx2.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
            "certificate could not be verified",
        ),
        (_raised(httpx2.ConnectError("[Errno 111] Connection refused")), "connection refused"),
        (_raised(httpx2.ReadTimeout("timed out")), "no answer within the timeout"),
    ],
)
def test_a_transport_failure_is_named_in_words_without_its_text(exc: BaseException, phrase: str) -> None:
    described = transport_problem(exc)
    assert described.startswith(type(exc).__name__ + ": ") and phrase in described
    assert "Errno" not in described and "SSL:" not in described


def test_a_host_that_refuses_the_connection_is_named_in_the_sync_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = MagentoClient(
        base_url=f"http://127.0.0.1:{port}",
        auth=IntegrationBearerAuth(access_token=SecretStr("t" * 32)),
        retry=RetryPolicy(attempts=1),
    )
    with pytest.raises(MagentoError) as info:
        client.get_customer(1)
    assert "connection refused" in str(info.value)


@pytest.mark.parametrize(
    ("body", "cut"),
    [
        (b'{"data": [{"code": "SUCC', True),
        (b'[{"id": 1}, {"id"', True),
        (b'"3c9f0a7b2e', True),  # Magento's token, a JSON string, cut off
        (b'"', True),
        (b'{"data": []}', False),
        (b'"3c9f0a7b2e"', False),
        (b"<html><body>Access denied</body></html>", False),
        (b"", False),
    ],
)
def test_cut_short_json_tells_an_answer_cut_off_on_its_way_from_another_servers_page(body: bytes, cut: bool) -> None:
    response = httpx2.Response(200, content=body, request=httpx2.Request("GET", "https://shop.example.com/rest"))
    assert cut_short_json(response) is cut
