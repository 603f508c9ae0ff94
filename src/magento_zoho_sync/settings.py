"""Settings: command-line flags > environment variables > TOML file (``--config FILE``) > defaults.

Every environment variable of the settings is declared once, in :data:`ENV_VARS`
(:mod:`magento_zoho_sync.settings_sources`); the credential names mirror the variables of the original Frends
process (:data:`ORIGINAL_PROCESS_VARIABLES`). The README's settings table is edited by hand
(:func:`env_table_markdown` gives a draft of it from ENV_VARS): ``tests/unit/test_docs.py`` checks only that every
name in ENV_VARS has a row there and that every original process variable is named; the table's TOML keys,
defaults and wording are not checked against ENV_VARS. Every variable of ENV_VARS can also be given as
``<NAME>_FILE=/path`` (Docker and Kubernetes secrets): the file's content, without its trailing newline, is the
value.

The TOML file has one table per model: ``[magento]``, ``[zoho]``, ``[retry]``, ``[network]``, ``[sync]`` and
``[mapping]`` (with ``[mapping.fields]``); keys are the field names below.

Problems are reported together, one line each, naming the setting and the variable to fix, as a
:class:`~magento_zoho_sync.errors.ConfigError`. Secret values are ``SecretStr`` (masked ``repr``), are registered
with :mod:`magento_zoho_sync.redact` when loaded, and never appear in a message.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.loopback import is_loopback_host
from magento_zoho_sync.mapping_config import MappingConfigError, MappingSpec, build_spec
from magento_zoho_sync.settings_sources import (
    CLI_ALIASES,
    ENV_BY_SETTING,
    ENV_VARS,
    ORIGINAL_PROCESS_VARIABLES,
    SECTIONS,
    ZOHO_REGIONS,
    ZOHO_TRIGGERS,
    EnvVar,
    env_table_markdown,
    merge_layers,
    nest_overrides,
    read_env,
)
from magento_zoho_sync.zoho.regions import region_of_api_host

__all__ = [
    "CLI_ALIASES",
    "ENV_BY_SETTING",
    "ENV_VARS",
    "ORIGINAL_PROCESS_VARIABLES",
    "SECTIONS",
    "ZOHO_REGIONS",
    "ZOHO_TRIGGERS",
    "EnvVar",
    "MagentoSettings",
    "MappingSettings",
    "NetworkSettings",
    "RetrySettings",
    "Settings",
    "SyncSettings",
    "ZohoClientSettings",
    "ZohoSettings",
    "default_state_path",
    "env_table_markdown",
    "load_settings",
    "load_sync_settings",
    "load_zoho_client_settings",
]

MagentoAuthMode = Literal["admin", "admin-totp", "integration-bearer", "integration-oauth1"]
OnDeleted = Literal["ignore", "tag", "delete"]
ZohoDuplicates = Literal["skip", "oldest"]


#: Which credentials each Magento auth mode needs (setting names under ``magento``).
AUTH_MODE_CREDENTIALS: Final[dict[str, tuple[str, ...]]] = {
    "admin": ("username", "password"),
    "admin-totp": ("username", "password", "totp_secret"),
    "integration-bearer": ("access_token",),
    "integration-oauth1": ("consumer_key", "consumer_secret", "access_token", "access_token_secret"),
}

#: Upper bounds that keep every duration finite and representable (``timedelta``, socket and asyncio timeouts).
MAX_REQUEST_TIMEOUT: Final = 3600.0  # seconds, one HTTP request
MAX_RETRY_TIMEOUT: Final = 86400.0  # seconds, one call with all its retries
MAX_RETRY_WAIT: Final = 3600.0  # seconds, one backoff wait
MAX_FULL_SYNC_EVERY_HOURS: Final = 8760.0  # a year
MAX_FAILED_RUNS: Final = 1000

_FIELD_API_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: What an HTTP header carries as it is: visible ASCII (an empty value is "not set", said elsewhere).
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]*")
_FROZEN = ConfigDict(frozen=True, extra="forbid")
log = logging.getLogger(__name__)
_M = TypeVar("_M", bound=BaseModel)


#: validation context key: the state path was filled with :func:`default_state_path`
_STATE_PATH_DEFAULT: Final = "state_path_default"


def default_state_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/magento-zoho-sync/state.sqlite``, else ``~/.local/state/magento-zoho-sync/state.sqlite``."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME", "").strip()
    if base and Path(base).is_absolute():
        root = Path(base)
    else:
        try:
            root = Path.home() / ".local" / "state"
        except (RuntimeError, KeyError):  # no HOME and no passwd entry (a bare container user, say)
            raise ConfigError(
                "No home directory to keep the state file in (HOME is not set and the user has none).",
                hint="Set MZSYNC_STATE to the state file's path (or pass --state PATH).",
            ) from None
    return root / "magento-zoho-sync" / "state.sqlite"


def _strip_token(value: Any) -> Any:
    """Tokens, keys and client secrets never hold spaces: a space or newline around one is a copy-paste slip, which
    Zoho and Magento would answer with 'revoked' or 'not the correct length' (passwords are kept as given)."""
    return value.strip() if isinstance(value, str) else value


class MagentoSettings(BaseModel):
    model_config = _FROZEN

    base_url: str
    auth: MagentoAuthMode = "admin"
    username: str | None = None
    password: SecretStr | None = None
    totp_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    store_code: str = Field(default="all", pattern=r"^[A-Za-z0-9_]+$")
    page_size: int = Field(default=200, ge=1, le=300)
    timeout: float = Field(default=30.0, gt=0, le=MAX_REQUEST_TIMEOUT, allow_inf_nan=False)

    _tokens = field_validator("access_token", "consumer_key", "consumer_secret", "access_token_secret", mode="before")(
        _strip_token
    )

    @field_validator("access_token")
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        """The access token travels in the Authorization header (integration-bearer), where a line break or a
        non-ASCII character fails every request; Magento's tokens are 32 letters and digits."""
        if value is not None and not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be the integration's Access Token as Magento shows it (letters and digits, without spaces, "
                "line breaks or other characters inside)"
            )
        return value


class ZohoSettings(BaseModel):
    model_config = _FROZEN

    accounts_url: str
    api_url: str
    region: str | None = None
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    concurrency: int = Field(default=4, ge=1, le=10)
    trigger: list[str] = Field(default_factory=list)
    duplicate_check_fields: list[str] = Field(default_factory=lambda: ["Email"], min_length=1)
    timeout: float = Field(default=30.0, gt=0, le=MAX_REQUEST_TIMEOUT, allow_inf_nan=False)

    _tokens = field_validator("client_id", "client_secret", "refresh_token", mode="before")(_strip_token)

    @field_validator("trigger", mode="before")
    @classmethod
    def _known_triggers(cls, value: Any) -> Any:
        """Lower-cased, without duplicates; ``none`` alone is the empty list; anything Zoho would refuse fails."""
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return value  # pydantic says what type was expected
        given = [item.strip() for item in value if item.strip()]
        names = [item.lower() for item in given]
        if names == ["none"]:
            return []
        for item, name in zip(given, names, strict=True):
            if name == "none":
                raise ValueError("none cannot be combined with other triggers; give either none or a list of triggers")
            if name not in ZOHO_TRIGGERS:
                shown = item if len(item) <= 40 else item[:40] + "..."
                raise ValueError(f"unknown trigger {shown!r}; use any of {', '.join(ZOHO_TRIGGERS)}, or none")
        return list(dict.fromkeys(names))

    @field_validator("duplicate_check_fields", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """A plain string in the config file is a comma-separated list, as in the environment and for trigger."""
        return [item for item in value.split(",") if item.strip()] if isinstance(value, str) else value

    @field_validator("duplicate_check_fields")
    @classmethod
    def _api_names(cls, value: list[str]) -> list[str]:
        names = [item.strip() for item in value]
        for name in names:
            if not _FIELD_API_NAME.match(name):
                shown = name if len(name) <= 40 else name[:40] + "..."
                raise ValueError(
                    f"{shown!r} is not a Zoho field API name; use API names such as Email, not field labels "
                    "(Zoho CRM > Setup > Developer Hub > APIs > API names > Contacts)"
                )
        return list(dict.fromkeys(names))


class RetrySettings(BaseModel):
    model_config = _FROZEN

    attempts: int = Field(default=6, ge=1, le=50)
    timeout: float = Field(default=120.0, gt=0, le=MAX_RETRY_TIMEOUT, allow_inf_nan=False)
    wait_initial: float = Field(default=0.5, ge=0, le=MAX_RETRY_WAIT, allow_inf_nan=False)
    wait_max: float = Field(default=30.0, ge=0, le=MAX_RETRY_WAIT, allow_inf_nan=False)

    @model_validator(mode="after")
    def _waits_in_order(self) -> RetrySettings:
        if self.wait_initial > self.wait_max:
            raise ValueError(
                f"wait_initial ({self.wait_initial:g} s) is more than wait_max ({self.wait_max:g} s), the longest "
                "wait; lower wait_initial or raise wait_max"
            )
        return self


class NetworkSettings(BaseModel):
    model_config = _FROZEN

    allow_insecure_http: bool = False
    verify_tls: bool = True


class SyncSettings(BaseModel):
    model_config = _FROZEN

    state_path: Path = Field(default_factory=default_state_path)
    overlap_minutes: int = Field(default=10, ge=0, le=24 * 60)
    #: A full reconciliation runs by itself when the last one is older than this; 0 = only with ``--full``.
    full_sync_every_hours: float = Field(default=24.0, ge=0, le=MAX_FULL_SYNC_EVERY_HOURS, allow_inf_nan=False)
    #: A customer that failed in this many runs is parked (listed, no longer retried).
    max_failed_runs: int = Field(default=5, ge=1, le=MAX_FAILED_RUNS)
    on_deleted: OnDeleted = "ignore"
    deleted_tag: str = Field(default="Deleted in Magento", min_length=1, max_length=25)
    #: Zoho already holds several contacts with the customer's email: ``skip`` the customer (reported as
    #: ZOHO_DUPLICATE_CONTACTS until someone merges them in Zoho) or update the ``oldest`` one.
    zoho_duplicates: ZohoDuplicates = "skip"
    truncate_long_values: bool = False

    #: no flag, variable or settings file gave ``state_path``: see :attr:`state_path_is_default`
    _state_path_default: bool = PrivateAttr(default=False)

    @field_validator("state_path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _note_default_path(self, info: ValidationInfo) -> SyncSettings:
        self._state_path_default = bool(info.context and info.context.get(_STATE_PATH_DEFAULT))
        return self

    @property
    def state_path_is_default(self) -> bool:
        """Whether the state path is the default one, whose missing parent folders are made; of a path the user
        gave (``--state``, ``MZSYNC_STATE``, ``[sync] state_path``) at most the last folder is (a typo makes none)."""
        return self._state_path_default

    @field_validator("deleted_tag", mode="before")
    @classmethod
    def _strip_tag(cls, value: Any) -> Any:
        """Zoho refuses a blank tag name: strip it so that ``min_length`` catches a blank one here."""
        return value.strip() if isinstance(value, str) else value


class MappingSettings(BaseModel):
    """``[mapping]``: ``fields`` overlays the default mapping (``replace_defaults = true``: replaces it)."""

    model_config = _FROZEN

    replace_defaults: bool = False
    fields: dict[str, Any] = Field(default_factory=dict)

    def spec(self, *, truncate_long_values: bool = False) -> MappingSpec:
        """The compiled mapping (already checked when the settings were loaded)."""
        return build_spec(
            self.fields, replace_defaults=self.replace_defaults, truncate_long_values=truncate_long_values
        )


class Settings(BaseModel):
    model_config = _FROZEN

    magento: MagentoSettings
    zoho: ZohoSettings
    retry: RetrySettings = Field(default_factory=RetrySettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    mapping: MappingSettings = Field(default_factory=MappingSettings)

    def mapping_spec(self) -> MappingSpec:
        """The mapping to hand to :func:`magento_zoho_sync.mapping.map_customer`."""
        return self.mapping.spec(truncate_long_values=self.sync.truncate_long_values)


def _where(setting: str) -> str:
    section, _, key = setting.partition(".")
    var = ENV_BY_SETTING.get(setting)
    env_hint = f"{var.name} or " if var else ""
    return f"set {env_hint}[{section}] {key} in the config file"


def _check_url(setting: str, value: Any, allow_insecure: bool) -> str | None:
    name = ENV_BY_SETTING[setting].name
    if not isinstance(value, str) or not value.strip():
        return None
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
    return _check_api_suffix(setting, name, parts.scheme, parts.netloc, parts.path)


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


def _fill_and_check(raw: dict[str, Any], *, zoho_client_only: bool = False) -> list[str]:
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
            problems.append(
                f"zoho.region: unknown Zoho region; ZOHO_REGION (or --region) must be one of {', '.join(ZOHO_REGIONS)}"
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
                else f"{url}: not set; {_where(url)}, or set ZOHO_REGION (--region) to fill both Zoho URLs"
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
            problems.append(f"{setting}: not set{for_mode}; {_where(setting)}")

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


_RANGE_ERRORS: Final = frozenset(
    {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "finite_number"}
)
_SECTION_MODELS: Final[dict[str, type[BaseModel]]] = {
    "magento": MagentoSettings,
    "zoho": ZohoSettings,
    "retry": RetrySettings,
    "network": NetworkSettings,
    "sync": SyncSettings,
    "mapping": MappingSettings,
}


def _range_message(loc: list[str]) -> str | None:
    """ "must be between 1 and 300" from the field's own constraints."""
    model = _SECTION_MODELS.get(loc[0]) if loc else None
    field = model.model_fields.get(loc[1]) if model and len(loc) > 1 else None
    if field is None:
        return None
    low = high = None
    low_strict = False
    for item in field.metadata:
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low, low_strict = item.gt, True
        if getattr(item, "le", None) is not None:
            high = item.le
    if low is not None and high is not None:
        if low_strict:
            return f"must be greater than {low:g} and at most {high:g}"
        return f"must be between {low:g} and {high:g}"
    if low is not None:
        return f"must be {'greater than' if low_strict else 'at least'} {low:g}"
    if high is not None:
        return f"must be at most {high:g}"
    return None


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error["loc"]]
    setting = ".".join(loc[:2])
    var = ENV_BY_SETTING.get(setting)
    if error["type"] == "extra_forbidden":
        if len(loc) == 1:
            return f"[{loc[0]}]: unknown section in the config file (known: {', '.join(SECTIONS)})"
        section = Settings.model_fields.get(loc[0])
        model = section.annotation if section is not None else None
        known = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
        close = difflib.get_close_matches(loc[1], known, n=1)
        guess = f"did you mean {loc[0]}.{close[0]}? " if close else ""
        return f"{setting}: unknown setting ({guess}check the spelling in the config file)"
    if error["type"] == "missing":
        return f"{setting}: not set; {_where(setting)}"
    shown = ""
    value = error.get("input")
    if var is not None and not var.secret and isinstance(value, int | float | str) and len(str(value)) <= 40:
        shown = f" (got {value!r})"
    where = f"; {_where(setting)}" if var or len(loc) >= 2 else ""
    message = _range_message(loc) if error["type"] in _RANGE_ERRORS else None
    message = message or _PLAIN_MESSAGES.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    return f"{setting}: {message}{shown}{where}"


#: pydantic's messages that name Python types, in the words of a settings file.
_PLAIN_MESSAGES: Final = {"path_type": "must be a path (text)", "string_type": "must be text"}


def _register_secrets(settings: Settings) -> None:
    sections = (settings.magento, settings.zoho)
    redact.register_secrets(
        value
        for section in sections
        for value in (getattr(section, name) for name in type(section).model_fields)
        if isinstance(value, SecretStr)
    )


def _warn_if_exposed(config_file: Path, document: Mapping[str, Any]) -> None:
    """A config file holding secrets should be readable by its owner only (as ssh insists for keys)."""
    secrets = [
        v.setting
        for v in ENV_VARS
        if v.secret
        and isinstance(document.get(v.setting.partition(".")[0]), Mapping)
        and document[v.setting.partition(".")[0]].get(v.setting.partition(".")[2]) is not None
    ]
    if secrets and config_file.stat().st_mode & 0o077:
        log.warning(
            "config file %s holds secrets (%s) but other users can read it; run: chmod 600 %s",
            config_file,
            ", ".join(secrets),
            config_file,
        )


def _load_raw(
    config_file: Path | None, overrides: Mapping[str, Any] | None, env: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    document: dict[str, Any] | None = None
    if config_file is not None:
        config_file = Path(config_file).expanduser()
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} not found", hint="Check the --config path.")
        try:
            text = config_file.read_bytes().decode("utf-8").removeprefix("\ufeff")  # a BOM (Windows editors)
            document = tomllib.loads(text)
        except OSError as exc:
            raise ConfigError(f"config file {config_file} cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{config_file}: not a UTF-8 text file; save the settings file as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"config file {config_file} cannot be read: {exc}",
                hint="It is not valid TOML: fix the syntax at the line and column shown.",
            ) from None
        _warn_if_exposed(config_file, document)
        not_tables = [key for key in SECTIONS if key in document and not isinstance(document[key], dict)]
        if not_tables:
            raise ConfigError(
                "; ".join(
                    f"{config_file}: {key} is given a value, not a section; write [{key}], then its settings one "
                    "per line (key = value)"
                    for key in not_tables
                )
            )
    flags, problems = nest_overrides(overrides or {})
    env_values, env_problems = read_env(env)
    # a flag wins over the environment: a problem with a variable whose setting a flag gives does not count
    given = {f"{section}.{key}" for section, keys in flags.items() for key in keys}
    problems += [p for p in env_problems if p.partition(":")[0] not in given]
    try:
        raw = merge_layers(flags, env_values, document)
    except ValidationError as exc:
        raise ConfigError(_format(problems + [_describe(e) for e in exc.errors()])) from None
    return raw, problems


def _fill_state_path(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, bool]:
    """The default state path where no layer gives one (only then: without a home directory, a given path still
    works); the validation context that says whether it was filled."""
    if raw["sync"].get("state_path") is not None:
        return {_STATE_PATH_DEFAULT: False}
    raw["sync"]["state_path"] = default_state_path(env)
    return {_STATE_PATH_DEFAULT: True}


def _validate(
    model: type[_M],
    data: dict[str, Any],
    problems: list[str],
    prefix: tuple[str, ...] = (),
    context: dict[str, bool] | None = None,
) -> _M | None:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        seen = {p.partition(":")[0] for p in problems}
        for error in exc.errors():
            described = _describe({**error, "loc": (*prefix, *error["loc"])})
            if described.partition(":")[0] not in seen:
                problems.append(described)
        return None


def _raise_if(problems: list[str]) -> None:
    """One line per setting: the first problem found for it (``MAGENTO_PASSWORD_FILE`` missing, not also "not set")."""
    seen: set[str] = set()
    kept: list[str] = []
    for problem in problems:
        setting = problem.partition(":")[0]
        if problem.endswith(": (see zoho.region)") or setting in seen:
            continue
        seen.add(setting)
        kept.append(problem)
    if kept:
        raise ConfigError(_format(kept))


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Load and check the settings. Precedence: ``overrides`` (flags) > ``env`` > ``config_file`` > defaults.

    ``overrides`` keys are ``section.field`` (``"magento.page_size"``), a :data:`CLI_ALIASES` short name
    (``"state"``, ``"region"``, ...) or a section name with a dict; ``None`` values (flags not given) are ignored.
    ``env`` defaults to ``os.environ``. Raises :class:`ConfigError` listing every problem, one per line.
    """
    env = os.environ if env is None else env
    raw, problems = _load_raw(config_file, overrides, env)
    context = _fill_state_path(raw, env)
    problems += _fill_and_check(raw)
    settings = _validate(Settings, raw, problems, context=context)
    mapping = raw.get("mapping", {})
    if isinstance(mapping.get("fields", {}), Mapping):
        try:
            build_spec(mapping.get("fields"), replace_defaults=mapping.get("replace_defaults") is True)
        except MappingConfigError as exc:
            problems.append(f"{exc}; fix the config file")
    _raise_if(problems)
    if settings is None:  # pragma: no cover - every validation error was added to problems
        raise ConfigError("Invalid settings")
    _register_secrets(settings)
    return settings


def load_sync_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> SyncSettings:
    """Only the ``[sync]`` settings (state path, ...), for commands that need no credentials (``runs``, ``errors``)."""
    env = os.environ if env is None else env
    raw, problems = _load_raw(config_file, overrides, env)
    context = _fill_state_path(raw, env)
    sync = _validate(SyncSettings, raw["sync"], problems, ("sync",), context)
    _raise_if(problems)
    if sync is None:  # pragma: no cover
        raise ConfigError("Invalid settings")
    return sync


class ZohoClientSettings(BaseModel):
    """What talking to Zoho Accounts needs without a refresh token yet (``auth zoho-grant``)."""

    model_config = _FROZEN

    accounts_url: str
    api_url: str
    region: str | None = None
    client_id: str
    client_secret: SecretStr
    timeout: float = Field(default=30.0, gt=0, le=MAX_REQUEST_TIMEOUT, allow_inf_nan=False)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)

    _tokens = field_validator("client_id", "client_secret", mode="before")(_strip_token)


def load_zoho_client_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> ZohoClientSettings:
    """Like :func:`load_settings`, for ``auth zoho-grant``: needs only the Zoho client id/secret and data centre."""
    env = os.environ if env is None else env
    raw, problems = _load_raw(config_file, overrides, env)
    problems += _fill_and_check(raw, zoho_client_only=True)
    zoho = raw["zoho"]
    network = _validate(NetworkSettings, raw["network"], problems, ("network",))
    retry = _validate(RetrySettings, raw["retry"], problems, ("retry",))
    keys = ("accounts_url", "api_url", "region", "client_id", "client_secret", "timeout")
    data = {k: zoho[k] for k in keys if k in zoho}
    client = _validate(
        ZohoClientSettings, {**data, "network": network or {}, "retry": retry or {}}, problems, ("zoho",)
    )
    _raise_if(problems)
    if client is None:  # pragma: no cover
        raise ConfigError("Invalid settings")
    redact.register_secret(client.client_secret)
    return client


def _format(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid settings: {problems[0]}"
    return f"Invalid settings ({len(problems)} problems):\n" + "\n".join(f"  - {p}" for p in problems)
