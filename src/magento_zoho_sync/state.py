"""The state store: one SQLite file that makes runs incremental, resumable and explainable.

Its tables are in ``state_schema.py``.

What it keeps (and never: a password, a token or a client secret):

* ``links``      one row per Magento customer: its normalised email, ``updated_at``, the Zoho contact id it is
                 linked to, the hash of the payload last acknowledged by Zoho, and when, and the ids of the
                 addresses that payload was read from (``mapping_addresses.py``).
* ``failures``   customers whose last attempt failed, with a stable code and message, how many runs they have
                 failed in, and whether they are parked (no longer retried).
* ``zoho_index`` the normalised emails of the Zoho contacts, read by the last full run (to find contacts
                 whose email differs only by case or spaces, and emails held by several contacts).
* ``contacts``   the email each contact holds after our own acknowledged writes since that read (an email
                 change moves a contact, a merge may not), so "who holds this email" stays true between scans.
* ``runs`` and ``run_errors``  the history that ``runs`` and ``errors`` print (``state_runs.py``).
* ``meta``       the watermark, the time of the last full run and the checkpoint of a run in progress.

Every write happens in one transaction (``BEGIN IMMEDIATE``): a batch's links, failures and checkpoint are
committed together after Zoho acknowledged the batch, so a kill at any moment loses nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from magento_zoho_sync.errors import LockedError, StateError
from magento_zoho_sync.state_commit import PartWriter, json_array, json_supported
from magento_zoho_sync.state_file import (
    cannot_write,
    folder_given,
    make_owner_only,
    make_state_folder,
    read_only_mount,
    read_uri,
    sqlite_uri,
    state_error,
)
from magento_zoho_sync.state_records import (
    Checkpoint,
    CommitPart,
    FailureRecord,
    Link,
    LinkUpdate,
    RunRow,
    StoredFailure,
)
from magento_zoho_sync.state_runs import RunHistory
from magento_zoho_sync.state_schema import (
    FULL_RUN_INPUTS_KEY,
    SCHEMA_VERSION,
    STATE_TABLES,
    create_tables,
    missing_columns,
    utc_now,
)

#: the state's public names, importable from here whichever module holds them
__all__ = [
    "Checkpoint",
    "CommitPart",
    "FailureRecord",
    "Link",
    "LinkUpdate",
    "RunRow",
    "StateStore",
    "StoredFailure",
    "make_state_folder",
    "not_a_regular_file",
    "read_uri",
    "sqlite_uri",
    "state_error",
]


def _lock_path(path: Path) -> Path:
    """The lock file of a state file: one per file, whatever name (a symlink, another path) it is given by."""
    real = path.expanduser().resolve()
    return real.with_name(real.name + ".lock")


class StateStore(RunHistory):
    """The SQLite state. Open it with :meth:`open`; hold :meth:`lock` for the length of a run."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock_file: int | None = None
        self._parts = PartWriter(connection, bulk=json_supported(connection))

    # -- opening, locking -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, create_parents: bool = False) -> StateStore:
        """``create_parents``: make every missing folder of ``path`` (the default path); else at most its own."""
        path = path.expanduser()
        if (refusal := not_a_regular_file(path)) is not None:  # a device, a pipe: no state there (nor a chmod)
            raise refusal
        try:
            if read_only:
                if not path.exists():
                    raise StateError(f"No state file at {path}: run a sync first, or pass --state PATH.")
                if path.is_dir():
                    raise StateError(folder_given(path))
                connection = sqlite3.connect(read_uri(path), uri=True, isolation_level=None)
            else:
                if (read_only_fs := read_only_mount(path)) is not None:  # before any folder, file or chmod
                    raise read_only_fs
                make_state_folder(path, create_parents=create_parents)
                if not path.exists():
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                # another program's database, or a newer version's: refused before anything changes it; then the
                # file is made owner-only before SQLite opens it (its -wal and -shm files take the file's mode)
                checked = _checked_as_it_is(path)
                if checked:
                    make_owner_only(path)
                if (unwritable := cannot_write(path, chmod_to_come=not checked)) is not None:
                    raise unwritable
                connection = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
                try:
                    version = _schema_version(connection, path)
                except BaseException:
                    connection.close()
                    raise
                if not checked:
                    make_owner_only(path)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                # Each commit appends the pages it changed to the WAL; the email indexes are changed at random
                # places, so the same pages come back commit after commit. A longer WAL (up to ~40 MB during a
                # large run) copies each of them back to the database once per checkpoint instead of 10 times.
                connection.execute("PRAGMA wal_autocheckpoint=10000")
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) or "malformed" in str(exc):
                raise state_error(exc, path) from exc
            raise StateError(f"Cannot open the state file {path}: {exc}. Check the path and its permissions.") from exc
        except OSError as exc:
            doing = "open the state file" if path.exists() else "create the state file"
            raise StateError(f"Cannot {doing} {path} for writing: {exc.strerror}. Pass --state PATH.") from exc
        store = cls(path, connection)
        if read_only:
            _schema_version(connection, path)
        elif version < SCHEMA_VERSION:
            with store.transaction() as db:
                create_tables(db)
        return store

    def _add_columns(self) -> None:
        """The columns added after schema 1 (``run_errors.details``, ``links.address_ids``), added to a file of an
        earlier version: under the sync's lock (no other sync, of any version, is writing), and checked again
        inside the transaction. Those versions name the columns they read and write, so they go on working with
        it: no new schema version."""
        if not missing_columns(self._db):
            return
        try:
            with self.transaction() as db:
                for table, column, kind in missing_columns(db):  # names of ours, not input
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise state_error(exc, self.path) from exc

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One sync per state file. The kernel drops the lock when the process dies, even on SIGKILL."""
        lock_path = _lock_path(self.path)
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:  # left by another user (a run as root, then as the service user), a read-only place
            raise StateError(
                f"The lock file {lock_path} of the state file {self.path} cannot be opened for writing "
                f"({exc.strerror or exc}).",
                hint="Run the sync as the user that owns the state file, or give that user the lock file "
                "(chown it, or delete it while no sync runs: it holds nothing).",
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(
                f"Another magento-zoho-sync is already running with the state file {self.path}.",
                hint="Wait for it to finish (or stop it); two syncs on one state file would send the same data twice.",
            ) from None
        try:
            self._add_columns()
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def in_use(path: Path) -> bool:
        """Whether a sync holds the state file at ``path`` now (its lock, as :meth:`lock` takes it).

        The lock file is opened read-only (it may belong to the service user, or sit on a read-only mount) and probed
        with a shared lock, released at once: probes never take each other for a sync, and the probe never holds the
        exclusive lock a sync takes. Only a missing lock file means that no sync ever ran with the state file.
        """
        lock_path = _lock_path(path)
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except FileNotFoundError:  # no lock file: no sync ever ran with it
            return False
        except OSError as exc:
            raise StateError(
                f"Cannot tell whether a sync is using the state file {path}: its lock file {lock_path} cannot be "
                f"opened ({exc.strerror or exc}).",
                hint="Run the dry run as the user the sync runs as, or let this user read the lock file.",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # a sync holds the exclusive lock
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta: watermark, last full run, checkpoint --------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, db: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (key, value, value),
            )

    def commit_meta(self, key: str, value: str | None) -> None:
        with self.transaction() as db:
            self._set_meta(db, key, value)

    @property
    def watermark(self) -> str | None:
        return self.get_meta("watermark")

    @property
    def last_full_at(self) -> str | None:
        return self.get_meta("last_full_at")

    @property
    def full_run_inputs(self) -> dict[str, str] | None:
        """What decided what was sent at the last completed full run, by name; ``None`` before one."""
        raw = self.get_meta(FULL_RUN_INPUTS_KEY)
        try:
            inputs = json.loads(raw) if raw is not None else None
        except ValueError:
            return None  # unreadable: recorded again by the next full run
        return {str(k): str(v) for k, v in inputs.items()} if isinstance(inputs, dict) else None

    def checkpoint(self) -> Checkpoint | None:
        raw = self.get_meta("checkpoint")
        if raw is None:
            return None
        data = json.loads(raw)
        return Checkpoint(
            run_id=int(data["run_id"]),
            mode=str(data["mode"]),
            updated_since=data.get("updated_since"),
            after_id=int(data["after_id"]),
            server_start=data.get("server_start"),
            started_at=data.get("started_at"),
        )

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.transaction() as db:
            self._write_checkpoint(db, checkpoint)

    def _write_checkpoint(self, db: sqlite3.Connection, checkpoint: Checkpoint) -> None:
        self._set_meta(db, "checkpoint", json.dumps(checkpoint.__dict__))

    # -- links ----------------------------------------------------------------------------------------------------

    def links_for(self, customer_ids: Sequence[int]) -> dict[int, Link]:
        result: dict[int, Link] = {}
        for row in self._select_in(
            "SELECT customer_id, email, updated_at, zoho_id, payload_hash, deleted, address_ids FROM links "
            "WHERE customer_id IN {in}",
            list(customer_ids),
        ):
            result[int(row[0])] = Link(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]), row[6])
        return result

    def links_by_email(self, emails: Iterable[str]) -> dict[str, list[Link]]:
        result: dict[str, list[Link]] = {}
        for row in self._select_in(
            "SELECT customer_id, email, updated_at, zoho_id, payload_hash, deleted, address_ids FROM links "
            "WHERE email IN {in} AND deleted = 0",
            sorted(set(emails)),
        ):
            link = Link(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]), row[6])
            result.setdefault(row[1], []).append(link)
        return result

    def _select_in(self, sql: str, values: Sequence[Any], *, chunk_size: int = 500) -> Iterator[Sequence[Any]]:
        """Rows of ``sql`` whose every ``{in}`` is the list ``values``.

        One statement whatever the number of values (``json_each``), so that SQLite keeps one prepared statement
        per query instead of one per list length; lists JSON cannot carry faithfully go as placeholders.
        """
        if not values:
            return
        array = json_array(values) if self._parts.bulk else None
        if array is not None:
            yield from self._db.execute(
                sql.replace("{in}", "(SELECT value FROM json_each(?))"), [array] * sql.count("{in}")
            )
            return
        for chunk in _chunks(values, chunk_size):
            yield from self._db.execute(_in_clause(sql, len(chunk)), list(chunk) * sql.count("{in}"))

    def known_ids_between(self, low_exclusive: int, high_inclusive: int | None) -> list[int]:
        """Live linked customer ids in (low, high], and the ids of failed customers (parked ones too): the
        candidates for 'deleted in Magento' on a full run (a parked customer deleted in Magento would otherwise
        stay parked, and every run exit 1, for ever)."""
        high = 2**63 - 1 if high_inclusive is None else high_inclusive
        rows = self._db.execute(
            "SELECT customer_id FROM links WHERE customer_id > ? AND customer_id <= ? AND deleted = 0 "
            "UNION SELECT customer_id FROM failures WHERE customer_id > ? AND customer_id <= ? ORDER BY 1",
            (low_exclusive, high, low_exclusive, high),
        )
        return [int(row[0]) for row in rows]

    def highest_customer_id(self) -> int:
        """The highest customer id with a link or a failure (0 for none): above it, the state knows nobody."""
        row = self._db.execute(
            "SELECT MAX(COALESCE((SELECT MAX(customer_id) FROM links), 0), "
            "COALESCE((SELECT MAX(customer_id) FROM failures), 0))"
        ).fetchone()
        return int(row[0])

    def link_sample(self, size: int) -> list[tuple[int, str]]:
        """Up to ``size`` live linked customers with their email: half the lowest ids, half the highest."""
        half = max(1, size // 2)
        rows = self._db.execute(
            "SELECT customer_id, email FROM (SELECT customer_id, email FROM links WHERE deleted = 0 AND email IS "
            "NOT NULL ORDER BY customer_id LIMIT ?) UNION SELECT customer_id, email FROM (SELECT customer_id, "
            "email FROM links WHERE deleted = 0 AND email IS NOT NULL ORDER BY customer_id DESC LIMIT ?) ORDER BY 1",
            (half, half),
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    def count_links(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM links WHERE deleted = 0").fetchone()[0])

    # -- the one commit per acknowledged batch -------------------------------------------------------------------

    def commit(
        self,
        *,
        run_id: int,
        links: Sequence[LinkUpdate] = (),
        failures: Sequence[FailureRecord] = (),
        resolved: Sequence[int] = (),
        deleted: Sequence[int] = (),
        checkpoint: Checkpoint | None = None,
        max_failed_runs: int = 5,
    ) -> None:
        """Write a batch's outcome, its failures and the checkpoint in ONE transaction."""
        self.commit_parts(
            run_id=run_id,
            parts=[CommitPart(links, failures, resolved, deleted)],
            checkpoint=checkpoint,
            max_failed_runs=max_failed_runs,
        )

    def commit_parts(
        self,
        *,
        run_id: int,
        parts: Sequence[CommitPart],
        checkpoint: Checkpoint | None = None,
        max_failed_runs: int = 5,
    ) -> None:
        """Write several outcomes, in order, and the checkpoint in ONE transaction.

        The same as one :meth:`commit` per part, but a transaction costs a WAL write of every page it touched,
        and the email indexes are touched at random: batches acknowledged together are cheaper saved together.
        """
        now = utc_now()
        with self.transaction() as db:
            for part in parts:
                self._parts.apply(part, run_id=run_id, now=now, max_failed_runs=max_failed_runs)
            if checkpoint is not None:
                self._write_checkpoint(db, checkpoint)

    # -- failures -------------------------------------------------------------------------------------------------

    def failures(self, *, parked: bool | None = None) -> list[StoredFailure]:
        query = "SELECT customer_id, email, code, message, failed_runs, parked, last_failed_at FROM failures"
        params: tuple[int, ...] = ()
        if parked is not None:
            query += " WHERE parked = ?"
            params = (int(parked),)
        rows = self._db.execute(query + " ORDER BY customer_id", params)
        return [StoredFailure(int(r[0]), r[1], r[2], r[3], int(r[4]), bool(r[5]), r[6]) for r in rows]

    def count_parked(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM failures WHERE parked = 1").fetchone()[0])

    def retryable_failure_ids(self, *, except_run: int | None = None) -> list[int]:
        """Customers whose failure is not parked, without those that failed in run ``except_run``."""
        rows = self._db.execute(
            "SELECT customer_id FROM failures WHERE parked = 0 AND last_run_id IS NOT ? ORDER BY customer_id",
            (except_run,),
        )
        return [int(row[0]) for row in rows]

    def lost_write_emails(self) -> set[str]:
        """The emails of customers whose write ran out of retries (``RETRIES_EXHAUSTED``) and is not made since: Zoho
        may have applied it (a timeout, a lost or cut-off answer), so what the email's contact holds is not known."""
        query = "SELECT DISTINCT email FROM failures WHERE code = ? AND email IS NOT NULL"
        rows = self._db.execute(query, ("RETRIES_EXHAUSTED",))
        return {str(row[0]) for row in rows}

    def run_failure_ids(self, run_id: int) -> list[int]:
        """Customers whose last failure (not parked) was in run ``run_id``."""
        rows = self._db.execute(
            "SELECT customer_id FROM failures WHERE parked = 0 AND last_run_id = ? ORDER BY customer_id", (run_id,)
        )
        return [int(row[0]) for row in rows]

    def failed_in_run(self, run_id: int, customer_ids: Sequence[int]) -> set[int]:
        """Those of ``customer_ids`` whose last failure (parked or not) was in run ``run_id``."""
        rows = self._select_in("SELECT customer_id, last_run_id FROM failures WHERE customer_id IN {in}", customer_ids)
        return {int(row[0]) for row in rows if row[1] == run_id}

    def failed_ids(self, customer_ids: Sequence[int]) -> set[int]:
        rows = self._select_in("SELECT customer_id FROM failures WHERE customer_id IN {in}", list(customer_ids))
        return {int(row[0]) for row in rows}

    # -- Zoho email index ------------------------------------------------------------------------------------------

    def replace_zoho_index(self, rows: Iterable[tuple[str, str, str, str | None]]) -> int:
        """Replace the index with (normalised email, zoho id, raw email, created time) rows."""
        count = 0
        with self.transaction() as db:
            db.execute("DELETE FROM zoho_index")
            db.execute("DELETE FROM contacts")  # the fresh read knows better
            for chunk in _chunks_iter(rows, 1000):
                db.executemany(
                    "INSERT OR REPLACE INTO zoho_index(email, zoho_id, raw_email, created_time) VALUES(?, ?, ?, ?)",
                    chunk,
                )
                count += len(chunk)
            self._set_meta(db, "zoho_index_at", utc_now())
        return count

    def zoho_contacts_for(self, emails: Iterable[str]) -> dict[str, list[tuple[str, str, str | None]]]:
        """Normalised email → [(zoho id, raw email, created time)] of the contacts holding it, oldest first.

        From the last full run's read of Zoho, corrected by our own acknowledged writes since (a contact we
        moved to another email no longer holds the old one).
        """
        result: dict[str, list[tuple[str, str, str | None]]] = {}
        for row in self._select_in(
            "SELECT i.email, i.zoho_id, i.raw_email, i.created_time FROM zoho_index i "
            "LEFT JOIN contacts c ON c.zoho_id = i.zoho_id "
            "WHERE i.email IN {in} AND (c.email IS NULL OR c.email = i.email) "
            "UNION SELECT c.email, c.zoho_id, c.email, NULL FROM contacts c "
            "WHERE c.email IN {in} AND c.zoho_id NOT IN (SELECT zoho_id FROM zoho_index) "
            "ORDER BY 4, 2",
            sorted(set(emails)),
            chunk_size=400,
        ):
            result.setdefault(row[0], []).append((row[1], row[2], row[3]))
        return result

    def forget_run_errors_after(self, run_id: int, after_id: int) -> None:
        """A resumed run reads again the customers after its checkpoint: what its first part said of them goes
        (the first part read ahead of the checkpoint), so that each failure is listed once."""
        with self.transaction() as db:
            db.execute("DELETE FROM run_errors WHERE run_id = ? AND customer_id > ?", (run_id, after_id))

    def forget_run_errors_of(self, run_id: int, customer_ids: Sequence[int]) -> None:
        """What run ``run_id`` said of these customers goes: they are tried again in it (a resumed run's retries)."""
        if not customer_ids:
            return
        array = json_array(list(customer_ids)) if self._parts.bulk else None
        with self.transaction() as db:
            if array is not None:  # one pass over the run's errors, however many customers
                db.execute(
                    "DELETE FROM run_errors WHERE run_id = ? AND customer_id IN (SELECT value FROM json_each(?))",
                    (run_id, array),
                )
            else:
                db.executemany(
                    "DELETE FROM run_errors WHERE run_id = ? AND customer_id = ?",
                    [(run_id, cid) for cid in customer_ids],
                )

    def forget_contacts(self, zoho_ids: Sequence[str]) -> None:
        """Contacts deleted in Zoho hold no email any more."""
        with self.transaction() as db:
            for zoho_id in zoho_ids:
                db.execute("DELETE FROM contacts WHERE zoho_id = ?", (zoho_id,))
                db.execute("DELETE FROM zoho_index WHERE zoho_id = ?", (zoho_id,))

    def zoho_duplicate_groups(self) -> list[tuple[str, list[str], list[int]]]:
        """(normalised email, ids of the Zoho contacts holding it, ids of the Magento customers with it)."""
        groups = self._db.execute(
            "SELECT email, GROUP_CONCAT(zoho_id) FROM zoho_index GROUP BY email HAVING COUNT(*) > 1 ORDER BY email"
        ).fetchall()
        result: list[tuple[str, list[str], list[int]]] = []
        for email, zoho_ids in groups:
            customers = self._db.execute(
                "SELECT customer_id FROM links WHERE email = ? AND deleted = 0 UNION "
                "SELECT customer_id FROM failures WHERE lower(trim(email)) = ? ORDER BY customer_id",
                (email, email),
            )
            result.append((email, str(zoho_ids).split(","), [int(row[0]) for row in customers]))
        return result


def not_a_regular_file(path: Path) -> StateError | None:
    """The error for a state path that names a device or a pipe (``--state /dev/null``), or None."""
    if path.exists() and not path.is_file() and not path.is_dir():
        return StateError(
            f"{path} is not a regular file (a device or a pipe), so it cannot hold the state.",
            hint="Pass --state PATH (or set MZSYNC_STATE) to a file path.",
        )
    return None


def _schema_version(db: sqlite3.Connection, path: Path) -> int:
    """The state file's schema version; an error for a database that is not a state file, or of a newer version."""
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise state_error(exc, path) from exc
    if tables and not tables >= STATE_TABLES:
        # a state file is known by its tables, which are made in one transaction (not by its user_version, which
        # another program may set too, and which a state restored from an SQL dump no longer has)
        raise StateError(
            f"{path} is an SQLite database of something else, not a magento-zoho-sync state file; it was "
            "left as it is.",
            hint="Pass --state PATH (or set MZSYNC_STATE) to the state file, or to a new path for a new one.",
        )
    if version > SCHEMA_VERSION:
        raise StateError(f"{path} was written by a newer magento-zoho-sync (schema {version}); upgrade this tool.")
    return version


def _checked_as_it_is(path: Path) -> bool:
    """Whether the file at ``path`` is a state file (or empty) of this version or an earlier one, read as it is on
    disk without SQLite making a -wal or -shm file next to it (an error for another program's database or a newer
    version's). False when it cannot be told so (unreadable, being written by a running sync): then it is checked
    again once opened, as before, and made owner-only after that."""
    try:
        with contextlib.closing(sqlite3.connect(sqlite_uri(path, "mode=ro&immutable=1"), uri=True)) as db:
            _schema_version(db, path)
    except StateError as exc:
        if isinstance(exc.__cause__, sqlite3.DatabaseError):  # damaged, unreadable: told once opened
            return False
        raise
    except sqlite3.DatabaseError:
        return False
    return True


def _in_clause(sql: str, count: int) -> str:
    """Put ``count`` placeholders where ``{in}`` stands (values always travel as parameters)."""
    return sql.replace("{in}", "(" + ",".join("?" * count) + ")")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _chunks_iter(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
