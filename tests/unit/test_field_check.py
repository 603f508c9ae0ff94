"""The sync's check of the org's Contacts fields (app.CustomerMapper): an answer that lists no field is no check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import stamina
from pydantic import SecretStr

from magento_zoho_sync import redact
from magento_zoho_sync.app import FIELDS_CHECKED_META_KEY, LIMITS_META_KEY, CustomerMapper
from magento_zoho_sync.errors import ZohoError
from magento_zoho_sync.field_check import field_problems, refused_a_field, signature
from magento_zoho_sync.mapping_config import build_spec
from magento_zoho_sync.state import StateStore
from magento_zoho_sync.zoho.auth import ZohoTokenManager
from magento_zoho_sync.zoho.client import ZohoClient
from magento_zoho_sync.zoho.records import FieldMeta
from tests.unit.fakes import customer

API = "https://www.zohoapis.com"
FIELDS = [
    {"api_name": name, "data_type": "text", "length": 80, "system_mandatory": name == "Last_Name"}
    for name in ("Email", "First_Name", "Last_Name", "Phone", "Mailing_Street", "Mailing_City", "Mailing_State")
] + [{"api_name": name, "data_type": "text", "length": 30} for name in ("Mailing_Zip", "Mailing_Country")]


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    redact.clear_secrets()
    with stamina.set_testing(True, attempts=2):
        yield
    redact.clear_secrets()


def _zoho(fields_answer: httpx2.Response) -> ZohoClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "accounts.zoho.com":
            return httpx2.Response(200, json={"access_token": "1000.access.token", "expires_in": 3600})
        assert request.url.path == "/crm/v8/settings/fields"
        return fields_answer

    transport = httpx2.MockTransport(handler)
    manager = ZohoTokenManager(
        accounts_url="https://accounts.zoho.com",
        api_url=API,
        client_id="id",
        client_secret=SecretStr("canary-client-secret"),
        refresh_token=SecretStr("1000.canary.refresh"),
        transport=transport,
    )
    return ZohoClient(api_url=API, token_manager=manager, transport=transport)


@pytest.mark.parametrize(
    "answer",
    [
        httpx2.Response(200, json={}),
        httpx2.Response(200, json={"fields": None}),
        httpx2.Response(200, json={"fields": []}),
        httpx2.Response(204),
    ],
    ids=["empty object", "null fields", "empty list", "204"],
)
def test_an_answer_that_lists_no_field_stops_the_run_and_is_not_recorded_as_checked(
    answer: httpx2.Response, tmp_path: Path
) -> None:
    state = StateStore.open(tmp_path / "state.sqlite")
    try:
        mapper = CustomerMapper(build_spec(), _zoho(answer), state)
        with pytest.raises(ZohoError) as info:
            mapper.map(customer(1, "jo@example.com"))
        assert info.value.exit_code == 2
        assert "Zoho listed no Contacts fields" in info.value.message
        assert info.value.hint is not None and "Profiles" in info.value.hint
        assert state.get_meta(FIELDS_CHECKED_META_KEY) is None  # checked again by the next run
        assert state.get_meta(LIMITS_META_KEY) is None  # no stock lengths saved as if they were the org's
    finally:
        state.close()


def test_a_listed_field_set_is_checked_once_and_recorded(tmp_path: Path) -> None:
    state = StateStore.open(tmp_path / "state.sqlite")
    try:
        answer = httpx2.Response(200, content=json.dumps({"fields": FIELDS}).encode())
        mapper = CustomerMapper(build_spec(), _zoho(answer), state)
        mapper.map(customer(1, "jo@example.com"))
        assert state.get_meta(FIELDS_CHECKED_META_KEY) is not None
        limits = state.get_meta(LIMITS_META_KEY)
        assert limits is not None and json.loads(limits)["Mailing_Zip"] == 30
    finally:
        state.close()


@pytest.mark.parametrize(
    ("code", "details", "refused"),
    [
        ("MANDATORY_NOT_FOUND", {"api_name": "Customer_Tier"}, True),
        ("INVALID_DATA", {"api_name": "Last_Name", "maximum_length": 8}, True),
        ("INVALID_DATA", {"api_name": "Mailing_City"}, True),
        ("INVALID_DATA", {"id": "5843104000000425001"}, False),  # a stale contact id, no field
        ("INVALID_DATA", {}, False),
        ("DUPLICATE_DATA", {"api_name": "Email"}, False),
        ("VALUE_TOO_LONG", {"field": "Last_Name"}, False),  # the tool's own: the lengths it holds were used
    ],
)
def test_what_counts_as_zoho_refusing_a_record_over_a_field(code: str, details: dict[str, str], refused: bool) -> None:
    assert refused_a_field([(code, details)]) is refused
    assert refused_a_field([]) is False


def test_a_missing_field_of_the_default_mapping_is_dropped_with_false_not_removed_from_the_settings() -> None:
    org = [FieldMeta(f["api_name"], "text", 80) for f in FIELDS if f["api_name"] != "Mailing_City"]
    [default] = field_problems(build_spec(), ["Email"], org)
    assert "no field 'Mailing_City'" in default
    assert "drop it with Mailing_City = false under [mapping.fields] (a field of the default mapping)" in default
    custom = build_spec({"Mailing_City": "address.city | trim"})
    [written] = field_problems(custom, ["Email"], org)
    assert "remove it from [mapping.fields]" in written


# ---- multi-select picklists: the list option_labels makes, and nothing else -----------------------------------

ORG = [
    FieldMeta("Email", "email", 100, json_type="string"),
    FieldMeta("Last_Name", "text", 80, json_type="string", system_mandatory=True),
    FieldMeta("Interests", "multiselectpicklist", 2000, json_type="jsonarray"),
    FieldMeta("Interests_Text", "text", 255, json_type="string"),
    FieldMeta("Tags_Lookup", "multiselectlookup", None, json_type="jsonarray"),
]


def _problems(**rules: str) -> list[str]:
    spec = build_spec({"Email": "email", "Last_Name": "lastname", **rules}, replace_defaults=True)
    return field_problems(spec, ["Email"], ORG)


def test_a_list_of_labels_on_a_multi_select_picklist_passes() -> None:
    assert _problems(Interests="custom_attributes.interests | option_labels") == []
    assert _problems(Interests_Text="custom_attributes.interests | option_label") == []  # one text, as ever


def test_one_text_on_a_multi_select_picklist_is_refused_naming_option_labels() -> None:
    [problem] = _problems(Interests="custom_attributes.interests | option_label")
    assert problem == (
        "mapping.fields: Zoho's Contacts field 'Interests' is a multiselectpicklist field, but Interests = "
        '"custom_attributes.interests | option_label" sends text values, and the field takes a list of its pick '
        'list values; use option_labels instead of option_label: Interests = "custom_attributes.interests | '
        'option_labels"'
    )
    [plain] = _problems(Interests="firstname")
    assert "sends text values" in plain and 'Interests = "custom_attributes.<code> | option_labels"' in plain


def test_a_list_of_labels_on_a_text_field_is_refused_naming_option_label() -> None:
    [problem] = _problems(Interests_Text="custom_attributes.interests | option_labels")
    assert problem == (
        "mapping.fields: Zoho's Contacts field 'Interests_Text' is a text field, but Interests_Text = "
        '"custom_attributes.interests | option_labels" sends a list of labels, which only a multi-select picklist '
        "field takes; to send the labels as one text, use option_label: Interests_Text = "
        '"custom_attributes.interests | option_label"'
    )


def test_other_list_fields_still_cannot_be_filled() -> None:
    [problem] = _problems(Tags_Lookup="custom_attributes.interests | option_labels")
    assert "'Tags_Lookup' is a multiselectlookup field, which the mapping cannot fill" in problem


def test_the_check_is_made_again_when_a_rule_turns_from_text_to_a_list() -> None:
    text = build_spec({"Interests": "custom_attributes.interests | option_label"})
    listed = build_spec({"Interests": "custom_attributes.interests | option_labels"})
    assert signature(text, ["Email"]) != signature(listed, ["Email"])
