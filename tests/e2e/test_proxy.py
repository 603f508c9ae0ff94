"""Behind a proxy: the environment's proxy is used for the store and Zoho, never for this machine's loopback, and
a proxy that fails is named (without its credentials) instead of the service it stands in front of.

The simulators listen on 127.0.0.1; the CLI is given host names that only the test proxy resolves (through a
proxy, the client never resolves them), so every request must cross it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner

from magento_zoho_sync.cli import main
from tests.e2e.conftest import World
from tests.e2e.proxy_support import ForwardProxy, Socks5Proxy

PROXY_PASSWORD = "Pr0xy-S3cret-pw"


@contextmanager
def proxied_env(world: World) -> Iterator[dict[str, Any]]:
    """The environment a user sets, with the store and Zoho under host names of their own."""
    with world.served() as env:
        named = dict(env)
        named["MAGENTO_BASE_URL"] = env["MAGENTO_BASE_URL"].replace("127.0.0.1", "shop.proxied.test")
        for key in ("ZOHO_ACCOUNTS_URL", "ZOHO_API_URL"):
            named[key] = env[key].replace("127.0.0.1", "zoho.proxied.test")
        named["MZSYNC_INSECURE_HTTP"] = "true"  # the test proxy speaks plain http
        yield named


def cli(env: dict[str, Any], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


def with_proxy(env: dict[str, Any], proxy: str) -> dict[str, Any]:
    return {**env, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy}


def test_a_sync_and_the_doctor_go_through_the_proxy_the_environment_names(make_world: Any, tmp_path: Any) -> None:
    world: World = make_world(0, seed=5)
    for n in range(5):
        world.magento.backend.create_customer(email=f"c{n}@example.com", firstname="F", lastname=f"L{n}")
    with ForwardProxy().running() as proxy, proxied_env(world) as env:
        result = cli(with_proxy(env, proxy.url), "sync", "--report", str(tmp_path / "r.json"))
        assert result.exit_code == 0, result.output
        assert len(world.zoho.contacts()) == 5
        hosts = {host for _, host in proxy.relayed}
        assert hosts == {"shop.proxied.test", "zoho.proxied.test"}
        assert ("POST", "zoho.proxied.test") in proxy.relayed  # the token request too
        doctor = cli(with_proxy(env, proxy.url), "doctor")
        assert f"through the proxy {proxy.url}" in doctor.output
        assert "Magento login" in doctor.output and "FAIL" not in doctor.output
        exempt = {**with_proxy(env, proxy.url), "NO_PROXY": "zoho.proxied.test"}
        world.magento.backend.create_customer(email="new@example.com", firstname="F", lastname="New")
        before = len(proxy.relayed)
        refused = cli(exempt, "sync")  # Zoho is reached directly now, and its made-up name does not resolve
        assert refused.exit_code == 2
        assert "Zoho" in refused.output and "through the proxy" not in refused.output
        assert {host for _, host in proxy.relayed[before:]} <= {"shop.proxied.test"}


def test_the_simulators_on_this_machine_are_reached_directly_whatever_proxy_is_set(make_world: Any) -> None:
    """A proxy set for the whole machine (HTTP_PROXY, ALL_PROXY without NO_PROXY) must not break `demo`: loopback
    hosts are never sent to a proxy, which could not reach this machine's loopback anyway."""
    world: World = make_world(0, seed=5)
    world.magento.backend.create_customer(email="local@example.com", firstname="F", lastname="L")
    dead = f"http://127.0.0.1:{closed_port()}"
    with world.served() as env:
        result = cli({**with_proxy(env, dead), "ALL_PROXY": dead}, "sync")
    assert result.exit_code == 0, result.output
    assert [c["Email"] for c in world.zoho.contacts()] == ["local@example.com"]


def test_an_unreachable_proxy_is_named_and_its_password_is_never_shown(make_world: Any, tmp_path: Any) -> None:
    world: World = make_world(0, seed=5)
    world.magento.backend.create_customer(email="c@example.com", firstname="F", lastname="L")
    port = closed_port()
    report = tmp_path / "report.json"
    with proxied_env(world) as env:
        proxied = with_proxy(env, f"http://squid:{PROXY_PASSWORD}@127.0.0.1:{port}")
        result = cli(proxied, "sync", "--report", str(report))
        doctor = cli(proxied, "doctor")
    assert result.exit_code == 2
    assert f"through the proxy http://127.0.0.1:{port}" in result.output
    assert "NO_PROXY" in result.output and "connection refused" in result.output
    assert f"through the proxy http://127.0.0.1:{port}" in doctor.output
    state = world.state_path.read_bytes() if world.state_path.exists() else b""
    written = report.read_text() if report.exists() else ""
    for text in (result.output, doctor.output, written, state.decode("utf-8", "replace")):
        assert PROXY_PASSWORD not in text and "squid:" not in text


@pytest.mark.parametrize("given", [False, True])
def test_a_proxy_that_wants_credentials_is_said_at_once_and_credentials_in_its_url_pass(
    make_world: Any, given: bool
) -> None:
    world: World = make_world(0, seed=5)
    world.magento.backend.create_customer(email="c@example.com", firstname="F", lastname="L")
    with ForwardProxy(credentials=("squid", PROXY_PASSWORD)).running() as proxy, proxied_env(world) as env:
        host_port = proxy.url.removeprefix("http://")
        url = f"http://squid:{PROXY_PASSWORD}@{host_port}" if given else proxy.url
        result = cli(with_proxy(env, url), "sync")
    if given:
        assert result.exit_code == 0, result.output
        assert proxy.refused == 0 and len(world.zoho.contacts()) == 1
    else:
        assert result.exit_code == 2
        assert "the proxy asks for credentials (HTTP 407)" in result.output
        assert "HTTPS_PROXY=http://user:password@proxy:3128" in result.output
        assert proxy.refused == 1  # never tried again: the answer would be the same
        assert world.zoho.contacts() == []
    assert PROXY_PASSWORD not in result.output


@pytest.mark.parametrize("credentials", [False, True])
def test_a_socks5_proxy_in_all_proxy_carries_the_sync(make_world: Any, credentials: bool) -> None:
    world: World = make_world(0, seed=5)
    world.magento.backend.create_customer(email="c@example.com", firstname="F", lastname="L")
    wanted = ("squid", PROXY_PASSWORD) if credentials else None
    with Socks5Proxy(credentials=wanted).running() as proxy, proxied_env(world) as env:
        address = proxy.url.removeprefix("socks5://")
        url = f"socks5://squid:{PROXY_PASSWORD}@{address}" if credentials else proxy.url
        result = cli({**env, "ALL_PROXY": url}, "sync")
    assert result.exit_code == 0, result.output
    assert set(proxy.relayed) == {"shop.proxied.test", "zoho.proxied.test"} and proxy.refused == 0
    assert [c["Email"] for c in world.zoho.contacts()] == ["c@example.com"]
    assert PROXY_PASSWORD not in result.output


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("HTTPS_PROXY", "ftp://proxy.corp:21", "HTTPS_PROXY: a proxy URL starts with http://, https://, socks5://"),
        ("all_proxy", "socks4://proxy.corp:1080", "all_proxy: a proxy URL starts with http://"),
        ("HTTP_PROXY", ":3128", "HTTP_PROXY: no proxy host can be read from it"),
    ],
)
def test_a_proxy_url_the_clients_cannot_use_is_refused_before_any_request(
    make_world: Any, variable: str, value: str, said: str
) -> None:
    world: World = make_world(0, seed=5)
    with world.served() as env:
        result = cli({**env, variable: value}, "sync")
        doctor = cli({**env, variable: value}, "doctor")
    assert result.exit_code == 2 and said in result.output
    assert doctor.exit_code == 2 and said in doctor.output
    assert list(world.magento.log) == [] and list(world.zoho.log) == []  # nothing was asked of either service
