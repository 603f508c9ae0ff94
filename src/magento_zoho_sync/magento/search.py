"""Magento ``searchCriteria`` query strings, built by pure functions.

Wire format (reference §2.2)::

    searchCriteria[filter_groups][G][filters][F][field]=<attribute>
    searchCriteria[filter_groups][G][filters][F][value]=<string>
    searchCriteria[filter_groups][G][filters][F][condition_type]=<op>
    searchCriteria[sortOrders][S][field]=<attribute>
    searchCriteria[sortOrders][S][direction]=ASC|DESC
    searchCriteria[pageSize]=<int>
    searchCriteria[currentPage]=<int>

Filters inside one group are OR-ed, groups are AND-ed.

Encoding: keys and values are percent-encoded completely (brackets as ``%5B``/``%5D``, a space as ``%20``,
``+`` as ``%2B``), never with ``+`` for a space. Magento decodes query parameters with ``rawurldecode`` when
it checks an OAuth 1.0a signature, so a ``+`` would stay a plus on its side while the signing library reads a
space, and the signature would not match (reference §1.5). The string is passed to httpx2 as the URL's
query as it is, so what is signed is exactly what is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

__all__ = [
    "MAX_PAGE_SIZE",
    "Filter",
    "SortOrder",
    "customer_keyset_query",
    "encode_query",
    "search_criteria_pairs",
]

#: Magento's maximum page size where input limits are on (2.4.3+); the sync never asks for more.
MAX_PAGE_SIZE = 300
#: emails per ``email in (...)`` search (each may be held by a customer of every website: a page of 300 holds them)
MAX_EMAILS_PER_QUERY = 100

_MAGENTO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

ConditionType = Literal[
    "eq", "neq", "gt", "gteq", "lt", "lteq", "like", "nlike", "in", "nin", "null", "notnull", "from", "to", "finset"
]


@dataclass(frozen=True)
class Filter:
    field: str
    value: str
    condition_type: ConditionType = "eq"


@dataclass(frozen=True)
class SortOrder:
    field: str
    direction: Literal["ASC", "DESC"] = "ASC"


def search_criteria_pairs(
    filter_groups: Sequence[Sequence[Filter]],
    *,
    sort_orders: Sequence[SortOrder] = (),
    page_size: int,
    current_page: int = 1,
) -> list[tuple[str, str]]:
    """The (key, value) pairs of a searchCriteria, in a stable order, not yet encoded."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    if current_page < 1:
        raise ValueError("current_page starts at 1")
    pairs: list[tuple[str, str]] = []
    for g, group in enumerate(filter_groups):
        if not group:
            raise ValueError("a filter group needs at least one filter")
        for f, flt in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            pairs.append((f"{prefix}[field]", flt.field))
            pairs.append((f"{prefix}[value]", flt.value))
            pairs.append((f"{prefix}[condition_type]", flt.condition_type))
    for s, order in enumerate(sort_orders):
        pairs.append((f"searchCriteria[sortOrders][{s}][field]", order.field))
        pairs.append((f"searchCriteria[sortOrders][{s}][direction]", order.direction))
    pairs.append(("searchCriteria[pageSize]", str(page_size)))
    pairs.append(("searchCriteria[currentPage]", str(current_page)))
    return pairs


def encode_query(pairs: Sequence[tuple[str, str]]) -> str:
    """``k=v&k=v`` with every reserved character percent-encoded (space → ``%20``, ``+`` → ``%2B``)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def customer_keyset_query(*, after_id: int, page_size: int, updated_since: str | None = None) -> str:
    """The query string of one keyset page of ``GET /V1/customers/search``.

    Group 0: ``entity_id gt after_id``; group 1 (only with ``updated_since``, AND-ed):
    ``updated_at gteq updated_since`` (Magento's UTC ``YYYY-MM-DD HH:MM:SS``); sorted by ``entity_id ASC``;
    always page 1.
    """
    if after_id < 0:
        raise ValueError("after_id must not be negative")
    groups: list[list[Filter]] = [[Filter("entity_id", str(after_id), "gt")]]
    if updated_since is not None:
        if not _MAGENTO_DATETIME.match(updated_since):
            raise ValueError("updated_since must look like 'YYYY-MM-DD HH:MM:SS' (UTC)")
        groups.append([Filter("updated_at", updated_since, "gteq")])
    pairs = search_criteria_pairs(
        groups, sort_orders=[SortOrder("entity_id", "ASC")], page_size=page_size, current_page=1
    )
    return encode_query(pairs)


def customers_by_email_query(emails: Sequence[str], *, page: int = 1) -> str:
    """The query string of one page (of :data:`MAX_PAGE_SIZE`) of the customers holding these emails: ``email in
    (emails)``, sorted by id. An email with a comma cannot be asked for this way (``in`` splits on commas)."""
    if not 1 <= len(emails) <= MAX_EMAILS_PER_QUERY:
        raise ValueError(f"ask for 1 to {MAX_EMAILS_PER_QUERY} emails at a time")
    if any("," in email for email in emails):
        raise ValueError("an email with a comma cannot be searched with 'in'")
    pairs = search_criteria_pairs(
        [[Filter("email", ",".join(emails), "in")]],
        sort_orders=[SortOrder("entity_id", "ASC")],
        page_size=MAX_PAGE_SIZE,
        current_page=page,
    )
    return encode_query(pairs)


def customers_by_id_query(customer_ids: Sequence[int]) -> str:
    """The query string that fetches these customers in one call: ``entity_id in (ids)``, sorted by id."""
    if not 1 <= len(customer_ids) <= MAX_PAGE_SIZE:
        raise ValueError(f"ask for 1 to {MAX_PAGE_SIZE} customers at a time")
    ids = ",".join(str(int(customer_id)) for customer_id in customer_ids)
    pairs = search_criteria_pairs(
        [[Filter("entity_id", ids, "in")]],
        sort_orders=[SortOrder("entity_id", "ASC")],
        page_size=len(customer_ids),
        current_page=1,
    )
    return encode_query(pairs)
