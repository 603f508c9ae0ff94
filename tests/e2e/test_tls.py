"""https for real: both simulators serve TLS with a certificate of a test CA (trustme), and the CLI runs against
them as against a store and Zoho. What is checked with words elsewhere (tls.py's unit tests) happens here on
real handshakes: a CA trusted through SSL_CERT_FILE, one that is not, the scheme and the port that disagree, and
https through a proxy's CONNECT tunnel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner

from magento_zoho_sync.cli import main
from tests.e2e.conftest import World
from tests.e2e.proxy_support import ForwardProxy

NAMES = ("localhost", "127.0.0.1", "shop.proxied.test", "zoho.proxied.test")


@dataclass(frozen=True)
class Pki:
    ca: str  # the CA's certificate: what SSL_CERT_FILE names
    tls: tuple[str, str]  # the servers' certificate chain and key


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = trustme.CA()
    cert = ca.issue_cert(*NAMES)
    ca_file, chain, key = tmp_path / "ca.pem", tmp_path / "chain.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    for pem in cert.cert_chain_pems:
        pem.write_to_path(str(chain), append=True)
    cert.private_key_pem.write_to_path(str(key))
    return Pki(str(ca_file), (str(chain), str(key)))


@pytest.fixture
def world(make_world: Any) -> World:
    made: World = make_world(0, seed=5)
    for n in range(3):
        made.magento.backend.create_customer(email=f"c{n}@example.com", firstname="F", lastname=f"L{n}")
    return made


@pytest.fixture
def https(world: World, pki: Pki) -> Iterator[dict[str, str]]:
    with world.served(tls=pki.tls) as env:
        assert env["MAGENTO_BASE_URL"].startswith("https://127.0.0.1:")
        yield env


def cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_a_sync_over_https_verifies_the_certificates_with_the_ca_of_ssl_cert_file(
    world: World, pki: Pki, https: dict[str, str]
) -> None:
    env = {**https, "SSL_CERT_FILE": pki.ca}
    result = cli(env, "sync")
    assert result.exit_code == 0, result.output
    assert len(world.zoho.contacts()) == 3
    doctor = cli(env, "doctor")
    assert doctor.output.count("https, certificates verified") == 3 and "FAIL" not in doctor.output


def test_a_certificate_this_machine_does_not_trust_stops_the_run_at_once_with_the_fix(
    world: World, https: dict[str, str]
) -> None:
    result = cli(https, "sync")
    assert result.exit_code == 2
    assert "certificate could not be verified" in result.output and "SSL_CERT_FILE" in result.output
    assert "retrying" not in result.output  # the same every time: not tried again
    assert world.zoho.contacts() == []
    doctor = cli(https, "doctor")
    assert "the certificate could not be verified" in doctor.output


def test_not_verifying_certificates_works_and_the_doctor_warns_of_it(world: World, https: dict[str, str]) -> None:
    env = {**https, "MZSYNC_VERIFY_TLS": "false"}
    assert cli(env, "sync").exit_code == 0
    assert len(world.zoho.contacts()) == 3
    assert "certificates are NOT verified" in cli(env, "doctor").output


def test_a_scheme_that_does_not_match_the_port_is_named(world: World, pki: Pki) -> None:
    with world.served() as plain, world.served(tls=pki.tls) as tls:
        https_to_http = {**plain, "MAGENTO_BASE_URL": plain["MAGENTO_BASE_URL"].replace("http:", "https:")}
        http_to_https = {**tls, "SSL_CERT_FILE": pki.ca}
        http_to_https["MAGENTO_BASE_URL"] = tls["MAGENTO_BASE_URL"].replace("https:", "http:")
        first = cli(https_to_http, "sync")
        second = cli(http_to_https, "sync")
    assert first.exit_code == 2 and "the port answers plain http" in first.output
    assert "failed the TLS handshake for GET" in first.output  # the store was reached: not "could not be reached"
    assert "retrying" not in first.output
    assert second.exit_code == 2
    assert "hung up on a plain http request (its port speaks https)" in second.output
    assert "hung up for GET" in second.output and "could not be reached" not in second.output
    assert "change http:// to https:// in MAGENTO_BASE_URL" in second.output
    assert "retrying" not in second.output  # the same mistake every time: stopped at the first attempt


def test_the_doctor_names_an_http_url_for_an_https_port(world: World, pki: Pki) -> None:
    with world.served(tls=pki.tls) as tls:
        env = {**tls, "SSL_CERT_FILE": pki.ca}
        env["ZOHO_API_URL"] = env["ZOHO_API_URL"].replace("https:", "http:")
        result = cli(env, "doctor")
    assert result.exit_code != 0
    assert "hung up on a plain http request: the port speaks https" in result.output
    assert "change http:// to https:// in ZOHO_API_URL" in result.output


@pytest.mark.parametrize("credentials", [False, True])
def test_https_goes_through_the_proxys_connect_tunnel(
    world: World, pki: Pki, https: dict[str, str], credentials: bool
) -> None:
    """Zoho is always https: through a proxy, a CONNECT tunnel, in which TLS is checked end to end."""
    env = {**https, "SSL_CERT_FILE": pki.ca}
    env["MAGENTO_BASE_URL"] = https["MAGENTO_BASE_URL"].replace("127.0.0.1", "shop.proxied.test")
    for key in ("ZOHO_ACCOUNTS_URL", "ZOHO_API_URL"):
        env[key] = https[key].replace("127.0.0.1", "zoho.proxied.test")
    with ForwardProxy(credentials=("squid", "pr0xy-pw")).running() as proxy:
        address = proxy.url.removeprefix("http://")
        env["HTTPS_PROXY"] = f"http://squid:pr0xy-pw@{address}" if credentials else proxy.url
        result = cli(env, "sync")
    if credentials:
        assert result.exit_code == 0, result.output
        assert {("CONNECT", "shop.proxied.test"), ("CONNECT", "zoho.proxied.test")} <= set(proxy.relayed)
        assert len(world.zoho.contacts()) == 3
    else:
        assert result.exit_code == 2
        assert f"through the proxy {proxy.url}" in result.output
        assert "the proxy asks for credentials (HTTP 407)" in result.output
        assert proxy.refused == 1 and world.zoho.contacts() == []
    assert "pr0xy-pw" not in result.output
