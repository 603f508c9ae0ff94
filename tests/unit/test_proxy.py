"""Which proxy a request goes through (as httpx picks it from the environment), and the words for one that fails."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from magento_zoho_sync.http import build_client, transport_problem
from magento_zoho_sync.proxy import proxy_for, proxy_hint, proxy_note, proxy_status
from magento_zoho_sync.retry import retry_decision

SHOP = "https://shop.example.com"
ZOHO = "https://www.zohoapis.eu"


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, SHOP, None),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, SHOP, "http://proxy.corp:3128"),
        ({"https_proxy": "http://proxy.corp:3128"}, ZOHO, "http://proxy.corp:3128"),
        ({"HTTPS_PROXY": "http://proxy.corp:3128"}, "http://shop.example.com", None),  # another scheme's proxy
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "http://shop.example.com", "http://proxy.corp:3128"),
        ({"ALL_PROXY": "http://proxy.corp:8080"}, ZOHO, "http://proxy.corp:8080"),
        ({"HTTPS_PROXY": "proxy.corp:3128"}, SHOP, "http://proxy.corp:3128"),  # no scheme: http, as curl reads it
        ({"HTTPS_PROXY": "http://squid:pa%40ss@proxy.corp:3128"}, SHOP, "http://proxy.corp:3128"),  # never shown
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "shop.example.com"}, SHOP, None),
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "example.com"}, SHOP, None),  # and its subdomains
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "shop.example.com"}, ZOHO, "http://proxy.corp:3128"),
        ({"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "*"}, ZOHO, None),
        (
            {"HTTP_PROXY": "http://proxy.corp:3128", "ALL_PROXY": "http://proxy.corp:3128"},
            "http://127.0.0.1:8081",
            None,
        ),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "http://localhost:8081", None),  # loopback: always direct
    ],
)
def test_the_proxy_a_url_goes_through(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, expected: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url) == expected
    assert proxy_note(url) == (f" through the proxy {expected}" if expected else "")


def test_the_clients_send_through_the_proxy_proxy_for_names_and_loopback_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ``proxy_for`` says is what the client does (the same environment, the same matching)."""
    monkeypatch.setenv("ALL_PROXY", "http://proxy.corp:3128")  # http and https alike
    monkeypatch.setenv("NO_PROXY", "exempt.example.com")
    cases = (
        (SHOP, True),
        ("https://exempt.example.com", False),
        ("http://127.0.0.1:8081", False),
        ("http://localhost:8081", False),
        ("http://[::1]:8081", False),
    )
    for url, proxied in cases:
        with build_client(base_url=url, setting="X", timeout=5) as client:
            transport = client._transport_for_url(httpx2.URL(url))  # httpx's own choice of transport
            assert (transport is not client._transport) is proxied, url
            assert (proxy_for(url) is not None) is proxied


def test_a_proxy_refusal_is_read_from_its_status_only() -> None:
    assert proxy_status(httpx2.ProxyError("407 Proxy Authentication Required")) == 407
    assert proxy_status(httpx2.ProxyError("502 Bad Gateway")) == 502
    assert proxy_status(httpx2.ProxyError("something else")) is None
    assert proxy_status(httpx2.ConnectError("407")) is None
    assert transport_problem(httpx2.ProxyError("407 Proxy Authentication Required")) == (
        "ProxyError: the proxy asks for credentials (HTTP 407)"
    )
    assert transport_problem(httpx2.ProxyError("403 Forbidden")) == (
        "ProxyError: the proxy refused to connect to the host (HTTP 403)"
    )


def test_a_proxy_that_wants_credentials_is_not_asked_again_and_other_refusals_are() -> None:
    assert retry_decision(httpx2.ProxyError("407 Proxy Authentication Required")) is False
    assert retry_decision(httpx2.ProxyError("502 Bad Gateway")) is True
    assert retry_decision(httpx2.ProxyError("503 Service Unavailable")) is True


def test_the_hint_speaks_of_the_proxy_only_when_one_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    assert proxy_hint(SHOP, httpx2.ConnectError("refused"), "Check MAGENTO_BASE_URL.") == "Check MAGENTO_BASE_URL."
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    hint = proxy_hint(SHOP, httpx2.ConnectError("refused"), "Check MAGENTO_BASE_URL.")
    assert "list shop.example.com in NO_PROXY" in hint and hint.endswith("Check MAGENTO_BASE_URL.")
    wanted = proxy_hint(SHOP, httpx2.ProxyError("407 Proxy Authentication Required"), "Check MAGENTO_BASE_URL.")
    assert "HTTPS_PROXY=http://user:password@proxy:3128" in wanted


def test_the_proxy_password_is_masked_like_every_secret_once_settings_are_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from magento_zoho_sync import redact
    from magento_zoho_sync.settings import load_settings
    from tests.unit.test_settings import BASE_ENV

    redact.clear_secrets()
    monkeypatch.setenv("HTTPS_PROXY", "http://squid:pr%40xy%20pass@proxy.corp:3128")
    load_settings(env=BASE_ENV | {"XDG_STATE_HOME": str(tmp_path)})
    try:
        for shown in ("pr@xy pass", "pr%40xy%20pass", "pr%40xy+pass"):
            assert redact.redact(f"proxy said {shown}!") == "proxy said ***!"
    finally:
        redact.clear_secrets()


def test_proxy_urls_the_clients_cannot_use_are_named_without_their_credentials() -> None:
    from magento_zoho_sync.proxy import proxy_problems

    fine = {
        "HTTPS_PROXY": "http://squid:pw@proxy.corp:3128",
        "http_proxy": "proxy.corp:3128",  # no scheme: http, as httpx reads it
        "ALL_PROXY": "socks5h://proxy.corp:1080",
        "NO_PROXY": "example.com",
        "HTTP_PROXY": "",
    }
    assert proxy_problems(fine) == []
    problems = proxy_problems({"https_proxy": "ftp://squid:s3cr3t-pw@proxy.corp:21", "ALL_PROXY": "http://:1080"})
    assert problems == [
        "https_proxy: a proxy URL starts with http://, https://, socks5:// or socks5h://, not ftp://",
        "ALL_PROXY: no proxy host can be read from it; give it as http://proxy.example.com:3128",
    ]
    assert not any("s3cr3t" in problem for problem in problems)
