"""Zoho data centres: region code → Zoho Accounts URL and CRM API URL, and the set of known API domains.

Reference: zoho-crm-api.md §1.1. A Zoho org lives in one data centre; its refresh token only works with that
centre's accounts server, and its data only with that centre's API domain. Sandbox and developer orgs use
``sandbox.zohoapis.<tld>`` / ``developer.zohoapis.<tld>`` with the same accounts server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx2

from magento_zoho_sync.errors import ConfigError

__all__ = [
    "KNOWN_API_HOSTS",
    "REGIONS",
    "ZohoRegion",
    "get_region",
    "is_known_api_host",
    "region_of_api_host",
]


@dataclass(frozen=True)
class ZohoRegion:
    code: str
    accounts_url: str
    api_url: str

    @property
    def api_host(self) -> str:
        return httpx2.URL(self.api_url).host

    @property
    def api_domain(self) -> str:
        """The API host without its ``www.`` (``zohoapis.eu``)."""
        return self.api_host.removeprefix("www.")


REGIONS: Mapping[str, ZohoRegion] = MappingProxyType(
    {
        r.code: r
        for r in (
            ZohoRegion("us", "https://accounts.zoho.com", "https://www.zohoapis.com"),
            ZohoRegion("eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
            ZohoRegion("in", "https://accounts.zoho.in", "https://www.zohoapis.in"),
            ZohoRegion("au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
            ZohoRegion("jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
            ZohoRegion("cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
            ZohoRegion("ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
            ZohoRegion("sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
            ZohoRegion("uk", "https://accounts.zoho.uk", "https://www.zohoapis.uk"),
        )
    }
)

#: Host prefixes Zoho uses on an API domain: production (``www.`` or none), sandbox and developer orgs.
_API_PREFIXES = ("www.", "", "sandbox.", "developer.")

#: Every host a Zoho token response may name as its ``api_domain``.
KNOWN_API_HOSTS: frozenset[str] = frozenset(
    prefix + region.api_domain for region in REGIONS.values() for prefix in _API_PREFIXES
)


def get_region(code: str) -> ZohoRegion:
    """The data centre for ``code`` (case-insensitive); :class:`ConfigError` naming ZOHO_REGION otherwise."""
    region = REGIONS.get(code.strip().lower())
    if region is None:
        raise ConfigError(f"ZOHO_REGION must be one of {', '.join(REGIONS)}; got {code!r}.")
    return region


def _host(url_or_host: str) -> str:
    if "://" in url_or_host:
        try:
            return httpx2.URL(url_or_host).host.lower()
        except httpx2.InvalidURL:
            return ""
    return url_or_host.strip().rstrip("/").lower()


def is_known_api_host(url_or_host: str) -> bool:
    """True when the host of ``url_or_host`` is a Zoho CRM API host of any data centre."""
    return _host(url_or_host) in KNOWN_API_HOSTS


def region_of_accounts_host(url_or_host: str) -> ZohoRegion | None:
    """The data centre whose Zoho Accounts server has this host, or None for a host that is not one of them."""
    host = _host(url_or_host)
    return next((region for region in REGIONS.values() if _host(region.accounts_url) == host), None)


def region_of_api_host(url_or_host: str) -> ZohoRegion | None:
    """The data centre a Zoho API host belongs to, or None for a host that is not Zoho's."""
    host = _host(url_or_host)
    if host not in KNOWN_API_HOSTS:
        return None
    for region in REGIONS.values():
        if any(host == prefix + region.api_domain for prefix in _API_PREFIXES):
            return region
    return None  # pragma: no cover - every known host belongs to a region
