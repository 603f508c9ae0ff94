"""A state file the sync cannot write: made owner-only before SQLite opens it (its -wal and -shm files take its
mode), sidecars an earlier version left read-only made writable, and else one error naming the file to fix.

Tests run as root, which writes read-only files anyway: what this user may write is told by ``os.access`` (patched
here), and the sidecars' modes are checked directly."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from magento_zoho_sync.errors import StateError
from magento_zoho_sync.state import StateStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _state(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    store = StateStore.open(path)
    store.start_run("full")
    store.close()
    return path


def _deny(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """This user may not write ``denied`` (as a user without root's override would not)."""
    real_access: Callable[..., bool] = os.access
    monkeypatch.setattr(
        "magento_zoho_sync.state_file.os.access",
        lambda path, mode, **kw: Path(path) not in denied and real_access(path, mode, **kw),
    )


def _not_owned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The state's files belong to another user: no chmod of them is tried."""
    uid = os.geteuid() + 1
    monkeypatch.setattr("magento_zoho_sync.state_file.os.geteuid", lambda: uid)


def test_a_read_only_state_file_is_made_owner_only_before_sqlite_makes_its_wal_and_shm(tmp_path: Path) -> None:
    """SQLite gives its -wal and -shm files the database file's mode: made while the file was 0400, they stayed
    read-only after the chmod, and every later sync failed on them."""
    path = _state(tmp_path)
    path.chmod(0o400)
    store = StateStore.open(path)
    try:
        store.start_run("incremental")
        assert _mode(path) == 0o600
        assert _mode(tmp_path / "state.sqlite-wal") == 0o600 and _mode(tmp_path / "state.sqlite-shm") == 0o600
    finally:
        store.close()


def test_sidecars_left_read_only_by_an_earlier_version_are_made_owner_writable(tmp_path: Path) -> None:
    path = _state(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as other:  # holds the -wal and -shm files open
        other.execute("INSERT INTO meta(key, value) VALUES('probe', 'x')")
        other.commit()
        sides = [tmp_path / "state.sqlite-wal", tmp_path / "state.sqlite-shm"]
        for side in sides:
            side.chmod(0o400)
        StateStore.open(path).close()
        assert [_mode(side) for side in sides] == [0o600, 0o600]


def test_a_state_file_this_user_cannot_write_is_named_and_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _state(tmp_path)
    path.chmod(0o644)
    before = path.read_bytes()
    _deny(monkeypatch, path)
    _not_owned(monkeypatch)
    with pytest.raises(StateError) as raised:
        StateStore.open(path)
    assert f"The state file {path} cannot be written: it is read-only for this user" in str(raised.value)
    assert raised.value.hint is not None and f"Run the sync as the user that owns {path}" in raised.value.hint
    assert path.read_bytes() == before and _mode(path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]  # no -wal, no -shm
    reader = StateStore.open(path, read_only=True)  # runs and errors still read it
    assert reader.last_run_id() == 1
    reader.close()


def test_a_read_only_wal_file_of_another_user_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _state(tmp_path)
    wal = tmp_path / "state.sqlite-wal"
    wal.write_bytes(b"")
    wal.chmod(0o400)
    _deny(monkeypatch, wal)
    _not_owned(monkeypatch)
    with pytest.raises(StateError, match=f"cannot be written: its -wal file {wal} is read-only"):
        StateStore.open(path)
    assert _mode(wal) == 0o400


def test_an_own_file_still_read_only_after_the_chmod_says_chmod_u_w(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _state(tmp_path)
    _deny(monkeypatch, path)  # a file system that refuses writes to it anyway
    with pytest.raises(StateError) as raised:
        StateStore.open(path)
    assert str(path) in raised.value.message and f"chmod u+w {path}" in (raised.value.hint or "")


def test_a_read_only_folder_is_named_before_sqlite_fails_in_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _state(tmp_path)
    _deny(monkeypatch, tmp_path)
    with pytest.raises(StateError, match=f"The folder {tmp_path} of the state file {path} is read-only"):
        StateStore.open(path)
