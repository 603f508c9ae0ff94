"""OAuth 1.0a signed requests from an integration, signed here with oauthlib (reference §1.5)."""

from __future__ import annotations

import httpx2
import pytest
from magento_helpers import criteria, query, signed
from oauthlib import oauth1

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import Integration, MagentoConfig, MagentoSimulator

BASE = "http://magento.test"


@pytest.fixture
def integration(config: MagentoConfig) -> Integration:
    return config.integrations[0]


def keyset_url(prefix: str = BASE) -> str:
    params = criteria(
        [[("updated_at", "2024-01-01 00:00:00", "gteq")], [("entity_id", "0", "gt")]],
        [("entity_id", "ASC")],
        page_size=5,
    )
    return f"{prefix}/rest/all/V1/customers/search?{query(params)}"


def test_signed_search_with_spaces_encoded_as_percent20_is_accepted(
    client: httpx2.Client, integration: Integration
) -> None:
    url = keyset_url()
    assert "%20" in url
    response = client.get(url, headers=signed(integration, url))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [1, 2, 3, 4, 5]


def test_plus_for_space_breaks_the_signature_as_on_magento(client: httpx2.Client, integration: Integration) -> None:
    url = keyset_url().replace("%20", "+")
    response = client.get(url, headers=signed(integration, url))  # oauthlib reads "+" as a space; Magento does not
    assert response.status_code == 401
    assert response.json() == {"message": "The signature is invalid. Verify and try again."}


def test_wrong_secret_is_an_invalid_signature(client: httpx2.Client, integration: Integration) -> None:
    url = f"{BASE}/rest/V1/customers/1"
    response = client.get(url, headers=signed(integration, url, secret="x" * 32))
    assert (response.status_code, response.json()) == (
        401,
        {"message": "The signature is invalid. Verify and try again."},
    )


def test_hmac_sha1_is_refused_with_400(client: httpx2.Client, integration: Integration) -> None:
    url = f"{BASE}/rest/V1/customers/1"
    response = client.get(url, headers=signed(integration, url, signature_method=oauth1.SIGNATURE_HMAC_SHA1))
    assert response.status_code == 400
    assert response.json() == {"message": "Signature method %1 is not supported", "parameters": ["HMAC-SHA1"]}


def test_reused_nonce_is_refused(client: httpx2.Client, integration: Integration) -> None:
    url = f"{BASE}/rest/V1/customers/1"
    first = client.get(url, headers=signed(integration, url, nonce="n0nce0000001"))
    assert first.status_code == 200
    again = client.get(url, headers=signed(integration, url, nonce="n0nce0000001"))
    assert again.status_code == 401
    assert again.json() == {
        "message": "The nonce is already being used by the consumer with ID %1",
        "parameters": [integration.consumer_id],
    }


def test_future_timestamp_is_refused_but_old_ones_pass(
    client: httpx2.Client, integration: Integration, clock: Clock
) -> None:
    url = f"{BASE}/rest/V1/customers/1"
    future = client.get(url, headers=signed(integration, url, timestamp=str(int(clock.now()) + 601)))
    assert future.status_code == 400
    assert future.json() == {"message": "Incorrect timestamp value in the oauth_timestamp parameter"}
    near = client.get(url, headers=signed(integration, url, timestamp=str(int(clock.now()) + 500)))
    assert near.status_code == 200
    old = client.get(url, headers=signed(integration, url, timestamp=str(int(clock.now()) - 86400 * 30)))
    assert old.status_code == 200


def test_unknown_consumer_and_revoked_token(clock: Clock) -> None:
    integration = Integration()
    stranger = Integration(consumer_key="z" * 32)
    wrong_length = Integration(consumer_key="short")
    config = MagentoConfig(integrations=[integration])
    sim = MagentoSimulator(customers=2, clock=clock, config=config)
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as client:
        url = f"{BASE}/rest/V1/customers/1"
        unknown = client.get(url, headers=signed(stranger, url))
        assert unknown.json() == {"message": "A consumer having the specified key does not exist"}
        assert unknown.status_code == 401
        short = client.get(url, headers=signed(wrong_length, url))
        assert (short.status_code, short.json()) == (401, {"message": "Consumer key is not the correct length"})
        integration.revoked = True
        revoked = client.get(url, headers=signed(integration, url))
        assert (revoked.status_code, revoked.json()) == (401, {"message": "Access token has been revoked"})


def test_value_containing_equals_is_left_out_of_the_signed_set(client: httpx2.Client, integration: Integration) -> None:
    url = f"{BASE}/rest/V1/customers/search?{query(criteria([[('email', 'a=b', 'eq')]]))}".replace("a%3Db", "a=b")
    response = client.get(url, headers=signed(integration, url))  # oauthlib signs the value; Magento drops it
    assert response.status_code == 401


def test_oauth_over_a_real_socket(sim: MagentoSimulator, integration: Integration) -> None:
    server = sim.serve()
    try:
        with httpx2.Client(base_url=server.url) as client:
            url = keyset_url(server.url)
            response = client.get(url, headers=signed(integration, url))
            assert response.status_code == 200
            assert response.json()["total_count"] == 50
    finally:
        server.stop()
