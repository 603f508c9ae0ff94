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

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.mapping_config import MappingConfigError, MappingSpec, build_spec
from magento_zoho_sync.proxy import proxy_passwords, proxy_problems
from magento_zoho_sync.settings_checks import AUTH_MODE_CREDENTIALS, QUOTES_FIX, fill_and_check, quoted
from magento_zoho_sync.settings_messages import describe, format_problems, raise_if
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

__all__ = [
    "AUTH_MODE_CREDENTIALS",
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
        if quoted(str(value)):  # a folder named '"' would be looked for (or made): say what is wrong instead
            raise ValueError(f"the path {QUOTES_FIX}")
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


_SECTION_MODELS: Final[dict[str, type[BaseModel]]] = {
    "magento": MagentoSettings,
    "zoho": ZohoSettings,
    "retry": RetrySettings,
    "network": NetworkSettings,
    "sync": SyncSettings,
    "mapping": MappingSettings,
}


def _register_secrets(settings: Settings) -> None:
    sections = (settings.magento, settings.zoho)
    redact.register_secrets(
        value
        for section in sections
        for value in (getattr(section, name) for name in type(section).model_fields)
        if isinstance(value, SecretStr)
    )
    redact.register_secrets(proxy_passwords())  # HTTPS_PROXY=http://user:password@proxy:3128


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
        raise ConfigError(format_problems(problems + [describe(e, _SECTION_MODELS) for e in exc.errors()])) from None
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
            described = describe({**error, "loc": (*prefix, *error["loc"])}, _SECTION_MODELS)
            if described.partition(":")[0] not in seen:
                problems.append(described)
        return None


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
    problems += fill_and_check(raw)
    problems += proxy_problems(env)
    settings = _validate(Settings, raw, problems, context=context)
    mapping = raw.get("mapping", {})
    if isinstance(mapping.get("fields", {}), Mapping):
        try:
            build_spec(mapping.get("fields"), replace_defaults=mapping.get("replace_defaults") is True)
        except MappingConfigError as exc:
            problems.append(f"{exc}; fix the config file")
    raise_if(problems)
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
    raise_if(problems)
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
    problems += fill_and_check(raw, zoho_client_only=True)
    problems += proxy_problems(env)
    zoho = raw["zoho"]
    network = _validate(NetworkSettings, raw["network"], problems, ("network",))
    retry = _validate(RetrySettings, raw["retry"], problems, ("retry",))
    keys = ("accounts_url", "api_url", "region", "client_id", "client_secret", "timeout")
    data = {k: zoho[k] for k in keys if k in zoho}
    client = _validate(
        ZohoClientSettings, {**data, "network": network or {}, "retry": retry or {}}, problems, ("zoho",)
    )
    raise_if(problems)
    if client is None:  # pragma: no cover
        raise ConfigError("Invalid settings")
    redact.register_secret(client.client_secret)
    redact.register_secrets(proxy_passwords())
    return client
