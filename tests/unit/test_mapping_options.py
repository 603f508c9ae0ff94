"""``option_label``: a select or multiselect attribute's option ids as their labels, read from Magento."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.mapping import map_customer
from magento_zoho_sync.mapping_config import MappingConfigError, build_spec, option_label, parse_rule
from magento_zoho_sync.mapping_options import with_option_labels

LANGUAGES = {
    "options": [{"label": " ", "value": ""}, {"label": "English", "value": "11"}, {"label": "Français", "value": "12"}]
}
INTERESTS = {
    "frontend_input": "multiselect",
    "options": [{"label": "Running", "value": "21"}, {"label": "Cycling, road", "value": "22"}],
}


def reader(calls: list[tuple[str, str]]) -> Any:
    def read(entity: str, code: str) -> Any:
        calls.append((entity, code))
        return {"preferred_language": LANGUAGES, "interests": INTERESTS, "delivery_window": LANGUAGES}.get(code)

    return read


def customer(**custom: str) -> dict[str, Any]:
    return {
        "id": 7,
        "email": "ann@example.com",
        "lastname": "Lee",
        "custom_attributes": [{"attribute_code": code, "value": value} for code, value in custom.items()],
        "addresses": [
            {
                "id": 1,
                "default_billing": True,
                "custom_attributes": [{"attribute_code": "delivery_window", "value": "12"}],
            }
        ],
    }


def test_option_ids_become_labels_and_each_attribute_is_read_once() -> None:
    spec = build_spec(
        {
            "Language": "custom_attributes.preferred_language | option_label",
            "Language_Upper": "custom_attributes.preferred_language | option_label | uppercase",
            "Interests": "custom_attributes.interests | option_label",
            "Window": "address.custom_attributes.delivery_window | option_label",
        }
    )
    calls: list[tuple[str, str]] = []
    resolved = with_option_labels(spec, reader(calls))
    assert calls == [
        ("customer", "preferred_language"),
        ("customer", "interests"),
        ("customerAddress", "delivery_window"),
    ]
    assert resolved.signature() == spec.signature()  # the labels are Magento's data, not a change of mapping
    payload = map_customer(customer(preferred_language="12", interests="22,21"), resolved).payload  # type: ignore[union-attr]
    assert payload["Language"] == "Français" and payload["Language_Upper"] == "FRANÇAIS"
    assert payload["Interests"] == "Cycling, road, Running" and payload["Window"] == "Français"
    assert "Language" not in map_customer(customer(), resolved).payload  # type: ignore[union-attr]


def test_an_option_id_the_attribute_does_not_list_fails_that_customer() -> None:
    spec = with_option_labels(
        build_spec({"Language": "custom_attributes.preferred_language | option_label"}), reader([])
    )
    failure = map_customer(customer(preferred_language="99"), spec)
    assert failure.code == "MAPPING_ERROR" and "option id 99" in failure.message  # type: ignore[union-attr]


def test_an_option_whose_label_is_missing_reads_as_no_label() -> None:
    metadata = {"frontend_input": "select", "options": [{"value": "5", "label": None}, {"value": "6"}]}
    spec = with_option_labels(build_spec({"Language": "custom_attributes.l | option_label"}), lambda _e, _c: metadata)
    [transform] = [t for t in spec.rules[-1].transforms if t.name == "option_label"]
    assert transform.labels == (("5", ""), ("6", ""))  # not "None"


def test_a_mapping_without_option_label_reads_no_attribute() -> None:
    calls: list[tuple[str, str]] = []
    spec = build_spec({"Tier": "custom_attributes.loyalty_tier"})
    assert with_option_labels(spec, reader(calls)) is spec and calls == []


@pytest.mark.parametrize(
    ("metadata", "said"),
    [
        (None, "Magento has no customer attribute 'nope'"),
        ({"frontend_input": "text", "options": []}, "a text attribute"),
    ],
)
def test_an_unknown_attribute_or_one_without_options_is_a_setting_to_fix(metadata: Any, said: str) -> None:
    spec = build_spec({"Language": "custom_attributes.nope | option_label"})
    with pytest.raises(ConfigError, match=said) as info:
        with_option_labels(spec, lambda _entity, _code: metadata)
    assert "[mapping.fields] Language" in str(info.value)


@pytest.mark.parametrize("path", ["firstname", "address.city", "extension_attributes.is_subscribed"])
def test_option_label_is_refused_on_a_path_that_is_not_a_custom_attribute(path: str) -> None:
    with pytest.raises(MappingConfigError, match="option_label reads the labels"):
        parse_rule("Language", f"{path} | option_label")


def test_the_transform_itself() -> None:
    labels = {"11": "English", "12": "Français", "13": ""}
    assert option_label(labels, None) is None and option_label(labels, "") is None
    assert option_label(labels, "13") is None and option_label(labels, "13,12") == "Français"  # no label: none
    assert option_label(labels, "11,11,12") == "English, Français"  # an id given twice: once
    assert option_label(labels, 11) == "English" and option_label(labels, " 11 , 12 ") == "English, Français"
    for value in (True, ["11"], 1.5):
        with pytest.raises(ValueError, match="is not an option id"):
            option_label(labels, value)
