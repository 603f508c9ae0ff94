"""The state file's folder, end to end: a typo in a given path is refused before any call and makes no folder;
the default path's folders are made as they always were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from magento_zoho_sync.app import run_sync
from magento_zoho_sync.cli import main
from magento_zoho_sync.errors import ConfigError
from tests.e2e.conftest import World


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_typo_in_the_state_path_is_refused_before_any_call(make_world: Any, tmp_path: Path, dry_run: bool) -> None:
    world: World = make_world(3)
    typo = tmp_path / "srv" / "mzsnyc" / "state.db"
    with pytest.raises(ConfigError) as info:
        world.sync(dry_run=dry_run, **{"sync.state_path": typo})
    assert f"The folder {tmp_path / 'srv'} of the state file {typo} does not exist" in str(info.value)
    assert not (tmp_path / "srv").exists()
    assert world.magento.log.total == 0 and world.zoho.log.total == 0


def test_a_given_path_gets_its_own_folder(make_world: Any, tmp_path: Path) -> None:
    world: World = make_world(3)
    path = tmp_path / "mzsync" / "state.sqlite"
    assert world.sync(**{"sync.state_path": path}).tally.read == 3
    assert path.is_file()


def test_the_default_state_path_gets_every_missing_folder(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: World = make_world(3)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no such folder yet, nor any below it
    settings = world.settings(**{"sync.state_path": None})  # None: not given, so the default
    assert settings.sync.state_path_is_default
    assert run_sync(settings, transport=world.transport).tally.read == 3
    assert (tmp_path / "home" / ".local" / "state" / "magento-zoho-sync" / "state.sqlite").is_file()


def test_the_cli_exits_2_with_what_to_fix(tmp_path: Path) -> None:
    typo = tmp_path / "srv" / "mzsnyc" / "state.db"
    env = {
        "MAGENTO_BASE_URL": "http://127.0.0.1:9",  # never called: the state path is refused first
        "MAGENTO_AUTH": "integration-bearer",
        "MAGENTO_ACCESS_TOKEN": "state-folder-test-access-token-7a1b",
        "ZOHO_ACCOUNTS_URL": "http://127.0.0.1:9",
        "ZOHO_API_URL": "http://127.0.0.1:9",
        "ZOHO_CLIENT_ID": "1000.STATEFOLDER",
        "ZOHO_CLIENT_SECRET": "state-folder-test-client-secret-3c9d",
        "ZOHO_REFRESH_TOKEN": "1000.statefoldertest0000.statefoldertest1111",
    }
    result = CliRunner().invoke(main, ["sync", "--state", str(typo)], env=env, catch_exceptions=False)
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert f"error: The folder {tmp_path / 'srv'} of the state file {typo} does not exist; create it or fix" in line
    assert not (tmp_path / "srv").exists()


def test_a_dry_run_reads_a_state_file_in_a_folder_named_with_uri_characters(make_world: Any, tmp_path: Path) -> None:
    world: World = make_world(3)
    folder = tmp_path / "shop?mode=rw#1"
    folder.mkdir()
    path = {"sync.state_path": folder / "state.sqlite"}
    assert world.sync(**path).tally.read == 3
    plan = world.sync(dry_run=True, **path)  # the dry run copies the state through a read-only SQLite URI
    assert plan.tally.mode == "incremental" and plan.tally.inserted == 0
    runs = CliRunner().invoke(main, ["runs", "--state", str(folder / "state.sqlite"), "--json"])
    assert runs.exit_code == 0, runs.output


def test_a_dry_run_copies_a_state_in_a_folder_it_cannot_write_as_the_file_is(
    make_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state on a read-only mount (a backup snapshot): SQLite cannot make the -shm file a WAL read needs there,
    and the dry run's copy failed with "unable to open database file". It reads the file as it is instead."""
    import os
    import sqlite3

    world: World = make_world(3)
    path = tmp_path / "state.sqlite"
    assert world.sync(**{"sync.state_path": path}).tally.read == 3
    real_access, real_connect = os.access, sqlite3.connect
    monkeypatch.setattr(
        "magento_zoho_sync.state_file.os.access",
        lambda p, mode, **kw: Path(p) != tmp_path and real_access(p, mode, **kw),
    )
    opened: list[str] = []

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(str(database))
        if kwargs.get("uri") and str(database).startswith(path.as_uri()) and "immutable=1" not in str(database):
            raise sqlite3.OperationalError("unable to open database file")  # what SQLite says on such a mount
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr("magento_zoho_sync.app.sqlite3.connect", connect)
    plan = world.sync(dry_run=True, **{"sync.state_path": path})
    assert plan.tally.mode == "incremental" and plan.tally.inserted == 0
    assert any(uri.startswith(path.as_uri()) for uri in opened)  # the copy was made from it
