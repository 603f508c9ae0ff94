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

The same store at a new address (a new domain, a port) is accepted with ``sync --store-moved``, once the new
address is seen to hold the customers the state has synced (the same ids with the same emails); deleting the
state file instead would lose its links, and a customer whose email changed since (in Magento or in Zoho) would
get a second contact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.magento.client import customer_id_of
from magento_zoho_sync.mapping import normalise_email
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.state import StateStore

__all__ = [
    "MOVED_SAMPLE",
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

log = logging.getLogger(__name__)

#: How many of the state's linked customers ``sync --store-moved`` looks for at the new address (one search call)
MOVED_SAMPLE = 20

#: ``MagentoClient.get_customers``: the customers among these ids that the store has
GetCustomers = Callable[[Sequence[int]], Sequence[Mapping[str, Any]]]


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


def check_store(state: StateStore, settings: Settings, *, record: bool, moved: GetCustomers | None = None) -> None:
    """Raise :class:`ConfigError` when the state holds another store's sync; else record this store (``record``).

    ``moved`` (``sync --store-moved``): the state's store may be this one at a new address; it is accepted, and
    recorded, when this address holds the state's customers. The message names the user's state file (a dry run
    works on a copy of it)."""
    current = store_identity(settings)
    known = _recorded_other(state, STORE_META_KEY, current, record=record)
    if known is None:
        return
    if moved is not None:
        _accept_moved_store(state, settings, known, current, moved, record=record)
        return
    raise ConfigError(
        f"The state file {settings.sync.state_path} holds the sync of another Magento store ({known}), not of "
        f"MAGENTO_BASE_URL {current}: its links would hide most of this store's customers from Zoho",
        hint="Give this store its own state file (--state PATH or MZSYNC_STATE). If it is the same store at a new "
        "address, run `magento-zoho-sync sync --store-moved` once: it checks that this address holds the customers "
        "the state file has synced, then records it. (Deleting the state file instead loses its links: a customer "
        "whose email changed since the last sync, in Magento or in Zoho, would get a second contact.)",
    )


def _accept_moved_store(
    state: StateStore, settings: Settings, known: str, current: str, get_customers: GetCustomers, *, record: bool
) -> None:
    """The state's store at a new address: at least half of a sample of its linked customers are there, with the
    same ids and emails (emails change now and then; another store's customer of the same id has another one)."""
    sample = state.link_sample(MOVED_SAMPLE)
    if not sample:  # only failures, or every linked customer deleted since: nothing tells the stores apart
        raise ConfigError(
            f"The state file {settings.sync.state_path} holds no synced customer (with an email) to look for at "
            f"MAGENTO_BASE_URL {current}, so --store-moved cannot tell whether it is the store at {known}",
            hint="Give this store its own state file (--state PATH or MZSYNC_STATE), or delete this one if it is "
            "the same store: it links no customer to a contact, so nothing is lost.",
        )
    found: dict[int, str] = {}
    missing = [customer_id for customer_id, _ in sample]
    while missing:  # asked again for those not in the answer (a proxy may cut it short), until one brings nobody new
        got = _emails_by_id(get_customers(missing))
        if not got.keys() & set(missing):
            break
        found.update(got)
        missing = [customer_id for customer_id in missing if customer_id not in found]
    same = sum(1 for customer_id, email in sample if found.get(customer_id) == email)
    if 2 * same < len(sample):
        raise ConfigError(
            f"MAGENTO_BASE_URL {current} is not the store of the state file {settings.sync.state_path} "
            f"({known}) at a new address: of {len(sample)} customers that state has synced, {same} are there with "
            "the same id and email",
            hint="Give this store its own state file (--state PATH or MZSYNC_STATE); --store-moved is only for "
            "the same store at a new address.",
        )
    log.warning(
        "The state file %s %s to the Magento store at %s, which was at %s (--store-moved: %d of %d customers it "
        "has synced are there with the same id and email).",
        settings.sync.state_path,
        "now belongs" if record else "would belong (a dry run records nothing; the sync needs --store-moved too)",
        current,
        known,
        same,
        len(sample),
    )
    if record:
        state.commit_meta(STORE_META_KEY, current)


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
            "this org from now on (a move from a sandbox to production, say), delete the state file: the next sync "
            "matches this org's contacts by email.",
        )


def _emails_by_id(customers: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Each customer's email, normalised as the state keeps it, by its id (read as the Magento client reads it)."""
    return {
        customer_id: normalise_email(email)
        for customer in customers
        if (customer_id := customer_id_of(customer)) is not None and isinstance(email := customer.get("email"), str)
    }
