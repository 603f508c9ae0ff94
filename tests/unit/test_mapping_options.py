"""``option_label`` and ``option_labels``: a select or multiselect attribute's option ids as their labels (one
text, or a list for a Zoho multi-select picklist), read from Magento."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.mapping import map_customer, payload_hash
from magento_zoho_sync.mapping_config import MappingConfigError, build_spec, option_label, option_labels, parse_rule
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


# ---- option_labels: the labels as a list, for a Zoho multi-select picklist -----------------------------------

HOBBIES = {
    "frontend_input": "multiselect",
    "options": [
        {"label": " ", "value": ""},
        {"label": "Running", "value": "21"},
        {"label": "Cycling, road", "value": "22"},
        {"label": "Swimming", "value": "23"},
        {"label": "", "value": "24"},
        {"label": "Running", "value": "25"},  # two options with one label
    ],
}


def hobbies_spec(rule: str = "custom_attributes.interests | option_labels") -> Any:
    return with_option_labels(build_spec({"Interests": rule}), lambda _entity, _code: HOBBIES)


def test_option_labels_sends_the_labels_as_a_list_in_the_attributes_option_order() -> None:
    spec = hobbies_spec()
    payload = map_customer(customer(interests="23,22"), spec).payload  # type: ignore[union-attr]
    assert payload["Interests"] == ["Cycling, road", "Swimming"]  # a label with ", " stays whole
    again = map_customer(customer(interests="22, 23"), spec).payload  # type: ignore[union-attr]
    assert again["Interests"] == payload["Interests"] and payload_hash(again) == payload_hash(payload)
    one = map_customer(customer(interests="21"), spec).payload  # type: ignore[union-attr]
    assert one["Interests"] == ["Running"] and payload_hash(one) != payload_hash(payload)


@pytest.mark.parametrize("value", ["", " , ", "24"])  # nothing chosen, or only an option without a label
def test_option_labels_leaves_an_empty_multiselect_out(value: str) -> None:
    payload = map_customer(customer(interests=value), hobbies_spec()).payload  # type: ignore[union-attr]
    assert "Interests" not in payload  # never [] (which would blank the Zoho field): left out, as every empty value
    assert "Interests" not in map_customer(customer(), hobbies_spec()).payload  # type: ignore[union-attr]


def test_option_labels_fails_the_customer_on_an_option_id_the_attribute_does_not_list() -> None:
    failure = map_customer(customer(interests="21,99"), hobbies_spec())
    assert failure.code == "MAPPING_ERROR" and "option id 99" in failure.message  # type: ignore[union-attr]
    assert failure.field == "Interests"  # type: ignore[union-attr]


def test_option_labels_takes_a_transform_before_it() -> None:
    spec = hobbies_spec("custom_attributes.interests | default:23 | option_labels")
    assert map_customer(customer(), spec).payload["Interests"] == ["Swimming"]  # type: ignore[union-attr]


def test_the_list_transform_itself() -> None:
    labels = {"21": "Running", "22": "Cycling, road", "23": "Swimming", "24": "", "25": "Running"}
    assert option_labels(labels, None) is None and option_labels(labels, "") is None
    assert option_labels(labels, "24") is None  # an option without a label: none
    assert option_labels(labels, "23,21,23") == ["Running", "Swimming"]  # each once, in the attribute's order
    assert option_labels(labels, "25,21") == ["Running"]  # two options with one label: once
    assert option_labels(labels, 22) == ["Cycling, road"]  # a select's id, as JSON may give it
    for value in (True, ["21"], 1.5):
        with pytest.raises(ValueError, match="is not an option id"):
            option_labels(labels, value)
    with pytest.raises(ValueError, match="has option id 99"):
        option_labels(labels, "21,99")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("firstname | option_labels", "option_labels reads the labels of a select or multiselect attribute"),
        ("custom_attributes.interests | option_labels | uppercase", "so it must be the rule's last transform"),
        (
            {"path": "custom_attributes.interests", "transforms": ["option_labels", "default:none"]},
            "drop default:none after it (to send one text, use option_label instead)",
        ),
    ],
)
def test_option_labels_in_a_rule_that_cannot_send_its_list_is_refused_when_the_settings_load(
    value: Any, said: str
) -> None:
    with pytest.raises(MappingConfigError, match="Interests") as info:
        build_spec({"Interests": value})
    assert said in str(info.value)


def test_option_labels_on_an_attribute_without_options_names_itself() -> None:
    spec = build_spec({"Interests": "custom_attributes.loyalty_tier | option_labels"})
    with pytest.raises(ConfigError, match="a text attribute") as info:
        with_option_labels(spec, lambda _entity, _code: {"frontend_input": "text", "options": []})
    assert info.value.hint == "option_labels is for select and multiselect attributes: drop it from this rule."
