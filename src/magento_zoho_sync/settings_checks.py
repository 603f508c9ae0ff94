"""The checks of the settings that span several of them, made on the merged layers before the models validate
them: the Zoho region fills the URLs no layer gives, the credentials each ``MAGENTO_AUTH`` mode needs are
required, and the URLs are checked (https, no credentials, no query, not ending in the API path the tool adds).

Each problem is one line that names the setting and the variable to fix (:func:`where`).
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from magento_zoho_sync.loopback import is_loopback_host
from magento_zoho_sync.settings_sources import ENV_BY_SETTING, ZOHO_REGIONS
from magento_zoho_sync.zoho.regions import region_of_accounts_host, region_of_api_host

log = logging.getLogger("magento_zoho_sync.settings")

#: Which credentials each Magento auth mode needs (setting names under ``magento``).
AUTH_MODE_CREDENTIALS: Final[dict[str, tuple[str, ...]]] = {
    "admin": ("username", "password"),
    "admin-totp": ("username", "password", "totp_secret"),
    "integration-bearer": ("access_token",),
    "integration-oauth1": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
}


def where(setting: str) -> str:
    section, _, key = setting.partition(".")
    var = ENV_BY_SETTING.get(setting)
    env_hint = f"{var.name} or " if var else ""
    return f"set {env_hint}[{section}] {key} in the config file"


def quoted(value: Any) -> bool:
    """A text wrapped in a pair of quotes, as Docker's ``--env-file`` (and a pasted ``export X='...'``) leaves it."""
    text = value.strip() if isinstance(value, str) else ""
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'"


#: What to say of a value in quotes: the quotes are part of the value, and only the user can remove them.
QUOTES_FIX: Final = "is in quotes, which are kept as part of the value (Docker's --env-file keeps them): remove them"


def _check_url(setting: str, value: Any, allow_insecure: bool) -> str | None:
    name = ENV_BY_SETTING[setting].name
    if not isinstance(value, str) or not value.strip():
        return None
    if quoted(value):
        return f"{setting}: {name} {QUOTES_FIX}"
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname or ""
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return f"{setting}: {name} is not a valid URL; expected https://host[:port][/path]"
    if parts.scheme not in {"http", "https"} or not host:
        return f"{setting}: {name} must be an https:// URL with a host name"
    if parts.username or parts.password:
        return f"{setting}: {name} must not contain credentials; use the credential settings instead"
    if parts.query or parts.fragment:
        return f"{setting}: {name} must not contain a query string or fragment"
    if parts.scheme == "http" and not allow_insecure and not is_loopback_host(host):
        return (
            f"{setting}: {name} uses plain http:// to {host}; use https://, or pass --insecure-http "
            "(MZSYNC_INSECURE_HTTP=true) if you really mean it"
        )
    return _check_swapped(setting, name, host) or _check_api_suffix(
        setting, name, parts.scheme, parts.netloc, parts.path
    )


def _check_swapped(setting: str, name: str, host: str) -> str | None:
    """Zoho's Accounts URL given as the API URL, or the other way round: each names the URL it should be."""
    if setting == "zoho.api_url":
        region = region_of_accounts_host(host)
        if region is not None:
            return (
                f"{setting}: {name} is Zoho's Accounts URL ({region.accounts_url}), not the API URL; "
                f"set {name}={region.api_url} (or set ZOHO_REGION={region.code} and neither Zoho URL)"
            )
    if setting == "zoho.accounts_url":
        of_api = region_of_api_host(host)
        if of_api is not None:
            return (
                f"{setting}: {name} is a Zoho API URL (https://{host}), not the Accounts URL; "
                f"set {name}={of_api.accounts_url} (or set ZOHO_REGION={of_api.code} and neither Zoho URL)"
            )
    return None


#: setting → (the API path the tool appends itself, as a pattern matching it at the end of a configured URL's
#: path; what the URL should be; what the tool adds). A sub-path before it (a store under /shop/) is kept.
_API_SUFFIXES: Final[dict[str, tuple[re.Pattern[str], str, str]]] = {
    # /rest, /rest/V1, /rest/<store>, /rest/<store>/V1, and anything under .../V1/
    "magento.base_url": (
        re.compile(r"/rest(?:/[A-Za-z0-9_]+)?(?:/V1(?:/.*)?)?$", re.IGNORECASE),
        "the store's base URL",
        "/rest/<store>/V1",
    ),
    # /crm, /crm/v8, /crm/v2/Contacts, ...
    "zoho.api_url": (re.compile(r"/crm(?:/.*)?$", re.IGNORECASE), "the API URL", "/crm/v8"),
    # /oauth, /oauth/v2, /oauth/v2/token, /oauth/v2/auth, ...
    "zoho.accounts_url": (re.compile(r"/oauth(?:/.*)?$", re.IGNORECASE), "the Accounts URL", "/oauth/v2/token"),
}


def _check_api_suffix(setting: str, name: str, scheme: str, netloc: str, path: str) -> str | None:
    """A URL ending in the API path the tool appends itself (``…/rest`` → ``…/rest/rest/V1``) is refused."""
    pattern, what, adds = _API_SUFFIXES[setting]
    trimmed = path.rstrip("/")
    match = pattern.search(trimmed)
    if match is None:
        return None
    suffix = match.group(0)
    fixed = f"{scheme}://{netloc}{trimmed[: match.start()]}"
    return (
        f"{setting}: {name} ends with {suffix}; give {what} without {suffix}, i.e. {fixed} "
        f"(the tool adds {adds} itself)"
    )


def fill_and_check(raw: dict[str, Any], *, zoho_client_only: bool = False) -> list[str]:
    """Region → URLs, required values, credentials per auth mode, URLs. Mutates ``raw``; returns problems.

    ``zoho_client_only``: check only what talking to Zoho Accounts needs (``auth zoho-grant``).
    """
    problems: list[str] = []
    magento, zoho, network = raw["magento"], raw["zoho"], raw["network"]

    region = zoho.get("region")
    bad_region = False
    region_urls: tuple[str, str] | None = None
    if isinstance(region, str) and region.strip():
        zoho["region"] = region = region.strip().lower()
        region_urls = ZOHO_REGIONS.get(region)
        if region_urls is None:
            bad_region = True
            if quoted(region):
                problems.append(f"zoho.region: ZOHO_REGION (or --region) {QUOTES_FIX}")
            else:
                problems.append(
                    f"zoho.region: unknown Zoho region; ZOHO_REGION (or --region) must be one of "
                    f"{', '.join(ZOHO_REGIONS)}"
                )
    elif isinstance(region, str):
        zoho.pop("region")  # blank: not given
    elif region is not None:
        bad_region = True
        problems.append("zoho.region: must be a string; set ZOHO_REGION or [zoho] region in the config file")

    required = ["zoho.client_id", "zoho.client_secret"]
    if not zoho_client_only:
        required += ["magento.base_url", "zoho.refresh_token"]
    # The region fills only the URLs no layer (flag, environment, file) gives: an explicit URL always wins.
    explicit: list[str] = []
    for index, url in enumerate(("zoho.accounts_url", "zoho.api_url")):
        key = url.partition(".")[2]
        value = zoho.get(key)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            explicit.append(key)
        elif region_urls is not None:
            zoho[key] = region_urls[index]
        else:
            zoho.pop(key, None)
            # With an unknown region, the region line already says what to fix.
            problems.append(
                f"{url}: (see zoho.region)"
                if bad_region
                else f"{url}: not set; {where(url)}, or set ZOHO_REGION (--region) to fill both Zoho URLs"
            )
    mode = magento.get("auth", "admin")
    mode = mode if isinstance(mode, str) else "admin"
    if not zoho_client_only:
        required += [f"magento.{name}" for name in AUTH_MODE_CREDENTIALS.get(mode, ())]
    for setting in required:
        section, _, key = setting.partition(".")
        value = raw[section].get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raw[section].pop(key, None)
            for_mode = (
                f" (needed by MAGENTO_AUTH={mode})"
                if setting in {f"magento.{n}" for n in AUTH_MODE_CREDENTIALS.get(mode, ())}
                else ""
            )
            problems.append(f"{setting}: not set{for_mode}; {where(setting)}")

    try:
        allow_insecure = TypeAdapter(bool).validate_python(network.get("allow_insecure_http", False))
    except ValidationError:
        allow_insecure = False  # reported by the model validation
    urls = (
        ("zoho.accounts_url", "zoho.api_url")
        if zoho_client_only
        else ("magento.base_url", "zoho.accounts_url", "zoho.api_url")
    )
    for setting in urls:
        section, _, key = setting.partition(".")
        problem = _check_url(setting, raw[section].get(key), allow_insecure)
        if problem:
            problems.append(problem)
        elif isinstance(raw[section].get(key), str):
            raw[section][key] = raw[section][key].strip().rstrip("/")
    if region_urls is not None and "api_url" in explicit and isinstance(zoho.get("api_url"), str):
        _warn_if_other_region(str(region), zoho["api_url"])
    return problems


def _warn_if_other_region(region: str, api_url: str) -> None:
    """An explicit ZOHO_API_URL wins over the region; say so when they name different data centres."""
    other = region_of_api_host(api_url)
    if other is not None and other.code != region:
        log.warning(
            "zoho.api_url %s is in Zoho's %s data centre but zoho.region is %s: the explicit URL wins; to use "
            "the region's URLs, remove ZOHO_API_URL and ZOHO_ACCOUNTS_URL (or [zoho] api_url and accounts_url)",
            api_url,
            other.code,
            region,
        )
