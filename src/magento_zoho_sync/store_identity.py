"""Which Magento store a state file belongs to, so that one state file never serves two stores.

The state says which customers are already in Zoho (and with what data). Pointed at another store (the
simulators first, the real store next, with the default state path) an incremental run would read only the
customers changed since the other store's last run, and a customer id of one store would be taken for the
same id of the other: most of the store would silently never reach Zoho. So the state records the store it
has synced (its base URL without the scheme or a default port; no secret) and a run refuses another one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.state import StateStore

__all__ = ["STORE_META_KEY", "check_store", "store_identity"]

STORE_META_KEY = "magento_store"


def store_identity(settings: Settings) -> str:
    """``host[:port]/path``: the scheme, a default port, a trailing slash, the host's letter case and the store
    code (it only scopes the REST URL: the customers are the same) aside."""
    parts = urlsplit(settings.magento.base_url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{(parts.hostname or '').lower()}{port}{parts.path.rstrip('/')}"


def check_store(state: StateStore, settings: Settings, *, record: bool) -> None:
    """Raise :class:`ConfigError` when the state holds another store's sync; else record this store (``record``).

    The message names the user's state file (a dry run works on a copy of it)."""
    current = store_identity(settings)
    known = state.get_meta(STORE_META_KEY)
    if known == current:
        return
    if known is not None and state.highest_customer_id() > 0:
        raise ConfigError(
            f"The state file {settings.sync.state_path} holds the sync of another Magento store ({known}), not of "
            f"MAGENTO_BASE_URL {current}: its links would hide most of this store's customers from Zoho",
            hint="Give this store its own state file (--state PATH or MZSYNC_STATE). If it is the same store at a "
            "new address, delete the state file instead: the next sync matches Zoho contacts by email, so nothing "
            "is duplicated.",
        )
    if record:  # a new state file, one that has not synced a customer yet, or one written before this check
        state.commit_meta(STORE_META_KEY, current)
