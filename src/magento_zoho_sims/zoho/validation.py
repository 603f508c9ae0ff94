"""Per-record validation of Contacts writes from the fields fixture (types, lengths, mandatory)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from magento_zoho_sims.zoho.errors import invalid_data, mandatory_not_found
from magento_zoho_sims.zoho.fields import FieldSpec

# Unicode-aware, like the pattern Zoho's insert docs quote: local part of word characters and the usual
# specials, a dotted domain whose labels do not start or end with a hyphen, no spaces, no consecutive dots.
_EMAIL = re.compile(
    r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}$"
)
#: Zoho's pattern for phone fields, as published (CRM API v7 docs, Insert Records, "Phone"); Java's \d is 0-9.
_PHONE = re.compile(
    r"^([+]?)(?![.-])(?>(?>[.-]?[ ]?[\da-zA-Z]+)+|([ ]?((?![.-])(?>[ .-]?[\da-zA-Z]+)+)(?![.])([ -]?[\da-zA-Z]+)?)+)+"
    r"(?>(?>([,]+)?[;]?[\da-zA-Z]+)+(([#][\da-zA-Z]+)+)?)?[#;]?$",
    re.ASCII,
)
_PARENTHESES = str.maketrans("", "", "()")
_ID = re.compile(r"^[0-9]{1,19}$")
_INTEGER_TEXT = re.compile(r"^-?[0-9]+$")
_NUMBER_TEXT = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")

# Keys a client may send that are not fields (Zoho accepts them on writes).
PASS_THROUGH_KEYS = frozenset({"$append_values", "Layout", "Tag", "$approval", "$wizard_connection_path"})


def is_valid_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.match(value) is not None


def is_valid_phone(value: str, *, parentheses: bool = False) -> bool:
    """Zoho's published pattern; ``parentheses``: ``(`` and ``)`` are taken too, as one of Zoho's own examples
    (``91(987)654321``) has them while the pattern refuses them [UNVERIFIED]."""
    return _PHONE.match(value.translate(_PARENTHESES) if parentheses else value) is not None


def _type_error(spec: FieldSpec, value: Any, *, numeric_strings: bool = False, phone_parentheses: bool = False) -> bool:
    """True when ``value`` (not None) does not fit the field's data type (``numeric_strings``: a number field also
    takes a number written as text, which the reference leaves open; ``phone_parentheses``: a phone field takes
    parentheses, likewise open)."""
    kind = spec.data_type
    if kind in {"text", "picklist", "textarea", "website"}:
        return not isinstance(value, str)
    if kind == "email":
        return not isinstance(value, str) or (value != "" and not is_valid_email(value))
    if kind == "phone":
        return not isinstance(value, str) or not is_valid_phone(value, parentheses=phone_parentheses)
    if kind == "boolean":
        return not isinstance(value, bool)
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:
            return True
        try:
            date.fromisoformat(value)
        except ValueError:
            return True
        return False
    if kind == "datetime":
        if not isinstance(value, str):
            return True
        try:
            return datetime.fromisoformat(value).tzinfo is None
        except ValueError:
            return True
    if spec.json_type in ("integer", "double"):
        pattern = _INTEGER_TEXT if spec.json_type == "integer" else _NUMBER_TEXT
        if numeric_strings and isinstance(value, str):
            return pattern.match(value) is None
        allowed = (int,) if spec.json_type == "integer" else (int, float)
        return isinstance(value, bool) or not isinstance(value, allowed)
    if kind == "multiselectpicklist":
        return not (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if kind in {"lookup", "ownerlookup"}:
        return not (isinstance(value, dict) and isinstance(value.get("id"), str) and _ID.match(value["id"]))
    return False


def _too_long(value: str, limit: int, utf16: bool) -> bool:
    """Longer than ``limit`` characters, counted as UTF-16 units (an emoji is 2) or as code points (1)."""
    if len(value) > limit:
        return True
    # only text at least half the limit long can reach it in UTF-16 units
    return utf16 and 2 * len(value) > limit and len(value.encode("utf-16-le", "surrogatepass")) // 2 > limit


def clean_record(
    record: Any,
    index: int,
    specs: dict[str, FieldSpec],
    *,
    reject_unknown: bool,
    owner_ids: frozenset[str],
    numeric_strings: bool = False,
    utf16_lengths: bool = True,
    phone_parentheses: bool = False,
    reject_unknown_choices: bool = True,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The writable values of one input record, or the first error Zoho would report for it
    (``reject_unknown_choices``: a multi-select picklist refuses a value its pick list lacks; a restricted picklist,
    single or multi-select, always does)."""
    if not isinstance(record, dict):
        return {}, {
            "code": "INVALID_DATA",
            "details": {"expected_data_type": "jsonobject", "json_path": f"$.data[{index}]"},
            "message": "invalid data",
            "status": "error",
        }
    values: dict[str, Any] = {}
    for api_name, value in record.items():
        spec = specs.get(api_name)
        if spec is None:
            if api_name.startswith("$") or api_name in PASS_THROUGH_KEYS:
                continue
            if reject_unknown:
                return {}, invalid_data(api_name, index)
            continue
        if spec.read_only:
            continue  # Zoho ignores read-only fields on write
        if value is None:
            values[api_name] = None
            continue
        kind = spec.data_type
        if kind == "text" and type(value) is str:  # fast path: most of a contact is single-line text
            if 2 * len(value) > spec.length and _too_long(value, spec.length, utf16_lengths):
                return {}, invalid_data(api_name, index, maximum_length=str(spec.length))
            values[api_name] = value
            continue
        if _type_error(spec, value, numeric_strings=numeric_strings, phone_parentheses=phone_parentheses):
            return {}, invalid_data(api_name, index, expected_data_type=kind)
        if isinstance(value, str) and _too_long(value, spec.length, utf16_lengths):
            return {}, invalid_data(api_name, index, maximum_length=str(spec.length))
        if kind == "ownerlookup" and value["id"] not in owner_ids:
            return {}, invalid_data(api_name, index, expected_data_type=kind)
        if kind == "lookup":
            # The simulated org has no Accounts or Vendors, so every lookup id is unknown.
            return {}, invalid_data(api_name, index, expected_data_type=kind)
        if kind == "multiselectpicklist":
            if (reject_unknown_choices or spec.restricted) and not set(value) <= set(spec.picklist):
                return {}, invalid_data(api_name, index, expected_data_type=kind)
            values[api_name] = list(value)  # stored as a list of its own, as sent
            continue
        if kind == "picklist":
            if value == "-None-":
                values[api_name] = None
                continue
            if spec.restricted and value not in spec.picklist:  # [UNVERIFIED] the error's shape
                return {}, invalid_data(api_name, index, expected_data_type=kind)
        values[api_name] = value
    return values, None


def missing_mandatory(values: dict[str, Any], mandatory: tuple[str, ...], index: int) -> dict[str, Any] | None:
    """MANDATORY_NOT_FOUND for the first system-mandatory field that is absent, null or blank."""
    for api_name in mandatory:
        value = values.get(api_name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return mandatory_not_found(api_name, index)
    return None


def blanked_mandatory(values: dict[str, Any], mandatory: tuple[str, ...], index: int) -> dict[str, Any] | None:
    """On update: a mandatory field explicitly set to null or blank."""
    for api_name in mandatory:
        if api_name in values:
            value = values[api_name]
            if value is None or (isinstance(value, str) and not value.strip()):
                return mandatory_not_found(api_name, index)
    return None


def parse_record_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _ID.match(value):
        return int(value)
    return None
