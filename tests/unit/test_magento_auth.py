"""magento/auth.py: the four MAGENTO_AUTH modes against the exact wire shapes of Magento 2.4 (reference §1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, unquote

import httpx2
import pyotp
import pytest
import stamina
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError, MagentoAuthError, SyncError
from magento_zoho_sync.magento.auth import (
    AdminTokenAuth,
    AdminTotpAuth,
    IntegrationBearerAuth,
    IntegrationOAuth1Auth,
    MagentoAuthRefused,
    build_magento_auth,
    clock_skew_note,
)
from magento_zoho_sync.magento.client import MagentoClient
from magento_zoho_sync.magento.search import Filter, SortOrder, encode_query, search_criteria_pairs
from magento_zoho_sync.settings import MagentoSettings

BASE = "https://shop.example.com"
PASSWORD = "CANARY-PASSWORD-a1b2c3"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ACCESS_TOKEN = "canaryaccesstoken0123456789abcdef"
CONSUMER_KEY = "canaryconsumerkey0123456789abcdef"
CONSUMER_SECRET = "canaryconsumersecret0123456789abc"
TOKEN_SECRET = "canarytokensecret0123456789abcdef"
ADMIN_TOKENS = ["eyJraWQiOiIxIiwiYWxnIjoiSFMyNTYifQ.CANARY-ONE", "eyJraWQiOiIxIiwiYWxnIjoiSFMyNTYifQ.CANARY-TWO"]
SECRETS = [PASSWORD, TOTP_SECRET, ACCESS_TOKEN, CONSUMER_KEY, CONSUMER_SECRET, TOKEN_SECRET, *ADMIN_TOKENS]

NOT_AUTHORIZED = {
    "message": "The consumer isn't authorized to access %resources.",
    "parameters": {"resources": "Magento_Customer::customer"},
}
BAD_LOGIN = {
    "message": "The account sign-in was incorrect or your account is disabled temporarily. "
    "Please wait and try again later."
}
EMPTY_SEARCH = {"items": [], "search_criteria": {"filter_groups": []}, "total_count": 0}

Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    redact.clear_secrets()  # so that these tests see what the code itself puts into messages
    with stamina.set_testing(True, attempts=5):
        yield
    redact.clear_secrets()


def _json(status: int, body: object, **headers: str) -> httpx2.Response:
    return httpx2.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )


def _client(auth: httpx2.Auth, handler: Handler) -> MagentoClient:
    assert isinstance(auth, AdminTokenAuth | AdminTotpAuth | IntegrationBearerAuth | IntegrationOAuth1Auth)
    return MagentoClient(base_url=BASE, auth=auth, transport=httpx2.MockTransport(handler), page_size=10)


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def _admin() -> AdminTokenAuth:
    return AdminTokenAuth(base_url=BASE, username="sync-bot", password=SecretStr(PASSWORD))


class Store:
    """Answers the admin token endpoint with the next token and accepts only the tokens listed as valid."""

    def __init__(
        self, *, valid: set[str] | None = None, login: Callable[[httpx2.Request], httpx2.Response] | None = None
    ) -> None:
        self.requests: list[httpx2.Request] = []
        self.read_auth: list[str] = []  # the Authorization header of each GET as it was sent
        self.valid = valid if valid is not None else set(ADMIN_TOKENS)
        self.issued = 0
        self._login = login

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path.endswith("/integration/admin/token") or "/tfa/" in request.url.path:
            if self._login is not None:
                return self._login(request)
            token = ADMIN_TOKENS[self.issued % len(ADMIN_TOKENS)]
            self.issued += 1
            return _json(200, token)
        self.read_auth.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization", "").removeprefix("Bearer ") in self.valid:
            return _json(200, EMPTY_SEARCH)
        return _json(401, NOT_AUTHORIZED)

    @property
    def logins(self) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def reads(self) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == "GET"]


# ---------------------------------------------------------------------------------------------------- admin


def test_admin_logs_in_once_and_sends_the_token_as_bearer() -> None:
    store = Store()
    client = _client(_admin(), store)
    list(client.iter_customer_pages())
    list(client.iter_customer_pages())
    assert len(store.logins) == 1
    login = store.logins[0]
    assert str(login.url) == f"{BASE}/rest/V1/integration/admin/token"
    assert json.loads(login.content) == {"username": "sync-bot", "password": PASSWORD}
    assert login.headers["Content-Type"] == "application/json"
    assert store.read_auth == [f"Bearer {ADMIN_TOKENS[0]}"] * 2
    for request in store.requests:
        _assert_no_secret(str(request.url))
    assert client.stats.magento_calls == 3


def test_admin_reauthenticates_once_on_a_401_mid_run_and_replays() -> None:
    store = Store(valid={ADMIN_TOKENS[0]})
    auth = _admin()
    client = _client(auth, store)
    list(client.iter_customer_pages())
    store.valid = {ADMIN_TOKENS[1]}  # the first token expired
    assert list(client.iter_customer_pages()) == []
    assert len(store.logins) == 2
    assert store.read_auth == [
        f"Bearer {ADMIN_TOKENS[0]}",
        f"Bearer {ADMIN_TOKENS[0]}",
        f"Bearer {ADMIN_TOKENS[1]}",
    ]
    assert auth.logins == 2


def test_admin_gives_up_when_a_fresh_token_is_refused_too() -> None:
    store = Store(valid=set())  # e.g. the admin's role lacks Magento_Customer::customer
    client = _client(_admin(), store)
    with pytest.raises(MagentoAuthError) as info:
        list(client.iter_customer_pages())
    assert len(store.logins) == 2  # the first login and exactly one re-authentication
    assert len(store.reads) == 2
    text = str(info.value)
    assert "Magento_Customer::customer" in text
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "token_refused"
    _assert_no_secret(text)


def test_admin_bad_credentials_are_not_retried_and_mention_the_lockout() -> None:
    store = Store(login=lambda r: _json(401, BAD_LOGIN))
    with pytest.raises(MagentoAuthError) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert len(store.requests) == 1  # never retried: 6 failures lock the user for 30 minutes
    text = str(info.value)
    assert "6 failed attempts" in text
    assert "30 minutes" in text
    assert "MAGENTO_PASSWORD" in text
    assert "sign-in was incorrect" in text
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "bad_credentials"
    _assert_no_secret(text)


def test_admin_on_a_2fa_store_names_the_admin_totp_mode() -> None:
    body = {
        "message": "Please use the 2fa provider-specific endpoints to obtain a token.",
        "parameters": {"active_providers": ["google"]},
    }
    store = Store(login=lambda r: _json(400, body))
    with pytest.raises(MagentoAuthError) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert len(store.requests) == 1
    text = str(info.value)
    assert "MAGENTO_AUTH=admin-totp" in text
    assert "Please use the 2fa provider-specific endpoints" in text
    assert "MAGENTO_TOTP_SECRET" in text
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "two_factor_required"
    _assert_no_secret(text)


def test_admin_2fa_not_configured_variant_is_recognised_by_its_parameters() -> None:
    body = {
        "message": "Sie müssen die Zwei-Faktor-Authentifizierung konfigurieren.",  # translated store
        "parameters": {"providers": ["google"], "active_providers": []},
    }
    with pytest.raises(MagentoAuthError, match="admin-totp"):
        list(_client(_admin(), Store(login=lambda r: _json(400, body))).iter_customer_pages())


def test_login_on_maintenance_is_retried_as_transient() -> None:
    answers = [
        httpx2.Response(503, text="<html><title>Error 503</title></html>", headers={"Content-Type": "text/html"})
    ]
    store = Store()
    default = store.__call__

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and answers:
            store.requests.append(request)
            return answers.pop()
        return default(request)

    assert list(_client(_admin(), handler).iter_customer_pages()) == []
    assert len(store.logins) == 2


def test_login_answer_that_is_not_a_token_is_a_clear_error() -> None:
    store = Store(
        login=lambda r: httpx2.Response(200, text="<html>Welcome</html>", headers={"Content-Type": "text/html"})
    )
    with pytest.raises(SyncError, match="MAGENTO_BASE_URL"):
        list(_client(_admin(), store).iter_customer_pages())


# ---------------------------------------------------------------------------------------------------- admin-totp


def test_totp_mode_sends_the_current_code_to_the_google_endpoint() -> None:
    store = Store()
    auth = AdminTotpAuth(
        base_url=BASE, username="sync-bot", password=SecretStr(PASSWORD), totp_secret=SecretStr(TOTP_SECRET)
    )
    list(_client(auth, store).iter_customer_pages())
    (login,) = store.logins
    assert str(login.url) == f"{BASE}/rest/V1/tfa/provider/google/authenticate"
    body = json.loads(login.content)
    assert body["username"] == "sync-bot"
    assert body["password"] == PASSWORD
    assert len(body["otp"]) == 6 and body["otp"].isdigit()
    assert pyotp.TOTP(TOTP_SECRET).verify(body["otp"], valid_window=1)
    assert store.reads[0].headers["Authorization"] == f"Bearer {ADMIN_TOKENS[0]}"


def test_totp_mode_wrong_code_is_not_retried_and_mentions_the_clock() -> None:
    store = Store(login=lambda r: _json(401, {"message": "Invalid code."}))
    auth = AdminTotpAuth(
        base_url=BASE, username="sync-bot", password=SecretStr(PASSWORD), totp_secret=SecretStr(TOTP_SECRET)
    )
    with pytest.raises(MagentoAuthError) as info:
        list(_client(auth, store).iter_customer_pages())
    assert len(store.requests) == 1
    text = str(info.value)
    assert "Invalid code." in text
    assert "MAGENTO_TOTP_SECRET" in text and "clock" in text
    _assert_no_secret(text)


@pytest.mark.parametrize(
    "pasted", [" JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP ", "jbswy3dp\tehpk3pxp\njbswy3dpehpk3pxp\r\n"]
)
def test_totp_secret_is_read_without_any_whitespace(pasted: str) -> None:
    store = Store()
    auth = AdminTotpAuth(
        base_url=BASE, username="sync-bot", password=SecretStr(PASSWORD), totp_secret=SecretStr(pasted)
    )
    list(_client(auth, store).iter_customer_pages())
    (login,) = store.logins
    assert pyotp.TOTP(TOTP_SECRET).verify(json.loads(login.content)["otp"], valid_window=1)


def test_totp_mode_refuses_a_secret_that_is_not_base32_without_showing_it() -> None:
    with pytest.raises(ConfigError) as info:
        AdminTotpAuth(base_url=BASE, username="u", password=SecretStr(PASSWORD), totp_secret=SecretStr("not base32!!1"))
    assert "MAGENTO_TOTP_SECRET" in str(info.value)
    assert "not base32!!1" not in str(info.value)


# ---------------------------------------------------------------------------------------------------- bearer


def test_bearer_mode_sends_the_integration_token() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return _json(200, EMPTY_SEARCH)

    list(_client(IntegrationBearerAuth(access_token=SecretStr(ACCESS_TOKEN)), handler).iter_customer_pages())
    assert seen[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    _assert_no_secret(str(seen[0].url))


def test_bearer_refusal_explains_the_store_setting_and_oauth1() -> None:
    calls: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return _json(401, NOT_AUTHORIZED)

    with pytest.raises(MagentoAuthError) as info:
        list(_client(IntegrationBearerAuth(access_token=SecretStr(ACCESS_TOKEN)), handler).iter_customer_pages())
    assert len(calls) == 1
    text = str(info.value)
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in text
    assert "Stores > Configuration > Services > OAuth > Consumer Settings" in text
    assert "MAGENTO_AUTH=integration-oauth1" in text
    assert "Magento_Customer::customer" in text
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "bearer_refused"
    _assert_no_secret(text)


# ---------------------------------------------------------------------------------------------------- OAuth 1.0a


def _rawurlencode(value: str) -> str:
    return quote(value, safe="-._~")


def magento_expected_signature(request: httpx2.Request, consumer_secret: str, token_secret: str) -> tuple[str, str]:
    """Magento's own algorithm, written independently of oauthlib: (expected, sent) signatures.

    Query parameters are split on ``&`` and ``=`` and ``rawurldecode``d (a ``+`` stays a plus), the OAuth
    header values are ``rawurldecode``d and unquoted; then RFC 5849 normalisation and HMAC-SHA256.
    """
    header = request.headers["Authorization"]
    assert header.startswith("OAuth ")
    oauth: dict[str, str] = {}
    for part in header[len("OAuth ") :].split(","):
        key, _, value = part.strip().partition("=")
        oauth[key] = unquote(value.strip('"'))
    sent = oauth.pop("oauth_signature")
    assert oauth["oauth_signature_method"] == "HMAC-SHA256"
    params = list(oauth.items())
    query = request.url.query.decode("ascii")
    for piece in query.split("&") if query else []:
        pair = piece.split("=")
        if len(pair) == 2:
            params.append((unquote(pair[0]), unquote(pair[1])))
    encoded = sorted((_rawurlencode(k), _rawurlencode(v)) for k, v in params)
    normalised = "&".join(f"{k}={v}" for k, v in encoded)
    url = request.url
    port = f":{url.port}" if url.port else ""
    base_uri = f"{url.scheme}://{url.host}{port}{url.path}"
    base_string = "&".join([request.method.upper(), _rawurlencode(base_uri), _rawurlencode(normalised)])
    key = f"{_rawurlencode(consumer_secret)}&{_rawurlencode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode(), sent


def _oauth1() -> IntegrationOAuth1Auth:
    return IntegrationOAuth1Auth(
        consumer_key=SecretStr(CONSUMER_KEY),
        consumer_secret=SecretStr(CONSUMER_SECRET),
        access_token=SecretStr(ACCESS_TOKEN),
        access_token_secret=SecretStr(TOKEN_SECRET),
    )


def test_oauth1_signature_matches_magentos_algorithm_for_search_criteria_with_spaces_and_plus() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return _json(200, EMPTY_SEARCH)

    client = _client(_oauth1(), handler)
    list(client.iter_customer_pages(after_id=41, updated_since="2026-01-02 03:04:05"))
    # and a hand-built criteria with an email containing '+' and a value with '='
    auth = _oauth1()
    query = encode_query(
        search_criteria_pairs(
            [[Filter("email", "jane+crm@example.com")], [Filter("taxvat", "a=b c")]],
            sort_orders=[SortOrder("entity_id")],
            page_size=5,
        )
    )
    for base in (BASE, "http://127.0.0.1:8081"):  # a simulator on a port: the port is part of the base string
        request = httpx2.Request("GET", f"{base}/rest/all/V1/customers/search?{query}")
        auth.sign(request)
        seen.append(request)
    for sent_request in seen:
        assert "+" not in sent_request.url.query.decode()
        expected, sent = magento_expected_signature(sent_request, CONSUMER_SECRET, TOKEN_SECRET)
        assert sent == expected
        header = sent_request.headers["Authorization"]
        assert f'oauth_consumer_key="{CONSUMER_KEY}"' in header
        assert f'oauth_token="{ACCESS_TOKEN}"' in header
        assert CONSUMER_SECRET not in header and TOKEN_SECRET not in header
        _assert_no_secret(str(sent_request.url))
    assert "updated_at" in unquote(seen[0].url.query.decode())
    assert "2026-01-02%2003%3A04%3A05" in seen[0].url.query.decode()
    assert "jane%2Bcrm%40example.com" in seen[-1].url.query.decode()


def test_oauth1_uses_a_fresh_nonce_per_request() -> None:
    auth = _oauth1()
    nonces = set()
    for _ in range(5):
        request = httpx2.Request("GET", f"{BASE}/rest/all/V1/customers/1")
        auth.sign(request)
        nonces.add(request.headers["Authorization"].split('oauth_nonce="')[1].split('"')[0])
    assert len(nonces) == 5


def test_oauth1_invalid_signature_is_explained_with_the_clock_skew() -> None:
    server_time = datetime.now(UTC) - timedelta(minutes=20)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return _json(
            401,
            {"message": "The signature is invalid. Verify and try again."},
            Date=format_datetime(server_time, usegmt=True),
        )

    with pytest.raises(MagentoAuthError) as info:
        list(_client(_oauth1(), handler).iter_customer_pages())
    text = str(info.value)
    assert "The signature is invalid" in text
    assert "MAGENTO_CONSUMER_SECRET" in text and "MAGENTO_ACCESS_TOKEN_SECRET" in text
    assert "ahead of the store's" in text
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "oauth_signature"
    _assert_no_secret(text)


def test_oauth1_bad_timestamp_400_is_an_auth_error_with_a_clock_hint() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return _json(400, {"message": "Incorrect timestamp value in the oauth_timestamp parameter"})

    with pytest.raises(MagentoAuthError) as info:
        list(_client(_oauth1(), handler).iter_customer_pages())
    assert "oauth_timestamp" in str(info.value)
    assert "clock" in str(info.value)
    assert isinstance(info.value, MagentoAuthRefused) and info.value.reason == "oauth_clock"


def test_oauth1_reused_nonce_and_unknown_consumer_are_explained() -> None:
    nonce = {"message": "The nonce is already being used by the consumer with ID %1", "parameters": [7]}
    with pytest.raises(MagentoAuthError, match=r"consumer with ID 7.*clock"):
        list(_client(_oauth1(), lambda r: _json(401, nonce)).iter_customer_pages())
    unknown = {"message": "A consumer having the specified key does not exist"}
    with pytest.raises(MagentoAuthError, match="MAGENTO_CONSUMER_KEY"):
        list(_client(_oauth1(), lambda r: _json(401, unknown)).iter_customer_pages())


def test_clock_skew_note() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert "agrees" in clock_skew_note(now - timedelta(seconds=3), now=now)
    assert "120 s behind" in clock_skew_note(now + timedelta(seconds=120), now=now)
    assert "no Date header" in clock_skew_note(None, now=now)


# ---------------------------------------------------------------------------------------------------- factory


def test_build_magento_auth_picks_the_mode_from_settings() -> None:
    assert isinstance(
        build_magento_auth(MagentoSettings(base_url=BASE, username="u", password=SecretStr("p"))), AdminTokenAuth
    )
    totp = MagentoSettings(
        base_url=BASE, auth="admin-totp", username="u", password=SecretStr("p"), totp_secret=SecretStr(TOTP_SECRET)
    )
    assert isinstance(build_magento_auth(totp), AdminTotpAuth)
    bearer = MagentoSettings(base_url=BASE, auth="integration-bearer", access_token=SecretStr(ACCESS_TOKEN))
    assert isinstance(build_magento_auth(bearer), IntegrationBearerAuth)
    oauth = MagentoSettings(
        base_url=BASE,
        auth="integration-oauth1",
        consumer_key=SecretStr(CONSUMER_KEY),
        consumer_secret=SecretStr(CONSUMER_SECRET),
        access_token=SecretStr(ACCESS_TOKEN),
        access_token_secret=SecretStr(TOKEN_SECRET),
    )
    assert isinstance(build_magento_auth(oauth), IntegrationOAuth1Auth)


def test_build_magento_auth_names_missing_credentials() -> None:
    settings = MagentoSettings(base_url=BASE, auth="integration-oauth1", access_token=SecretStr(ACCESS_TOKEN))
    with pytest.raises(ConfigError) as info:
        build_magento_auth(settings)
    assert "MAGENTO_CONSUMER_KEY" in str(info.value)
    assert "MAGENTO_ACCESS_TOKEN_SECRET" in str(info.value)
    _assert_no_secret(str(info.value))


@pytest.mark.parametrize(
    ("message", "reason", "says"),
    [
        ("More permissions are needed to access this.", "no_role", "Magento_Customer::customer"),
        (
            "Admin token generation is disabled. Please use Adobe IMS ACCESS_TOKEN.",
            "ims_disabled",
            "integration-oauth1",
        ),
    ],
)
def test_admin_401s_that_are_not_a_wrong_password_say_what_to_fix(message: str, reason: str, says: str) -> None:
    store = Store(login=lambda r: _json(401, {"message": message}))
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert len(store.requests) == 1
    assert info.value.reason == reason
    assert info.value.hint is not None and says in info.value.hint
    assert "MAGENTO_PASSWORD" not in info.value.hint  # checking a right password again only counts to the lockout


@pytest.mark.parametrize(
    "message",
    [
        "The token claims could not be verified.",
        "Sign-in refused: the request's claims are incomplete.",
    ],
)
def test_a_401_that_merely_contains_the_letters_ims_is_not_taken_for_adobe_ims(message: str) -> None:
    store = Store(login=lambda r: _json(401, {"message": message}))
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert info.value.reason == "bad_credentials"
    assert info.value.hint is not None and "MAGENTO_PASSWORD" in info.value.hint


def test_a_401_naming_ims_as_a_word_is_adobe_ims() -> None:
    store = Store(login=lambda r: _json(401, {"message": "This store signs admins in with IMS."}))
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert info.value.reason == "ims_disabled"


def test_oauth1_unknown_access_token_names_the_token_not_its_secret() -> None:
    unknown = {"message": "A token with the specified ID wasn't found"}
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_oauth1(), lambda r: _json(401, unknown)).iter_customer_pages())
    assert info.value.reason == "oauth_token"
    assert info.value.hint is not None and "not its Access Token Secret" in info.value.hint


def test_oauth1_acl_refusal_does_not_blame_the_signature() -> None:
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_oauth1(), lambda r: _json(401, NOT_AUTHORIZED)).iter_customer_pages())
    assert info.value.reason == "oauth_acl"
    assert info.value.hint is not None and "Magento_Customer::customer" in info.value.hint
    assert "MAGENTO_CONSUMER_SECRET" not in info.value.hint


def test_oauth1_acl_refusal_also_names_an_authorization_header_the_web_server_dropped() -> None:
    """Magento answers a request without an Authorization header (as a guest) with the same 401."""
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(_oauth1(), lambda r: _json(401, NOT_AUTHORIZED)).iter_customer_pages())
    message, hint = info.value.message, info.value.hint or ""
    assert "Magento accepted the OAuth 1.0a signature" not in message  # it may never have seen one
    assert "either it accepted the OAuth 1.0a signature" in message
    assert "Authorization header never reached Magento" in message
    assert "Magento_Customer::customer" in hint and "Integrations" in hint  # cause 1: the integration's ACL
    assert "CGIPassAuth On" in hint and "HTTP_AUTHORIZATION" in hint  # cause 2: the web server
    _assert_no_secret(message + hint)


def test_totp_refusal_in_a_sync_measures_the_clock_against_the_store() -> None:
    store_time = format_datetime(datetime.now(UTC) - timedelta(seconds=120), usegmt=True)
    store = Store(login=lambda r: _json(401, {"message": "Invalid code."}, Date=store_time))
    auth = AdminTotpAuth(
        base_url=BASE, username="sync-bot", password=SecretStr(PASSWORD), totp_secret=SecretStr(TOTP_SECRET)
    )
    with pytest.raises(MagentoAuthRefused) as info:
        list(_client(auth, store).iter_customer_pages())
    assert info.value.reason == "totp_refused"
    assert info.value.hint is not None and "s ahead of the store's" in info.value.hint


def test_php_notices_before_the_login_token_are_named_as_the_stores_php_output() -> None:
    notice = b"<br />\n<b>Warning</b>:  Undefined array key 'x' in <b>/var/www/html/app/code/Acme/Sso.php</b><br />\n"
    store = Store(
        login=lambda r: httpx2.Response(
            200, content=notice + json.dumps(ADMIN_TOKENS[0]).encode(), headers={"Content-Type": "application/json"}
        )
    )
    with pytest.raises(SyncError) as info:
        list(_client(_admin(), store).iter_customer_pages())
    assert "PHP notices or warnings before the token" in info.value.message
    assert info.value.hint is not None and "display_errors" in info.value.hint
    assert len(store.logins) == 1  # never retried: Magento locks an admin out after 6 failed logins
    _assert_no_secret(str(info.value))


@pytest.mark.parametrize("token", ["eyJhbGciOiJIUzI1NiJ9.CANARY-ö-token", "CANARY\x01token", "CANARY\r\nX-Injected: 1"])
def test_a_login_token_no_http_header_can_carry_is_a_clear_auth_error_that_never_shows_it(token: str) -> None:
    store = Store(login=lambda r: _json(200, token))
    with pytest.raises(MagentoAuthError) as info:
        list(_client(_admin(), store).iter_customer_pages())
    said = f"{info.value.message} {info.value.hint}"
    assert "characters an HTTP header cannot carry" in said
    assert "CANARY" not in said
    assert len(store.logins) == 1 and store.reads == []  # not retried, and never sent
