"""``StateStore.in_use``: the dry run's probe of a sync's lock, which must neither misread nor disturb it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sync.errors import LockedError, StateError
from magento_zoho_sync.state import StateStore


@pytest.fixture
def state_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "state.db"
    store = StateStore.open(path, create_parents=False)
    with store.lock():  # leaves the lock file behind, as every sync does
        pass
    store.close()
    yield path


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def test_no_lock_file_means_no_sync_ever_ran(tmp_path: Path) -> None:
    assert StateStore.in_use(tmp_path / "never.db") is False


def test_a_running_sync_is_seen_and_a_finished_one_is_not(state_path: Path) -> None:
    store = StateStore.open(state_path, create_parents=False)
    try:
        with store.lock():
            assert StateStore.in_use(state_path) is True
        assert StateStore.in_use(state_path) is False
    finally:
        store.close()


def test_another_probe_at_the_same_moment_is_not_taken_for_a_sync(state_path: Path) -> None:
    fd = os.open(_lock_path(state_path), os.O_RDONLY)  # a second dry run, in the middle of its own probe
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        assert StateStore.in_use(state_path) is False
    finally:
        os.close(fd)


def test_the_probe_leaves_the_lock_free_for_a_sync(state_path: Path) -> None:
    assert StateStore.in_use(state_path) is False
    store = StateStore.open(state_path, create_parents=False)
    try:
        with store.lock():  # would raise LockedError if the probe had kept any lock
            pass
    except LockedError:  # pragma: no cover - the failure this test is for
        pytest.fail("the probe kept the lock")
    finally:
        store.close()


def test_the_lock_file_is_opened_read_only(state_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock file owned by the service user (mode 0600), probed by another user, or on a read-only mount."""
    flags: list[int] = []
    real_open = os.open

    def recording_open(path: Any, flag: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".lock"):
            flags.append(flag)
        return real_open(path, flag, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    assert StateStore.in_use(state_path) is False
    assert flags and all(flag & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) == 0 for flag in flags)


def test_a_lock_file_that_cannot_be_opened_is_an_error_naming_it_not_no_sync(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = blocker / "state.db"  # its lock file cannot be opened: NotADirectoryError, not "no lock file"
    with pytest.raises(StateError) as info:
        StateStore.in_use(path)
    assert str(_lock_path(path)) in info.value.message


def test_a_lock_file_this_user_cannot_open_is_said_naming_it(state_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = StateStore.open(state_path)
    real_open = os.open

    def refusing(path: Any, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode)

    monkeypatch.setattr("magento_zoho_sync.state.os.open", refusing)
    with pytest.raises(StateError) as info, state.lock():
        pass
    assert f"The lock file {state_path}.lock of the state file {state_path} cannot be opened" in str(info.value)
    assert "Permission denied" in str(info.value) and "chown it" in str(info.value.hint)
