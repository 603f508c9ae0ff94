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


def _read_only_mount(monkeypatch: pytest.MonkeyPatch, mount: Path) -> None:
    """The file system holding ``mount`` is mounted read-only (a backup snapshot, a container's read-only volume):
    writes fail there even for root, and no chmod helps."""
    real_statvfs = os.statvfs

    def statvfs(path: str | Path) -> object:
        result = real_statvfs(path)
        if Path(path) == mount or mount in Path(path).parents:
            return type("Statvfs", (), {"f_flag": result.f_flag | os.ST_RDONLY})()
        return result

    monkeypatch.setattr("magento_zoho_sync.state_file.os.statvfs", statvfs)


def test_a_state_file_on_a_read_only_mount_is_refused_saying_so_before_anything_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _state(tmp_path)
    path.chmod(0o644)  # a chmod to 0600 would fail there (EROFS) and was said as "Cannot open ... for writing"
    before = path.read_bytes()
    _read_only_mount(monkeypatch, tmp_path)
    with pytest.raises(StateError) as raised:
        StateStore.open(path)
    assert raised.value.message == (
        f"The state file {path} cannot be written: {tmp_path} is on a file system mounted read-only."
    )
    assert "chmod cannot help" in (raised.value.hint or "") and "--state PATH" in (raised.value.hint or "")
    assert path.read_bytes() == before and _mode(path) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite"]  # no -wal, -shm nor lock file
    new = tmp_path / "new" / "state.sqlite"  # a file still to make, in a folder still to make
    with pytest.raises(StateError, match=f"cannot be written: {tmp_path} is on a file system mounted read-only"):
        StateStore.open(new, create_parents=True)
    assert not new.parent.exists()


def test_the_doctors_view_of_a_read_only_mount_is_the_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from magento_zoho_sync.state_file import cannot_write

    path = _state(tmp_path)
    assert cannot_write(path, chmod_to_come=True) is None
    _read_only_mount(monkeypatch, tmp_path)
    refusal = cannot_write(path, chmod_to_come=True)
    assert refusal is not None and "mounted read-only" in refusal.message


def test_an_sqlite_refusal_on_a_read_only_mount_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system remounted read-only in the middle of a run: SQLite says "attempt to write a readonly
    database"; the message names the mount instead of suggesting a chmod."""
    from magento_zoho_sync.state_file import state_error

    path = _state(tmp_path)
    sqlite_words = sqlite3.OperationalError("attempt to write a readonly database")
    assert "chmod u+w" in (state_error(sqlite_words, path).hint or "")
    _read_only_mount(monkeypatch, tmp_path)
    error = state_error(sqlite_words, path)
    assert error.message.endswith("mounted read-only. (attempt to write a readonly database)")
    assert "chmod cannot help" in (error.hint or "")


def test_reads_of_a_state_whose_folder_cannot_hold_a_shm_file_take_the_file_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WAL database is read through its -shm file, which SQLite cannot make in a read-only folder or mount
    ("unable to open database file"): `runs`, `errors` and the dry run's copy then read the file as it is."""
    from magento_zoho_sync.state_file import read_uri

    path = _state(tmp_path)
    assert read_uri(path).endswith("?mode=ro")
    _deny(monkeypatch, tmp_path)
    assert read_uri(path).endswith("?mode=ro&immutable=1")
