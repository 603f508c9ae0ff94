"""The SQL of one commit part (links, failures, resolved, deleted), written in bulk.

A batch's outcome touches up to a hundred rows in four tables. Written row by row (``executemany``), every
row is one step of the SQLite engine, and Python's sqlite3 module releases and re-acquires the GIL around
each step: with the page reader and the Zoho writers busy in other threads, the engine's thread then waits
for the GIL hundreds of times per batch. Here each statement receives its rows as one JSON array and walks
it with ``json_each``: one step per statement, whatever the number of rows. SQLite applies the rows in array
order, so the result is the one ``executemany`` gives, which stays as the fallback for an SQLite built
without JSON support.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson

if TYPE_CHECKING:
    from magento_zoho_sync.state import CommitPart, FailureRecord, LinkUpdate

Rows = Sequence[Sequence[Any]]

#: Failures that say nothing about the customer: its batch ran out of retries (Zoho, or a proxy or firewall in
#: between, kept failing or answering what cannot be read). Parking is for what must be fixed in Magento; such a
#: customer is retried in every run until it gets through, however many runs that takes.
NEVER_PARKED: Final = frozenset({"RETRIES_EXHAUSTED"})

#: (row by row, bulk): the bulk form takes the extra parameters first, then the rows as one JSON array
_LINKS: dict[bool, tuple[str, str]] = {
    # a written customer keeps its contact id when none is given (an unchanged customer's refresh)
    False: (
        "INSERT INTO links(customer_id, email, updated_at, zoho_id, payload_hash, address_ids, synced_at, deleted) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(customer_id) DO UPDATE SET email = excluded.email, "
        "updated_at = excluded.updated_at, zoho_id = COALESCE(excluded.zoho_id, links.zoho_id), payload_hash "
        "= excluded.payload_hash, address_ids = excluded.address_ids, synced_at = excluded.synced_at, deleted = 0",
        "INSERT INTO links(customer_id, email, updated_at, zoho_id, payload_hash, address_ids, synced_at, deleted) "
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
        "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), ?, 0 FROM "
        "json_each(?) WHERE true ON CONFLICT(customer_id) DO UPDATE SET email = excluded.email, updated_at = "
        "excluded.updated_at, zoho_id = COALESCE(excluded.zoho_id, links.zoho_id), payload_hash = "
        "excluded.payload_hash, address_ids = excluded.address_ids, synced_at = excluded.synced_at, deleted = 0",
    ),
    # a merged customer's data is in no contact: it loses its contact id (and its hash and address ids, given None)
    True: (
        "INSERT INTO links(customer_id, email, updated_at, zoho_id, payload_hash, address_ids, synced_at, deleted) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(customer_id) DO UPDATE SET email = excluded.email, "
        "updated_at = excluded.updated_at, zoho_id = NULL, payload_hash = excluded.payload_hash, address_ids = "
        "excluded.address_ids, synced_at = excluded.synced_at, deleted = 0",
        "INSERT INTO links(customer_id, email, updated_at, zoho_id, payload_hash, address_ids, synced_at, deleted) "
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
        "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), ?, 0 FROM "
        "json_each(?) WHERE true ON CONFLICT(customer_id) DO UPDATE SET email = excluded.email, updated_at = "
        "excluded.updated_at, zoho_id = NULL, payload_hash = excluded.payload_hash, address_ids = "
        "excluded.address_ids, synced_at = excluded.synced_at, deleted = 0",
    ),
}
_CONTACTS = (
    "INSERT INTO contacts(zoho_id, email) VALUES(?, ?) ON CONFLICT(zoho_id) DO UPDATE SET email = excluded.email",
    "INSERT INTO contacts(zoho_id, email) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')"
    " FROM json_each(?) WHERE true ON CONFLICT(zoho_id) DO UPDATE SET email = excluded.email",
)
_RUN_ERRORS = (
    "INSERT INTO run_errors(customer_id, email, code, message, details, run_id) VALUES(?, ?, ?, ?, ?, ?)",
    "INSERT INTO run_errors(run_id, customer_id, email, code, message, details) SELECT ?, json_extract(value, "
    "'$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), "
    "json_extract(value, '$[4]') FROM json_each(?)",
)
_FAILURES = (
    "INSERT INTO failures(customer_id, email, code, message, failed_runs, last_run_id, first_failed_at, "
    "last_failed_at, parked) VALUES(?, ?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT(customer_id) DO UPDATE SET "
    "email = excluded.email, code = excluded.code, message = excluded.message, last_failed_at = "
    "excluded.last_failed_at, failed_runs = failures.failed_runs + (failures.last_run_id != "
    "excluded.last_run_id), last_run_id = excluded.last_run_id",
    "INSERT INTO failures(customer_id, email, code, message, failed_runs, last_run_id, first_failed_at, "
    "last_failed_at, parked) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), 1, ?, ?, ?, ? FROM json_each(?) WHERE true"
    " ON CONFLICT(customer_id) DO UPDATE SET email = excluded.email, code = excluded.code, message = "
    "excluded.message, last_failed_at = excluded.last_failed_at, failed_runs = failures.failed_runs + "
    "(failures.last_run_id != excluded.last_run_id), last_run_id = excluded.last_run_id",
)


def details_text(details: Mapping[str, Any]) -> str | None:
    """A failure's details as the state keeps them: a JSON object's text, or NULL when there are none."""
    return json.dumps(dict(details), sort_keys=True, ensure_ascii=False, default=str) if details else None


def json_supported(db: sqlite3.Connection) -> bool:
    """Whether this SQLite has ``json_each`` (built in since 3.38, and in most builds before)."""
    try:
        db.execute("SELECT COUNT(*) FROM json_each('[1]')").fetchone()
    except sqlite3.DatabaseError:  # no JSON support; or not a database at all, which the version check reports
        return False
    return True


def json_array(values: Sequence[Any]) -> bytes | None:
    """``values`` as a JSON array that ``json_each`` reads back intact, else None: orjson refuses a lone UTF-16
    surrogate, and ``json_extract`` would cut a text at a NUL character."""
    try:
        array = orjson.dumps(values)
    except TypeError:
        return None
    return None if b"\\u0000" in array else array


def _storable(rows: Rows) -> list[tuple[Any, ...]]:
    """The rows with each lone UTF-16 surrogate in their text replaced by ``?`` (SQLite stores UTF-8)."""
    return [
        tuple(v.encode("utf-8", "replace").decode("utf-8") if isinstance(v, str) else v for v in row) for row in rows
    ]


class PartWriter:
    """Writes commit parts inside the caller's transaction: ``json_each`` when ``bulk``, else ``executemany``."""

    def __init__(self, db: sqlite3.Connection, *, bulk: bool) -> None:
        self._db = db
        self.bulk = bulk

    def _many(self, row_sql: str, bulk_sql: str, rows: Rows, *params: Any) -> None:
        """``row_sql`` once per row (its ``?`` are the row, then ``params``), or ``bulk_sql`` once.

        ``bulk_sql`` takes ``params`` first, then the rows as a JSON array for its ``json_each(?)``.
        """
        if not rows:
            return
        array = json_array(rows) if self.bulk else None
        if array is not None:
            self._db.execute(bulk_sql, (*params, array))
        else:
            self._db.executemany(row_sql, [(*row, *params) for row in _storable(rows)])

    def apply(self, part: CommitPart, *, run_id: int, now: str, max_failed_runs: int) -> None:
        if part.links:
            self._links(part.links, now)
        self._many(
            "DELETE FROM failures WHERE customer_id = ?",
            "DELETE FROM failures WHERE customer_id IN (SELECT json_extract(value, '$[0]') FROM json_each(?))",
            [(customer_id,) for customer_id in part.resolved],
        )
        for customer_id in part.deleted:
            self._db.execute("UPDATE links SET deleted = 1 WHERE customer_id = ?", (customer_id,))
            self._db.execute("DELETE FROM failures WHERE customer_id = ?", (customer_id,))
        if part.failures:
            self._failures(part.failures, run_id, now, max_failed_runs)

    def _links(self, links: Sequence[LinkUpdate], now: str) -> None:
        # consecutive links with the same merged flag share a statement: the order of the part is kept
        for merged, group in itertools.groupby(links, key=lambda link: link.merged):
            self._many(
                *_LINKS[merged],
                [
                    (
                        link.customer_id,
                        link.email,
                        link.updated_at,
                        link.zoho_id,
                        None if merged else link.payload_hash,
                        None if merged else link.address_ids,
                    )
                    for link in group
                ],
                now,
            )
        written = [link for link in links if link.zoho_id and link.payload_hash is not None and link.email]
        # the contact now holds this customer's data: others linked to it no longer match it (nor did Zoho get its
        # address fields from their addresses)
        self._many(
            "UPDATE links SET payload_hash = NULL, address_ids = NULL WHERE zoho_id = ? AND customer_id != ?",
            "UPDATE links SET payload_hash = NULL, address_ids = NULL WHERE customer_id IN (SELECT l.customer_id "
            "FROM json_each(?) j "
            "JOIN links l ON l.zoho_id = json_extract(j.value, '$[0]') "
            "AND l.customer_id != json_extract(j.value, '$[1]'))",
            [(link.zoho_id, link.customer_id) for link in written],
        )
        self._many(
            *_CONTACTS,
            [(link.zoho_id, link.email) for link in written],
        )

    def _failures(self, failures: Sequence[FailureRecord], run_id: int, now: str, max_failed_runs: int) -> None:
        rows = [(f.customer_id, f.email, f.code, f.message) for f in failures]
        self._many(
            *_RUN_ERRORS,
            [(*row, details_text(f.details)) for row, f in zip(rows, failures, strict=True)],
            run_id,
        )
        known = [row for row in rows if row[0] is not None]
        parkable = [row for row in known if row[2] not in NEVER_PARKED]
        retried = [row for row in known if row[2] in NEVER_PARKED]
        self._many(*_FAILURES, parkable, run_id, now, now, int(max_failed_runs <= 1))
        self._many(*_FAILURES, retried, run_id, now, now, 0)
        self._many(
            "UPDATE failures SET parked = 1 WHERE customer_id = ? AND failed_runs >= ?",
            "UPDATE failures SET parked = 1 WHERE failed_runs >= ? AND customer_id IN "
            "(SELECT json_extract(value, '$[0]') FROM json_each(?))",
            [(row[0],) for row in parkable],
            max_failed_runs,
        )
        self._many(  # parked for its data earlier, changed in Magento since, then not got through: retried again
            "UPDATE failures SET parked = 0 WHERE customer_id = ?",
            "UPDATE failures SET parked = 0 WHERE customer_id IN "
            "(SELECT json_extract(value, '$[0]') FROM json_each(?))",
            [(row[0],) for row in retried],
        )
