"""Customer fields as the EAV collection sees them, and MySQL's reading of each condition type.

Strings compare case-insensitively (``utf8mb4_general_ci``), integer columns compare numerically after MySQL's
string-to-number conversion, ``NULL`` matches nothing but ``null``/``notnull``/empty ``seq``/``sneq``, ``like``
has no implicit wildcards, ``in``/``nin`` split on ``,`` without trimming, and an unknown condition type falls
back to equality with either the value or the field name (as ``prepareSqlCondition`` does).
"""

from __future__ import annotations

import re
from calendar import timegm
from collections.abc import Callable
from typing import Any

from magento_zoho_sims.magento.errors import MagentoError
from magento_zoho_sims.magento.searchcriteria import Filter
from magento_zoho_sims.magento.seed import fmt_ts

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

INT_FIELDS = frozenset(
    {"entity_id", "website_id", "store_id", "group_id", "gender", "disable_auto_group_change"}
    | {"default_billing", "default_shipping"}
)
DATETIME_FIELDS = frozenset({"created_at", "updated_at"})
_STATIC = ("email", "firstname", "lastname", "middlename", "prefix", "suffix", "taxvat", "confirmation")
STRING_FIELDS = frozenset({*_STATIC, "created_in", "dob"})
BILLING_FIELDS = {
    "billing_postcode": "postcode",
    "billing_city": "city",
    "billing_telephone": "telephone",
    "billing_region": "region",
    "billing_country_id": "country_id",
    "billing_company": "company",
}
CUSTOM_ATTRIBUTES = frozenset({"loyalty_tier", "preferred_language"})
KNOWN_FIELDS = INT_FIELDS | DATETIME_FIELDS | STRING_FIELDS | {"name"} | set(BILLING_FIELDS) | CUSTOM_ATTRIBUTES
COMPARISONS = frozenset({"eq", "neq", "gt", "gteq", "lt", "lteq", "from", "to", "in", "nin"})

_NUMBER_PREFIX = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATETIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def invalid_field(field: str | None) -> MagentoError:
    return MagentoError(400, 'The "%1" attribute name is invalid. Reset the name and try again.', [field or ""])


def check_field(field: str | None) -> str:
    if field is None or field not in KNOWN_FIELDS:
        raise invalid_field(field)
    return field


def mysql_number(value: str) -> float:
    """MySQL's string-to-number conversion: the leading numeric prefix, else 0."""
    found = _NUMBER_PREFIX.match(value)
    return float(found.group(0)) if found else 0.0


def mysql_datetime(value: str) -> int:
    """A filter value compared with a TIMESTAMP column, as epoch seconds (unparsable => the zero date)."""
    found = _DATETIME.match(value)
    if not found:
        return -62_167_219_200  # 0000-01-01
    parts = [int(p) if p else 0 for p in found.groups()]
    try:
        return timegm((parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], 0, 0, 0))
    except (ValueError, OverflowError):
        return -62_167_219_200


def _ts(value: str) -> int:
    """``YYYY-MM-DD HH:MM:SS`` (as stored) to epoch seconds."""
    return timegm(
        (int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]), int(value[17:19]))
    )


def _billing(record: Record) -> Record | None:
    for address in record.get("addresses", ()):
        if address.get("default_billing"):
            return address  # type: ignore[no-any-return]
    return None


def field_value(record: Record, field: str) -> Any:
    """The column value the SQL would see (``None`` is NULL). Integers as numbers, timestamps as epoch ints."""
    if field == "entity_id":
        return record["id"]
    if field in DATETIME_FIELDS:
        raw = record.get(field)
        return None if raw is None else _ts(raw)
    if field in ("default_billing", "default_shipping"):
        raw = record.get(field)
        return None if raw is None else int(raw)
    if field == "name":
        parts = [record.get(k) for k in ("prefix", "firstname", "middlename", "lastname", "suffix")]
        return " ".join(p for p in parts if p)
    if field in BILLING_FIELDS:
        billing = _billing(record)
        if billing is None:
            return None
        raw = billing.get(BILLING_FIELDS[field])
        return raw.get("region") if isinstance(raw, dict) else raw
    if field in CUSTOM_ATTRIBUTES:
        for attribute in record.get("custom_attributes", ()):
            if attribute["attribute_code"] == field:
                return attribute["value"]
        return None
    return record.get(field)


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def convert(field: str, value: str) -> Any:
    """A filter value converted to the column's comparison domain."""
    if field in INT_FIELDS:
        return mysql_number(value)
    if field in DATETIME_FIELDS:
        return mysql_datetime(value)
    return value.casefold()


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def compile_filter(flt: Filter) -> Callable[[Any], bool]:
    """A predicate over a column value (already extracted with ``field_value``)."""
    field = check_field(flt.field)
    op = flt.op
    raw = flt.value
    if op == "null":
        return lambda v: v is None
    if op == "notnull":
        return lambda v: v is not None
    if op in ("seq", "sneq") and not raw:
        return (lambda v: v is None) if op == "seq" else (lambda v: v is not None)
    if raw is None:
        return lambda v: False  # "= NULL" is never true
    if op in ("in", "nin"):
        members = {convert(field, part) for part in raw.split(",")}
        if op == "in":
            return lambda v: v is not None and _fold(v) in members
        return lambda v: v is not None and _fold(v) not in members
    text: Callable[[Any], str] = fmt_ts if field in DATETIME_FIELDS else str  # text operators see the column text
    if op in ("like", "nlike", "ntoa"):
        regex = _like(raw)
        if op == "nlike":
            return lambda v: v is not None and regex.fullmatch(text(v)) is None
        return lambda v: v is not None and regex.fullmatch(text(v)) is not None
    if op == "regexp":
        try:
            rx = re.compile(raw, re.IGNORECASE)
        except re.error as exc:
            raise MagentoError(400, "Got error 'invalid regular expression' from regexp") from exc
        return lambda v: v is not None and rx.search(text(v)) is not None
    if op in ("finset", "nfinset"):
        wanted = raw.casefold()
        if op == "finset":
            return lambda v: v is not None and wanted in text(v).casefold().split(",")
        return lambda v: v is not None and wanted not in text(v).casefold().split(",")
    target = convert(field, raw)
    ops: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: v is not None and _fold(v) == target,
        "seq": lambda v: v is not None and _fold(v) == target,
        "neq": lambda v: v is not None and _fold(v) != target,
        "sneq": lambda v: v is not None and _fold(v) != target,
        "gt": lambda v: v is not None and _fold(v) > target,
        "gteq": lambda v: v is not None and _fold(v) >= target,
        "from": lambda v: v is not None and _fold(v) >= target,
        "lt": lambda v: v is not None and _fold(v) < target,
        "lteq": lambda v: v is not None and _fold(v) <= target,
        "to": lambda v: v is not None and _fold(v) <= target,
    }
    if op in ops:
        return ops[op]
    # Unknown (incl. "moreq" and wrong case): "(field = '<field name>' OR field = '<value>')".
    alternatives = {target, convert(field, field)}
    return lambda v: v is not None and _fold(v) in alternatives


def compile_groups(groups: tuple[tuple[Filter, ...], ...]) -> Predicate:
    """OR inside a group, AND across groups, over whole customer records."""
    compiled = [[(check_field(f.field), compile_filter(f)) for f in group] for group in groups if group]

    def predicate(record: Record) -> bool:
        return all(any(test(field_value(record, field)) for field, test in group) for group in compiled)

    return predicate


def sort_key(field: str) -> Callable[[Record], Any]:
    """MySQL order: NULL first when ascending, strings case-insensitively."""

    def key(record: Record) -> Any:
        value = field_value(record, field)
        return (0, 0) if value is None else (1, _fold(value))

    return key
