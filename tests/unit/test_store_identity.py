"""Which Magento store and which Zoho org a state file belongs to: the identities, and the refusal of another."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.settings import Settings, load_settings
from magento_zoho_sync.state import LinkUpdate, StateStore
from magento_zoho_sync.store_identity import (
    STORE_META_KEY,
    ZOHO_META_KEY,
    check_store,
    check_zoho_org,
    url_identity,
    zoho_identity,
)


def settings(state: Path, api_url: str = "https://sandbox.zohoapis.com") -> Settings:
    return load_settings(
        None,
        {
            "magento.base_url": "https://shop.example.com",
            "magento.auth": "integration-bearer",
            "magento.access_token": "t" * 32,
            "zoho.accounts_url": "https://accounts.zoho.com",
            "zoho.api_url": api_url,
            "zoho.client_id": "id",
            # distinctive values: loaded settings register their secrets for masking in every later message
            "zoho.client_secret": "org-binding-test-client-secret-5d2a1",
            "zoho.refresh_token": "1000.org-binding-test-refresh-token-9c3e4",
            "sync.state_path": state,
        },
        env={},
    )


@pytest.fixture
def state(tmp_path: Path) -> StateStore:
    return StateStore.open(tmp_path / "state.sqlite")


def synced_one_customer(state: StateStore) -> None:
    state.commit(run_id=1, links=[LinkUpdate(1, "a@example.com", "2026-01-01 00:00:00", "z1", "h")])


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://www.zohoapis.com", "HTTPS://WWW.ZohoAPIs.com:443/"),
        ("https://www.zohoapis.eu/", "http://www.zohoapis.eu"),
        ("http://127.0.0.1:18082", "https://127.0.0.1:18082/"),
        ("https://crm.example.com:8443/zoho", "https://CRM.example.com:8443/zoho/"),
    ],
)
def test_the_scheme_a_default_port_a_trailing_slash_and_the_host_case_are_aside(url: str, same: str) -> None:
    assert url_identity(url) == url_identity(same)


@pytest.mark.parametrize(
    "other",
    [
        "https://www.zohoapis.com",  # production, after the sandbox
        "https://sandbox.zohoapis.eu",  # the sandbox of another data centre
        "https://sandbox.zohoapis.com:8443",
        "https://sandbox.zohoapis.com/other",
    ],
)
def test_another_zoho_api_url_is_another_identity(tmp_path: Path, other: str) -> None:
    path = tmp_path / "state.sqlite"
    assert zoho_identity(settings(path)) == "sandbox.zohoapis.com"
    assert zoho_identity(settings(path, other)) != zoho_identity(settings(path))


def test_a_new_state_records_the_zoho_api_url_and_accepts_it_again(state: StateStore) -> None:
    check_zoho_org(state, settings(state.path), record=True)
    assert state.get_meta(ZOHO_META_KEY) == "sandbox.zohoapis.com"
    synced_one_customer(state)
    check_zoho_org(state, settings(state.path, "https://SANDBOX.zohoapis.com:443/"), record=True)


def test_another_zoho_api_url_is_refused_once_a_customer_was_synced(state: StateStore) -> None:
    check_zoho_org(state, settings(state.path), record=True)
    synced_one_customer(state)
    with pytest.raises(ConfigError) as info:
        check_zoho_org(state, settings(state.path, "https://www.zohoapis.com"), record=True)
    message = str(info.value)
    assert info.value.exit_code == 2
    assert message.startswith(
        f"The state file {state.path} holds the sync into the Zoho org at sandbox.zohoapis.com, not into "
        "ZOHO_API_URL https://www.zohoapis.com:"
    )
    assert "own state file (--state PATH or MZSYNC_STATE)" in message
    assert "delete the state file: the next sync matches this org's contacts by email." in message
    assert "secret" not in message and "refresh-token" not in message
    assert state.get_meta(ZOHO_META_KEY) == "sandbox.zohoapis.com"  # the refusal records nothing


def test_before_any_customer_is_synced_another_url_replaces_the_recorded_one(state: StateStore) -> None:
    check_zoho_org(state, settings(state.path, "https://www.zohoapis.con"), record=True)  # a typo, nothing synced
    check_zoho_org(state, settings(state.path, "https://www.zohoapis.com"), record=True)
    assert state.get_meta(ZOHO_META_KEY) == "www.zohoapis.com"


def test_a_state_written_before_the_binding_gets_the_url_recorded(state: StateStore) -> None:
    synced_one_customer(state)  # an older version's state: customers, no Zoho binding
    check_zoho_org(state, settings(state.path), record=True)
    assert state.get_meta(ZOHO_META_KEY) == "sandbox.zohoapis.com"


def test_without_record_nothing_is_written(state: StateStore) -> None:
    check_zoho_org(state, settings(state.path), record=False)
    check_store(state, settings(state.path), record=False)
    assert state.get_meta(ZOHO_META_KEY) is None and state.get_meta(STORE_META_KEY) is None


def test_the_store_and_the_org_are_recorded_under_their_own_keys(state: StateStore) -> None:
    check_store(state, settings(state.path), record=True)
    check_zoho_org(state, settings(state.path), record=True)
    assert (state.get_meta(STORE_META_KEY), state.get_meta(ZOHO_META_KEY)) == (
        "shop.example.com",
        "sandbox.zohoapis.com",
    )


@pytest.mark.parametrize(("matching", "accepted"), [(4, True), (2, True), (1, False), (0, False)])
def test_store_moved_needs_half_of_the_sampled_customers_with_the_same_id_and_email(
    state: StateStore, matching: int, accepted: bool
) -> None:
    check_store(state, settings(state.path), record=True)
    links = [LinkUpdate(n, f"c{n}@example.com", "2026-01-01 00:00:00", f"z{n}", "h") for n in range(1, 5)]
    state.commit(run_id=1, links=links)
    asked: list[list[int]] = []

    def get_customers(ids: Sequence[int]) -> list[dict[str, object]]:
        asked.append(list(ids))
        # the first ``matching`` customers are there as they were (one with another letter case and an id in
        # digits); the others have another email there
        return [
            {"id": str(n) if n == 1 else n, "email": f" C{n}@Example.com" if n <= matching else f"other{n}@x.com"}
            for n in range(1, 5)
        ]

    moved = settings(state.path)
    moved = moved.model_copy(
        update={"magento": moved.magento.model_copy(update={"base_url": "https://new.example.com"})}
    )
    if accepted:
        check_store(state, moved, record=True, moved=get_customers)
        assert state.get_meta(STORE_META_KEY) == "new.example.com"
    else:
        with pytest.raises(ConfigError, match=f"of 4 customers that state has synced, {matching} are there"):
            check_store(state, moved, record=True, moved=get_customers)
        assert state.get_meta(STORE_META_KEY) == "shop.example.com"
    assert asked == [[1, 2, 3, 4]]


def test_store_moved_asks_again_for_the_customers_a_capped_answer_left_out(state: StateStore) -> None:
    check_store(state, settings(state.path), record=True)
    links = [LinkUpdate(n, f"c{n}@example.com", "2026-01-01 00:00:00", f"z{n}", "h") for n in range(1, 5)]
    state.commit(run_id=1, links=links)
    asked: list[list[int]] = []

    def capped(ids: Sequence[int]) -> list[dict[str, object]]:  # a proxy that answers 1 at most; 4 is gone
        asked.append(list(ids))
        return [{"id": n, "email": f"c{n}@example.com"} for n in ids if n != 4][:1]

    moved = settings(state.path)
    moved = moved.model_copy(
        update={"magento": moved.magento.model_copy(update={"base_url": "https://new.example.com"})}
    )
    check_store(state, moved, record=True, moved=capped)
    assert state.get_meta(STORE_META_KEY) == "new.example.com"  # 3 of 4 there
    assert asked == [[1, 2, 3, 4], [2, 3, 4], [3, 4], [4]]  # the last answer brings nobody new: no further call
