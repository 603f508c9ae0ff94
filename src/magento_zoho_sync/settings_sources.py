"""Where settings come from: the environment variables (declared once, in :data:`ENV_VARS`), command-line
overrides and the TOML file, merged by pydantic-settings in precedence order (flags > env > file).

:mod:`magento_zoho_sync.settings` turns the merged layers into checked models.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from magento_zoho_sync.zoho.regions import REGIONS

#: Zoho data centres: region → (accounts URL, API URL), from :mod:`magento_zoho_sync.zoho.regions`.
ZOHO_REGIONS: Final[dict[str, tuple[str, str]]] = {code: (r.accounts_url, r.api_url) for code, r in REGIONS.items()}

#: What Zoho CRM v8 accepts in a write's ``trigger`` list (an empty list fires none).
ZOHO_TRIGGERS: Final = ("workflow", "approval", "blueprint", "pathfinder", "orchestration")


# --------------------------------------------------------------------------------------------------------------
# The one declaration of the environment variables.


@dataclass(frozen=True)
class EnvVar:
    name: str
    setting: str  # dotted: section.field
    description: str
    original: str | None = None  # the Frends process variable it replaces
    secret: bool = False
    is_list: bool = False


ENV_VARS: Final[tuple[EnvVar, ...]] = (
    EnvVar(
        "MAGENTO_BASE_URL",
        "magento.base_url",
        "Store URL, e.g. https://shop.example.com (without /rest)",
        "MagentoBaseUrl",
    ),
    EnvVar("MAGENTO_AUTH", "magento.auth", "admin | admin-totp | integration-bearer | integration-oauth1"),
    EnvVar("MAGENTO_USERNAME", "magento.username", "Admin user name (admin, admin-totp)", "MagentoUser"),
    EnvVar("MAGENTO_PASSWORD", "magento.password", "Admin password", "MagentoPassword", secret=True),
    EnvVar("MAGENTO_TOTP_SECRET", "magento.totp_secret", "Base32 2FA secret (admin-totp)", secret=True),
    EnvVar("MAGENTO_ACCESS_TOKEN", "magento.access_token", "Integration access token", secret=True),
    EnvVar("MAGENTO_CONSUMER_KEY", "magento.consumer_key", "Integration consumer key (oauth1)", secret=True),
    EnvVar("MAGENTO_CONSUMER_SECRET", "magento.consumer_secret", "Integration consumer secret", secret=True),
    EnvVar("MAGENTO_ACCESS_TOKEN_SECRET", "magento.access_token_secret", "Integration token secret", secret=True),
    EnvVar("MAGENTO_STORE_CODE", "magento.store_code", "REST store code in the URL (default all)"),
    EnvVar("ZOHO_REGION", "zoho.region", "Data centre: " + "|".join(ZOHO_REGIONS) + "; fills both Zoho URLs"),
    EnvVar(
        "ZOHO_ACCOUNTS_URL",
        "zoho.accounts_url",
        "Zoho Accounts URL, without /oauth (wins over the region)",
        "ZohoAccountUrl",
    ),
    EnvVar("ZOHO_API_URL", "zoho.api_url", "Zoho API URL, without /crm (wins over the region)", "ZohoApiUrl"),
    EnvVar("ZOHO_CLIENT_ID", "zoho.client_id", "Self-client id", "ZohoClientId"),
    EnvVar("ZOHO_CLIENT_SECRET", "zoho.client_secret", "Self-client secret", "ZohoClientSecret", secret=True),
    EnvVar("ZOHO_REFRESH_TOKEN", "zoho.refresh_token", "Refresh token", "ZohoRefreshToken", secret=True),
    EnvVar("MZSYNC_MAGENTO_PAGE_SIZE", "magento.page_size", "Customers per Magento page, 1..300 (200)"),
    EnvVar("MZSYNC_MAGENTO_TIMEOUT", "magento.timeout", "Seconds per Magento request, at most 3600 (30)"),
    EnvVar("MZSYNC_ZOHO_CONCURRENCY", "zoho.concurrency", "Concurrent Zoho write calls, 1..10 (4)"),
    EnvVar(
        "MZSYNC_ZOHO_TRIGGER",
        "zoho.trigger",
        "Zoho triggers, comma-separated: " + ", ".join(ZOHO_TRIGGERS) + " or none (none)",
        is_list=True,
    ),
    EnvVar("MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS", "zoho.duplicate_check_fields", "Upsert keys (Email)", is_list=True),
    EnvVar("MZSYNC_ZOHO_TIMEOUT", "zoho.timeout", "Seconds per Zoho request, at most 3600 (30)"),
    EnvVar("MZSYNC_RETRY_ATTEMPTS", "retry.attempts", "Attempts per call, first included (6)"),
    EnvVar("MZSYNC_RETRY_TIMEOUT", "retry.timeout", "Total seconds one call may spend retrying, at most 86400 (120)"),
    EnvVar("MZSYNC_RETRY_WAIT_INITIAL", "retry.wait_initial", "First backoff wait in seconds, at most 3600 (0.5)"),
    EnvVar("MZSYNC_RETRY_WAIT_MAX", "retry.wait_max", "Longest backoff wait in seconds, at most 3600 (30)"),
    EnvVar("MZSYNC_INSECURE_HTTP", "network.allow_insecure_http", "Allow http:// to non-loopback hosts (false)"),
    EnvVar("MZSYNC_VERIFY_TLS", "network.verify_tls", "Verify TLS certificates (true)"),
    EnvVar("MZSYNC_STATE", "sync.state_path", "State file (see default_state_path)"),
    EnvVar("MZSYNC_OVERLAP_MINUTES", "sync.overlap_minutes", "Incremental window overlap (10)"),
    EnvVar(
        "MZSYNC_FULL_SYNC_EVERY_HOURS",
        "sync.full_sync_every_hours",
        "Automatic full run interval in hours, 0=off, at most 8760 (24)",
    ),
    EnvVar("MZSYNC_MAX_FAILED_RUNS", "sync.max_failed_runs", "Failed runs before a customer is parked, 1..1000 (5)"),
    EnvVar("MZSYNC_ON_DELETED", "sync.on_deleted", "ignore | tag | delete (ignore)"),
    EnvVar("MZSYNC_DELETED_TAG", "sync.deleted_tag", 'Tag for on_deleted=tag ("Deleted in Magento")'),
    EnvVar("MZSYNC_ZOHO_DUPLICATES", "sync.zoho_duplicates", "Several Zoho contacts share an email: skip | oldest"),
    EnvVar("MZSYNC_TRUNCATE_LONG_VALUES", "sync.truncate_long_values", "Truncate over-long values (false: error)"),
)

ENV_BY_SETTING: Final[dict[str, EnvVar]] = {v.setting: v for v in ENV_VARS}

#: Original Frends process variable → our environment variable (for the README).
ORIGINAL_PROCESS_VARIABLES: Final[dict[str, str]] = {v.original: v.name for v in ENV_VARS if v.original}

#: Short names the CLI may use in ``overrides`` (flag name → setting).
CLI_ALIASES: Final[dict[str, str]] = {
    "state": "sync.state_path",
    "region": "zoho.region",
    "insecure_http": "network.allow_insecure_http",
    "concurrency": "zoho.concurrency",
    "page_size": "magento.page_size",
    "on_deleted": "sync.on_deleted",
    "truncate_long_values": "sync.truncate_long_values",
    "magento_auth": "magento.auth",
}

SECTIONS: Final = ("magento", "zoho", "retry", "network", "sync", "mapping")


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    target.setdefault(section, {})[key] = value


#: A ``_FILE`` holds one value: anything longer is the wrong file (and is not read whole).
MAX_FILE_VALUE_BYTES: Final = 64 * 1024


def _file_value(var: EnvVar, file_name: str) -> tuple[str | None, str | None]:
    """The value held by ``<NAME>_FILE`` (without its trailing newline), or the one problem that stops it.

    The path is named in every problem (a path is not a secret); the content never is. Each problem starts with
    a short word after the setting, so that the redaction of ``password: <token-like value>`` leaves it readable.
    """
    path = Path(file_name).expanduser()
    where = f"{var.setting}: the file {path} in {var.name}_FILE"
    instead = f"or set {var.name} instead"
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_VALUE_BYTES + 1)
    except FileNotFoundError:
        return None, f"{where} does not exist; fix the path {instead}"
    except IsADirectoryError:
        return None, f"{where} is a directory; give the path of the file that holds the value, {instead}"
    except PermissionError:
        return None, f"{where} cannot be read (permission denied); make it readable by the user running the sync"
    except OSError as exc:
        return None, f"{where} cannot be read ({exc.strerror or exc.__class__.__name__}); fix the path {instead}"
    if len(raw) > MAX_FILE_VALUE_BYTES:
        return None, f"{where} is larger than 64 KiB, too big for one value; fix the path {instead}"
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        return None, f"{where} is not UTF-8 text; save the value in it as UTF-8"
    if not text.strip() and not var.is_list:
        what = var.setting.partition(".")[2].replace("_", " ").replace("url", "URL").replace("totp", "TOTP")
        return None, f"{where} is empty; put the {what} in it, or unset {var.name}_FILE"
    return text, None


def read_env(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Nested settings from environment variables, with ``_FILE`` indirection; and the problems found.

    An empty variable counts as unset (an empty list variable: an empty list). At most one problem per setting.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in ENV_VARS:
        raw = env.get(var.name)
        if raw is not None and not raw.strip() and not var.is_list:
            raw = None  # an empty variable counts as unset
        file_name = (env.get(f"{var.name}_FILE") or "").strip()
        if raw is not None and raw.strip() and file_name:
            problems.append(f"{var.setting}: both {var.name} and {var.name}_FILE are set; keep one (unset the other)")
            continue
        if file_name:
            raw, problem = _file_value(var, file_name)
            if problem:
                problems.append(problem)
                continue
        if raw is None:
            continue
        value: Any = raw if var.secret else raw.strip()
        if var.is_list:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        _set_dotted(values, var.setting, value)
    problems.extend(_unknown_env(env))
    return values, problems


#: The prefix of this tool's variables: another name with it is a typo, which would otherwise be ignored unseen.
_PREFIX = "MZSYNC_"


def _unknown_env(env: Mapping[str, str]) -> list[str]:
    known = {var.name for var in ENV_VARS if var.name.startswith(_PREFIX)}
    problems = []
    for name in sorted(env):
        if not name.startswith(_PREFIX) or name in known or name.removesuffix("_FILE") in known:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        guess = f"did you mean {close[0]}? " if close else ""
        problems.append(f"{name} is not a setting of magento-zoho-sync; {guess}fix its name or unset it")
    return problems


def nest_overrides(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    nested: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in overrides.items():
        if value is None:
            continue  # a flag that was not given
        if key in SECTIONS and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                if inner_value is not None:
                    _set_dotted(nested, f"{key}.{inner}", inner_value)
            continue
        dotted = CLI_ALIASES.get(key, key)
        if dotted.partition(".")[0] not in SECTIONS or not dotted.partition(".")[2]:
            problems.append(f"unknown override {key!r} (use section.field, e.g. magento.page_size)")
            continue
        _set_dotted(nested, dotted, value)
    return nested, problems


class _Layers(BaseSettings):
    """The raw sections, merged by pydantic-settings from the sources in precedence order."""

    model_config = SettingsConfigDict(extra="forbid")

    magento: dict[str, Any] = {}
    zoho: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    network: dict[str, Any] = {}
    sync: dict[str, Any] = {}
    mapping: dict[str, Any] = {}


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def merge_layers(
    flags: dict[str, Any], env_values: dict[str, Any], document: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Flags over environment over the (already parsed) TOML document.

    The Zoho region is merged like any other setting; it fills the Zoho URLs given in no layer afterwards
    (:func:`magento_zoho_sync.settings.load_settings`), so an explicit URL wins whichever layer it comes from.
    """

    class Layers(_Layers):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [
                _DictSource(settings_cls, flags),
                _DictSource(settings_cls, env_values),
            ]
            if document is not None:
                sources.append(_DictSource(settings_cls, copy.deepcopy(dict(document))))
            return tuple(sources)

    return Layers().model_dump()


def env_table_markdown() -> str:
    """The environment variables as a Markdown table (for the README)."""
    lines = ["| variable | setting (TOML) | original process variable | meaning |", "|---|---|---|---|"]
    for var in ENV_VARS:
        section, _, key = var.setting.partition(".")
        secret = " (secret; also `_FILE`)" if var.secret else ""
        lines.append(f"| `{var.name}` | `[{section}] {key}` | {var.original or ''} | {var.description}{secret} |")
    return "\n".join(lines)
