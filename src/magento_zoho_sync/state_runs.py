"""The run history of the state file: the runs that ``runs`` lists and the failures ``errors --run N`` prints.

:class:`RunHistory` is one part of :class:`~magento_zoho_sync.state.StateStore` (mixed into it), kept here so
that each file holds one thing; it works through the store's connection, transactions and meta table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Final

from magento_zoho_sync.state_records import FailureRecord, RunRow
from magento_zoho_sync.state_schema import FULL_RUN_INPUTS_KEY, has_error_details, utc_now

#: Runs (and their failures) kept for ``runs`` and ``errors --run N``; older ones go when a run starts.
RUNS_KEPT: Final = 10_000


class RunHistory:
    """Starting and finishing runs, and reading them back."""

    if TYPE_CHECKING:  # given by StateStore
        _db: sqlite3.Connection

        def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _set_meta(self, db: sqlite3.Connection, key: str, value: str | None) -> None: ...

    def start_run(self, mode: str) -> int:
        with self.transaction() as db:
            # the caller holds the lock: a run still "running" was killed before it could say so
            db.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            cursor = db.execute("INSERT INTO runs(started_at, mode, status) VALUES(?, ?, 'running')", (utc_now(), mode))
            run_id = int(cursor.lastrowid or 0)
            # the history is bounded: a run every 5 minutes keeps about 5 weeks of it, a daily run decades
            db.execute("DELETE FROM run_errors WHERE run_id <= ?", (run_id - RUNS_KEPT,))
            db.execute("DELETE FROM runs WHERE id <= ?", (run_id - RUNS_KEPT,))
            return run_id

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        summary: dict[str, Any],
        watermark: str | None = None,
        full_completed_at: str | None = None,
        full_inputs: Mapping[str, str] | None = None,
        clear_checkpoint: bool = False,
    ) -> None:
        with self.transaction() as db:
            summary = _with_earlier_stops(db, run_id, summary)
            db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (utc_now(), status, json.dumps(summary, sort_keys=True), run_id),
            )
            if watermark is not None:
                self._set_meta(db, "watermark", watermark)
            if full_completed_at is not None:
                self._set_meta(db, "last_full_at", full_completed_at)
            if full_inputs is not None:
                self._set_meta(db, FULL_RUN_INPUTS_KEY, json.dumps(dict(full_inputs), sort_keys=True))
            if clear_checkpoint:
                self._set_meta(db, "checkpoint", None)

    def runs(self, limit: int = 20) -> list[RunRow]:
        rows = self._db.execute(
            "SELECT id, started_at, finished_at, mode, status, summary FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [RunRow(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else {}) for r in rows]

    def run_errors(self, run_id: int) -> list[FailureRecord]:
        return list(self.iter_run_errors(run_id))

    def iter_run_errors(self, run_id: int) -> Iterator[FailureRecord]:
        """The failures of a run, one at a time (for reports of runs with very many failures)."""
        # a file of an earlier version, opened read only, has no details column
        sql = RUN_ERRORS_SQL if has_error_details(self._db) else RUN_ERRORS_SQL.replace("details", "NULL")
        cursor = self._db.execute(sql, (run_id,))
        for row in cursor:
            yield FailureRecord(row[0], row[1], row[2], row[3], _details(row[4]))

    def run_errors_without_id(self, run_id: int) -> list[tuple[str | None, str, str]]:
        """The email, code and message of each failure of a run without a customer id (an item without a valid id)."""
        rows = self._db.execute(
            "SELECT email, code, message FROM run_errors WHERE run_id = ? AND customer_id IS NULL ORDER BY rowid",
            (run_id,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def iter_run_error_details(self, run_id: int, codes: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The code and details of each failure of a run with one of ``codes``, one at a time."""
        if not codes:
            return
        sql = "SELECT code, details FROM run_errors WHERE run_id = ? AND code IN {in}"
        sql = sql.replace("{in}", "(" + ",".join("?" * len(codes)) + ")")
        if not has_error_details(self._db):  # a file of an earlier version, opened read only
            sql = sql.replace("details", "NULL")
        for row in self._db.execute(sql, (run_id, *codes)):
            yield row[0], _details(row[1])

    def has_run(self, run_id: int) -> bool:
        return self._db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def last_run_id(self) -> int | None:
        row = self._db.execute("SELECT MAX(id) FROM runs").fetchone()
        return None if row is None or row[0] is None else int(row[0])


RUN_ERRORS_SQL: Final = (
    "SELECT customer_id, email, code, message, details FROM run_errors WHERE run_id = ? ORDER BY customer_id"
)


def _details(text: str | None) -> dict[str, Any]:
    """A failure's stored details (a JSON object's text); anything else (NULL, a hand-edited value) is none."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


#: The earlier stops a run's history keeps (a run stopped, resumed and stopped again, many times over)
EARLIER_STOPS_KEPT = 10


def _with_earlier_stops(db: sqlite3.Connection, run_id: int, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` with ``earlier_stops``: why the earlier parts of this run stopped (a resumed run's row is
    finished again, and its history must still say why it stopped before: a revoked token, a full disk)."""
    row = db.execute("SELECT status, summary FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None or row[0] not in ("failed", "interrupted"):
        return summary
    try:
        before = json.loads(row[1]) if row[1] else {}
    except ValueError:
        before = {}
    if not isinstance(before, dict):
        before = {}
    stops = earlier_stops(before)
    error = before.get("error")
    stops.append(f"{row[0]}: {error}" if isinstance(error, str) and error else str(row[0]))
    return {**summary, "earlier_stops": stops[-EARLIER_STOPS_KEPT:]}


def earlier_stops(summary: Mapping[str, Any]) -> list[str]:
    """A run summary's ``earlier_stops``: its texts, whatever else a damaged or hand-edited summary holds there."""
    stops = summary.get("earlier_stops")
    return [stop for stop in stops if isinstance(stop, str)] if isinstance(stops, list) else []
