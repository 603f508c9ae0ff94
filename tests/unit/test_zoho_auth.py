"""zoho/auth.py: refresh-token grant, cache, single-flight, INVALID_TOKEN replay, token errors, api_domain."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx2
import pytest
import stamina
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError, ZohoAuthError, ZohoError
from magento_zoho_sync.http import ApiStats
from magento_zoho_sync.zoho.auth import (
    ApiDomainMismatch,
    ZohoTokenError,
    ZohoTokenManager,
    check_api_domain,
    exchange_grant_token,
)
from magento_zoho_sync.zoho.client import ZohoClient

ACCOUNTS = "https://accounts.zoho.com"
API = "https://www.zohoapis.com"
CLIENT_ID = "1000.CLIENTIDCANARY"
CLIENT_SECRET = "canary-client-secret-5f3e2d1c"
REFRESH_TOKEN = "1000.canaryrefresh0123456789abcdef.0123456789abcdefcanary"
GRANT_CODE = "1000.canarygrant0123456789abcdef.fedcba9876543210"
SECRETS = [CLIENT_SECRET, REFRESH_TOKEN, GRANT_CODE]


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    redact.clear_secrets()
    with stamina.set_testing(True, attempts=3):
        yield
    redact.clear_secrets()


def _json(status: int, body: object) -> httpx2.Response:
    return httpx2.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json;charset=UTF-8"}
    )


def _token(n: int) -> str:
    return f"1000.{n:032x}.{n:032x}"


class FakeZoho:
    """Zoho Accounts + a CRM endpoint that only accepts tokens it issued and has not revoked."""

    def __init__(
        self, *, lifetime: int = 3600, api_domain: str | None = API, error: dict[str, str] | None = None
    ) -> None:
        self.lifetime = lifetime
        self.api_domain = api_domain
        self.error = error
        self.lock = threading.Lock()
        self.token_requests: list[httpx2.Request] = []
        self.api_auth: list[str] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "accounts.zoho.com":
            with self.lock:
                self.token_requests.append(request)
            if self.gate is not None:
                self.entered.set()
                self.gate.wait(10)
            if self.error is not None:
                return _json(200, self.error)
            with self.lock:
                token = _token(len(self.issued) + 1)
                self.issued.append(token)
            body: dict[str, object] = {
                "access_token": token,
                "scope": "ZohoCRM.modules.contacts.ALL ZohoCRM.coql.READ",
                "token_type": "Bearer",
                "expires_in": self.lifetime,
            }
            if self.api_domain is not None:
                body["api_domain"] = self.api_domain
            return _json(200, body)
        header = request.headers.get("Authorization", "")
        with self.lock:
            self.api_auth.append(header)
            valid = header.startswith("Zoho-oauthtoken ") and header.split(" ", 1)[1] in set(self.issued) - self.revoked
        if not valid:
            return _json(
                401, {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}
            )
        return _json(200, {"fields": [{"api_name": "Email", "data_type": "email", "length": 100}]})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _manager(
    fake: FakeZoho, clock: Clock | None = None, stats: ApiStats | None = None, api_url: str = API
) -> ZohoTokenManager:
    return ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=api_url,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=httpx2.MockTransport(fake),
        clock=clock or Clock(),
        stats=stats,
    )


def _client(fake: FakeZoho, manager: ZohoTokenManager | None = None) -> ZohoClient:
    return ZohoClient(api_url=API, token_manager=manager or _manager(fake), transport=httpx2.MockTransport(fake))


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ---------------------------------------------------------------------------------------------------- refresh


def test_refresh_posts_credentials_in_the_form_body_never_the_url() -> None:
    fake = FakeZoho()
    stats = ApiStats()
    manager = _manager(fake, stats=stats)
    assert manager.access_token() == _token(1)
    (request,) = fake.token_requests
    assert request.method == "POST"
    assert str(request.url) == f"{ACCOUNTS}/oauth/v2/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    _assert_no_secret(str(request.url))
    assert manager.scope == ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.coql.READ")
    assert manager.api_domain == API
    assert stats.zoho_token_calls == 1


def test_token_is_cached_and_refreshed_five_minutes_before_expiry() -> None:
    fake = FakeZoho(lifetime=3600)
    clock = Clock()
    manager = _manager(fake, clock)
    first = manager.access_token()
    clock.now += 3600 - 300 - 1
    assert manager.access_token() == first
    assert len(fake.token_requests) == 1
    clock.now += 2
    assert manager.access_token() == _token(2)
    assert len(fake.token_requests) == 2
    assert manager.refreshes == 2


def test_a_short_lifetime_refreshes_at_half_time() -> None:
    fake = FakeZoho(lifetime=120)
    clock = Clock()
    manager = _manager(fake, clock)
    manager.access_token()
    clock.now += 59
    manager.access_token()
    clock.now += 2
    manager.access_token()
    assert len(fake.token_requests) == 2


def test_many_threads_needing_a_token_cause_one_refresh() -> None:
    fake = FakeZoho()
    fake.gate = threading.Event()
    manager = _manager(fake)
    start = threading.Barrier(16)
    tokens: list[str] = []

    def worker() -> None:
        start.wait()
        tokens.append(manager.access_token())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    assert fake.entered.wait(10)
    fake.gate.set()
    for t in threads:
        t.join()
    assert len(fake.token_requests) == 1
    assert tokens == [_token(1)] * 16


def test_invalid_token_triggers_one_refresh_and_a_replay() -> None:
    fake = FakeZoho()
    client = _client(fake)
    assert [f.api_name for f in client.contact_fields()] == ["Email"]
    fake.revoked.add(_token(1))  # e.g. evicted by Zoho's 15-active-tokens rule
    assert [f.api_name for f in client.contact_fields()] == ["Email"]
    assert fake.api_auth == [
        f"Zoho-oauthtoken {_token(1)}",
        f"Zoho-oauthtoken {_token(1)}",
        f"Zoho-oauthtoken {_token(2)}",
    ]
    assert len(fake.token_requests) == 2
    assert client.stats.zoho_calls == 3
    assert client.stats.zoho_credits == 2  # the refused request is not charged


def test_a_fresh_token_refused_again_is_fatal_without_a_refresh_loop() -> None:
    fake = FakeZoho()
    fake.revoked = {_token(n) for n in range(1, 10)}
    client = _client(fake)
    with pytest.raises(ZohoAuthError) as info:
        client.contact_fields()
    assert len(fake.token_requests) == 2
    assert len(fake.api_auth) == 2
    text = str(info.value)
    assert "INVALID_TOKEN" in text and "data centre" in text
    _assert_no_secret(text)
    assert _token(2) not in text


def test_concurrent_invalid_tokens_cause_one_refresh() -> None:
    fake = FakeZoho()
    client = _client(fake)
    client.contact_fields()
    fake.revoked.add(_token(1))
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            client.contact_fields()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fake.token_requests) == 2


# ---------------------------------------------------------------------------------------------------- token errors


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            {"error": "invalid_client"},
            ["invalid_client", "ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_ACCOUNTS_URL", "data centre"],
        ),
        ({"error": "invalid_client_secret"}, ["ZOHO_CLIENT_SECRET"]),
        (
            {"error": "invalid_code"},
            ["invalid_code", "ZOHO_REFRESH_TOKEN", "revoked", "20 refresh tokens", "data centre"],
        ),
        (
            {
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "error": "Access Denied",
                "status": "failure",
            },
            ["Access Denied", "too many requests", "15-30 minutes"],
        ),
        ({"error": "something_new"}, ["something_new", "ZOHO_CLIENT_ID"]),
    ],
)
def test_token_errors_arrive_as_http_200_and_are_explained_once(error: dict[str, str], expected: list[str]) -> None:
    fake = FakeZoho(error=error)
    manager = _manager(fake)
    with pytest.raises(ZohoAuthError) as info:
        manager.access_token()
    text = str(info.value)
    for needle in expected:
        assert needle in text
    assert isinstance(info.value, ZohoTokenError) and info.value.error == error["error"]
    _assert_no_secret(text)
    with pytest.raises(ZohoAuthError):  # remembered: Zoho is not asked again
        manager.access_token()
    assert len(fake.token_requests) == 1


def test_token_endpoint_5xx_is_retried_then_reported() -> None:
    calls: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(502, text="bad gateway")

    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=httpx2.MockTransport(handler),
    )
    with pytest.raises(ZohoError, match="HTTP 502 after 3 attempts") as info:
        manager.access_token()
    assert not isinstance(info.value, ZohoAuthError)
    assert len(calls) == 3


def test_token_endpoint_html_is_a_clear_error() -> None:
    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=httpx2.MockTransport(lambda r: httpx2.Response(200, text="<html>login</html>")),
    )
    with pytest.raises(ZohoAuthError, match="ZOHO_ACCOUNTS_URL"):
        manager.access_token()


# ---------------------------------------------------------------------------------------------------- api_domain


def test_api_domain_of_another_data_centre_is_a_config_error_naming_the_fix() -> None:
    fake = FakeZoho(api_domain="https://www.zohoapis.eu")
    manager = _manager(fake)
    with pytest.raises(ConfigError) as info:
        manager.access_token()
    text = str(info.value)
    assert "ZOHO_API_URL=https://www.zohoapis.eu" in text
    assert "ZOHO_REGION=eu" in text
    assert "data centre us" in text
    assert isinstance(info.value, ApiDomainMismatch) and info.value.region == "eu"
    _assert_no_secret(text)
    with pytest.raises(ConfigError):
        manager.access_token()
    assert len(fake.token_requests) == 1


def test_api_domain_that_is_not_zoho_is_refused() -> None:
    fake = FakeZoho(api_domain="https://api.attacker.example")
    client = _client(fake)
    with pytest.raises(ConfigError, match="not a known Zoho API domain"):
        client.contact_fields()
    assert fake.api_auth == []  # the token was sent nowhere


def test_api_domain_checks() -> None:
    assert check_api_domain(None, api_url=API) is None
    assert check_api_domain("https://www.zohoapis.com", api_url=API) is None
    assert check_api_domain("http://127.0.0.1:9100", api_url=API) is None  # a simulator
    warning = check_api_domain("https://sandbox.zohoapis.com", api_url=API)
    assert warning is not None and "sandbox.zohoapis.com" in warning
    proxy = check_api_domain("https://www.zohoapis.com", api_url="https://zoho-proxy.corp.example")
    assert proxy is not None and "ZOHO_API_URL" in proxy
    sim = check_api_domain(
        "https://unknown.example", api_url="http://127.0.0.1:9100", accounts_url="http://127.0.0.1:9100"
    )
    assert sim is not None
    with pytest.raises(ConfigError, match="ZOHO_REGION=in"):
        check_api_domain("https://www.zohoapis.in", api_url="https://www.zohoapis.com.au")


def test_a_warning_does_not_stop_the_sync() -> None:
    fake = FakeZoho(api_domain="https://sandbox.zohoapis.com")
    manager = _manager(fake)
    assert manager.access_token() == _token(1)
    assert len(manager.warnings) == 1


# ---------------------------------------------------------------------------------------------------- grant exchange


def _grant_handler(body: dict[str, object], seen: list[httpx2.Request]) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return _json(200, body)

    return httpx2.MockTransport(handler)


def test_grant_exchange_returns_the_refresh_token_and_scopes() -> None:
    seen: list[httpx2.Request] = []
    transport = _grant_handler(
        {
            "access_token": "1000.aaaa1111bbbb2222.cccc3333dddd4444",
            "refresh_token": "1000.eeee5555ffff6666.77778888999900aa",
            "scope": "ZohoCRM.modules.contacts.ALL ZohoCRM.coql.READ ZohoCRM.settings.fields.READ",
            "api_domain": "https://www.zohoapis.eu",
            "token_type": "Bearer",
            "expires_in": 3600,
        },
        seen,
    )
    result = exchange_grant_token(
        "https://accounts.zoho.eu", CLIENT_ID, SecretStr(CLIENT_SECRET), SecretStr(GRANT_CODE), transport=transport
    )
    assert result.refresh_token.get_secret_value() == "1000.eeee5555ffff6666.77778888999900aa"
    assert result.scope == ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.coql.READ", "ZohoCRM.settings.fields.READ")
    assert result.api_domain == "https://www.zohoapis.eu"
    assert "eeee5555" not in repr(result)
    (request,) = seen
    assert str(request.url) == "https://accounts.zoho.eu/oauth/v2/token"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": GRANT_CODE,
    }
    assert redact.redact("token 1000.eeee5555ffff6666.77778888999900aa") == "token ***"


def test_grant_exchange_invalid_code_is_explained_and_not_retried() -> None:
    seen: list[httpx2.Request] = []
    with pytest.raises(ZohoAuthError) as info:
        exchange_grant_token(
            ACCOUNTS,
            CLIENT_ID,
            SecretStr(CLIENT_SECRET),
            SecretStr(GRANT_CODE),
            transport=_grant_handler({"error": "invalid_code"}, seen),
        )
    assert len(seen) == 1
    text = str(info.value)
    assert "grant token" in text and "expired" in text and "already used" in text
    _assert_no_secret(text)


def test_grant_exchange_without_refresh_token_is_an_error() -> None:
    with pytest.raises(ZohoAuthError, match="no refresh token"):
        exchange_grant_token(
            ACCOUNTS,
            CLIENT_ID,
            SecretStr(CLIENT_SECRET),
            SecretStr(GRANT_CODE),
            transport=_grant_handler({"access_token": "1000.ab.cd", "expires_in": 3600}, []),
        )


def test_grant_exchange_refuses_plain_http_to_a_remote_accounts_server() -> None:
    with pytest.raises(ConfigError, match="ZOHO_ACCOUNTS_URL"):
        exchange_grant_token("http://accounts.zoho.com", CLIENT_ID, SecretStr(CLIENT_SECRET), SecretStr(GRANT_CODE))


def test_from_settings_builds_a_manager() -> None:
    from magento_zoho_sync.settings import MagentoSettings, Settings, ZohoSettings

    settings = Settings(
        magento=MagentoSettings(base_url="https://shop.example.com", username="u", password=SecretStr("p")),
        zoho=ZohoSettings(
            accounts_url=ACCOUNTS,
            api_url=API,
            client_id=CLIENT_ID,
            client_secret=SecretStr(CLIENT_SECRET),
            refresh_token=SecretStr(REFRESH_TOKEN),
        ),
    )
    fake = FakeZoho()
    manager = ZohoTokenManager.from_settings(settings, transport=httpx2.MockTransport(fake))
    assert manager.access_token() == _token(1)
    manager.close()


def test_a_token_answer_nested_thousands_deep_is_a_clear_error_not_a_crash() -> None:
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=httpx2.MockTransport(lambda r: httpx2.Response(200, content=deep)),
    )
    with pytest.raises(ZohoAuthError, match="not a JSON object"):
        manager.access_token()


@pytest.mark.parametrize("token", ["1000.CANARY\r\n.token", "1000.CANARY\x01token", "1000.CANARYé.token"])
def test_an_access_token_no_http_header_can_carry_is_a_clear_auth_error_that_never_shows_it(token: str) -> None:
    calls: list[httpx2.Request] = []

    def accounts(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return _json(200, {"access_token": token, "api_domain": API, "expires_in": 3600})

    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=httpx2.MockTransport(accounts),
    )
    with pytest.raises(ZohoAuthError) as info:
        manager.access_token()
    said = f"{info.value.message} {info.value.hint}"
    assert "characters an HTTP header cannot carry" in said and "ZOHO_ACCOUNTS_URL" in said
    assert "CANARY" not in said
    with pytest.raises(ZohoAuthError):
        manager.access_token()
    assert len(calls) == 1  # refused once, never asked again (Zoho throttles token requests)


def _cut_short(body: bytes) -> httpx2.MockTransport:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=body[: len(body) // 2], headers={"Content-Type": "application/json"})

    transport = httpx2.MockTransport(handler)
    transport.seen = seen  # type: ignore[attr-defined]
    return transport


TOKEN_ANSWER = json.dumps(
    {"access_token": "1000.CANARYaaaa.bbbb", "refresh_token": "1000.CANARYcccc.dddd", "expires_in": 3600}
).encode()


def test_a_first_token_answer_cut_short_says_so_and_is_not_asked_again() -> None:
    """Before: 'a body that is not a JSON object ... Check ZOHO_ACCOUNTS_URL', for an answer that proves the URL."""
    transport = _cut_short(TOKEN_ANSWER)
    manager = ZohoTokenManager(
        accounts_url=ACCOUNTS,
        api_url=API,
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        refresh_token=SecretStr(REFRESH_TOKEN),
        transport=transport,
    )
    with pytest.raises(ZohoAuthError) as info:
        manager.access_token()
    said = str(info.value)
    assert f"JSON cut off after {len(TOKEN_ANSWER) // 2} bytes" in said
    assert "ZOHO_ACCOUNTS_URL is probably right" in said and "10 in 10 minutes" in said
    assert len(transport.seen) == 1  # type: ignore[attr-defined]
    _assert_no_secret(said)
    assert "CANARY" not in said


def test_a_grant_answer_cut_short_says_the_grant_token_is_probably_used_up() -> None:
    with pytest.raises(ZohoAuthError) as info:
        exchange_grant_token(
            ACCOUNTS, CLIENT_ID, SecretStr(CLIENT_SECRET), SecretStr(GRANT_CODE), transport=_cut_short(TOKEN_ANSWER)
        )
    said = str(info.value)
    assert "JSON cut off" in said and "grant token up: create a new one" in said
    _assert_no_secret(said)
    assert "CANARY" not in said


def test_a_first_crm_answer_cut_short_is_not_blamed_on_the_api_url() -> None:
    fake = FakeZoho()
    answer = json.dumps({"data": [{"code": "SUCCESS", "details": {"id": "1"}}] * 20}).encode()
    client = ZohoClient(api_url=API, token_manager=_manager(fake), transport=_cut_short(answer))
    with pytest.raises(ZohoError) as info:
        client.update_contacts([{"id": "1", "Last_Name": "X"}])
    said = str(info.value)
    assert "JSON cut off after" in said and "ZOHO_API_URL is probably right" in said
    assert "Is ZOHO_API_URL" not in said
