"""What kind of value a mapping rule sends (text, yes/no, number, date, date and time, a list of labels), and
which Zoho field types take it.

Zoho refuses a record whose value does not fit the field's type (``INVALID_DATA`` with ``expected_data_type``):
a ``"1"`` on a yes/no field, Magento's ``"2024-03-01 08:15:00"`` on a date-time field (which needs an offset).
Every customer would fail the same way, so the field check at start-up compares each rule's kind with the
field's type and stops the run with the transform to add. The kind is known from the rule alone: its last
transform that makes a kind, else what the Magento path holds.
"""

from __future__ import annotations

from typing import Final

from magento_zoho_sync.mapping_config import LABEL_TRANSFORMS, LIST_TRANSFORM, FieldRule, SourcePath

__all__ = ["KINDS", "LIST", "LIST_TYPE", "a_type", "keeps_numbers", "kind_problem", "output_kind", "sends_list"]

TEXT: Final = "text"
YES_NO: Final = "yes/no"
NUMBER: Final = "number"
DATE: Final = "date"
DATETIME: Final = "date-time"
TIMESTAMP: Final = "Magento time"  # "YYYY-MM-DD HH:MM:SS", UTC, no offset: text to Zoho
MIXED: Final = "mixed"  # a default:<value> (text) after a transform that makes another kind
LIST: Final = "list"  # option_labels: a JSON array of labels, for a multi-select picklist
KINDS: Final = (TEXT, YES_NO, NUMBER, DATE, DATETIME, TIMESTAMP, MIXED, LIST)

_BY_TRANSFORM: Final = {
    "bool": YES_NO,
    "negate": YES_NO,
    "bool_to_opt_out": YES_NO,
    "number": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "constant": TEXT,
    LIST_TRANSFORM: LIST,
}

#: Magento values that arrive as JSON booleans (kept as yes/no by the mapping) or as UTC times.
_BOOLEAN_PATHS: Final = frozenset(
    {
        "extension_attributes.is_subscribed",
        *(f"{root}.default_{kind}" for root in ("address", "billing", "shipping") for kind in ("billing", "shipping")),
    }
)
_TIMESTAMP_PATHS: Final = frozenset({"created_at", "updated_at"})
_DATE_PATHS: Final = frozenset({"dob"})

#: Zoho data types by the kind of JSON value they take.
_NUMBER_TYPES: Final = frozenset({"integer", "double", "currency", "percent", "decimal"})
_TEXT_TYPES: Final = frozenset({"text", "textarea", "picklist", "email", "phone", "website"})
#: The one Zoho data type that takes a list of text values (its pick list's values).
LIST_TYPE: Final = "multiselectpicklist"


def _path_kind(path: SourcePath | None) -> str:
    name = str(path) if path is not None else ""
    if name in _BOOLEAN_PATHS:
        return YES_NO
    if name in _TIMESTAMP_PATHS:
        return TIMESTAMP
    if name in _DATE_PATHS:
        return DATE
    return TEXT  # numbers from Magento (ids, gender) are sent as text unless a rule says number


def a_type(data_type: str) -> str:
    """``a boolean``, ``an integer``: a Zoho data type with its article."""
    return f"{'an' if data_type[:1].lower() in 'aeiou' else 'a'} {data_type}"


def output_kind(rule: FieldRule) -> str:
    """The kind of value ``rule`` sends (one of :data:`KINDS`)."""
    kind = _path_kind(rule.path)
    for transform in rule.transforms:
        made = _BY_TRANSFORM.get(transform.name)
        if made is not None:
            kind = made
        elif transform.name == "default" and kind not in (TEXT, TIMESTAMP, DATE):
            kind = MIXED  # the default's text where the rule otherwise sends yes/no or numbers
    return kind


def keeps_numbers(rule: FieldRule) -> bool:
    """Whether the rule sends numbers as JSON numbers (the ``number`` transform) rather than as text."""
    return output_kind(rule) == NUMBER


def sends_list(rule: FieldRule) -> bool:
    """Whether the rule sends a list of labels as a JSON array (``option_labels``) rather than as one text."""
    return output_kind(rule) == LIST


def _fix(field: str, rule: FieldRule, transform: str) -> str:
    return f'add the {transform} transform: {field} = "{rule.describe()} | {transform}"'


def _swap(rule: FieldRule, transform: str) -> str:
    """The rule with its label transform (option_label or option_labels) replaced by ``transform``, and what came
    after it dropped (option_labels must be the rule's last transform)."""
    parts = [str(rule.path)] if rule.path else []
    for t in rule.transforms:
        if t.name in LABEL_TRANSFORMS:
            return " | ".join([*parts, transform])
        parts.append(str(t))
    return " | ".join([*parts, transform])


def _to_list(rule: FieldRule) -> str:
    """How to make ``rule`` send a list: option_labels in place of option_label, else on a (multi)select attribute."""
    if any(t.name == "option_label" for t in rule.transforms):
        return f'use option_labels instead of option_label: {rule.field} = "{_swap(rule, LIST_TRANSFORM)}"'
    return (
        f"map a select or multiselect attribute with option_labels, which sends its labels as a list: "
        f'{rule.field} = "custom_attributes.<code> | option_labels"'
    )


def kind_problem(rule: FieldRule, data_type: str, json_type: str | None) -> str | None:
    """What to fix when ``rule``'s values do not fit a Zoho field of ``data_type`` (``json_type``), else None.

    Only types whose JSON value is known are checked; a type this does not know passes.
    """
    kind, kind_of = output_kind(rule), data_type.lower()
    field, source = rule.field, rule.describe()
    head = f'mapping.fields: Zoho\'s Contacts field {field!r} is {a_type(data_type)} field, but {field} = "{source}"'
    if kind == MIXED:
        return (
            f"{head} sends the text of default:<value> when Magento has no value; put default:<value> before "
            "the transform that makes the value"
        )
    if kind_of == LIST_TYPE:
        if kind != LIST:
            return f"{head} sends {kind} values, and the field takes a list of its pick list values; {_to_list(rule)}"
        return None
    if kind == LIST:
        return (
            f"{head} sends a list of labels, which only a multi-select picklist field takes; to send the labels as "
            f'one text, use option_label: {field} = "{_swap(rule, "option_label")}"'
        )
    if kind_of == "boolean" or json_type == "boolean":
        if kind != YES_NO:
            return f"{head} sends {kind} values; {_fix(field, rule, 'bool')}"
        return None
    if kind_of in _NUMBER_TYPES or json_type in ("integer", "double"):
        if kind != NUMBER:
            return f"{head} sends {kind} values; {_fix(field, rule, 'number')}"
        return None
    if kind_of == "date":
        if kind in (TIMESTAMP, DATETIME):
            return f"{head} sends {kind} values (a time of day too); {_fix(field, rule, 'date')}"
        if kind in (YES_NO, NUMBER):
            return f"{head} sends {kind} values; map a date onto it (the date transform reads Magento's dates)"
        return None
    if kind_of == "datetime":
        if kind in (TIMESTAMP, DATE, TEXT):
            return f"{head} sends text Zoho refuses there (it needs an offset); {_fix(field, rule, 'datetime')}"
        if kind != DATETIME:
            return f"{head} sends {kind} values; map a time onto it (the datetime transform reads Magento's times)"
        return None
    text_field = kind_of in _TEXT_TYPES or (json_type == "string" and kind_of != "bigint")
    if text_field and kind in (YES_NO, NUMBER):
        transform = "bool, negate or bool_to_opt_out" if kind == YES_NO else "number"
        return f"{head} sends {kind} values, and the field takes text; drop the {transform} transform"
    return None
