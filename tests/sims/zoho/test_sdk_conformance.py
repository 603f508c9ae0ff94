"""Conformance: Zoho's official Python SDK (zohocrmsdk8_0, unchanged) drives the simulator over a loopback port.

Recipe from the reference §8.4: a custom DataCenter environment pointing at the simulator, FileStore and
resource_path in a temp dir. The SDK's Initializer is process-global, so this module initialises it once
and runs its tests serially against one simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sims.zoho import ZohoSimulator

sdk = pytest.importorskip("zohocrmsdk.src.com.zoho.crm.api.initializer")

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken  # noqa: E402
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api import ParameterMap  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer  # noqa: E402
from zohocrmsdk.src.com.zoho.crm.api.record import (  # noqa: E402
    ActionWrapper,
    APIException,
    BodyWrapper,
    DeleteRecordsParam,
    Record,
    RecordOperations,
    ResponseWrapper,
    SearchRecordsParam,
    SuccessResponse,
)
from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ZohoSimulator, str]]:
    sim = ZohoSimulator(seed=7)
    sim.add_contact(Last_Name="Existing", First_Name="Erin", Email="erin@example.com")
    tmp = tmp_path_factory.mktemp("zoho-sdk")
    with sim.serve() as server:
        _initialize(sim, server.url, tmp)
        yield sim, server.url


def _initialize(sim: ZohoSimulator, base: str, tmp: Path) -> None:
    """The SDK pointed at the simulator with a new refresh token (its token store in ``tmp``)."""
    env = DataCenter.Environment(base, base + "/oauth/v2/token", base)
    refresh_token = sim.issue_refresh_token()
    token = OAuthToken(client_id=sim.client_id, client_secret=sim.client_secret, refresh_token=refresh_token)
    Initializer.initialize(
        environment=env,
        token=token,
        store=FileStore(str(tmp / "tokens.csv")),
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False),
        resource_path=str(tmp),
    )


def _record(**values: Any) -> Record:
    record = Record()
    for key, value in values.items():
        record.add_key_value(key, value)
    return record


def _write(method: str, *records: Record, **extra: Any) -> Any:
    body = BodyWrapper()
    body.set_data(list(records))
    body.set_trigger([])
    for key, value in extra.items():
        getattr(body, f"set_{key}")(value)
    return getattr(RecordOperations("Contacts"), method)(body)


def _items(response: Any) -> list[Any]:
    wrapper = response.get_object()
    assert isinstance(wrapper, ActionWrapper)
    return list(wrapper.get_data())


def test_sdk_bootstrap_used_the_simulator(served: tuple[ZohoSimulator, str]) -> None:
    sim, _ = served
    paths = [r.path for r in sim.log]
    assert "/oauth/v2/token" in paths
    assert "/crm/v8/users" in paths and "/crm/v8/org" in paths


def test_create_returns_201_and_success_response(served: tuple[ZohoSimulator, str]) -> None:
    sim, _ = served
    response = _write("create_records", _record(Last_Name="Doe", First_Name="Jane", Email="jane.sdk@example.com"))
    assert response.get_status_code() == 201
    [item] = _items(response)
    assert isinstance(item, SuccessResponse)
    assert item.get_code().get_value() == "SUCCESS"
    assert item.get_message().get_value() == "record added"
    new_id = item.get_details()["id"]
    assert sim.contact(str(new_id))["Email"] == "jane.sdk@example.com"
    assert sim.writes("insert")[-1].trigger == []


def test_upsert_inserts_then_updates(served: tuple[ZohoSimulator, str]) -> None:
    sim, _ = served
    first = _write(
        "upsert_records", _record(Last_Name="Upsert", Email="ups@example.com"), duplicate_check_fields=["Email"]
    )
    assert first.get_status_code() == 201
    [inserted] = _items(first)
    assert inserted.get_action().get_value() == "insert"
    second = _write(
        "upsert_records", _record(Last_Name="Upserted", Email="UPS@example.com"), duplicate_check_fields=["Email"]
    )
    assert second.get_status_code() == 200
    [updated] = _items(second)
    assert isinstance(updated, SuccessResponse)
    assert updated.get_action().get_value() == "update"
    assert updated.get_duplicate_field() == "Email"
    assert updated.get_message().get_value() == "record updated"
    assert updated.get_details()["id"] == inserted.get_details()["id"]
    assert [c["Last_Name"] for c in sim.contacts_by_email("ups@example.com")] == ["Upserted"]


def test_mixed_batch_is_207_with_api_exception(served: tuple[ZohoSimulator, str]) -> None:
    response = _write(
        "create_records", _record(Last_Name="Fine", Email="fine@example.com"), _record(Email="nolast@example.com")
    )
    assert response.get_status_code() == 207
    ok, bad = _items(response)
    assert isinstance(ok, SuccessResponse)
    assert isinstance(bad, APIException)
    assert bad.get_code().get_value() == "MANDATORY_NOT_FOUND"
    assert bad.get_details() == {"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}


def test_search_hit_and_204(served: tuple[ZohoSimulator, str]) -> None:
    params = ParameterMap()
    params.add(SearchRecordsParam.email, "erin@example.com")
    hit = RecordOperations("Contacts").search_records(params)
    assert hit.get_status_code() == 200
    wrapper = hit.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    [record] = wrapper.get_data()
    assert record.get_key_value("Email") == "erin@example.com"
    assert wrapper.get_info().get_count() == 1

    params = ParameterMap()
    params.add(SearchRecordsParam.email, "nobody@example.com")
    miss = RecordOperations("Contacts").search_records(params)
    assert miss.get_status_code() == 204
    assert miss.get_object() is None


def test_get_update_delete_by_id(served: tuple[ZohoSimulator, str]) -> None:
    sim, _ = served
    [created] = _items(_write("create_records", _record(Last_Name="Lifecycle", Email="life@example.com")))
    record_id = int(created.get_details()["id"])
    got = RecordOperations("Contacts").get_record(record_id)
    assert got.get_status_code() == 200
    [record] = got.get_object().get_data()
    assert record.get_key_value("Last_Name") == "Lifecycle"
    assert record.get_id() == record_id

    update = _record(Last_Name="Renamed")
    update.set_id(record_id)
    updated = _write("update_records", update)
    assert updated.get_status_code() == 200
    [item] = _items(updated)
    assert item.get_message().get_value() == "record updated"
    assert sim.contact(str(record_id))["Last_Name"] == "Renamed"
    assert sim.contact(str(record_id))["Email"] == "life@example.com"  # untouched

    params = ParameterMap()
    params.add(DeleteRecordsParam.ids, str(record_id))
    deleted = RecordOperations("Contacts").delete_records(params)
    assert deleted.get_status_code() == 200
    [item] = _items(deleted)
    assert item.get_message().get_value() == "record deleted"
    assert sim.contact(str(record_id)) is None


def test_invalid_token_is_api_exception(served: tuple[ZohoSimulator, str], tmp_path: Path) -> None:
    """Self-contained (the SDK is process-global): a token is cached first, and the SDK is set up again after."""
    sim, base = served
    params = ParameterMap()
    params.add(SearchRecordsParam.email, "erin@example.com")
    assert RecordOperations("Contacts").search_records(params).get_status_code() == 200  # a cached access token
    for refresh_token in list(sim.accounts.refresh_tokens):
        sim.revoke_refresh_token(refresh_token)  # also kills its access tokens
    try:
        response = RecordOperations("Contacts").search_records(params)
        assert response.get_status_code() == 401
        error = response.get_object()
        assert isinstance(error, APIException)
        assert error.get_code().get_value() == "INVALID_TOKEN"
        assert error.get_message().get_value() == "invalid oauth token"
    finally:  # the tests after this one (any order: -k, --lf, random) get a working SDK again
        _initialize(sim, base, tmp_path)
