"""The state file on disk: its folder (made or checked), its SQLite URI, and what an SQLite error on it means."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path

from magento_zoho_sync.errors import ConfigError, StateError

# the state store's logger: what is said of the state file keeps the name it is logged under
log = logging.getLogger("magento_zoho_sync.state")


def state_error(exc: sqlite3.DatabaseError, path: Path | str = "") -> StateError:
    """What an SQLite error means for the state file (SQLite's own words in brackets), and what to do."""
    where = f"The state file {path}" if path else "The state file"
    lowered = str(exc).lower()
    if "full" in lowered or "i/o" in lowered:
        return StateError(
            f"{where} could not be written: the disk is full or failing ({exc}).",
            hint="Free some space (while a large run goes on, the state and its -wal file can take about 40 MB) and "
            "run again: what was saved is kept and the run goes on from there.",
        )
    if "locked" in lowered or "busy" in lowered:
        return StateError(
            f"{where} is busy: another process has been writing to it for too long ({exc}).",
            hint="Another magento-zoho-sync (perhaps an older version), a backup or an sqlite3 shell holds it: wait "
            "for it to finish and run again. The file is not damaged.",
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        if path and (read_only := read_only_mount(Path(path))) is not None:  # remounted read-only mid-run, say
            return StateError(f"{read_only.message} ({exc})", hint=read_only.hint)
        return StateError(
            f"{where} cannot be written or opened ({exc}): the file or its folder is read-only or missing.",
            hint="Check MZSYNC_STATE (or --state), and that this user can write the state file, its -wal and -shm "
            "files and its folder (chmod u+w).",
        )
    return StateError(
        f"{where} is damaged or not a magento-zoho-sync state file ({exc}).",
        hint="Restore it from a backup, or delete it (or point --state elsewhere): the next sync then matches Zoho "
        "contacts by email and writes every customer once more; a customer whose email changed since the state's "
        "last sync (in Magento or in Zoho) gets a second contact.",
    )


def make_state_folder(path: Path, *, create_parents: bool, create: bool = True) -> None:
    """The folder of the state file ``path``, made if missing (``create``; else only checked, for a dry run).

    The default path's missing folders are all made (``create_parents``). Of a path the user gave (``--state``,
    ``MZSYNC_STATE``, ``[sync] state_path``) at most the last folder is, and said so: a typo higher up makes no
    folders but a :class:`ConfigError`."""
    if path.is_dir():  # SQLite would say "disk I/O error", which a sync takes for a full or failing disk
        raise ConfigError(folder_given(path))
    folder = path.parent
    if folder.is_dir():
        return
    above = next((p for p in (folder, *folder.parents) if p.exists() or p.is_symlink()), None)
    if above is not None and not above.is_dir():  # mkdir would say "File exists", "Not a directory"
        raise ConfigError(
            f"{above} is a file, not a folder, in the path of the state file {path}; fix the path (--state, "
            "MZSYNC_STATE or [sync] state_path)"
        )
    if not create_parents and not folder.parent.is_dir():
        raise ConfigError(
            f"The folder {folder.parent} of the state file {path} does not exist; create it or fix the path "
            "(--state, MZSYNC_STATE or [sync] state_path)"
        )
    if create:
        folder.mkdir(parents=create_parents, exist_ok=True, mode=0o700)
        if not create_parents:
            log.info("made the folder %s for the state file", folder)


def folder_given(path: Path) -> str:
    return (
        f"{path} is a folder, not the state file; give the path of a file in it, such as "
        f"{path / 'state.sqlite'} (--state, MZSYNC_STATE or [sync] state_path)"
    )


def sqlite_uri(path: Path, options: str) -> str:
    """An SQLite ``file:`` URI for ``path`` with query ``options`` (``mode=ro``): percent-encoded, so that a ``?``,
    a ``#`` or a ``%`` in a folder's name is part of the path, not the start of the options."""
    return f"{path.resolve().as_uri()}?{options}"


def read_uri(path: Path) -> str:
    """The URI that reads the state file ``path`` without writing anything: through its -shm file where its folder
    can hold one, else (a monitoring user's view, a read-only mount) as the file is on disk (``immutable``)."""
    options = "mode=ro" if os.access(path.resolve().parent, os.W_OK) else "mode=ro&immutable=1"
    return sqlite_uri(path, options)


def read_only_mount(path: Path) -> StateError | None:
    """The error for a state file on a file system mounted read-only (where no chmod helps), or None."""
    folder = path.expanduser().resolve().parent
    existing = next((p for p in (folder, *folder.parents) if p.is_dir()), None)
    try:
        read_only = existing is not None and bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows), or the folder went away: SQLite will tell
        return None
    if not read_only:
        return None
    return StateError(
        f"The state file {path} cannot be written: {existing} is on a file system mounted read-only.",
        hint="Pass --state PATH (or set MZSYNC_STATE) to a file on a writable file system, or mount that one "
        "read-write; chmod cannot help. `runs`, `errors` and `sync --dry-run` read the state where it is.",
    )


#: the files SQLite keeps next to a state file while it is open (``-journal`` only before the switch to WAL)
SIDECARS = ("-wal", "-shm", "-journal")


def sidecars(path: Path) -> list[Path]:
    """The sidecar files of the state file ``path`` that exist now (next to the file a symlink points to: SQLite
    makes them there)."""
    path = path.resolve()
    return [side for suffix in SIDECARS if (side := path.with_name(path.name + suffix)).exists()]


def _owned(path: Path) -> bool:
    """A regular file (not a symlink) of this user's: one it may chmod."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def make_owner_only(path: Path) -> None:
    """Make the state file ``path`` and its sidecars owner-only (0600), those this user owns: before SQLite opens
    it, which gives the -wal and -shm files it makes the database file's mode (a state file copied in as 0400
    made them read-only, and every later sync failed on them), and those an earlier version left so."""
    for file in (path.resolve(), *sidecars(path)):
        if _owned(file) and stat.S_IMODE(file.lstat().st_mode) != 0o600:
            os.chmod(file, 0o600)


def cannot_write(path: Path, *, chmod_to_come: bool = False) -> StateError | None:
    """The error for a state file a sync could not write, or None: the file itself, its -wal, -shm or -journal
    file, or its folder (where SQLite makes those, and the sync its lock file). ``chmod_to_come``: the files this
    user owns count as writable, since a sync makes them owner-only (0600) first (the doctor's view, changing
    nothing)."""
    if (read_only := read_only_mount(path)) is not None:
        return read_only
    real = path.resolve()
    folder = real.parent
    for file in [real] * real.exists() + sidecars(path):
        if os.access(file, os.W_OK) or (chmod_to_come and _owned(file)):
            continue
        which = "it" if file == real else f"its {file.name[len(real.name) :]} file {file}"
        todo = f"Run `chmod u+w {file}`" if _owned(file) else f"Run the sync as the user that owns {file}"
        return StateError(
            f"The state file {path} cannot be written: {which} is read-only for this user.",
            hint=f"{todo}, or pass --state PATH (or set MZSYNC_STATE) to a file this user can write.",
        )
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return StateError(
            f"The folder {folder} of the state file {path} is read-only for this user: a sync makes the state's "
            "-wal, -shm and .lock files there.",
            hint=f"Run `chmod u+wx {folder}` (as its owner), or pass --state PATH (or set MZSYNC_STATE) to a file "
            "in a folder this user can write.",
        )
    return None
