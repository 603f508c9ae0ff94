"""The Zoho half of ``magento-zoho-sync doctor``, and the scopes the sync needs (also used by ``auth zoho-grant``).

Checks: URL and TLS policy of both Zoho URLs and whether they belong to one data centre; reachability of the CRM
API (an unauthenticated call: a JSON 401 proves it is Zoho's API); the token endpoint (``invalid_client``,
``invalid_code`` for a revoked refresh token, ``Access Denied`` when throttled); the ``api_domain`` of the token
response against ``ZOHO_API_URL``; each scope the sync needs, read scopes by a harmless call (one credit each),
write scopes from the token's ``scope`` list when Zoho returns one (said so when it cannot be checked); the fields
a custom mapping writes and the upsert keys against the org's Contacts fields; and the API credits left when
Zoho reports them (``X-API-CREDITS-REMAINING``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx2

from magento_zoho_sync import jsonio
from magento_zoho_sync.doctor import (
    Check,
    Transport,
    doctor_retry,
    failed,
    passed,
    skipped,
    transport_failure,
    url_check,
    warned,
)
from magento_zoho_sync.errors import ConfigError, SyncError, ZohoAuthError, ZohoError
from magento_zoho_sync.field_check import NO_FIELDS, NO_FIELDS_FIX, field_problems, targets
from magento_zoho_sync.http import ApiStats, build_client
from magento_zoho_sync.loopback import is_loopback_host
from magento_zoho_sync.magento.wire import is_html
from magento_zoho_sync.redact import redact
from magento_zoho_sync.retry import RetriesExhausted, RetryPolicy, TransientStatus, is_transient_status
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.zoho.auth import ApiDomainMismatch, ZohoAuth, ZohoTokenError, ZohoTokenManager
from magento_zoho_sync.zoho.client import API_PREFIX, SCOPES, ZohoClient
from magento_zoho_sync.zoho.regions import region_of_accounts_host, region_of_api_host
from magento_zoho_sync.zoho.scopes import scope_covers

__all__ = ["ScopeNeed", "check_zoho", "missing_scopes", "needed_scopes", "scope_covers"]

#: Below this many API credits left, the doctor warns (a full sync of 10,000 customers needs about 1,000).
LOW_CREDITS = 1000

# ------------------------------------------------------------------------------------------------ scopes


@dataclass(frozen=True)
class ScopeNeed:
    """A Zoho OAuth scope the sync needs, why, and the setting or flag that needs it (None: always)."""

    scope: str
    why: str
    only_for: str | None = None


#: What each Zoho call of the sync is for, and when the sync makes it (None: every sync).
_PURPOSES: tuple[tuple[str, str, str | None], ...] = (
    ("scan_contacts", "read contacts' emails by COQL (full runs)", None),
    ("upsert_contacts", "insert and update contacts", None),
    ("update_contacts", "update a linked contact by id (changes, email changes)", None),
    ("contact_fields", "check the Contacts fields and read their lengths before the first write", None),
    (
        "find_contacts_by_email",
        "look contacts up by email (COQL: new customers, changed emails, contacts deleted in Zoho)",
        None,
    ),
    ("existing_contact_ids", "check that linked contacts still exist (COQL)", "--dry-run"),
    ("add_tags", "tag contacts of deleted customers", "on_deleted=tag"),
    ("delete_contacts", "delete contacts of deleted customers", "on_deleted=delete"),
)


def needed_scopes(on_deleted: str | None = None) -> list[ScopeNeed]:
    """The scopes of :data:`magento_zoho_sync.zoho.client.SCOPES` the sync uses, in a stable order.

    ``on_deleted``: the setting of the sync (``ignore``/``tag``/``delete``) to drop the scopes it does not need;
    None keeps every one (``auth zoho-grant``, which does not know the sync's settings).
    """
    whys: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}  # scope -> the flags that need it; [] once an always-needed call does
    for operation, why, only_for in _PURPOSES:
        condition = only_for
        if on_deleted is not None and only_for in ("on_deleted=tag", "on_deleted=delete"):
            if only_for != f"on_deleted={on_deleted}":
                continue
            condition = None  # configured, so needed by every sync
        for scope in dict.fromkeys(SCOPES[operation].split()):
            whys.setdefault(scope, []).append(why)
            flags = optional.setdefault(scope, [] if condition is None else [condition])
            if condition is None:
                flags.clear()
                optional[scope] = []
    return [
        ScopeNeed(scope, "; ".join(dict.fromkeys(reasons)), optional[scope][0] if optional[scope] else None)
        for scope, reasons in whys.items()
    ]


def missing_scopes(held: Sequence[str], needs: Sequence[ScopeNeed]) -> list[ScopeNeed]:
    return [need for need in needs if not any(scope_covers(h, need.scope) for h in held)]


# ------------------------------------------------------------------------------------------------ Zoho


def check_zoho(settings: Settings, transport: Transport = None) -> list[Check]:
    z, network = settings.zoho, settings.network
    checks = [
        url_check("zoho.accounts_url", "Zoho Accounts URL and TLS", "ZOHO_ACCOUNTS_URL", z.accounts_url, network),
        url_check("zoho.api_url", "Zoho API URL and TLS", "ZOHO_API_URL", z.api_url, network),
        _zoho_region(settings),
    ]
    needs = needed_scopes(settings.sync.on_deleted)
    if not all(c.ok for c in checks[:2]):
        return [*checks, *_zoho_skips("a Zoho URL is refused", needs)]
    stats = ApiStats()
    manager = ZohoTokenManager(
        accounts_url=z.accounts_url,
        api_url=z.api_url,
        client_id=z.client_id,
        client_secret=z.client_secret,
        refresh_token=z.refresh_token,
        timeout=z.timeout,
        retry=doctor_retry(settings),
        stats=stats,
        allow_insecure_http=network.allow_insecure_http,
        verify_tls=network.verify_tls,
        transport=transport,
    )
    http = build_client(
        base_url=z.api_url.rstrip("/") + API_PREFIX,
        setting="ZOHO_API_URL",
        timeout=z.timeout,
        allow_insecure_http=network.allow_insecure_http,
        verify_tls=network.verify_tls,
        transport=transport,
    )
    try:
        probe = _Prober(http, doctor_retry(settings), stats)
        reach = _zoho_reach(probe)
        checks.append(reach)
        token, domain = _zoho_token(manager)
        checks.extend((token, domain))
        if not (token.ok and domain.ok):
            why = "no access token" if not token.ok else "the data centre does not match"
            return [*checks, *_zoho_skips(why, needs)]
        if not reach.ok:
            return [*checks, *_zoho_skips("the Zoho CRM API is not reachable", needs)]
        http.auth = ZohoAuth(manager)
        scopes = _zoho_scopes(probe, manager.scope, needs)
        checks.extend(scopes)
        if all(c.ok for c in scopes if c.key == FIELDS_SCOPE_KEY):
            checks.append(_fields(settings, manager, stats, transport))
        elif probe.unusable.get("/settings/fields"):  # no answer to judge the scope by: it may well be granted
            why = f"GET {API_PREFIX}/settings/fields got no usable answer (see Zoho scope ZohoCRM.settings.fields.READ)"
            checks.append(skipped("zoho.fields", FIELDS_CHECK, f"not checked: {why}"))
        else:
            checks.append(skipped("zoho.fields", FIELDS_CHECK, "not checked: ZohoCRM.settings.fields.READ is missing"))
        checks.append(_credits(stats, probe))
    finally:
        http.close()
        manager.close()
    return checks


def _zoho_skips(why: str, needs: Sequence[ScopeNeed]) -> list[Check]:
    return [skipped(f"zoho.scope.{n.scope}", f"Zoho scope {n.scope}", f"not checked: {why}") for n in needs]


def _zoho_region(settings: Settings) -> Check:
    key, name = "zoho.region", "Zoho data centre of the URLs"
    z = settings.zoho
    accounts = region_of_accounts_host(z.accounts_url)
    api = region_of_api_host(z.api_url)
    if accounts and api and accounts.code != api.code:
        return failed(
            key,
            name,
            f"ZOHO_ACCOUNTS_URL belongs to data centre {accounts.code} but ZOHO_API_URL to {api.code}.",
            f"Set ZOHO_REGION to your org's data centre and remove the explicit URLs, or set ZOHO_API_URL="
            f"{accounts.api_url}.",
        )
    if accounts and api:
        return passed(key, name, f"data centre {api.code}" + (f" (ZOHO_REGION={z.region})" if z.region else ""))
    if accounts or api:  # the other one is a proxy's or a simulator's: nothing to compare it with
        known, other = ("ZOHO_ACCOUNTS_URL", "ZOHO_API_URL") if accounts else ("ZOHO_API_URL", "ZOHO_ACCOUNTS_URL")
        region = (accounts or api).code  # type: ignore[union-attr]
        return passed(
            key, name, f"{known} is in data centre {region}; {other} is not one of Zoho's own hosts: not compared"
        )
    return passed(key, name, "not Zoho's own hosts (a proxy or a simulator): data centre not checked")


@dataclass
class _Answer:
    status: int
    code: str
    message: str
    error: str | None = None  # a transport failure or an error we raised (no HTTP answer to read)
    fix: str | None = None
    not_json: bool = False  # an answer came, but not Zoho's JSON (an HTML page): it says nothing about a scope


class _Prober:
    """One Zoho CRM call with retries, read into an :class:`_Answer` (never raises for a service problem)."""

    def __init__(self, http: httpx2.Client, retry: RetryPolicy, stats: ApiStats) -> None:
        self.http, self.retry, self.stats = http, retry, stats
        self.rate_limited = False
        #: each path probed, and whether its last answer was unusable (no answer, or not Zoho's JSON)
        self.unusable: dict[str, bool] = {}

    def __call__(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None) -> _Answer:
        answer = self._ask(method, path, params=params, body=body)
        self.unusable[path] = answer.error is not None
        return answer

    def _ask(self, method: str, path: str, *, params: dict[str, str] | None, body: Any) -> _Answer:
        def attempt() -> httpx2.Response:
            response = self.http.request(method, path, params=params, json=body)
            self.stats.charge_zoho(1, response)
            if is_transient_status(response.status_code):
                raise TransientStatus.from_response("Zoho CRM", response)
            return response

        where = f"Zoho CRM at {self.http.base_url.host}"
        try:
            response = self.retry.call(f"doctor zoho {method} {path}", attempt)
        except RetriesExhausted as exc:
            if isinstance(exc.last, TransientStatus):
                self.rate_limited |= exc.last.status_code == 429
                return _Answer(
                    exc.last.status_code,
                    "",
                    "",
                    error=f"{where} kept answering HTTP {exc.last.status_code} to {method} {API_PREFIX}{path}.",
                )
            detail, fix = transport_failure(exc.last, where, "ZOHO_API_URL (or ZOHO_REGION)", str(self.http.base_url))
            return _Answer(0, "", "", error=detail, fix=fix)
        except httpx2.HTTPError as exc:
            detail, fix = transport_failure(exc, where, "ZOHO_API_URL (or ZOHO_REGION)", str(self.http.base_url))
            return _Answer(0, "", "", error=detail, fix=fix)
        except SyncError as exc:
            return _Answer(0, "", "", error=redact(str(exc)))
        try:
            payload = jsonio.loads(response.content) if response.content.strip() else {}
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            kind = "an HTML page" if is_html(response) else "a body that is not a JSON object"
            return _Answer(
                response.status_code,
                "",
                "",
                error=f"{where} answered HTTP {response.status_code} with {kind}, not Zoho's JSON.",
                fix="Check ZOHO_API_URL (e.g. https://www.zohoapis.eu, or ZOHO_REGION); if Zoho's other calls work, "
                "something between this machine and Zoho (a proxy, a firewall) answers this one.",
                not_json=True,
            )
        return _Answer(response.status_code, str(payload.get("code") or ""), str(payload.get("message") or ""))


def _zoho_reach(probe: _Prober) -> Check:
    key, name = "zoho.reachable", "Zoho CRM API reachable"
    answer = probe("GET", "/org")  # without credentials: a JSON 401 proves the host is Zoho's CRM API
    if answer.error:
        return failed(key, name, answer.error, answer.fix)
    if 300 <= answer.status < 400:
        return failed(
            key,
            name,
            f"GET {API_PREFIX}/org is redirected.",
            "Set ZOHO_API_URL to your data centre's API domain (or ZOHO_REGION).",
        )
    return passed(
        key, name, f"Zoho CRM API answers at {probe.http.base_url.host} (HTTP {answer.status} without a token)"
    )


def _zoho_token(manager: ZohoTokenManager) -> tuple[Check, Check]:
    key, name = "zoho.token", "Zoho access token"
    dc_key, dc_name = "zoho.data_centre", "Zoho data centre (api_domain)"
    try:
        manager.access_token()
    except ApiDomainMismatch as exc:
        issued = passed(key, name, f"Zoho Accounts at {manager.accounts_url} issued an access token")
        return issued, failed(dc_key, dc_name, f"data-centre mismatch: {exc.message}", exc.hint)
    except ZohoTokenError as exc:
        lowered = exc.error.lower()
        finding = (
            "the client is refused (invalid_client)"
            if lowered.startswith("invalid_client")
            else "the refresh token is revoked or unknown (invalid_code)"
            if lowered == "invalid_code"
            else "Zoho throttles token requests (Access Denied)"
            if "access denied" in lowered
            else f"token request refused ({exc.error})"
        )
        return failed(key, name, f"{finding}: {exc.message}", exc.hint), skipped(
            dc_key, dc_name, "not checked: no token"
        )
    except (ZohoAuthError, ZohoError, ConfigError) as exc:
        return failed(key, name, exc.message, exc.hint), skipped(dc_key, dc_name, "not checked: no token")
    issued = passed(key, name, f"Zoho Accounts at {manager.accounts_url} accepted the client and the refresh token")
    if manager.warnings:
        return issued, warned(dc_key, dc_name, " ".join(manager.warnings))
    if manager.api_domain is None:
        return issued, passed(dc_key, dc_name, "the token response names no api_domain; ZOHO_API_URL is used")
    named, configured = httpx2.URL(manager.api_domain), httpx2.URL(manager.api_url)
    if is_loopback_host(named.host) and (named.host, named.port) != (configured.host, configured.port):
        return issued, warned(
            dc_key,
            dc_name,
            f"the token response names {manager.api_domain}, not ZOHO_API_URL {manager.api_url} (both on this "
            "machine, so no data centre can be compared)",
            f"Set ZOHO_API_URL={manager.api_domain} if that is the CRM API these tokens belong to.",
        )
    return issued, passed(dc_key, dc_name, f"the token response names {manager.api_domain}, which matches ZOHO_API_URL")


#: Harmless calls that prove a read scope (each costs one API credit).
_PROBES: dict[str, tuple[str, str, dict[str, str] | None, Any]] = {
    "ZohoCRM.settings.fields.READ": ("GET", "/settings/fields", {"module": "Contacts"}, None),
    "ZohoCRM.modules.contacts.READ": ("GET", "/Contacts", {"fields": "Last_Name", "per_page": "1"}, None),
    "ZohoCRM.coql.READ": (
        "POST",
        "/coql",
        None,
        {"select_query": "select id from Contacts where id is not null limit 1"},
    ),
}
_REGRANT_ADVICE = (
    "Create a new refresh token whose grant includes {scope} (API console > Self Client > Generate Code), then run "
    "`magento-zoho-sync auth zoho-grant`; docs/authentication.md lists every scope."
)


def _zoho_scopes(probe: _Prober, held: Sequence[str], needs: Sequence[ScopeNeed]) -> list[Check]:
    """One check per scope; once a probe fails for a reason that is not the scope (Zoho unreachable, the token
    refused by another server), the probes after it are skipped instead of failing again for the same cause."""
    checks: list[Check] = []
    blocked: str | None = None
    for need in needs:
        if blocked is not None and need.scope in _PROBES:
            checks.append(skipped(f"zoho.scope.{need.scope}", f"Zoho scope {need.scope}", f"not checked: {blocked}"))
            continue
        check, cause = _scope_check(probe, held, need)
        checks.append(check)
        blocked = blocked or cause
    return checks


def _scope_check(probe: _Prober, held: Sequence[str], need: ScopeNeed) -> tuple[Check, str | None]:
    """The check, and (when its probe failed for a reason every probe would meet) what that reason was."""
    key, name = f"zoho.scope.{need.scope}", f"Zoho scope {need.scope}"
    purpose = need.why + (f" (only for {need.only_for})" if need.only_for else "")
    fix = _REGRANT_ADVICE.format(scope=need.scope)

    def bad(detail: str, how: str | None) -> Check:
        """A scope only an optional feature needs is a warning; any other a failure."""
        return warned(key, name, detail, how) if need.only_for else failed(key, name, detail, how)

    spec = _PROBES.get(need.scope)
    if spec is not None:
        method, path, params, body = spec
        answer = probe(method, path, params=params, body=body)
        call = f"{method} {API_PREFIX}{path}"
        if answer.error and answer.not_json:
            unjudged = f"cannot be checked: {answer.error} (that says nothing about the scope)"
            return bad(unjudged, answer.fix), f"the same failure as {name}"
        if answer.error:
            return bad(f"{call} failed: {answer.error}", answer.fix), f"the same failure as {name}"
        if answer.code == "OAUTH_SCOPE_MISMATCH":
            also = " (COQL also needs ZohoCRM.settings.fields.READ)" if path == "/coql" else ""
            return bad(f"missing: {call} was refused with OAUTH_SCOPE_MISMATCH{also}; needed to {purpose}", fix), None
        if answer.status in (401, 403):
            hint = (
                "Give the Zoho user's profile access to Contacts (Setup > Users and Control > Profiles)."
                if answer.status == 403
                else "Zoho rejected a fresh access token, so ZOHO_API_URL is probably of another data centre or "
                "environment (production vs sandbox) than the refresh token; set ZOHO_REGION."
            )
            refused = bad(f"{call} was refused (HTTP {answer.status} {answer.code}: {answer.message})", hint)
            return refused, (f"the same refusal as {name}" if answer.status == 401 else None)
        if answer.status >= 400:
            return bad(f"{call} answered HTTP {answer.status} {answer.code}: {answer.message}", None), None
        return passed(key, name, f"granted: {call} works; needed to {purpose}"), None
    if held:
        listed = "the token's scope list"
        if any(scope_covers(h, need.scope) for h in held):
            return passed(key, name, f"granted according to {listed}; needed to {purpose}"), None
        return bad(f"missing from {listed}; needed to {purpose}", fix), None
    return skipped(
        key,
        name,
        "cannot be checked: only a write would prove it, and Zoho did not return the token's scopes; "
        f"needed to {purpose}. A missing scope shows as OAUTH_SCOPE_MISMATCH in the first sync.",
    ), None


FIELDS_CHECK = "Zoho fields of the mapping"
FIELDS_SCOPE_KEY = "zoho.scope.ZohoCRM.settings.fields.READ"


def _fields(settings: Settings, manager: ZohoTokenManager, stats: ApiStats, transport: Transport) -> Check:
    """The Zoho fields the settings name (a custom mapping, other upsert keys) against the org's Contacts fields."""
    key, name = "zoho.fields", FIELDS_CHECK
    spec, match = settings.mapping_spec(), settings.zoho.duplicate_check_fields
    client = ZohoClient.from_settings(settings, stats=stats, transport=transport, token_manager=manager)
    try:
        fields = client.contact_fields()
    except SyncError as exc:
        return failed(key, name, f"GET {API_PREFIX}/settings/fields failed: {exc.message}", exc.hint)
    finally:
        client.close()
    if not fields:
        return failed(key, name, f"{NO_FIELDS}: the fields of the mapping cannot be checked.", NO_FIELDS_FIX)
    problems = field_problems(spec, match, fields)
    if problems:
        return failed(key, name, "; ".join(problems))
    have, on = ", ".join(targets(spec)), ", ".join(match)
    return passed(key, name, f"Zoho's Contacts module has {have} and can match on {on}")


def _credits(stats: ApiStats, probe: _Prober) -> Check:
    key, name = "zoho.credits", "Zoho API credits"
    remaining = stats.zoho_credits_remaining
    fix = "Wait for credits to come back (a rolling 24 hours), or buy more; lower zoho.concurrency meanwhile."
    if probe.rate_limited or remaining == 0:
        return failed(key, name, "Zoho answers 429 TOO_MANY_REQUESTS: the org's API credits are used up.", fix)
    if remaining is None:
        return passed(key, name, "not reported (Zoho reports them once half of the daily allowance is used)")
    if remaining < LOW_CREDITS:
        return warned(key, name, f"only {remaining} API credits left in the rolling 24 hours", fix)
    return passed(key, name, f"{remaining} API credits left in the rolling 24 hours")
