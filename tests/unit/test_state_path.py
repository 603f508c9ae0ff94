"""The state file's folder: the default one is made with its parents; a path the user gave gets at most its own
folder, so that a typo in it (``--state /srv/mzsnyc/x/state.db``) makes no folders but says what to fix."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sync import redact
from magento_zoho_sync.errors import ConfigError, StateError
from magento_zoho_sync.settings import load_settings, load_sync_settings
from magento_zoho_sync.state import StateStore, make_state_folder

ENV: dict[str, str] = {
    "MAGENTO_BASE_URL": "https://shop.example.com",
    "MAGENTO_USERNAME": "sync-user",
    "MAGENTO_PASSWORD": "state-path-test-magento-password",
    "ZOHO_REGION": "eu",
    "ZOHO_CLIENT_ID": "1000.CLIENTID",
    "ZOHO_CLIENT_SECRET": "state-path-test-zoho-client-secret",
    "ZOHO_REFRESH_TOKEN": "1000.statepathtest0000.statepathtest1111",
}


@pytest.fixture(autouse=True)
def _clean_registry() -> Any:
    redact.clear_secrets()
    yield
    redact.clear_secrets()


def test_only_a_path_no_layer_gave_is_the_default_one(tmp_path: Path) -> None:
    xdg = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert load_settings(env=ENV | xdg).sync.state_path_is_default
    assert load_sync_settings(env=xdg).state_path_is_default
    given = str(tmp_path / "given.sqlite")
    assert not load_settings(env=ENV | xdg | {"MZSYNC_STATE": given}).sync.state_path_is_default
    assert not load_settings(None, {"state": given}, env=ENV | xdg).sync.state_path_is_default
    config = tmp_path / "config.toml"
    config.write_text(f'[sync]\nstate_path = "{given}"\n', encoding="utf-8")
    assert not load_settings(config, env=ENV | xdg).sync.state_path_is_default
    assert not load_sync_settings(config, env=xdg).state_path_is_default
    assert not load_sync_settings(None, {"state": given}, env=xdg).state_path_is_default


def test_a_given_path_works_without_a_home_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    given = tmp_path / "state.sqlite"
    assert load_sync_settings(env={"MZSYNC_STATE": str(given)}).state_path == given  # no default is looked for
    with pytest.raises(ConfigError, match="MZSYNC_STATE"):
        load_sync_settings(env={})


def test_a_given_path_whose_parent_folder_is_missing_is_refused_and_makes_no_folder(tmp_path: Path) -> None:
    path = tmp_path / "srv" / "mzsnyc" / "state.db"  # /srv/mzsnyc/state.db where /srv does not exist
    with pytest.raises(ConfigError) as info:
        StateStore.open(path)
    assert str(info.value) == (
        f"The folder {tmp_path / 'srv'} of the state file {path} does not exist; create it or fix the path "
        "(--state, MZSYNC_STATE or [sync] state_path)"
    )
    assert info.value.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_a_given_path_gets_at_most_its_own_folder_and_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "mzsync" / "state.sqlite"
    with caplog.at_level(logging.INFO, logger="magento_zoho_sync.state"):
        StateStore.open(path).close()
    assert path.is_file() and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert f"made the folder {path.parent} for the state file" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="magento_zoho_sync.state"):
        StateStore.open(path).close()  # there already: nothing to say
    assert caplog.text == ""


@pytest.mark.parametrize("create_parents", [False, True])
@pytest.mark.parametrize("below", ["state.sqlite", "x/state.sqlite"])
def test_a_file_where_a_folder_of_the_path_should_be_is_named(tmp_path: Path, below: str, create_parents: bool) -> None:
    (tmp_path / "afile").write_text("")
    path = tmp_path / "afile" / below
    with pytest.raises(ConfigError, match=f"{tmp_path / 'afile'} is a file, not a folder"):
        StateStore.open(path, create_parents=create_parents)


def test_the_default_path_gets_every_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".local" / "state" / "magento-zoho-sync" / "state.sqlite"
    StateStore.open(path, create_parents=True).close()
    assert path.is_file()


def test_a_dry_run_only_checks(tmp_path: Path) -> None:
    make_state_folder(tmp_path / "new" / "state.sqlite", create_parents=False, create=False)
    assert not (tmp_path / "new").exists()  # the sync would make it: fine, and a dry run makes nothing
    with pytest.raises(ConfigError, match="does not exist; create it or fix the path"):
        make_state_folder(tmp_path / "a" / "b" / "state.sqlite", create_parents=False, create=False)
    make_state_folder(tmp_path / "a" / "b" / "state.sqlite", create_parents=True, create=False)
    assert not (tmp_path / "a").exists()


def test_reading_a_state_that_does_not_exist_makes_nothing(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="No state file at"):
        StateStore.open(tmp_path / "x" / "state.sqlite", read_only=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("create_parents", [False, True])
def test_a_folder_given_as_the_state_path_is_named_not_taken_for_a_failing_disk(
    tmp_path: Path, create_parents: bool
) -> None:
    # SQLite says "disk I/O error" for a folder, which a sync took for a full or failing disk
    with pytest.raises(ConfigError, match=f"{tmp_path} is a folder, not the state file.*{tmp_path / 'state.sqlite'}"):
        StateStore.open(tmp_path, create_parents=create_parents)
    with pytest.raises(ConfigError, match="is a folder, not the state file"):  # a dry run's and doctor's check
        make_state_folder(tmp_path, create_parents=create_parents, create=False)
    with pytest.raises(StateError, match=f"{tmp_path} is a folder, not the state file"):  # runs, errors
        StateStore.open(tmp_path, read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_a_state_path_with_question_marks_hashes_and_percents_reads_back(tmp_path: Path) -> None:
    """doctor, runs, errors and dry runs open the state read-only through an SQLite URI: the folder's name must
    stay a name, not become the URI's query or fragment."""
    folder = tmp_path / "shop?mode=rw#1 50%"
    folder.mkdir()
    path = folder / "state.sqlite"
    state = StateStore.open(path)
    state.commit_meta("probe", "written")
    state.close()
    reader = StateStore.open(path, read_only=True)
    try:
        assert reader.get_meta("probe") == "written"
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no stray file made from a cut-off path


@pytest.mark.parametrize("read_only", [False, True])
def test_a_pipe_given_as_the_state_path_is_refused_and_left_as_it_is(tmp_path: Path, read_only: bool) -> None:
    """A device or a pipe (``--state /dev/null``) was chmodded to 0600 and said to be a failing disk."""
    pipe = tmp_path / "fifo"
    os.mkfifo(pipe, 0o644)
    with pytest.raises(StateError, match="not a regular file"):
        StateStore.open(pipe, read_only=read_only)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and stat.S_IMODE(os.stat(pipe).st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


@pytest.mark.parametrize("user_version", [0, 1])
@pytest.mark.parametrize("read_only", [False, True])
def test_another_programs_sqlite_database_is_refused_and_left_as_it_is(
    tmp_path: Path, read_only: bool, user_version: int
) -> None:
    """Known by its tables, not by its user_version (which another program may set to 1 too)."""
    path = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE foo (x)")
        db.execute(f"PRAGMA user_version={user_version}")
        db.commit()
    os.chmod(path, 0o644)
    before = path.read_bytes()
    with pytest.raises(StateError, match="database of something else"):
        StateStore.open(path, read_only=read_only)
    assert path.read_bytes() == before and stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert {p.name for p in tmp_path.iterdir()} == {"other.sqlite"}  # no WAL made in it either
    StateStore.open(tmp_path / "new.sqlite").close()  # an empty new file is a state file
    StateStore.open(tmp_path / "new.sqlite").close()  # and it is one when opened again


def test_a_state_restored_from_an_sql_dump_is_still_a_state_file(tmp_path: Path) -> None:
    """`sqlite3 state.sqlite .dump | sqlite3 restored.sqlite` does not carry user_version over: the tables say what
    the file is, and the next open for writing marks it again."""
    original = StateStore.open(tmp_path / "state.sqlite")
    run_id = original.start_run("full")
    original.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "state.sqlite")) as db:
        dump = list(db.iterdump())
    with contextlib.closing(sqlite3.connect(tmp_path / "restored.sqlite")) as db:
        db.executescript("\n".join(dump))
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    reader = StateStore.open(tmp_path / "restored.sqlite", read_only=True)
    assert reader.last_run_id() == run_id
    reader.close()
    writer = StateStore.open(tmp_path / "restored.sqlite")
    assert writer.last_run_id() == run_id
    assert writer._db.execute("PRAGMA user_version").fetchone()[0] == 1
    writer.close()
