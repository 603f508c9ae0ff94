"""Settings: precedence, region filling, _FILE indirection, validation messages, secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.http import check_url
from magento_zoho_sync.settings import (
    AUTH_MODE_CREDENTIALS,
    ENV_VARS,
    ORIGINAL_PROCESS_VARIABLES,
    ZOHO_REGIONS,
    ZOHO_TRIGGERS,
    Settings,
    default_state_path,
    env_table_markdown,
    load_settings,
    load_sync_settings,
    load_zoho_client_settings,
)

SECRETS = {
    "MAGENTO_PASSWORD": "canary-magento-password",
    "ZOHO_CLIENT_SECRET": "canary-zoho-client-secret",
    "ZOHO_REFRESH_TOKEN": "1000.canaryrefresh0000.canaryrefresh1111",
}

BASE_ENV: dict[str, str] = {
    "MAGENTO_BASE_URL": "https://shop.example.com",
    "MAGENTO_USERNAME": "sync-user",
    "ZOHO_REGION": "eu",
    "ZOHO_CLIENT_ID": "1000.CLIENTID",
    **SECRETS,
}


@pytest.fixture(autouse=True)
def _clean_registry() -> Any:
    redact.clear_secrets()
    yield
    redact.clear_secrets()


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(**kwargs)
    return str(info.value)


# ---- precedence ---------------------------------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(env=BASE_ENV | {"XDG_STATE_HOME": str(tmp_path)})
    assert s.magento.auth == "admin"
    assert s.magento.page_size == 200
    assert s.magento.store_code == "all"
    assert s.zoho.concurrency == 4
    assert s.zoho.trigger == []
    assert s.zoho.duplicate_check_fields == ["Email"]
    assert s.retry.attempts == 6
    assert s.network.allow_insecure_http is False
    assert s.network.verify_tls is True
    assert s.sync.overlap_minutes == 10
    assert s.sync.full_sync_every_hours == 24
    assert s.sync.max_failed_runs == 5
    assert s.sync.on_deleted == "ignore"
    assert s.sync.deleted_tag == "Deleted in Magento"
    assert s.sync.zoho_duplicates == "skip"
    assert s.sync.truncate_long_values is False
    assert s.sync.state_path == tmp_path / "magento-zoho-sync" / "state.sqlite"


def test_flags_beat_env_beat_toml_beat_defaults(tmp_path: Path) -> None:
    config = write_toml(tmp_path, "[magento]\npage_size = 20\ntimeout = 5\nstore_code = 'default'\n")
    env = BASE_ENV | {"MZSYNC_MAGENTO_PAGE_SIZE": "30", "MZSYNC_MAGENTO_TIMEOUT": "7"}
    only_toml = load_settings(config_file=config, env=BASE_ENV)
    assert only_toml.magento.page_size == 20
    assert only_toml.magento.timeout == 5
    env_over_toml = load_settings(config_file=config, env=env)
    assert env_over_toml.magento.page_size == 30
    assert env_over_toml.magento.timeout == 7
    assert env_over_toml.magento.store_code == "default"  # untouched keys of the same table survive
    flags = load_settings(config_file=config, env=env, overrides={"magento.page_size": 40, "page_size": None})
    assert flags.magento.page_size == 40
    assert flags.magento.timeout == 7
    assert load_settings(env=BASE_ENV).magento.page_size == 200


def test_override_forms(tmp_path: Path) -> None:
    state = tmp_path / "s.sqlite"
    s = load_settings(
        env=BASE_ENV,
        overrides={"state": str(state), "insecure_http": True, "sync": {"on_deleted": "tag", "overlap_minutes": None}},
    )
    assert s.sync.state_path == state
    assert s.network.allow_insecure_http is True
    assert s.sync.on_deleted == "tag"
    assert s.sync.overlap_minutes == 10
    assert "unknown override 'nonsense'" in config_error(env=BASE_ENV, overrides={"nonsense": 1})


def test_toml_sections_all_load(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
[magento]
base_url = "https://toml.example.com"
[zoho]
concurrency = 2
trigger = ["workflow"]
[retry]
attempts = 3
[network]
verify_tls = false
[sync]
state_path = "~/custom/state.sqlite"
on_deleted = "delete"
zoho_duplicates = "oldest"
full_sync_every_hours = 0
[mapping]
replace_defaults = false
[mapping.fields]
Lead_Source = "constant:Magento"
""",
    )
    env = {k: v for k, v in BASE_ENV.items() if k != "MAGENTO_BASE_URL"}
    s = load_settings(config_file=config, env=env)
    assert s.magento.base_url == "https://toml.example.com"
    assert s.zoho.concurrency == 2
    assert s.zoho.trigger == ["workflow"]
    assert s.retry.attempts == 3
    assert s.network.verify_tls is False
    assert s.sync.state_path == Path("~/custom/state.sqlite").expanduser()
    assert s.sync.on_deleted == "delete"
    assert s.sync.zoho_duplicates == "oldest"
    assert s.sync.full_sync_every_hours == 0
    assert s.mapping_spec().rule("Lead_Source") is not None
    assert s.mapping_spec().rule("Email") is not None  # defaults kept


def test_env_lists_and_booleans() -> None:
    s = load_settings(
        env=BASE_ENV
        | {
            "MZSYNC_ZOHO_TRIGGER": "workflow, approval",
            "MZSYNC_INSECURE_HTTP": "yes",
            "MZSYNC_TRUNCATE_LONG_VALUES": "1",
        }
    )
    assert s.zoho.trigger == ["workflow", "approval"]
    assert s.network.allow_insecure_http is True
    assert s.sync.truncate_long_values is True
    assert s.mapping_spec().truncate_long_values is True
    assert load_settings(env=BASE_ENV | {"MZSYNC_ZOHO_TRIGGER": ""}).zoho.trigger == []


def test_empty_env_var_counts_as_unset() -> None:
    assert load_settings(env=BASE_ENV | {"MZSYNC_MAGENTO_PAGE_SIZE": "  "}).magento.page_size == 200


@pytest.mark.parametrize(
    ("env", "toml", "said"),
    [
        ({"MAGENTO_STORE_CODE": "de-de"}, "", "magento.store_code: must be a store view code: letters, digits and"),
        ({"MZSYNC_VERIFY_TLS": "maybe"}, "", "network.verify_tls: must be true or false (also 1/0, yes/no, on/off)"),
        ({"MZSYNC_MAGENTO_PAGE_SIZE": "abc"}, "", "magento.page_size: must be a whole number (got 'abc')"),
        ({}, "[mapping]\nreplace_defaults = 'yes please'\n", "mapping.replace_defaults: must be true or false"),
        ({}, "[mapping]\nfields = 5\n", "mapping.fields: must be a table (a [section] of its own"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_in_a_settings_file_s_words(
    tmp_path: Path, env: dict[str, str], toml: str, said: str
) -> None:
    """Not pydantic's "String should match pattern '^[A-Za-z0-9_]+$'" or "Input should be a valid boolean, unable
    to interpret input", which a shop owner has to decode."""
    config = write_toml(tmp_path, toml) if toml else None
    message = config_error(env=BASE_ENV | env, config_file=config)
    assert said in message, message
    assert "should" not in message and "pattern" not in message, message


def test_an_empty_list_of_upsert_keys_is_refused_in_a_settings_file_s_words() -> None:
    """It said "List should have at least 1 item after validation, not 0", pydantic's words, not a fix."""
    for kwargs in (
        {"env": BASE_ENV | {"MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS": ""}},
        {"env": BASE_ENV | {"MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS": " , "}},
    ):
        message = config_error(**kwargs)
        assert "zoho.duplicate_check_fields: must name at least one (unset it for the default)" in message, message
        assert "MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS" in message and "List should" not in message


def test_default_state_path_without_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_state_path({}) == tmp_path / ".local" / "state" / "magento-zoho-sync" / "state.sqlite"
    assert default_state_path({"XDG_STATE_HOME": "relative/dir"}).is_relative_to(tmp_path)
    assert load_settings(env=BASE_ENV | {"MZSYNC_STATE": "/x/y.sqlite"}).sync.state_path == Path("/x/y.sqlite")


# ---- region ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", sorted(ZOHO_REGIONS))
def test_region_fills_both_urls(region: str) -> None:
    s = load_settings(env=BASE_ENV | {"ZOHO_REGION": region.upper()})
    assert (s.zoho.accounts_url, s.zoho.api_url) == ZOHO_REGIONS[region]
    assert s.zoho.region == region


def test_explicit_url_wins_over_region() -> None:
    s = load_settings(env=BASE_ENV | {"ZOHO_API_URL": "https://sandbox.zohoapis.eu/"})
    assert s.zoho.api_url == "https://sandbox.zohoapis.eu"
    assert s.zoho.accounts_url == "https://accounts.zoho.eu"


ZOHO_URLS = {"ZOHO_ACCOUNTS_URL": "https://accounts.example.com", "ZOHO_API_URL": "https://api.example.com"}


def test_region_flag_keeps_explicit_urls_like_the_region_variable(tmp_path: Path) -> None:
    """--region fills only the URLs no layer sets: it used to overwrite ZOHO_API_URL/ZOHO_ACCOUNTS_URL."""
    env = {k: v for k, v in BASE_ENV.items() if k != "ZOHO_REGION"} | ZOHO_URLS
    by_flag = load_settings(env=env, overrides={"region": "eu"})
    by_env = load_settings(env=env | {"ZOHO_REGION": "eu"})
    for s in (by_flag, by_env):
        assert (s.zoho.accounts_url, s.zoho.api_url) == ("https://accounts.example.com", "https://api.example.com")
        assert s.zoho.region == "eu"
    config = write_toml(
        tmp_path, '[zoho]\naccounts_url = "https://accounts.zoho.eu"\napi_url = "https://www.zohoapis.eu"\n'
    )
    env = {k: v for k, v in BASE_ENV.items() if k != "ZOHO_REGION"}
    s = load_settings(config_file=config, env=env, overrides={"region": "eu"})
    assert (s.zoho.accounts_url, s.zoho.api_url) == ZOHO_REGIONS["eu"]  # URLs of a lower layer win too
    s = load_settings(config_file=config, env=env | {"ZOHO_REGION": "eu"})
    assert (s.zoho.accounts_url, s.zoho.api_url) == ZOHO_REGIONS["eu"]


def test_region_fills_only_the_url_not_given() -> None:
    env = BASE_ENV | {"ZOHO_API_URL": "https://sandbox.zohoapis.com"}
    s = load_settings(env=env, overrides={"region": "us"})
    assert (s.zoho.accounts_url, s.zoho.api_url) == ("https://accounts.zoho.com", "https://sandbox.zohoapis.com")
    config_free = load_settings(env=BASE_ENV, overrides={"region": "jp", "zoho.api_url": "https://api.example.com"})
    assert config_free.zoho.accounts_url == ZOHO_REGIONS["jp"][0]
    assert config_free.zoho.api_url == "https://api.example.com"


def test_region_and_an_explicit_url_of_another_data_centre_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="magento_zoho_sync.settings"):
        s = load_settings(env=BASE_ENV | {"ZOHO_API_URL": "https://www.zohoapis.com"}, overrides={"region": "eu"})
    assert s.zoho.api_url == "https://www.zohoapis.com"
    assert "in Zoho's us data centre but zoho.region is eu: the explicit URL wins" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="magento_zoho_sync.settings"):
        load_settings(env=BASE_ENV | {"ZOHO_API_URL": "https://sandbox.zohoapis.eu"})
    assert caplog.text == ""


def test_urls_without_region_are_enough() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "ZOHO_REGION"}
    env |= {"ZOHO_ACCOUNTS_URL": "https://accounts.zoho.com", "ZOHO_API_URL": "https://www.zohoapis.com"}
    s = load_settings(env=env)
    assert s.zoho.region is None
    assert s.zoho.api_url == "https://www.zohoapis.com"


# ---- _FILE indirection --------------------------------------------------------------------------------------


def test_file_indirection(tmp_path: Path) -> None:
    secret_file = tmp_path / "zoho_secret"
    secret_file.write_text("from-a-file-secret\n", encoding="utf-8")
    env = {k: v for k, v in BASE_ENV.items() if k != "ZOHO_CLIENT_SECRET"}
    s = load_settings(env=env | {"ZOHO_CLIENT_SECRET_FILE": str(secret_file)})
    assert s.zoho.client_secret.get_secret_value() == "from-a-file-secret"
    assert redact.redact("x from-a-file-secret y") == "x *** y"


def test_file_indirection_problems(tmp_path: Path) -> None:
    message = config_error(env=BASE_ENV | {"ZOHO_CLIENT_SECRET_FILE": str(tmp_path / "x")})
    assert lines(message) == [
        "zoho.client_secret: both ZOHO_CLIENT_SECRET and ZOHO_CLIENT_SECRET_FILE are set; keep one (unset the other)"
    ]
    env = {k: v for k, v in BASE_ENV.items() if k != "MAGENTO_PASSWORD"}
    message = config_error(env=env | {"MAGENTO_PASSWORD_FILE": str(tmp_path / "missing")})
    assert lines(message) == [
        f"magento.password: the file {tmp_path / 'missing'} in MAGENTO_PASSWORD_FILE does not exist; "
        "fix the path or set MAGENTO_PASSWORD instead"
    ]


def test_a_flag_wins_over_a_broken_variable_of_the_same_setting(tmp_path: Path) -> None:
    env = BASE_ENV | {"MAGENTO_PASSWORD_FILE": str(tmp_path / "missing")}
    s = load_settings(env=env | {"MAGENTO_PASSWORD": ""}, overrides={"magento.password": "from-a-flag"})
    assert s.magento.password is not None and s.magento.password.get_secret_value() == "from-a-flag"
    assert "MAGENTO_PASSWORD_FILE" in config_error(env=env)  # without the flag, the variable's problem counts


def test_spaces_around_tokens_keys_and_client_secrets_are_dropped_not_around_passwords() -> None:
    env = BASE_ENV | {
        "ZOHO_REFRESH_TOKEN": " 1000.pasted.token \n",
        "ZOHO_CLIENT_SECRET": "client-secret\t",
        "MAGENTO_AUTH": "integration-oauth1",
        "MAGENTO_CONSUMER_KEY": "k" * 32 + " ",
        "MAGENTO_CONSUMER_SECRET": " consumer-secret",
        "MAGENTO_ACCESS_TOKEN": "t" * 32 + "\r\n",
        "MAGENTO_ACCESS_TOKEN_SECRET": " token-secret ",
        "MAGENTO_PASSWORD": " a password with spaces ",
    }
    s = load_settings(env=env)
    assert s.zoho.refresh_token.get_secret_value() == "1000.pasted.token"
    assert s.zoho.client_secret.get_secret_value() == "client-secret"
    values = [s.magento.consumer_key, s.magento.consumer_secret, s.magento.access_token, s.magento.access_token_secret]
    assert [v.get_secret_value() if v else None for v in values] == [
        "k" * 32,
        "consumer-secret",
        "t" * 32,
        "token-secret",
    ]
    assert s.magento.password is not None and s.magento.password.get_secret_value() == " a password with spaces "
    client = load_zoho_client_settings(env=env)
    assert client.client_secret.get_secret_value() == "client-secret"


def secret_file(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "secret"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist; fix the path or set MAGENTO_PASSWORD instead"),
        (b"", "is empty; put the password in it, or unset MAGENTO_PASSWORD_FILE"),
        (b"\n", "is empty; put the password in it, or unset MAGENTO_PASSWORD_FILE"),
        (b"\xff\xfecanary", "is not UTF-8 text; save the value in it as UTF-8"),
        (
            b"x" * (64 * 1024 + 1),
            "is larger than 64 KiB, too big for one value; fix the path or set MAGENTO_PASSWORD instead",
        ),
        ("dir", "is a directory; give the path of the file that holds the value, or set MAGENTO_PASSWORD instead"),
    ],
)
def test_file_indirection_problem_is_one_line_naming_the_path(
    tmp_path: Path, content: bytes | str | None, expected: str
) -> None:
    """One line per problem, naming the file; no second "not set; set MAGENTO_PASSWORD" line contradicting it."""
    if content is None:
        path = str(tmp_path / "missing")
    elif content == "dir":
        path = str(tmp_path)
    else:
        assert isinstance(content, bytes)
        path = secret_file(tmp_path, content)
    env = {k: v for k, v in BASE_ENV.items() if k != "MAGENTO_PASSWORD"}
    for extra in ({}, {"MAGENTO_PASSWORD": ""}):  # an empty variable next to _FILE counts as unset
        problems = lines(config_error(env=env | extra | {"MAGENTO_PASSWORD_FILE": path}))
        assert problems == [f"magento.password: the file {path} in MAGENTO_PASSWORD_FILE {expected}"]
        assert redact.redact(problems[0]) == problems[0]  # the CLI prints messages redacted: still readable
        assert "canary" not in problems[0]


def test_both_value_and_file_is_one_line(tmp_path: Path) -> None:
    env = BASE_ENV | {"MAGENTO_PASSWORD_FILE": secret_file(tmp_path, b"pw\n")}
    assert lines(config_error(env=env)) == [
        "magento.password: both MAGENTO_PASSWORD and MAGENTO_PASSWORD_FILE are set; keep one (unset the other)"
    ]


def test_file_indirection_with_bom_and_crlf(tmp_path: Path) -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "MAGENTO_PASSWORD"}
    s = load_settings(env=env | {"MAGENTO_PASSWORD_FILE": secret_file(tmp_path, b"\xef\xbb\xbfpw with space\r\n")})
    assert s.magento.password is not None
    assert s.magento.password.get_secret_value() == "pw with space"


# ---- validation messages --------------------------------------------------------------------------------------


def lines(message: str) -> list[str]:
    if "\n" not in message:
        return [message.removeprefix("Invalid settings: ")]
    return [line.strip().removeprefix("- ") for line in message.splitlines()[1:]]


def test_missing_everything_one_line_each() -> None:
    message = config_error(env={})
    assert message.startswith("Invalid settings (")
    problems = lines(message)
    for setting, var in [
        ("magento.base_url", "MAGENTO_BASE_URL"),
        ("magento.username", "MAGENTO_USERNAME"),
        ("magento.password", "MAGENTO_PASSWORD"),
        ("zoho.client_id", "ZOHO_CLIENT_ID"),
        ("zoho.client_secret", "ZOHO_CLIENT_SECRET"),
        ("zoho.refresh_token", "ZOHO_REFRESH_TOKEN"),
        ("zoho.accounts_url", "ZOHO_ACCOUNTS_URL"),
        ("zoho.api_url", "ZOHO_API_URL"),
    ]:
        matching = [p for p in problems if p.startswith(f"{setting}:")]
        assert len(matching) == 1, (setting, problems)
        assert var in matching[0]
    assert len(problems) == 8


@pytest.mark.parametrize("mode", sorted(AUTH_MODE_CREDENTIALS))
def test_credentials_per_auth_mode(mode: str) -> None:
    env = {k: v for k, v in BASE_ENV.items() if not k.startswith("MAGENTO_") or k == "MAGENTO_BASE_URL"}
    problems = lines(config_error(env=env | {"MAGENTO_AUTH": mode}))
    expected = {f"magento.{name}" for name in AUTH_MODE_CREDENTIALS[mode]}
    assert {p.partition(":")[0] for p in problems} == expected
    assert all(f"needed by MAGENTO_AUTH={mode}" in p for p in problems)
    creds = {f"MAGENTO_{name.upper()}": f"value-for-{name}" for name in AUTH_MODE_CREDENTIALS[mode]}
    s = load_settings(env=env | {"MAGENTO_AUTH": mode} | creds)
    assert s.magento.auth == mode


def test_unknown_auth_mode() -> None:
    message = config_error(env=BASE_ENV | {"MAGENTO_AUTH": "oauth2"})
    assert message.startswith("Invalid settings: magento.auth:")
    assert "MAGENTO_AUTH" in message


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("MZSYNC_MAGENTO_PAGE_SIZE", "0", "magento.page_size: must be between 1 and 300 (got '0')"),
        ("MZSYNC_MAGENTO_PAGE_SIZE", "301", "magento.page_size: must be between 1 and 300"),
        ("MZSYNC_MAGENTO_PAGE_SIZE", "many", "magento.page_size: must be a whole number (got 'many')"),
        ("MZSYNC_ZOHO_CONCURRENCY", "11", "zoho.concurrency: must be between 1 and 10 (got '11')"),
        ("MZSYNC_ZOHO_CONCURRENCY", "0", "zoho.concurrency: must be between 1 and 10"),
        ("MZSYNC_ON_DELETED", "purge", "sync.on_deleted: Input should be 'ignore', 'tag' or 'delete'"),
        ("MZSYNC_ZOHO_DUPLICATES", "newest", "sync.zoho_duplicates: Input should be 'skip' or 'oldest'"),
        ("MZSYNC_MAX_FAILED_RUNS", "0", "sync.max_failed_runs: must be between 1 and 1000"),
        ("MZSYNC_DELETED_TAG", "x" * 26, "sync.deleted_tag: String should have at most 25 characters"),
        ("MZSYNC_RETRY_TIMEOUT", "0", "retry.timeout: must be greater than 0"),
        ("ZOHO_REGION", "mars", "zoho.region: unknown Zoho region; ZOHO_REGION (or --region) must be one of us, eu"),
        ("MAGENTO_BASE_URL", "shop.example.com", "magento.base_url: MAGENTO_BASE_URL must be an https:// URL"),
        ("MAGENTO_BASE_URL", "ftp://shop.example.com", "magento.base_url: MAGENTO_BASE_URL must be an https:// URL"),
        ("MAGENTO_BASE_URL", "https://shop.example.com:99999", "magento.base_url: MAGENTO_BASE_URL is not a valid"),
        ("MAGENTO_BASE_URL", "https://shop.example.com/?a=1", "must not contain a query string"),
        ("MAGENTO_BASE_URL", "https://u:canary-pw@shop.example.com", "must not contain credentials"),
        ("MAGENTO_BASE_URL", "http://shop.example.com", "plain http:// to shop.example.com"),
        ("ZOHO_API_URL", "http://www.zohoapis.eu", "zoho.api_url: ZOHO_API_URL uses plain http://"),
        ("MAGENTO_STORE_CODE", "a/b", "magento.store_code: must be a store view code: letters, digits and underscores"),
        # finite, bounded numbers (inf, 1e300 and 1e12 hours used to crash later with OverflowError)
        ("MZSYNC_MAGENTO_TIMEOUT", "inf", "magento.timeout: must be greater than 0 and at most 3600 (got 'inf')"),
        ("MZSYNC_MAGENTO_TIMEOUT", "1e300", "magento.timeout: must be greater than 0 and at most 3600"),
        ("MZSYNC_MAGENTO_TIMEOUT", "nan", "magento.timeout: must be greater than 0 and at most 3600 (got 'nan')"),
        ("MZSYNC_ZOHO_TIMEOUT", "inf", "zoho.timeout: must be greater than 0 and at most 3600"),
        ("MZSYNC_ZOHO_TIMEOUT", "3601", "zoho.timeout: must be greater than 0 and at most 3600"),
        ("MZSYNC_RETRY_TIMEOUT", "inf", "retry.timeout: must be greater than 0 and at most 86400"),
        ("MZSYNC_RETRY_TIMEOUT", "86401", "retry.timeout: must be greater than 0 and at most 86400"),
        ("MZSYNC_RETRY_WAIT_INITIAL", "inf", "retry.wait_initial: must be between 0 and 3600"),
        ("MZSYNC_RETRY_WAIT_INITIAL", "-1", "retry.wait_initial: must be between 0 and 3600"),
        ("MZSYNC_RETRY_WAIT_MAX", "inf", "retry.wait_max: must be between 0 and 3600"),
        ("MZSYNC_RETRY_WAIT_MAX", "nan", "retry.wait_max: must be between 0 and 3600"),
        ("MZSYNC_FULL_SYNC_EVERY_HOURS", "1e12", "sync.full_sync_every_hours: must be between 0 and 8760"),
        ("MZSYNC_FULL_SYNC_EVERY_HOURS", "inf", "sync.full_sync_every_hours: must be between 0 and 8760"),
        ("MZSYNC_FULL_SYNC_EVERY_HOURS", "nan", "sync.full_sync_every_hours: must be between 0 and 8760"),
        ("MZSYNC_MAX_FAILED_RUNS", "1" + "0" * 20, "sync.max_failed_runs: must be between 1 and 1000"),
        ("MZSYNC_OVERLAP_MINUTES", "1441", "sync.overlap_minutes: must be between 0 and 1440"),
        # an API path the tool appends itself
        (
            "MAGENTO_BASE_URL",
            "http://127.0.0.1:18181/rest",
            "magento.base_url: MAGENTO_BASE_URL ends with /rest; give the store's base URL without /rest, "
            "i.e. http://127.0.0.1:18181 (the tool adds /rest/<store>/V1 itself)",
        ),
        ("MAGENTO_BASE_URL", "https://shop.example.com/rest/", "ends with /rest; give the store's base URL"),
        ("MAGENTO_BASE_URL", "https://shop.example.com/rest/V1", "without /rest/V1, i.e. https://shop.example.com "),
        ("MAGENTO_BASE_URL", "https://shop.example.com/rest/all/V1/", "without /rest/all/V1, i.e. https://shop."),
        ("MAGENTO_BASE_URL", "https://shop.example.com/rest/default", "without /rest/default, i.e. https://shop."),
        ("MAGENTO_BASE_URL", "https://x.example.com/shop/rest/V1", "i.e. https://x.example.com/shop (the tool"),
        (
            "ZOHO_API_URL",
            "http://127.0.0.1:18182/crm/v8",
            "zoho.api_url: ZOHO_API_URL ends with /crm/v8; give the API URL without /crm/v8, "
            "i.e. http://127.0.0.1:18182 (the tool adds /crm/v8 itself)",
        ),
        ("ZOHO_API_URL", "https://www.zohoapis.eu/crm/v2", "ZOHO_API_URL ends with /crm/v2; give the API URL"),
        ("ZOHO_API_URL", "https://www.zohoapis.eu/crm/v8/", "ZOHO_API_URL ends with /crm/v8; give the API URL"),
        ("ZOHO_API_URL", "https://www.zohoapis.eu/crm", "without /crm, i.e. https://www.zohoapis.eu (the tool"),
        (
            "ZOHO_ACCOUNTS_URL",
            "https://accounts.zoho.eu/oauth/v2/token",
            "zoho.accounts_url: ZOHO_ACCOUNTS_URL ends with /oauth/v2/token; give the Accounts URL without "
            "/oauth/v2/token, i.e. https://accounts.zoho.eu (the tool adds /oauth/v2/token itself)",
        ),
        ("ZOHO_ACCOUNTS_URL", "https://accounts.zoho.eu/oauth/v2/", "without /oauth/v2, i.e. https://accounts.zoho.eu"),
        # Zoho triggers: anything else makes Zoho refuse every batch
        (
            "MZSYNC_ZOHO_TRIGGER",
            "bogus",
            "zoho.trigger: unknown trigger 'bogus'; use any of workflow, approval, blueprint, pathfinder, "
            "orchestration, or none; set MZSYNC_ZOHO_TRIGGER or [zoho] trigger in the config file",
        ),
        ("MZSYNC_ZOHO_TRIGGER", "workflow,bogus", "zoho.trigger: unknown trigger 'bogus'"),
        ("MZSYNC_ZOHO_TRIGGER", "none,workflow", "zoho.trigger: none cannot be combined with other triggers"),
        ("MZSYNC_ZOHO_DUPLICATE_CHECK_FIELDS", "Email Address", "'Email Address' is not a Zoho field API name"),
    ],
)
def test_validation_messages(var: str, value: str, expected: str) -> None:
    message = config_error(env=BASE_ENV | {var: value})
    assert message.startswith("Invalid settings: "), message
    assert expected in message
    assert var in message or "--region" in message
    assert "canary" not in message
    assert "\n" not in message


def test_message_names_env_var_and_toml_key() -> None:
    message = config_error(env=BASE_ENV | {"MZSYNC_ZOHO_CONCURRENCY": "20"})
    assert "set MZSYNC_ZOHO_CONCURRENCY or [zoho] concurrency in the config file" in message


def test_loopback_http_allowed_and_insecure_flag() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost:9000/", "http://[::1]:81"):
        assert load_settings(env=BASE_ENV | {"MAGENTO_BASE_URL": url}).magento.base_url == url.rstrip("/")
    s = load_settings(env=BASE_ENV | {"MAGENTO_BASE_URL": "http://shop.lan"}, overrides={"insecure_http": True})
    assert s.magento.base_url == "http://shop.lan"
    s = load_settings(env=BASE_ENV | {"MAGENTO_BASE_URL": "http://shop.lan", "MZSYNC_INSECURE_HTTP": "on"})
    assert s.network.allow_insecure_http is True


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://api.localhost:8080", True),  # RFC 6761: names under .localhost are loopback
        ("http://LOCALHOST./", True),
        ("http://127.8.9.10", True),
        ("http://localhost.localdomain", False),  # an /etc/hosts alias, not a guarantee
        ("http://127.0.0.1.example.com", False),
        ("http://[::ffff:7f00:1]", False),
    ],
)
def test_the_settings_and_the_http_clients_apply_one_url_policy(url: str, loopback: bool) -> None:
    """A URL the settings accept is one the clients accept, and the other way round (one loopback rule)."""
    try:
        load_settings(env=BASE_ENV | {"MAGENTO_BASE_URL": url})
        settings_ok = True
    except ConfigError as exc:
        assert "plain http://" in str(exc)
        settings_ok = False
    try:
        check_url(url, setting="magento.base_url")
        client_ok = True
    except ConfigError:
        client_ok = False
    assert settings_ok == client_ok == loopback


def test_toml_problems(tmp_path: Path) -> None:
    assert "unknown section" in config_error(config_file=write_toml(tmp_path, "[bogus]\na = 1\n"), env=BASE_ENV)
    message = config_error(config_file=write_toml(tmp_path, 'magento = 5\nzoho = "a-secret-value"\n'), env=BASE_ENV)
    assert "magento is given a value, not a section; write [magento]" in message and "[zoho]" in message
    assert "a-secret-value" not in message  # the value could be a secret written in the wrong place
    message = config_error(config_file=write_toml(tmp_path, "[magento]\npage_sise = 1\n"), env=BASE_ENV)
    assert "magento.page_sise: unknown setting (did you mean magento.page_size?" in message
    message = config_error(config_file=write_toml(tmp_path, "[zoho]\nwhatever_else = 1\n"), env=BASE_ENV)
    assert "zoho.whatever_else: unknown setting (check the spelling" in message  # nothing close: no guess
    message = config_error(config_file=write_toml(tmp_path, "[magento\n"), env=BASE_ENV)
    assert "cannot be read" in message
    assert "not found" in config_error(config_file=tmp_path / "nope.toml", env=BASE_ENV)


def test_a_misspelt_environment_variable_is_named_instead_of_ignored() -> None:
    message = config_error(env=BASE_ENV | {"MZSYNC_ZOHO_CONCURENCY": "50", "MZSYNC_STATE_PATH": "/srv/x"})
    assert "MZSYNC_ZOHO_CONCURENCY is not a setting of magento-zoho-sync; did you mean MZSYNC_ZOHO_CONCURRENCY?" in (
        message
    )
    assert "MZSYNC_STATE_PATH is not a setting" in message
    # the known names, and their _FILE forms, are settings; other programs' variables are not looked at
    load_settings(env=BASE_ENV | {"MZSYNC_ZOHO_CONCURRENCY": "4", "OTHER_TOOL_STATE": "x"})


def test_a_first_retry_wait_longer_than_the_longest_is_refused() -> None:
    message = config_error(env=BASE_ENV | {"MZSYNC_RETRY_WAIT_INITIAL": "20", "MZSYNC_RETRY_WAIT_MAX": "1"})
    assert "retry: wait_initial (20 s) is more than wait_max (1 s)" in message


def test_a_number_where_the_file_needs_text_is_said_in_its_words(tmp_path: Path) -> None:
    message = config_error(config_file=write_toml(tmp_path, "[sync]\nstate_path = 5\n"), env=BASE_ENV)
    assert "sync.state_path: must be a path (text) (got 5)" in message and "class" not in message


def test_upsert_keys_as_one_string_in_the_file_are_a_list_as_triggers_are(tmp_path: Path) -> None:
    text = '[zoho]\nduplicate_check_fields = "Email, Magento_Customer_ID"\ntrigger = "workflow"\n'
    config = write_toml(tmp_path, text)
    settings = load_settings(config_file=config, env=BASE_ENV)
    assert settings.zoho.duplicate_check_fields == ["Email", "Magento_Customer_ID"]
    assert settings.zoho.trigger == ["workflow"]


def test_config_file_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "bin.toml"
    config.write_bytes(b"\xff\xfe[x]")
    assert config_error(config_file=config, env=BASE_ENV) == (
        f"{config}: not a UTF-8 text file; save the settings file as UTF-8"
    )


def test_config_file_with_a_utf8_bom_loads(tmp_path: Path) -> None:
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf[magento]\npage_size = 50\n")
    assert load_settings(config_file=config, env=BASE_ENV).magento.page_size == 50


def test_toml_infinite_numbers_are_refused(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path, "[zoho]\ntimeout = inf\n[retry]\nwait_max = nan\n[sync]\nfull_sync_every_hours = 1e12\n"
    )
    problems = lines(config_error(config_file=config, env=BASE_ENV))
    assert problems == [
        "zoho.timeout: must be greater than 0 and at most 3600 (got inf); "
        "set MZSYNC_ZOHO_TIMEOUT or [zoho] timeout in the config file",
        "retry.wait_max: must be between 0 and 3600 (got nan); set MZSYNC_RETRY_WAIT_MAX or [retry] wait_max in the "
        "config file",
        "sync.full_sync_every_hours: must be between 0 and 8760 (got 1000000000000.0); "
        "set MZSYNC_FULL_SYNC_EVERY_HOURS or [sync] full_sync_every_hours in the config file",
    ]


def test_largest_numbers_accepted() -> None:
    s = load_settings(
        env=BASE_ENV
        | {
            "MZSYNC_MAGENTO_TIMEOUT": "3600",
            "MZSYNC_ZOHO_TIMEOUT": "3600",
            "MZSYNC_RETRY_TIMEOUT": "86400",
            "MZSYNC_RETRY_WAIT_MAX": "3600",
            "MZSYNC_FULL_SYNC_EVERY_HOURS": "8760",
            "MZSYNC_MAX_FAILED_RUNS": "1000",
        }
    )
    assert (s.magento.timeout, s.zoho.timeout, s.retry.timeout, s.retry.wait_max) == (3600, 3600, 86400, 3600)
    assert (s.sync.full_sync_every_hours, s.sync.max_failed_runs) == (8760, 1000)


def test_zoho_client_settings_timeout_is_bounded() -> None:
    env = {"ZOHO_REGION": "in", "ZOHO_CLIENT_ID": "cid", "ZOHO_CLIENT_SECRET": "canary-client-secret"}
    assert load_zoho_client_settings(env=env | {"MZSYNC_ZOHO_TIMEOUT": "5"}).timeout == 5
    for bad in ("inf", "0", "-1"):
        message = config_error_client(env=env | {"MZSYNC_ZOHO_TIMEOUT": bad})
        assert "zoho.timeout: must be greater than 0 and at most 3600" in message


def test_magento_base_url_under_a_sub_path_is_kept() -> None:
    for url in ("https://example.com/shop/", "https://example.com/index.php", "https://example.com/restaurant"):
        assert load_settings(env=BASE_ENV | {"MAGENTO_BASE_URL": url}).magento.base_url == url.rstrip("/")
    for url in ("https://www.zohoapis.eu/proxy", "https://example.com/crmx"):
        assert load_settings(env=BASE_ENV | {"ZOHO_API_URL": url}).zoho.api_url == url


def test_api_suffix_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[magento]\nbase_url = "https://toml.example.com/rest/V1/"\n')
    env = {k: v for k, v in BASE_ENV.items() if k != "MAGENTO_BASE_URL"}
    message = config_error(config_file=config, env=env)
    assert (
        "magento.base_url: MAGENTO_BASE_URL ends with /rest/V1; give the store's base URL without /rest/V1" in message
    )
    client = config_error_client(
        env={
            "ZOHO_REGION": "eu",
            "ZOHO_CLIENT_ID": "c",
            "ZOHO_CLIENT_SECRET": "s",
            "ZOHO_ACCOUNTS_URL": "https://accounts.zoho.eu/oauth/v2/token",
        }
    )
    assert "zoho.accounts_url: ZOHO_ACCOUNTS_URL ends with /oauth/v2/token" in client


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("none", []),
        ("None", []),
        ("Workflow, workflow ,approval", ["workflow", "approval"]),
        ("workflow,approval,blueprint,pathfinder,orchestration", list(ZOHO_TRIGGERS)),
    ],
)
def test_trigger_values(value: str, expected: list[str]) -> None:
    assert load_settings(env=BASE_ENV | {"MZSYNC_ZOHO_TRIGGER": value}).zoho.trigger == expected


def test_trigger_in_the_config_file(tmp_path: Path) -> None:
    env = BASE_ENV
    assert load_settings(write_toml(tmp_path, '[zoho]\ntrigger = "workflow"\n'), env=env).zoho.trigger == ["workflow"]
    assert load_settings(write_toml(tmp_path, "[zoho]\ntrigger = []\n"), env=env).zoho.trigger == []
    message = config_error(config_file=write_toml(tmp_path, '[zoho]\ntrigger = ["workflows"]\n'), env=env)
    assert "zoho.trigger: unknown trigger 'workflows'; use any of workflow, approval" in message


def test_blank_values_in_the_config_file(tmp_path: Path) -> None:
    """A blank tag would make Zoho refuse every tagging call; a blank URL counts as unset (the region fills it)."""
    config = write_toml(tmp_path, '[sync]\ndeleted_tag = "   "\n')
    assert "sync.deleted_tag: String should have at least 1 character" in config_error(config_file=config, env=BASE_ENV)
    config = write_toml(tmp_path, '[sync]\ndeleted_tag = " Gone "\n[zoho]\napi_url = " "\n')
    s = load_settings(config_file=config, env=BASE_ENV)
    assert s.sync.deleted_tag == "Gone"
    assert s.zoho.api_url == ZOHO_REGIONS["eu"][1]


def test_mapping_problems_are_config_errors(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[mapping.fields]\nPhone = "address.telephone | shout"\n')
    message = config_error(config_file=config, env=BASE_ENV)
    assert "[mapping.fields] Phone: unknown transform 'shout'" in message
    config = write_toml(tmp_path, '[mapping.fields]\nFirst_Name = "first_name"\n')
    message = config_error(config_file=config, env=BASE_ENV)
    assert "'first_name' is not a field of a customer in Magento's REST API (did you mean 'firstname'?" in message
    config = write_toml(tmp_path, '[mapping.fields]\nPhone = "billing.telefone"\n')
    message = config_error(config_file=config, env=BASE_ENV)
    assert "'telefone' is not a field of an address" in message and "custom_attributes.<code>" in message
    config = write_toml(tmp_path, '[mapping.fields]\nPhone = "address..telephone"\n')
    assert "[mapping.fields] Phone: malformed Magento path" in config_error(config_file=config, env=BASE_ENV)
    config = write_toml(tmp_path, "[mapping.fields]\nEmail = false\n")
    assert "Email must be mapped" in config_error(config_file=config, env=BASE_ENV)


# ---- secrets --------------------------------------------------------------------------------------------------


def test_secrets_are_secret_and_masked() -> None:
    s = load_settings(env=BASE_ENV)
    assert isinstance(s.magento.password, SecretStr)
    assert isinstance(s.zoho.client_secret, SecretStr)
    assert isinstance(s.zoho.refresh_token, SecretStr)
    text = repr(s) + str(s) + s.model_dump_json()
    for value in SECRETS.values():
        assert value not in text
    assert s.zoho.refresh_token.get_secret_value() == SECRETS["ZOHO_REFRESH_TOKEN"]


def test_loaded_secrets_are_registered_for_redaction() -> None:
    load_settings(env=BASE_ENV)
    assert (
        redact.redact(f"oops {SECRETS['MAGENTO_PASSWORD']} and {SECRETS['ZOHO_CLIENT_SECRET']}") == "oops *** and ***"
    )


def test_no_secret_in_any_error_message() -> None:
    env = BASE_ENV | {"MZSYNC_MAGENTO_PAGE_SIZE": "0", "MAGENTO_AUTH": "admin-totp", "ZOHO_REGION": "nowhere"}
    env |= {"MAGENTO_PASSWORD": "canary-pw-xyz", "MAGENTO_BASE_URL": "http://canary-user:canary-pw@host.example"}
    message = config_error(env=env)
    assert "canary" not in message
    assert len(lines(message)) >= 4


def test_settings_are_frozen() -> None:
    s = load_settings(env=BASE_ENV)
    with pytest.raises(ValueError, match="frozen"):
        s.magento.page_size = 5  # type: ignore[misc]
    assert isinstance(s, Settings)


# ---- the declaration table ------------------------------------------------------------------------------------


def test_original_process_variables_correspondence() -> None:
    assert ORIGINAL_PROCESS_VARIABLES == {
        "MagentoBaseUrl": "MAGENTO_BASE_URL",
        "MagentoUser": "MAGENTO_USERNAME",
        "MagentoPassword": "MAGENTO_PASSWORD",
        "ZohoAccountUrl": "ZOHO_ACCOUNTS_URL",
        "ZohoApiUrl": "ZOHO_API_URL",
        "ZohoClientId": "ZOHO_CLIENT_ID",
        "ZohoClientSecret": "ZOHO_CLIENT_SECRET",
        "ZohoRefreshToken": "ZOHO_REFRESH_TOKEN",
    }


def test_every_env_var_reaches_its_setting(tmp_path: Path) -> None:
    names = [v.name for v in ENV_VARS]
    assert len(names) == len(set(names))
    sections = {"magento", "zoho", "retry", "network", "sync"}
    for var in ENV_VARS:
        section, _, key = var.setting.partition(".")
        assert section in sections
        model = type(getattr(load_settings(env=BASE_ENV), section))
        assert key in model.model_fields, var
    secret_names = {v.name for v in ENV_VARS if v.secret}
    assert {"MAGENTO_PASSWORD", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "MAGENTO_TOTP_SECRET"} <= secret_names


# ---- auth zoho-grant and the README table ---------------------------------------------------------------------


def test_zoho_client_settings_need_no_magento_nor_refresh_token() -> None:
    env = {"ZOHO_REGION": "in", "ZOHO_CLIENT_ID": "cid", "ZOHO_CLIENT_SECRET": "canary-client-secret"}
    client = load_zoho_client_settings(env=env, overrides={"network.verify_tls": False})
    assert (client.accounts_url, client.api_url) == ZOHO_REGIONS["in"]
    assert client.client_secret.get_secret_value() == "canary-client-secret"
    assert client.network.verify_tls is False
    assert "canary" not in repr(client)
    assert redact.redact("canary-client-secret") == "***"
    problems = lines(config_error_client(env={"ZOHO_REGION": "in"}))
    assert {p.partition(":")[0] for p in problems} == {"zoho.client_id", "zoho.client_secret"}
    message = config_error_client(env=env | {"ZOHO_ACCOUNTS_URL": "http://accounts.zoho.in"})
    assert "zoho.accounts_url: ZOHO_ACCOUNTS_URL uses plain http://" in message


def config_error_client(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_zoho_client_settings(**kwargs)
    return str(info.value)


def test_env_table_markdown() -> None:
    table = env_table_markdown()
    assert table.count("\n") == len(ENV_VARS) + 1
    assert "| `MAGENTO_USERNAME` | `[magento] username` | MagentoUser |" in table
    assert "`ZOHO_REFRESH_TOKEN`" in table
    assert "(secret; also `_FILE`)" in table


def test_sync_settings_alone_need_no_credentials(tmp_path: Path) -> None:
    config = write_toml(tmp_path, '[sync]\nstate_path = "/srv/state.sqlite"\n')
    assert load_sync_settings(config, env={}).state_path == Path("/srv/state.sqlite")
    assert load_sync_settings(None, {"state": "/a.sqlite"}, env={"MZSYNC_STATE": "/b.sqlite"}).state_path == Path(
        "/a.sqlite"
    )
    assert load_sync_settings(env={"XDG_STATE_HOME": str(tmp_path)}).state_path.parent == tmp_path / "magento-zoho-sync"
    with pytest.raises(ConfigError, match=r"sync\.max_failed_runs: must be between 1 and 1000"):
        load_sync_settings(env={"MZSYNC_MAX_FAILED_RUNS": "0"})


def test_warns_when_a_config_file_with_secrets_is_readable_by_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_toml(tmp_path, '[zoho]\nclient_secret = "canary-in-toml"\n')
    env = {k: v for k, v in BASE_ENV.items() if k != "ZOHO_CLIENT_SECRET"}
    config.chmod(0o644)
    with caplog.at_level("WARNING", logger="magento_zoho_sync.settings"):
        s = load_settings(config, env=env)
    assert s.zoho.client_secret.get_secret_value() == "canary-in-toml"
    assert "holds secrets (zoho.client_secret) but other users can read it" in caplog.text
    assert "canary" not in caplog.text
    caplog.clear()
    config.chmod(0o600)
    with caplog.at_level("WARNING", logger="magento_zoho_sync.settings"):
        load_settings(config, env=env)
    assert caplog.text == ""


def test_documented_mapping_file_loads(tmp_path: Path) -> None:
    config = write_toml(
        tmp_path,
        """
[mapping.fields]
Lead_Source = "constant:Magento"
Mailing_Street = "address.street | join_newlines"
Email_Opt_Out = { path = "extension_attributes.is_subscribed", transforms = ["bool_to_opt_out"] }
Phone = false
""",
    )
    spec = load_settings(config, env=BASE_ENV).mapping_spec()
    assert spec.rule("Phone") is None
    rule = spec.rule("Email_Opt_Out")
    assert rule is not None
    assert rule.describe() == "extension_attributes.is_subscribed | bool_to_opt_out"
    street = spec.rule("Mailing_Street")
    assert street is not None
    assert street.describe() == "address.street | join_newlines"
    assert [r.field for r in spec.rules][:3] == ["Email", "First_Name", "Last_Name"]


def test_no_home_directory_asks_for_mzsync_state(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    with pytest.raises(ConfigError) as info:
        default_state_path({})
    assert "MZSYNC_STATE" in str(info.value)
    assert default_state_path({"XDG_STATE_HOME": "/var/lib/x"}) == Path("/var/lib/x/magento-zoho-sync/state.sqlite")


@pytest.mark.parametrize("token", ["abcd\r\nefgh", "abcd\x00efgh", "abcd efgh", "abcdöefgh"])
def test_an_access_token_no_http_header_can_carry_is_refused_by_name_without_showing_it(token: str) -> None:
    env = BASE_ENV | {"MAGENTO_AUTH": "integration-bearer", "MAGENTO_ACCESS_TOKEN": f"  {token}\n"}
    message = config_error(env=env)
    assert "magento.access_token: must be the integration's Access Token as Magento shows it" in message
    assert "MAGENTO_ACCESS_TOKEN" in message
    assert token not in message and "abcd" not in message


# ---- values in quotes (Docker's --env-file keeps them) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "setting"),
    [
        ("MAGENTO_BASE_URL", '"https://shop.example.com"', "magento.base_url"),
        ("ZOHO_API_URL", "'https://www.zohoapis.eu'", "zoho.api_url"),
        ("ZOHO_REGION", '"eu"', "zoho.region"),
        ("MAGENTO_AUTH", "'admin'", "magento.auth"),
        ("MZSYNC_ZOHO_CONCURRENCY", '"4"', "zoho.concurrency"),
        ("MZSYNC_STATE", '"/var/lib/mzsync/state.sqlite"', "sync.state_path"),
    ],
)
def test_a_value_in_quotes_is_named_as_such(name: str, value: str, setting: str) -> None:
    message = config_error(env=BASE_ENV | {name: value})
    assert f"{setting}: " in message
    assert "is in quotes" in message and "remove them" in message
    assert "https:// URL with a host name" not in message and "unknown Zoho region" not in message


def test_a_secret_in_quotes_is_taken_as_given() -> None:
    # A password may hold quotes: it is never second-guessed (nor shown).
    s = load_settings(env=BASE_ENV | {"MAGENTO_PASSWORD": '"quoted"'})
    assert s.magento.password is not None and s.magento.password.get_secret_value() == '"quoted"'


# ---- Zoho's two URLs swapped -------------------------------------------------------------------------------------


def test_the_accounts_url_given_as_the_api_url_names_the_api_url() -> None:
    message = config_error(env=BASE_ENV | {"ZOHO_API_URL": "https://accounts.zoho.eu/"})
    assert "zoho.api_url: ZOHO_API_URL is Zoho's Accounts URL (https://accounts.zoho.eu)" in message
    assert "ZOHO_API_URL=https://www.zohoapis.eu" in message


def test_an_api_url_given_as_the_accounts_url_names_the_accounts_url() -> None:
    message = config_error(env=BASE_ENV | {"ZOHO_ACCOUNTS_URL": "https://sandbox.zohoapis.com.au"})
    assert "ZOHO_ACCOUNTS_URL is a Zoho API URL (https://sandbox.zohoapis.com.au)" in message
    assert "ZOHO_ACCOUNTS_URL=https://accounts.zoho.com.au" in message


def test_both_zoho_urls_swapped_are_both_named() -> None:
    env = BASE_ENV | {"ZOHO_API_URL": "https://accounts.zoho.com", "ZOHO_ACCOUNTS_URL": "https://www.zohoapis.com"}
    message = config_error(env=env)
    assert "ZOHO_API_URL=https://www.zohoapis.com" in message
    assert "ZOHO_ACCOUNTS_URL=https://accounts.zoho.com" in message


def test_a_state_path_in_quotes_is_named_for_the_listings_too() -> None:
    with pytest.raises(ConfigError) as info:
        load_sync_settings(env={"MZSYNC_STATE": "'/var/lib/mzsync/state.sqlite'"})
    assert "sync.state_path: the path is in quotes" in str(info.value)
