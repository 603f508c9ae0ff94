"""The state file's tables, and the columns added to them since (SQLite; the store is ``state.py``).

``PRAGMA user_version`` holds :data:`SCHEMA_VERSION`. A file of an earlier version of this tool may lack
``run_errors.details`` or ``links.address_ids`` (:data:`ADDED_COLUMNS`): the store adds them under the sync's lock
(``StateStore.lock``), without a new schema version, so that those versions (which name the columns they read and
write) go on working with the file.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Final

SCHEMA_VERSION: Final = 1
#: meta key: what decided what was sent at the last completed full run (the mapping, truncate_long_values, ...; a
#: JSON object, name -> value); a run where one differs is a full one
FULL_RUN_INPUTS_KEY: Final = "full_run_inputs"
#: Tables every state file has (made together, in one transaction): what tells a state file from another database.
STATE_TABLES: Final = frozenset({"meta", "links", "runs"})

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    customer_id   INTEGER PRIMARY KEY,
    email         TEXT,
    updated_at    TEXT,
    zoho_id       TEXT,
    payload_hash  TEXT,
    synced_at     TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0,
    address_ids   TEXT  -- the addresses last sent and the fields each left out, "a12~e.0d9b,s13~0.a694" (added to
                        -- the files of earlier versions under the lock)
);
CREATE INDEX IF NOT EXISTS links_email ON links(email);
CREATE INDEX IF NOT EXISTS links_zoho ON links(zoho_id);
CREATE TABLE IF NOT EXISTS failures (
    customer_id     INTEGER PRIMARY KEY,
    email           TEXT,
    code            TEXT NOT NULL,
    message         TEXT NOT NULL,
    failed_runs     INTEGER NOT NULL,
    last_run_id     INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at  TEXT NOT NULL,
    parked          INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS zoho_index (
    email        TEXT NOT NULL,
    zoho_id      TEXT NOT NULL PRIMARY KEY,
    raw_email    TEXT NOT NULL,
    created_time TEXT
);
CREATE INDEX IF NOT EXISTS zoho_index_email ON zoho_index(email);
CREATE TABLE IF NOT EXISTS contacts (
    zoho_id TEXT PRIMARY KEY,
    email   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts(email);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    mode        TEXT NOT NULL,
    status      TEXT NOT NULL,
    summary     TEXT
);
CREATE TABLE IF NOT EXISTS run_errors (
    run_id      INTEGER NOT NULL,
    customer_id INTEGER,
    email       TEXT,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    details     TEXT  -- a JSON object or NULL (added to the files of earlier versions under the sync's lock)
);
CREATE INDEX IF NOT EXISTS run_errors_run ON run_errors(run_id);
"""


def create_tables(db: sqlite3.Connection) -> None:
    """Create what is missing (inside the caller's transaction) and mark the file with :data:`SCHEMA_VERSION`."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


#: (table, column, type) of each column added after schema 1: :func:`missing_columns` of a file get added to it.
ADDED_COLUMNS: Final = (("run_errors", "details", "TEXT"), ("links", "address_ids", "TEXT"))


def missing_columns(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """The :data:`ADDED_COLUMNS` a file of an earlier version lacks (of the tables it has)."""
    missing: list[tuple[str, str, str]] = []
    for table, column, kind in ADDED_COLUMNS:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}  # a table name of ours: no input
        if columns and column not in columns:
            missing.append((table, column, kind))
    return missing


def has_error_details(db: sqlite3.Connection) -> bool:
    """Whether ``run_errors`` has its ``details`` column (a file written before it came has not)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(run_errors)")}
    return "details" in columns or not columns


def utc_now() -> str:
    """Now, as the state file writes times (UTC, to the second)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
