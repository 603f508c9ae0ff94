"""``magento-zoho-sync doctor``: check both sides of the sync and say what to fix, one line per check.

The checks are data (:class:`Check`), made by :func:`run_doctor`. Each side is checked on its own, so a
failing Magento does not hide a Zoho problem and the other way round; inside a side, a check whose premise
failed is reported as skipped. Every text goes through :func:`magento_zoho_sync.redact.redact` and is built
from setting names, hosts, status codes and the services' messages, never from a credential.

Magento: URL and TLS policy, reachability (an unauthenticated customer search: JSON, the route, the store code,
the ``Date`` header), the clock against that ``Date`` header (TOTP and OAuth timestamps depend on it), the
``MAGENTO_AUTH`` mode (one login at most: Magento locks an admin after 6 failures), and a ``pageSize=1``
customer search with the credentials.

Zoho: URL and TLS policy and data-centre consistency of the two URLs, reachability of the CRM API, the token
endpoint (``invalid_client`` / ``invalid_code`` / throttled), the ``api_domain`` of the token response, each
scope the sync needs (read scopes by a harmless read or metadata call, write scopes from the token's ``scope``
list when Zoho returns one), and the API credits left when Zoho reports them.

State (:mod:`magento_zoho_sync.doctor_state`): the state file's folder, whether it can be read, and whether it
holds the sync of this Magento store into this Zoho org (a sync refuses another one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx2

from magento_zoho_sync.errors import ConfigError, SyncError
from magento_zoho_sync.http import ENCODING_HINT, ApiStats, build_client, check_url, is_loopback_host, transport_problem
from magento_zoho_sync.magento.auth import OAUTH1_ADVICE, MagentoAuthRefused, build_magento_auth, clock_skew_note
from magento_zoho_sync.magento.client import MagentoClient
from magento_zoho_sync.magento.search import customer_keyset_query
from magento_zoho_sync.magento.wire import PHP_OUTPUT_HINT, error_body, error_message, is_html, php_output, server_date
from magento_zoho_sync.mapping_options import with_option_labels
from magento_zoho_sync.proxy import proxy_hint, proxy_note
from magento_zoho_sync.redact import redact
from magento_zoho_sync.retry import RetriesExhausted, RetryPolicy, TransientStatus, is_transient_status
from magento_zoho_sync.settings import NetworkSettings, Settings
from magento_zoho_sync.tls import tls_failure, tls_fix

__all__ = [
    "Check",
    "check_magento",
    "exit_code",
    "render",
    "render_json",
    "run_doctor",
    "run_doctor_despite",
    "settings_failure",
]

Status = Literal["ok", "warn", "skip", "fail"]
Transport = httpx2.BaseTransport | None

#: TOTP codes are accepted this many seconds off (twofactorauth/google/leeway); OAuth timestamps this far ahead.
TOTP_LEEWAY = 29.0
OAUTH_FUTURE_LIMIT = 600.0
SKEW_WARNING = 60.0


@dataclass(frozen=True)
class Check:
    """One finding: ``ok`` is False only for ``status == "fail"``; ``fix`` says what to change."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    key: str = ""
    status: Status = "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(key: str, name: str, detail: str) -> Check:
    return Check(name, True, redact(detail), key=key)


def warned(key: str, name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, True, redact(detail), redact(fix) if fix else None, key=key, status="warn")


def skipped(key: str, name: str, detail: str) -> Check:
    return Check(name, True, redact(detail), key=key, status="skip")


def failed(key: str, name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, False, redact(detail), redact(fix) if fix else None, key=key, status="fail")


def exit_code(checks: Sequence[Check]) -> int:
    """0 when every check passed (warnings and skips included), 2 otherwise."""
    return 0 if all(c.ok for c in checks) else 2


# ------------------------------------------------------------------------------------------------ helpers


def doctor_retry(settings: Settings) -> RetryPolicy:
    """Fewer attempts than a sync: the doctor should answer within seconds."""
    r = settings.retry
    return RetryPolicy(attempts=min(r.attempts, 3), timeout=min(r.timeout, 30.0), wait_initial=r.wait_initial)


def transport_failure(exc: BaseException | None, where: str, setting: str, url: str) -> tuple[str, str]:
    """(detail, fix) for a request to ``url`` that never got an answer (or one that could not be decoded); names
    TLS failures as such, and the proxy the request went through when one did."""
    via = proxy_note(url)
    if isinstance(exc, httpx2.DecodingError):
        return (
            f"{where}{via} answered with a body that is not encoded as its Content-Encoding header says.",
            ENCODING_HINT,
        )
    tls, fix = tls_failure(exc), tls_fix(exc, setting.partition(" ")[0])
    if tls == "certificate" and fix:
        return f"TLS failed with {where}{via}: the certificate could not be verified.", fix
    if tls == "plain_http" and fix:
        return f"TLS handshake failed with {where}{via}: the port answers plain http, not https.", fix
    if tls == "tls_port" and fix:
        return f"{where} hung up on a plain http request{via}: the port speaks https.", fix
    if tls == "handshake":
        return (
            f"TLS handshake failed with {where}{via} ({transport_problem(exc)}).",
            f"Check the scheme and port in {setting}, and the server's TLS setup (protocol versions, SNI).",
        )
    return (
        f"{where} could not be reached{via} ({transport_problem(exc)}).",
        proxy_hint(url, exc, f"Check {setting}, DNS, the network and firewalls."),
    )


def url_check(key: str, name: str, setting: str, url: str, network: NetworkSettings) -> Check:
    try:
        parsed = check_url(url, setting=setting, allow_insecure_http=network.allow_insecure_http)
    except ConfigError as exc:
        return failed(key, name, exc.message, exc.hint)
    via = proxy_note(url)
    if parsed.scheme == "https" and network.verify_tls:
        return passed(key, name, f"{url}: https, certificates verified{via}")
    if parsed.scheme == "https":
        return warned(
            key, name, f"{url}: https, but certificates are NOT verified{via}", "Remove MZSYNC_VERIFY_TLS=false."
        )
    if is_loopback_host(parsed.host):
        return passed(key, name, f"{url}: plain http to this machine (local testing only)")
    return warned(
        key, name, f"{url}: plain http, credentials cross the network unencrypted{via}", f"Use https:// in {setting}."
    )


# ------------------------------------------------------------------------------------------------ Magento


def check_magento(settings: Settings, transport: Transport = None) -> list[Check]:
    m, network = settings.magento, settings.network
    checks = [url_check("magento.url", "Magento URL and TLS", "MAGENTO_BASE_URL", m.base_url, network)]
    if not checks[0].ok:
        return [*checks, *_magento_skips("the URL is refused")]
    reach, server_time = _magento_reach(settings, transport)
    checks.append(reach)
    checks.append(_clock_check(m.auth, server_time))
    if not reach.ok:
        return [*checks, *_magento_skips("Magento's REST API is not reachable")]
    checks.extend(_magento_login(settings, transport))
    return checks


def _magento_skips(why: str) -> list[Check]:
    return [
        skipped("magento.auth", "Magento login", f"not checked: {why}"),
        skipped("magento.customers", "Magento customer read", f"not checked: {why}"),
    ]


def _magento_reach(settings: Settings, transport: Transport) -> tuple[Check, datetime | None]:
    key, name = "magento.reachable", "Magento reachable"
    m = settings.magento
    base = f"{m.base_url.rstrip('/')}/rest/{m.store_code}/V1"
    path = "/customers/search"
    with build_client(
        base_url=base,
        setting="MAGENTO_BASE_URL",
        timeout=m.timeout,
        allow_insecure_http=settings.network.allow_insecure_http,
        verify_tls=settings.network.verify_tls,
        transport=transport,
    ) as http:

        def attempt() -> httpx2.Response:
            response = http.get(f"{path}?{customer_keyset_query(after_id=0, page_size=1)}")
            if is_transient_status(response.status_code) and not is_html(response):
                raise TransientStatus.from_response("Magento", response)
            return response

        try:
            response = doctor_retry(settings).call("doctor magento GET /customers/search", attempt)
        except RetriesExhausted as exc:
            if isinstance(exc.last, TransientStatus):
                return failed(
                    key, name, f"Magento kept answering HTTP {exc.last.status_code}.", "Try again later."
                ), None
            detail, fix = transport_failure(
                exc.last, f"Magento at {http.base_url.host}", "MAGENTO_BASE_URL", str(http.base_url)
            )
            return failed(key, name, detail, fix), None
        except httpx2.HTTPError as exc:
            detail, fix = transport_failure(
                exc, f"Magento at {http.base_url.host}", "MAGENTO_BASE_URL", str(http.base_url)
            )
            return failed(key, name, detail, fix), None
    status, when = response.status_code, server_date(response)
    where = f"GET /rest/{m.store_code}/V1{path}"
    base_fix = "Set MAGENTO_BASE_URL to the store's base URL, without /rest or /admin (e.g. https://shop.example.com)."
    if 300 <= status < 400:
        location = httpx2.URL(response.headers.get("Location", "?"))  # its query and user:pass@ may be private
        shown = location.copy_with(userinfo=b"", query=None, fragment=None)
        target = str(shown) + (" (with a query)" if location.query else "")
        return failed(key, name, f"{where} is redirected (HTTP {status}) to {target}.", base_fix), when
    if status == 503 and is_html(response):
        return failed(key, name, "Magento answers 503 with an HTML page: maintenance mode.", "Try again later."), when
    if php_output(response):
        detail = f"{where} answered HTTP {status} with PHP notices or warnings before its JSON."
        return failed(key, name, detail, PHP_OUTPUT_HINT), when
    if is_html(response) or (error_body(response) is None and status != 200):
        return failed(
            key, name, f"{where} answered HTTP {status} with {error_message(response).rstrip('.')}.", base_fix
        ), when
    message = error_message(response)
    if status == 400 and "cannot be processed" in message.lower():
        return failed(
            key,
            name,
            f"Magento does not know the store code {m.store_code!r} ({message}).",
            "Set MAGENTO_STORE_CODE to all (the default) or to a store view code of the store.",
        ), when
    if status == 404:
        return failed(key, name, f"{where} has no route (HTTP 404: {message}).", base_fix), when
    if status in (200, 401, 403):
        return passed(
            key, name, f"Magento REST API answers at {response.request.url.host} (HTTP {status} without credentials)"
        ), when
    return failed(key, name, f"{where} answered HTTP {status}: {message.rstrip('.')}.", base_fix), when


def _clock_check(mode: str, server: datetime | None) -> Check:
    key, name = "magento.clock", "Magento clock"
    if server is None:
        return skipped(key, name, "not checked: the store sent no Date header")
    skew = (datetime.now(UTC) - server).total_seconds()
    note = clock_skew_note(server)
    fix = "Synchronise this machine's clock (NTP)."
    if mode == "admin-totp" and abs(skew) > TOTP_LEEWAY:
        return failed(key, name, f"{note} TOTP codes are only accepted {TOTP_LEEWAY:.0f} s off.", fix)
    if mode == "integration-oauth1" and skew > OAUTH_FUTURE_LIMIT:
        return failed(key, name, f"{note} Magento refuses OAuth timestamps more than 600 s ahead.", fix)
    if abs(skew) >= SKEW_WARNING:
        return warned(key, name, note, fix)
    return passed(key, name, note)


_MODE_SUCCESS = {
    "admin": "admin user {user!r} logged in (POST /V1/integration/admin/token)",
    "admin-totp": "admin user {user!r} logged in with a TOTP code (POST /V1/tfa/provider/google/authenticate)",
    "integration-bearer": "the store accepts the integration access token (Bearer)",
    "integration-oauth1": "the OAuth 1.0a HMAC-SHA256 signature was accepted",
}
_OAUTH_ACL_UNSURE = (
    "Magento gives the same 'not authorized' answer to an accepted OAuth 1.0a signature whose integration may not "
    "read customers and to a request whose Authorization header never reached it"
)
_ACL_FIX = "Give the {who} the ACL resource Magento_Customer::customer (Customers > All Customers): {where}. {advice}"


def _magento_login(settings: Settings, transport: Transport) -> list[Check]:
    m = settings.magento
    auth_name, read_name = f"Magento login ({m.auth})", "Magento customer read"
    success = _MODE_SUCCESS[m.auth].format(user=m.username)
    integration = m.auth.startswith("integration")
    who, where = (
        ("integration", "System > Extensions > Integrations > Edit > API, then reactivate it")
        if integration
        else ("admin user's role", "System > Permissions > User Roles > Role Resources")
    )
    acl_fix = _ACL_FIX.format(who=who, where=where, advice="" if integration else OAUTH1_ADVICE)
    try:
        auth = build_magento_auth(m)
    except ConfigError as exc:
        return [failed("magento.auth", auth_name, exc.message, exc.hint), _skip_read("the credentials are unusable")]
    client = MagentoClient(
        base_url=m.base_url,
        auth=auth,
        store_code=m.store_code,
        page_size=1,
        timeout=m.timeout,
        retry=doctor_retry(settings),
        stats=ApiStats(),
        allow_insecure_http=settings.network.allow_insecure_http,
        verify_tls=settings.network.verify_tls,
        transport=transport,
    )
    try:
        page = next(iter(client.iter_customer_pages(page_size=1)), None)
    except MagentoAuthRefused as exc:
        if exc.reason == "oauth_acl":  # a good signature the ACL refused, or no Authorization header reached PHP
            return [
                skipped("magento.auth", auth_name, f"not confirmed: {_OAUTH_ACL_UNSURE}"),
                failed("magento.customers", read_name, exc.message, exc.hint),
            ]
        if exc.reason == "token_refused":  # a fresh admin token refused: the login worked, the ACL did not
            return [
                passed("magento.auth", auth_name, success),
                failed("magento.customers", read_name, f"may not read customers: {exc.message}", acl_fix),
            ]
        fix = _BEARER_FIX if exc.reason == "bearer_refused" else exc.hint
        return [failed("magento.auth", auth_name, _auth_finding(exc), fix), _skip_read("the login failed")]
    except SyncError as exc:
        logins = getattr(auth, "logins", None)  # admin modes count their logins; integrations never log in
        if logins == 0:
            return [failed("magento.auth", auth_name, exc.message, exc.hint), _skip_read("the login failed")]
        first = (
            passed("magento.auth", auth_name, success)
            if logins
            else skipped("magento.auth", auth_name, "not confirmed: the request failed before Magento judged it")
        )
        return [first, failed("magento.customers", read_name, exc.message, exc.hint)]
    else:
        read = "customer search works (the store has no customers yet)" if page is None else "customer search works"
        return [
            passed("magento.auth", auth_name, success),
            passed("magento.customers", read_name, f"{read} (pageSize=1)"),
            *_option_labels(settings, client),
        ]
    finally:
        client.close()


def _option_labels(settings: Settings, client: MagentoClient) -> list[Check]:
    """The options of the attributes the mapping reads with ``option_label`` or ``option_labels``, read as a sync
    reads them (a check only when the mapping has one)."""
    name = "Magento option labels"
    spec = settings.mapping_spec()
    try:
        resolved = with_option_labels(spec, client.attribute_metadata)
    except SyncError as exc:
        return [failed("magento.option_labels", name, exc.message, exc.hint)]
    if resolved is spec:
        return []
    read = {
        str(rule.path): len(transform.labels)
        for rule in resolved.rules
        for transform in rule.transforms
        if transform.labels is not None
    }
    listed = ", ".join(f"{path} ({count} options)" for path, count in read.items())
    used = sorted({t.name for rule in resolved.rules for t in rule.transforms if t.labels is not None})
    return [passed("magento.option_labels", name, f"read for {' and '.join(used)}: {listed}")]


def _skip_read(why: str) -> Check:
    return skipped("magento.customers", "Magento customer read", f"not checked: {why}")


_FINDINGS = {
    "two_factor_required": "2FA required: the store refuses plain admin tokens for this user (use admin-totp)",
    "two_factor_setup": "2FA is not set up with Google Authenticator for this user",
    "bearer_refused": "integration token refused: Bearer-style use of integration tokens is off in the store "
    "(the default since 2.4.4), or the integration may not read customers",
    "oauth_signature": "OAuth signature rejected",
    "oauth_clock": "OAuth timestamp or nonce rejected",
    "oauth_consumer": "OAuth consumer key unknown",
    "oauth_revoked": "the integration's access token is revoked",
    "bad_credentials": "user name or password refused (or the user is locked after 6 failures)",
    "no_role": "the admin user has no role (the password was accepted)",
    "ims_disabled": "admin tokens are disabled: the store uses Adobe IMS",
    "totp_refused": "the one-time code was refused: MAGENTO_TOTP_SECRET or this machine's clock",
    "oauth_token": "the integration's access token is unknown or malformed",
}


#: The store setting, said without "Bearer <word>" (which redaction would mask as a credential).
_BEARER_FIX = (
    "Either allow it: Stores > Configuration > Services > OAuth > Consumer Settings, the 'standalone Bearer' option "
    "= Yes (bin/magento config:set oauth/consumer/enable_integration_as_bearer 1); or leave it off and use "
    "MAGENTO_AUTH=integration-oauth1 with MAGENTO_CONSUMER_KEY, MAGENTO_CONSUMER_SECRET, MAGENTO_ACCESS_TOKEN and "
    "MAGENTO_ACCESS_TOKEN_SECRET (recommended). Also check that the integration is active and may read Customers "
    "(Magento_Customer::customer)."
)


def _auth_finding(exc: MagentoAuthRefused) -> str:
    finding = _FINDINGS.get(exc.reason)
    return f"{finding}. {exc.message}" if finding else exc.message


# ------------------------------------------------------------------------------------------------ running


def run_doctor(settings: Settings, *, transport: Transport = None) -> list[Check]:
    """Every check, Magento first, then Zoho, then the state file; an unexpected error in one is a failed check, not
    a crash."""
    from magento_zoho_sync.doctor_state import check_state  # noqa: PLC0415 - they build on this module
    from magento_zoho_sync.doctor_zoho import check_zoho  # noqa: PLC0415

    checks: list[Check] = []
    sides: tuple[tuple[str, Callable[[Settings, Transport], list[Check]]], ...] = (
        ("magento", check_magento),
        ("zoho", check_zoho),
        ("state", lambda settings, _: check_state(settings)),
    )
    for side, run in sides:
        try:
            checks.extend(run(settings, transport))
        except Exception as exc:  # a bug must not hide the other side's findings
            checks.append(
                failed(f"{side}.unexpected", f"{side.capitalize()} checks", f"unexpected {type(exc).__name__}: {exc}")
            )
    return checks


#: Stand-ins for one service's settings, so that the other service is still checked when only these are wrong
#: ("a Magento problem does not hide a Zoho one"). They are never used to call anything.
_STAND_INS: dict[str, dict[str, Any]] = {
    "magento": {
        "magento.auth": "integration-bearer",
        "magento.base_url": "https://magento.invalid",
        "magento.access_token": "stand-in-" + "0" * 23,
    },
    "zoho": {
        "zoho.region": "us",
        "zoho.accounts_url": "https://accounts.zoho.invalid",
        "zoho.api_url": "https://www.zohoapis.invalid",
        "zoho.client_id": "stand-in",
        "zoho.client_secret": "stand-in",
        "zoho.refresh_token": "stand-in",
    },
}

#: Settings that have a default but choose what is checked: a wrong value never falls back to the default (a typo
#: in MAGENTO_AUTH must not check, and report on, the admin login the user did not choose).
_NO_FALLBACK = frozenset({"magento.auth", "zoho.region"})


def run_doctor_despite(
    exc: ConfigError, load: Callable[[Mapping[str, Any]], Settings], *, transport: Transport = None
) -> list[Check]:
    """The settings could not be loaded: their problems, then the checks of the other service when every problem
    is in one service's settings (loaded again with stand-ins for that service)."""
    checks = settings_failure(exc)
    names = [check.detail.partition(":")[0] for check in checks]
    # a wrong setting that has a default (a page size, a timeout) does not stop the checks: they run with the
    # default; a wrong URL, credential or auth mode does, for its side
    defaults = {name: default for name in names if (default := _default_of(name)) is not None}
    sides = {name.partition(".")[0] for name in names if name not in defaults}
    if not sides:
        try:
            return checks + run_doctor(load(defaults), transport=transport)
        except ConfigError:
            return checks + _not_checked(("magento", "zoho", "state"))
    if len(sides) != 1 or not sides <= set(_STAND_INS):
        return checks + _not_checked(("magento", "zoho", "state"))
    (broken,) = sides
    stand_ins = {name: "stand-in" for name in names if name.startswith(f"{broken}.") and _is_setting(name)}
    try:
        settings = load({**defaults, **stand_ins, **_STAND_INS[broken]})
    except ConfigError:
        return checks + _not_checked(("magento", "zoho", "state"))
    checks.extend(_not_checked((broken,)))
    if broken == "magento":
        from magento_zoho_sync.doctor_zoho import check_zoho  # noqa: PLC0415 - it builds on this module

        return checks + check_zoho(settings, transport) + _not_checked(("state",))
    return checks + check_magento(settings, transport) + _not_checked(("state",))


_SIDE_LINES = {
    "magento": ("magento.all", "Magento checks", "not checked: the Magento settings above are wrong"),
    "zoho": ("zoho.all", "Zoho checks", "not checked: the Zoho settings above are wrong"),
    "state": ("state.file", "State file", "not checked: the settings above are wrong"),
}


def _not_checked(sides: Sequence[str]) -> list[Check]:
    """One skipped line per side that the wrong settings stop (so that every side is listed)."""
    return [skipped(*_SIDE_LINES[side]) for side in sides]


def _field(setting: str) -> Any:
    section, _, key = setting.partition(".")
    model = Settings.model_fields.get(section)
    fields = getattr(model.annotation, "model_fields", {}) if model is not None else {}
    return fields.get(key)


def _is_setting(setting: str) -> bool:
    return _field(setting) is not None


def _default_of(setting: str) -> Any:
    """The default value of ``section.key``, or None (no such setting, one without a default, or one that
    chooses what is checked)."""
    field = _field(setting)
    if field is None or field.is_required() or setting in _NO_FALLBACK:
        return None
    return field.get_default(call_default_factory=True)


def settings_failure(exc: ConfigError) -> list[Check]:
    """The doctor's answer when the settings cannot even be loaded: one failed check per problem."""
    lines = [line.strip().removeprefix("- ") for line in exc.message.splitlines()]
    problems = [line for line in lines[1:] if line] if len(lines) > 1 else lines
    problems = [p.removeprefix("Invalid settings: ") for p in problems]
    fix = exc.hint or "Set what the line names: README's Settings table; docs/authentication.md for credentials."
    return [failed(f"settings.{n}", "Settings", problem, fix) for n, problem in enumerate(problems, 1)]


_MARKS: dict[Status, str] = {"ok": "ok  ", "warn": "WARN", "skip": "skip", "fail": "FAIL"}


def render(checks: Sequence[Check]) -> str:
    """One line per check (``FAIL`` lines followed by their fix), grouped by side, and a verdict."""
    lines: list[str] = []
    side = ""
    width = max((len(c.name) for c in checks), default=10)
    for check in checks:
        current = check.key.partition(".")[0]
        if current != side:
            side = current
            lines.append({"magento": "Magento", "zoho": "Zoho"}.get(side, side.capitalize()))
        lines.append(f"  {_MARKS[check.status]}  {check.name.ljust(width)}  {check.detail}")
        if check.fix and check.status in ("fail", "warn"):
            lines.append(f"  {'':4}  {'':{width}}  fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    lines.append(
        f"{failed} of {len(checks)} checks failed." if failed else f"All {len(checks)} checks passed (exit 0)."
    )
    return redact("\n".join(lines))


def render_json(checks: Sequence[Check]) -> str:
    return redact(json.dumps({"ok": exit_code(checks) == 0, "checks": [c.as_dict() for c in checks]}, indent=2))
