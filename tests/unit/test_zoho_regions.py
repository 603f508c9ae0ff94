"""zoho/regions.py: the data-centre table (reference zoho-crm-api.md §1.1)."""

from __future__ import annotations

import pytest

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.settings import ZOHO_REGIONS
from magento_zoho_sync.zoho.regions import (
    KNOWN_API_HOSTS,
    REGIONS,
    get_region,
    is_known_api_host,
    region_of_accounts_host,
    region_of_api_host,
)


def test_every_documented_region_is_there() -> None:
    assert set(REGIONS) == {"us", "eu", "in", "au", "jp", "cn", "ca", "sa", "uk"}
    assert REGIONS["us"].accounts_url == "https://accounts.zoho.com"
    assert REGIONS["eu"].api_url == "https://www.zohoapis.eu"
    assert REGIONS["au"].accounts_url == "https://accounts.zoho.com.au"
    assert REGIONS["ca"].accounts_url == "https://accounts.zohocloud.ca"
    assert REGIONS["ca"].api_url == "https://www.zohoapis.ca"
    assert REGIONS["cn"].api_url == "https://www.zohoapis.com.cn"


def test_the_settings_table_agrees_with_this_one() -> None:
    assert {code: (r.accounts_url, r.api_url) for code, r in REGIONS.items()} == ZOHO_REGIONS


def test_get_region_is_case_insensitive_and_names_the_setting() -> None:
    assert get_region(" EU ").code == "eu"
    with pytest.raises(ConfigError, match="ZOHO_REGION"):
        get_region("mars")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://www.zohoapis.com", "us"),
        ("https://zohoapis.com/crm/v8", "us"),
        ("https://sandbox.zohoapis.eu", "eu"),
        ("https://developer.zohoapis.in", "in"),
        ("www.zohoapis.com.au", "au"),
        ("https://www.zohoapis.com.cn", "cn"),
        ("https://WWW.ZOHOAPIS.UK", "uk"),
    ],
)
def test_known_api_hosts_belong_to_their_region(url: str, code: str) -> None:
    assert is_known_api_host(url)
    region = region_of_api_host(url)
    assert region is not None and region.code == code


@pytest.mark.parametrize(
    "url", ["https://zohoapis.com.evil.example", "https://www.zoho.com", "https://127.0.0.1:9000", "not a url://"]
)
def test_other_hosts_are_not_zoho_api_hosts(url: str) -> None:
    assert not is_known_api_host(url)
    assert region_of_api_host(url) is None


def test_known_hosts_cover_production_sandbox_and_developer() -> None:
    assert "www.zohoapis.sa" in KNOWN_API_HOSTS
    assert "sandbox.zohoapis.com" in KNOWN_API_HOSTS
    assert "developer.zohoapis.jp" in KNOWN_API_HOSTS
    assert len(KNOWN_API_HOSTS) == 9 * 4


@pytest.mark.parametrize(
    ("url", "code"),
    [("https://accounts.zoho.eu", "eu"), ("https://ACCOUNTS.ZOHO.COM.AU/", "au"), ("accounts.zohocloud.ca", "ca")],
)
def test_an_accounts_host_names_its_data_centre(url: str, code: str) -> None:
    region = region_of_accounts_host(url)
    assert region is not None and region.code == code


@pytest.mark.parametrize("url", ["https://www.zohoapis.eu", "https://accounts.example.com", "http://127.0.0.1:8082"])
def test_other_hosts_are_no_accounts_host(url: str) -> None:
    assert region_of_accounts_host(url) is None
