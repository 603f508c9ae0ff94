"""Which Magento store and which Zoho org a state file belongs to, so that one state file never serves two.

The state says which customers are already in Zoho (and with what data). Pointed at another store (the
simulators first, the real store next, with the default state path) an incremental run would read only the
customers changed since the other store's last run, and a customer id of one store would be taken for the
same id of the other: most of the store would silently never reach Zoho. Pointed at another Zoho org (a
sandbox first, production next, or another data centre) it would take every customer for already in that org
with unchanged data: most of the store would silently never reach the new org. So the state records the store
it has synced (its base URL without the scheme or a default port) and the Zoho API URL it has written to (the
same way; no secret), and a run refuses another one.

Two orgs behind the same API URL (one user in two orgs of one data centre) are not told apart: the tool reads
no org id (it does not ask for the org scope).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.state import StateStore

__all__ = [
    "STORE_META_KEY",
    "ZOHO_META_KEY",
    "check_store",
    "check_zoho_org",
    "store_identity",
    "url_identity",
    "zoho_identity",
]

STORE_META_KEY = "magento_store"
ZOHO_META_KEY = "zoho_api"

_DELETE_INSTEAD = "the next sync matches Zoho contacts by email, so nothing is duplicated."


def url_identity(url: str) -> str:
    """``host[:port]/path``: the scheme, a default port, a trailing slash and the host's letter case aside."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{(parts.hostname or '').lower()}{port}{parts.path.rstrip('/')}"


def store_identity(settings: Settings) -> str:
    """The Magento store's :func:`url_identity` (the store code aside too: it only scopes the REST URL, the
    customers are the same)."""
    return url_identity(settings.magento.base_url)


def zoho_identity(settings: Settings) -> str:
    """The Zoho API URL's :func:`url_identity`: a sandbox, production and each data centre differ."""
    return url_identity(settings.zoho.api_url)


def _recorded_other(state: StateStore, key: str, current: str, *, record: bool) -> str | None:
    """The identity recorded under ``key`` when it is not ``current`` and the state has synced a customer; else
    None, having recorded ``current`` (``record``): a new state file, one that has not synced a customer yet (a
    first run that failed with a typo in a URL), or one written before this check."""
    known = state.get_meta(key)
    if known == current:
        return None
    if known is not None and state.highest_customer_id() > 0:
        return known
    if record:
        state.commit_meta(key, current)
    return None


def check_store(state: StateStore, settings: Settings, *, record: bool) -> None:
    """Raise :class:`ConfigError` when the state holds another store's sync; else record this store (``record``).

    The message names the user's state file (a dry run works on a copy of it)."""
    current = store_identity(settings)
    known = _recorded_other(state, STORE_META_KEY, current, record=record)
    if known is not None:
        raise ConfigError(
            f"The state file {settings.sync.state_path} holds the sync of another Magento store ({known}), not of "
            f"MAGENTO_BASE_URL {current}: its links would hide most of this store's customers from Zoho",
            hint="Give this store its own state file (--state PATH or MZSYNC_STATE). If it is the same store at a "
            f"new address, delete the state file instead: {_DELETE_INSTEAD}",
        )


def check_zoho_org(state: StateStore, settings: Settings, *, record: bool) -> None:
    """Raise :class:`ConfigError` when the state holds the sync into another Zoho API URL (a sandbox, another
    data centre); else record this one (``record``). The message names the user's state file."""
    current = zoho_identity(settings)
    known = _recorded_other(state, ZOHO_META_KEY, current, record=record)
    if known is not None:
        raise ConfigError(
            f"The state file {settings.sync.state_path} holds the sync into the Zoho org at {known}, not into "
            f"ZOHO_API_URL {settings.zoho.api_url}: it would take this store's customers for already in that org, "
            "and most of them would never reach it",
            hint="Give each Zoho org its own state file (--state PATH or MZSYNC_STATE). To sync this store into "
            "this org from now on (a move from a sandbox to production, say), delete the state file: "
            + _DELETE_INSTEAD,
        )
