"""The kind of value a mapping rule sends, and the fix named when a Zoho field takes another kind."""

from __future__ import annotations

import pytest

from magento_zoho_sync.field_check import field_problems, signature
from magento_zoho_sync.mapping_config import FieldRule, build_spec, parse_rule
from magento_zoho_sync.mapping_kinds import kind_problem, output_kind
from magento_zoho_sync.zoho.records import FieldMeta


def rule(text: str, field: str = "Custom_X") -> FieldRule:
    parsed = parse_rule(field, text)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("firstname", "text"),
        ("gender", "text"),  # Magento's numbers go as text unless the rule says number
        ("gender | number", "number"),
        ("custom_attributes.vip | bool", "yes/no"),
        ("extension_attributes.is_subscribed", "yes/no"),  # a JSON boolean in Magento
        ("extension_attributes.is_subscribed | bool_to_opt_out", "yes/no"),
        ("address.default_billing", "yes/no"),
        ("created_at", "Magento time"),
        ("created_at | date", "date"),
        ("updated_at | datetime", "date-time"),
        ("dob", "date"),
        ("constant:1", "text"),
        ("constant:1 | bool", "yes/no"),
        ("custom_attributes.vip | default:0 | bool", "yes/no"),
        ("custom_attributes.vip | bool | default:no", "mixed"),
        ("custom_attributes.points | number | default:0", "mixed"),
        ("custom_attributes.vip | bool | constant:x", "text"),
        ("custom_attributes.interests | option_label", "text"),
        ("custom_attributes.interests | option_labels", "list"),
        ("custom_attributes.interests | trim | default:21 | option_labels", "list"),
    ],
)
def test_the_kind_a_rule_sends(text: str, kind: str) -> None:
    assert output_kind(rule(text)) == kind


@pytest.mark.parametrize(
    ("text", "data_type", "json_type", "fix"),
    [
        ("custom_attributes.vip", "boolean", "boolean", 'bool transform: Custom_X = "custom_attributes.vip | bool"'),
        ("custom_attributes.points", "integer", "integer", "add the number transform"),
        ("custom_attributes.discount", "currency", "double", "add the number transform"),
        ("created_at", "date", "string", "add the date transform"),
        ("created_at", "datetime", "string", "add the datetime transform"),
        ("custom_attributes.signup", "datetime", "string", "add the datetime transform"),
        ("dob", "datetime", "string", "add the datetime transform"),
        ("custom_attributes.vip | bool", "text", "string", "drop the bool, negate or bool_to_opt_out transform"),
        ("custom_attributes.points | number", "picklist", "string", "drop the number transform"),
        ("custom_attributes.vip | bool | default:no", "boolean", "boolean", "put default:<value> before"),
        ("custom_attributes.vip | bool", "date", "string", "map a date onto it"),
        (
            "custom_attributes.interests | option_label",
            "multiselectpicklist",
            "jsonarray",
            'use option_labels instead of option_label: Custom_X = "custom_attributes.interests | option_labels"',
        ),
        (
            "custom_attributes.interests | trim | option_label | uppercase",  # what follows the labels goes
            "multiselectpicklist",
            "jsonarray",
            'Custom_X = "custom_attributes.interests | trim | option_labels"',
        ),
        (
            "firstname",
            "multiselectpicklist",
            "jsonarray",
            "map a select or multiselect attribute with option_labels, which sends its labels as a list: "
            'Custom_X = "custom_attributes.<code> | option_labels"',
        ),
        (
            "custom_attributes.interests | option_labels",
            "text",
            "string",
            "which only a multi-select picklist field takes; to send the labels as one text, use option_label: "
            'Custom_X = "custom_attributes.interests | option_label"',
        ),
        ("custom_attributes.interests | option_labels", "picklist", "string", "use option_label"),
        ("custom_attributes.interests | option_labels", "boolean", "boolean", "only a multi-select picklist"),
        ("custom_attributes.interests | option_labels", "some_new_type", None, "only a multi-select picklist"),
    ],
)
def test_a_kind_the_field_does_not_take_names_the_fix(text: str, data_type: str, json_type: str, fix: str) -> None:
    problem = kind_problem(rule(text), data_type, json_type)
    assert problem is not None and fix in problem and "'Custom_X'" in problem and data_type in problem


@pytest.mark.parametrize(
    ("text", "data_type", "json_type"),
    [
        ("custom_attributes.vip | bool", "boolean", "boolean"),
        ("extension_attributes.is_subscribed", "boolean", "boolean"),
        ("custom_attributes.points | number", "integer", "integer"),
        ("custom_attributes.points | number", "double", "double"),
        ("dob", "date", "string"),
        ("custom_attributes.joined", "date", "string"),  # a custom attribute may hold a plain date: not refused
        ("created_at | date", "date", "string"),
        ("created_at | datetime", "datetime", "string"),
        ("created_at", "text", "string"),
        ("gender", "text", "string"),
        ("id", "bigint", "string"),
        ("id | number", "bigint", "string"),
        ("custom_attributes.vip | bool", "some_new_type", None),  # a type this does not know is not judged
        ("custom_attributes.interests | option_labels", "multiselectpicklist", "jsonarray"),
        ("custom_attributes.interests | option_label", "text", "string"),
        ("custom_attributes.interests | option_label", "picklist", "string"),
    ],
)
def test_a_kind_the_field_takes_passes(text: str, data_type: str, json_type: str | None) -> None:
    assert kind_problem(rule(text), data_type, json_type) is None


def test_the_field_check_compares_kinds_and_its_signature_follows_them() -> None:
    stock = ["First_Name", "Last_Name", "Phone", "Mailing_Street", "Mailing_City", "Mailing_State", "Mailing_Zip"]
    fields = [
        FieldMeta("Email", "email", 100, json_type="string"),
        *(FieldMeta(name, "text", 80, json_type="string") for name in [*stock, "Mailing_Country"]),
        FieldMeta("Is_VIP", "boolean", 5, json_type="boolean"),
    ]
    raw = build_spec({"Is_VIP": "custom_attributes.vip"})
    fixed = build_spec({"Is_VIP": "custom_attributes.vip | bool"})
    [problem] = field_problems(raw, ["Email"], fields)
    assert "'Is_VIP' is a boolean field" in problem and "add the bool transform" in problem
    assert field_problems(fixed, ["Email"], fields) == []
    # the check is made again when a rule's kind changes, not only when a field is added or removed
    assert signature(raw, ["Email"]) != signature(fixed, ["Email"])
    same_kind = build_spec({"Is_VIP": "custom_attributes.vip | negate"})
    assert signature(fixed, ["Email"]) == signature(same_kind, ["Email"])


def test_a_field_that_takes_an_object_or_a_list_cannot_be_mapped_whatever_its_type() -> None:
    fields = [
        FieldMeta("Email", "email", 100, json_type="string"),
        FieldMeta("Last_Name", "text", 80, json_type="string"),
        FieldMeta("Related", "multi_module_lookup", None, json_type="jsonobject"),
    ]
    spec = build_spec({"Email": "email", "Last_Name": "lastname", "Related": "firstname"}, replace_defaults=True)
    [problem] = field_problems(spec, ["Email"], fields)
    assert "'Related' is a multi_module_lookup field, which the mapping cannot fill" in problem
