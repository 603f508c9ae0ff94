"""``doctor``'s check of the state file: can the sync use it with these settings?

A sync refuses a state file that holds another Magento store's or another Zoho org's sync (exit 2, see
:mod:`magento_zoho_sync.store_identity`), one whose folder is missing, a damaged one, and one it cannot write (the
file, its -wal or -shm file, or its folder read-only for this user). The doctor says so
beforehand, reading the file without writing to it (and without waiting for a running sync's lock).
"""

from __future__ import annotations

import sqlite3

from magento_zoho_sync.doctor import Check, failed, passed
from magento_zoho_sync.errors import ConfigError, StateError
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.state import StateStore, make_state_folder, not_a_regular_file, state_error
from magento_zoho_sync.state_file import cannot_write
from magento_zoho_sync.store_identity import check_store, check_zoho_org, store_identity, zoho_identity

__all__ = ["check_state"]

NAME = "State file"


def check_state(settings: Settings) -> list[Check]:
    """One check: the state file is usable by a sync with ``settings`` (or there is none yet)."""
    path = settings.sync.state_path
    try:
        make_state_folder(path, create_parents=settings.sync.state_path_is_default, create=False)
    except ConfigError as exc:
        return [failed("state.file", NAME, exc.message, exc.hint)]
    if (refusal := not_a_regular_file(path)) is not None:
        return [failed("state.file", NAME, refusal.message, refusal.hint)]
    # what the sync needs to write (the file, its -wal and -shm files, its folder), told as the sync would tell it;
    # a file of this user's counts as writable: the sync makes it owner-only (0600) before opening it
    if (unwritable := cannot_write(path, chmod_to_come=True)) is not None:
        return [failed("state.file", NAME, unwritable.message, unwritable.hint)]
    if not path.exists() or path.stat().st_size == 0:
        return [passed("state.file", NAME, f"none yet at {path}: the first sync makes it, and is a full run")]
    try:
        state = StateStore.open(path, read_only=True)
    except StateError as exc:
        return [failed("state.file", NAME, exc.message, exc.hint)]
    try:
        check_store(state, settings, record=False)
        check_zoho_org(state, settings, record=False)
        synced = state.highest_customer_id() > 0
    except sqlite3.DatabaseError as exc:
        error = state_error(exc, path)
        return [failed("state.file", NAME, error.message, error.hint)]
    except (ConfigError, StateError) as exc:
        return [failed("state.file", NAME, exc.message, exc.hint)]
    finally:
        state.close()
    what = "holds the sync of" if synced else "has synced no customer yet, for"
    detail = f"{path} {what} {store_identity(settings)} into the Zoho org at {zoho_identity(settings)}"
    return [passed("state.file", NAME, detail)]
