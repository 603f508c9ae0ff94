"""Helpers shared by the Magento simulator tests (imported by name: the test folders are not packages)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx2
from oauthlib import oauth1

from magento_zoho_sims.magento import Integration

NOW = 1_800_000_000.0  # 2027-01-15, ahead of the machine clock so real OAuth timestamps are never "future"
ADMIN = {"username": "admin", "password": "magento-demo-1"}


def query(params: dict[str, Any]) -> str:
    """Encode a query string the way a careful client does (``%20`` for spaces, brackets escaped)."""
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in params.items())


def criteria(
    filters: list[list[tuple[str, str, str | None]]] | None = None,
    sorts: list[tuple[str, str | None]] | None = None,
    page_size: int | None = None,
    current_page: int | None = None,
) -> dict[str, str]:
    """Build ``searchCriteria[...]`` parameters: ``filters`` is a list of groups of (field, value, condition)."""
    params: dict[str, str] = {}
    for g, group in enumerate(filters or []):
        for f, (field, value, condition) in enumerate(group):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = value
            if condition is not None:
                params[f"{prefix}[condition_type]"] = condition
    for s, (field, direction) in enumerate(sorts or []):
        params[f"searchCriteria[sortOrders][{s}][field]"] = field
        if direction is not None:
            params[f"searchCriteria[sortOrders][{s}][direction]"] = direction
    if page_size is not None:
        params["searchCriteria[pageSize]"] = str(page_size)
    if current_page is not None:
        params["searchCriteria[currentPage]"] = str(current_page)
    if not params:
        params["searchCriteria"] = ""
    return params


def keyset(last: int, page_size: int) -> dict[str, str]:
    return criteria([[("entity_id", str(last), "gt")]], [("entity_id", "ASC")], page_size, 1)


def search(client: httpx2.Client, auth: dict[str, str], params: dict[str, str], store: str = "all") -> httpx2.Response:
    prefix = "/rest/V1" if store == "" else f"/rest/{store}/V1"
    return client.get(f"{prefix}/customers/search?{query(params)}", headers=auth)


def signed(
    integration: Integration,
    url: str,
    *,
    method: str = "GET",
    signature_method: str = oauth1.SIGNATURE_HMAC_SHA256,
    nonce: str | None = None,
    timestamp: str | None = None,
    secret: str | None = None,
) -> dict[str, str]:
    """The OAuth 1.0a ``Authorization`` header of ``integration`` for ``url``, signed with oauthlib."""
    client = oauth1.Client(
        integration.consumer_key,
        client_secret=secret or integration.consumer_secret,
        resource_owner_key=integration.access_token,
        resource_owner_secret=integration.access_token_secret,
        signature_method=signature_method,
        nonce=nonce,
        timestamp=timestamp,
    )
    _uri, headers, _body = client.sign(url, http_method=method)
    return dict(headers)
