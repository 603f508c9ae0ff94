"""``magento-zoho-sync auth zoho-grant``: grant code → refresh token, written only where the user says."""

from __future__ import annotations

import os
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from magento_zoho_sync.grant import REFRESH_LIMIT_WARNING, read_grant_code, run_grant, write_env_file
from magento_zoho_sync.settings import ZohoClientSettings
from tests.e2e.auth_support import assert_no_secret, invoke, served, transport_with_hosts
from tests.e2e.conftest import World

FULL_SCOPES = (
    "ZohoCRM.modules.contacts.ALL",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.coql.READ",
)


@pytest.fixture
def zoho_env(make_world: Any) -> Iterator[tuple[World, dict[str, str]]]:
    """The Zoho simulator on a loopback port and the settings a user would give ``auth zoho-grant``."""
    world: World = make_world(0)
    with served(world) as env:
        yield world, {k: env[k] for k in ("ZOHO_ACCOUNTS_URL", "ZOHO_API_URL", "ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET")}


def _new_tokens(world: World, before: set[str]) -> set[str]:
    return set(world.zoho.accounts.refresh_tokens) - before


def _secrets(world: World, *more: str) -> tuple[str, ...]:
    return (world.zoho.client_secret, world.refresh_token, *more)


def test_the_code_from_stdin_becomes_a_0600_env_file(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    before = set(world.zoho.accounts.refresh_tokens)
    target = tmp_path / "mzsync.env"

    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code + "\n")

    assert result.exit_code == 0, result.output
    (token,) = _new_tokens(world, before)
    assert target.read_text() == f"ZOHO_REFRESH_TOKEN={token}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Scopes granted: " + " ".join(FULL_SCOPES) in result.output
    assert REFRESH_LIMIT_WARNING in result.output
    assert "warning: Missing scope" not in result.output
    assert_no_secret(result.output, _secrets(world, code, token))


def test_the_written_token_works_for_a_sync(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    target = tmp_path / "mzsync.env"
    code = world.zoho.issue_grant_code()
    assert (
        invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code).exit_code == 0
    )
    token = target.read_text().strip().partition("=")[2]
    result = world.sync(**{"zoho.refresh_token": token})
    assert result.tally.read == 0
    assert world.zoho.stats()["token_requests"] >= 2  # the exchange, then a refresh with the new token


def test_a_code_on_the_command_line_works_with_a_warning_about_the_process_list(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    result = invoke(["auth", "zoho-grant", "--grant-token", code, "--env-file", str(tmp_path / "e")], env)
    assert result.exit_code == 0, result.output
    assert "visible in the process list" in result.output
    assert_no_secret(result.output, _secrets(world, code))
    quiet = invoke(
        ["auth", "zoho-grant", "--env-file", str(tmp_path / "f")],
        {**env, "ZOHO_GRANT_TOKEN": world.zoho.issue_grant_code(FULL_SCOPES)},
    )
    assert quiet.exit_code == 0 and "process list" not in quiet.output  # from the environment: no warning


def test_an_existing_line_is_replaced_other_lines_kept_and_the_mode_tightened(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    target = tmp_path / "mzsync.env"
    target.write_text("MAGENTO_BASE_URL=https://shop.example.com\nexport ZOHO_REFRESH_TOKEN=1000.old.old\n# note\n")
    target.chmod(0o644)
    code = world.zoho.issue_grant_code(FULL_SCOPES)

    result = invoke(["auth", "zoho-grant", "--env-file", str(target)], {**env, "ZOHO_GRANT_TOKEN": code})

    assert result.exit_code == 0, result.output
    lines = target.read_text().splitlines()
    assert lines[0] == "MAGENTO_BASE_URL=https://shop.example.com"
    assert lines[1].startswith("export ZOHO_REFRESH_TOKEN=1000.") and "old" not in lines[1]  # export kept
    assert lines[2] == "# note"
    assert len(lines) == 3
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "replaced the ZOHO_REFRESH_TOKEN line" in result.output


def test_without_a_destination_nothing_is_exchanged(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    requests = world.zoho.stats()["token_requests"]

    refused = invoke(["auth", "zoho-grant", "--grant-token", "-"], env, input=code)

    assert refused.exit_code == 2
    assert "--env-file PATH" in refused.output and "--stdout" in refused.output
    assert world.zoho.stats()["token_requests"] == requests  # the code was not spent
    again = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(tmp_path / "e")], env, input=code)
    assert again.exit_code == 0, again.output


def test_both_destinations_are_refused(zoho_env: Any, tmp_path: Path) -> None:
    _, env = zoho_env
    result = invoke(["auth", "zoho-grant", "--grant-token", "x", "--stdout", "--env-file", str(tmp_path / "e")], env)
    assert result.exit_code == 2
    assert "not both" in result.output


def test_stdout_gets_only_the_line_when_asked(zoho_env: Any) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    before = set(world.zoho.accounts.refresh_tokens)

    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--stdout"], env, input=code)

    assert result.exit_code == 0, result.stderr
    (token,) = _new_tokens(world, before)
    assert result.stdout == f"ZOHO_REFRESH_TOKEN={token}\n"
    assert token not in result.stderr
    assert REFRESH_LIMIT_WARNING in result.stderr


def test_missing_scopes_are_warned_about(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(("ZohoCRM.modules.contacts.READ",))
    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(tmp_path / "e")], env, input=code)
    assert result.exit_code == 0
    for scope in ("ZohoCRM.modules.contacts.CREATE", "ZohoCRM.modules.contacts.UPDATE", "ZohoCRM.coql.READ"):
        assert f"warning: Missing scope {scope}" in result.output
    assert "OAUTH_SCOPE_MISMATCH" in result.output
    assert "Missing scope ZohoCRM.modules.contacts.READ" not in result.output


def test_a_used_code_is_refused_with_its_cause_and_nothing_is_written(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    first = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(tmp_path / "a")], env, input=code)
    assert first.exit_code == 0
    target = tmp_path / "b"

    second = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code)

    assert second.exit_code == 2
    assert "invalid_code" in second.output and "already used" in second.output
    assert not target.exists()
    assert_no_secret(second.output, _secrets(world, code))


def test_a_wrong_client_secret_is_named(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    wrong = "CANARY-wrong-client-secret"
    result = invoke(
        ["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(tmp_path / "e")],
        {**env, "ZOHO_CLIENT_SECRET": wrong},
        input=code,
    )
    assert result.exit_code == 2
    assert "invalid_client" in result.output and "ZOHO_CLIENT_SECRET" in result.output
    assert_no_secret(result.output, _secrets(world, code, wrong))


def test_an_empty_code_is_refused(zoho_env: Any, tmp_path: Path) -> None:
    _, env = zoho_env
    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(tmp_path / "e")], env, input="\n")
    assert result.exit_code == 2
    assert "grant code is empty" in result.output


def test_a_grant_naming_another_data_centre_is_warned_about(make_world: Any) -> None:
    world: World = make_world(0)
    world.zoho.config.api_domain = "https://www.zohoapis.eu"
    transport = transport_with_hosts(world, {"accounts.zoho.com": world.zoho.app})
    settings = ZohoClientSettings(
        accounts_url="https://accounts.zoho.com",
        api_url="https://www.zohoapis.com",
        client_id=world.zoho.client_id,
        client_secret=SecretStr(world.zoho.client_secret),
    )
    outcome = run_grant(settings, SecretStr(world.zoho.issue_grant_code(FULL_SCOPES)), transport=transport)
    assert outcome.result.refresh_token.get_secret_value() in world.zoho.accounts.refresh_tokens
    assert any("ZOHO_API_URL=https://www.zohoapis.eu" in w for w in outcome.warnings)


def test_an_env_file_in_a_missing_folder_is_refused_before_the_exchange(zoho_env: Any, tmp_path: Path) -> None:
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    requests = world.zoho.stats()["token_requests"]
    target = tmp_path / "missing" / "mzsync.env"
    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code)
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert world.zoho.stats()["token_requests"] == requests


def test_grant_token_dash_on_a_terminal_prompts_instead_of_waiting_for_end_of_file() -> None:
    asked: list[str] = []

    def prompt() -> str:
        asked.append("prompted")
        return " 1000.abc.def \n"

    def stdin_text() -> str:
        raise AssertionError("a terminal's standard input must not be read to its end")

    code = read_grant_code("-", stdin_text=stdin_text, prompt=prompt)
    assert asked == ["prompted"] and code.get_secret_value() == "1000.abc.def"
    piped = read_grant_code("-", stdin_text=lambda: "1000.piped\n", prompt=None)
    assert piped.get_secret_value() == "1000.piped"


def test_zoho_grant_token_file_is_named_as_not_read_rather_than_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every other variable has a _FILE form; ZOHO_GRANT_TOKEN_FILE was ignored without a word, and the error said
    only "No grant code ... set ZOHO_GRANT_TOKEN", leaving the user to wonder why the file was not read."""
    from magento_zoho_sync.errors import ConfigError

    monkeypatch.setenv("ZOHO_GRANT_TOKEN_FILE", "/run/secrets/grant")
    with pytest.raises(ConfigError) as raised:
        read_grant_code(None, stdin_text=lambda: "", prompt=None)
    said = str(raised.value)
    assert "ZOHO_GRANT_TOKEN_FILE is not read" in said and "--grant-token - < FILE" in said, said


def test_a_replaced_export_line_keeps_its_export(tmp_path: Path) -> None:
    target = tmp_path / "z.env"
    target.write_text("FOO=bar\nexport ZOHO_REFRESH_TOKEN=old\n")
    assert write_env_file(target, SecretStr("1000.new.token")) is True
    assert target.read_text() == "FOO=bar\nexport ZOHO_REFRESH_TOKEN=1000.new.token\n"
    target.write_text("ZOHO_REFRESH_TOKEN=old\n")
    write_env_file(target, SecretStr("1000.newer.token"))
    assert target.read_text() == "ZOHO_REFRESH_TOKEN=1000.newer.token\n"


def test_an_env_file_that_is_not_utf8_is_refused_before_the_exchange(zoho_env: Any, tmp_path: Path) -> None:
    """It failed after the exchange ("unexpected UnicodeDecodeError"), with the code used up and the token lost."""
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    requests = world.zoho.stats()["token_requests"]
    target = tmp_path / "latin.env"
    target.write_bytes(b"A=\xff\n")
    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code)
    assert result.exit_code == 2 and "is not UTF-8 text" in result.output and "Nothing was exchanged" in result.output
    assert world.zoho.stats()["token_requests"] == requests and target.read_bytes() == b"A=\xff\n"


def test_an_env_file_that_cannot_be_written_after_the_exchange_is_one_clear_error(
    zoho_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk filling between the check and the write: said as what happened and what to do, never as a bug,
    and the token never shown."""
    world, env = zoho_env
    code = world.zoho.issue_grant_code(FULL_SCOPES)
    before = set(world.zoho.accounts.refresh_tokens)

    def full_disk(*_: Any) -> bool:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("magento_zoho_sync.cli_auth.write_env_file", full_disk)
    target = tmp_path / "mzsync.env"
    result = invoke(["auth", "zoho-grant", "--grant-token", "-", "--env-file", str(target)], env, input=code)
    assert result.exit_code == 2, result.output
    assert "could not be written" in result.output and "No space left on device" in result.output
    assert "make a new grant code" in result.output and "bug" not in result.output
    (token,) = _new_tokens(world, before)
    assert_no_secret(result.output, _secrets(world, code, token))
    assert not target.exists()


@pytest.mark.parametrize("close", ["ctrl-d", "ctrl-c"])
def test_the_prompt_closed_with_ctrl_d_or_ctrl_c_is_one_clear_line(close: str, tmp_path: Path) -> None:
    """On a terminal the code is asked for; closing the prompt says so (exit 2), not "unexpected Abort ... a bug"."""
    primary, secondary = os.openpty()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ZOHO_REGION": "eu",
        "ZOHO_CLIENT_ID": "1000.CLIENT",
        "ZOHO_CLIENT_SECRET": "not-a-real-secret",
    }
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [sys.executable, "-m", "magento_zoho_sync", "auth", "zoho-grant", "--env-file", str(tmp_path / "z.env")],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # no controlling terminal: the prompt reads the pseudo-terminal given as stdin
    )
    os.close(secondary)
    try:
        # once the prompt is shown (on standard error), close it
        assert proc.stderr is not None
        shown = b""
        while b"Grant code" not in shown:
            assert select.select([proc.stderr], [], [], 30)[0], f"no prompt: {shown!r}"
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, f"no prompt: {shown!r}"
            shown += chunk
        if close == "ctrl-d":
            os.write(primary, b"\x04")
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        err = shown + err
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    text = err.decode()
    assert proc.returncode == 2, text
    assert "No grant code was entered" in text and "this is a bug" not in text and "Abort" not in text
    assert not (tmp_path / "z.env").exists()
