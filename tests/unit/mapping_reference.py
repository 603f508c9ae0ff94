"""The pre-optimisation ``map_customer`` and ``payload_hash``, kept verbatim as an oracle for the equivalence tests.

This is a frozen copy of :mod:`magento_zoho_sync.mapping` as it was before the mapping was compiled into a plan
and the hash moved to orjson (``limits_from_fields``, ``Merge`` and ``merge_by_email`` left out: they did not
change), with the transforms of :mod:`magento_zoho_sync.mapping_config` as they were then (at the end; ``_apply``
calls them instead of ``Transform.apply``, its only changed line). Specs, paths and rules still come from
``mapping_config``: they are the input. ``tests/unit/test_mapping_equivalence.py`` checks that the optimised
functions give exactly the same results as these, and ``bench/bench_mapping.py`` times both. Do not "improve"
this file: its value is that it does not change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from magento_zoho_sync.countries import country_name
from magento_zoho_sync.mapping import cluster_start
from magento_zoho_sync.mapping_config import (
    DEFAULT_SPEC,
    FieldRule,
    MappingSpec,
    SourcePath,
    Transform,
    option_label,
    option_labels,
)
from magento_zoho_sync.mapping_config import TRANSFORMS as PRODUCT_TRANSFORMS
from magento_zoho_sync.mapping_kinds import keeps_numbers, sends_list
from magento_zoho_sync.mapping_values import shown_value

MISSING_EMAIL: Final = "MISSING_EMAIL"
INVALID_EMAIL: Final = "INVALID_EMAIL"
MISSING_LAST_NAME: Final = "MISSING_LAST_NAME"
VALUE_TOO_LONG: Final = "VALUE_TOO_LONG"
MAPPING_ERROR: Final = "MAPPING_ERROR"
ERROR_CODES: Final = (MISSING_EMAIL, INVALID_EMAIL, MISSING_LAST_NAME, VALUE_TOO_LONG, MAPPING_ERROR)

#: Field lengths of a stock Contacts module; the engine overlays the org's real ones (:func:`limits_from_fields`).
DEFAULT_LIMITS: Final[Mapping[str, int]] = {
    "First_Name": 40,
    "Last_Name": 80,
    "Email": 100,
    "Phone": 30,
    "Mailing_Street": 250,
    "Mailing_City": 100,
    "Mailing_State": 100,
    "Mailing_Country": 100,
    "Mailing_Zip": 30,
}

#: Fields that identify the contact: cutting them would silently point at someone else.
NEVER_TRUNCATE: Final = frozenset({"Email"})

# The one change since: a lone UTF-16 surrogate is not valid in an email (the state could not store it);
# and since: a control character, or a domain label that starts or ends with a hyphen, is not valid either
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}(?<!\.)"
    r"@(?:(?!-)[^\s@.,;:\"()<>\[\]\\_\x00-\x1f\x7f-\x9f\ud800-\udfff]+(?<!-)\.)+"
    r"(?!-)[^\s@.,;:\"()<>\[\]\\_\x00-\x1f\x7f-\x9f\ud800-\udfff]{2,}(?<!-)$"
)
# digits of a number SQLite holds (the Magento client takes the same ids): up to 19, at most 2**63 - 1
_DIGITS = re.compile(r"^[0-9]{1,19}$")
_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class MappedCustomer:
    customer_id: int
    email_norm: str
    payload: dict[str, Any]
    website_id: int | None = None
    updated_at: str | None = None
    #: Fields cut to the Zoho limit (only with ``truncate_long_values``); worth a warning.
    truncated: tuple[str, ...] = ()


@dataclass(frozen=True)
class MappingFailure:
    customer_id: int
    email: str | None
    code: str
    message: str
    field: str | None = None


@dataclass
class _Problem(Exception):
    code: str
    message: str
    field: str | None = field(default=None)


def normalise_email(email: str) -> str:
    """The match key: surrounding whitespace removed, lower-cased."""
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    """A pragmatic check (one @, a dotted domain, no spaces or quotes); unicode is allowed, as Zoho allows it."""
    return bool(_EMAIL.match(email))


def payload_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of a payload: the same content gives the same hash whatever the key order."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def zoho_length(text: str) -> int:
    """Length as Zoho counts it (UTF-16 code units: an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# added after the optimisation: the count as written too, where Zoho's count (UTF-16 units) differs from it
def too_long_detail(field: str, value: str, length: int, limit: int) -> str:
    if length == len(value):
        return f"{field} has {length} characters, Zoho allows {limit}"
    written = f"{len(value)} as written: an emoji counts 2"
    return f"{field} has {length} characters as Zoho counts them ({written}), Zoho allows {limit}"


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` UTF-16 units without splitting a character; trailing spaces dropped."""
    if zoho_length(text) <= limit:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > limit:
            break
        out.append(char)
        used += size
    # added after the optimisation: no cut inside what shows as one character (an emoji sequence, a flag)
    return text[: cluster_start(text, len(out))].rstrip()


# ---- addresses ------------------------------------------------------------------------------------------------


def _addresses(customer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    addresses = customer.get("addresses")
    if not isinstance(addresses, list):
        return []
    return [a for a in addresses if type(a) is dict or isinstance(a, Mapping)]  # dict first: the ABC check is slow


def default_address(customer: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The default ``billing`` or ``shipping`` address: by the customer's id reference, else by the flag."""
    addresses = _addresses(customer)
    ref = customer.get(f"default_{kind}")
    if ref is not None and not isinstance(ref, bool | Mapping | list):
        for address in addresses:
            if address.get("id") is not None and str(address.get("id")).strip() == str(ref).strip():
                return address
    return next((a for a in addresses if a.get(f"default_{kind}") is True), None)


def main_address(customer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Default billing, else default shipping, else the first address, else ``None``."""
    addresses = _addresses(customer)
    return (
        default_address(customer, "billing")
        or default_address(customer, "shipping")
        or (addresses[0] if addresses else None)
    )


# ---- values ---------------------------------------------------------------------------------------------------


def _custom_attribute(container: Any, code: str) -> Any:
    if isinstance(container, Mapping):  # tolerate the {code: value} form
        return container.get(code)
    if isinstance(container, list):
        for item in container:
            if isinstance(item, Mapping) and item.get("attribute_code") == code:
                return item.get("value")
    return None


class _Roots:
    """The customer and its addresses, each looked up once per customer."""

    def __init__(self, customer: Mapping[str, Any]) -> None:
        self.customer = customer
        self._cache: dict[str, Mapping[str, Any] | None] = {}

    def get(self, root: str) -> Mapping[str, Any] | None:
        if root == "customer":
            return self.customer
        if root not in self._cache:
            self._cache[root] = (
                main_address(self.customer) if root == "address" else default_address(self.customer, root)
            )
        return self._cache[root]


def resolve(customer: Mapping[str, Any] | _Roots, path: SourcePath) -> Any:
    """The raw Magento value at ``path``; ``None`` when anything on the way is missing."""
    roots = customer if isinstance(customer, _Roots) else _Roots(customer)
    current: Any = roots.get(path.root)
    keys = path.keys
    i = 0
    while i < len(keys):
        if type(current) is not dict and not isinstance(current, Mapping):
            return None
        if keys[i] == "custom_attributes" and i + 1 < len(keys):
            current = _custom_attribute(current.get("custom_attributes"), keys[i + 1])
            i += 2
            continue
        current = current.get(keys[i])
        i += 1
    return current


def _clean(value: Any, rule: FieldRule) -> Any:
    """The value to send: trimmed text, a bool, or ``None`` for "leave the field out"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return value if keeps_numbers(rule) else str(value)
    if isinstance(value, list | tuple):
        parts = [_clean(v, rule) for v in value]
        if any(isinstance(p, bool) for p in parts):
            raise _Problem(MAPPING_ERROR, f"{rule.field}: {rule.describe()} is a list of yes/no values", rule.field)
        text = ", ".join(p for p in parts if p)
        return text or None
    raise _Problem(
        MAPPING_ERROR,
        f"{rule.field}: Magento path {rule.path} is an object, not a value; map one of its keys instead",
        rule.field,
    )


def _apply(rule: FieldRule, roots: _Roots) -> Any:
    value = resolve(roots, rule.path) if rule.path is not None else None
    for transform in rule.transforms:
        try:
            value = _transform_apply(transform, value)  # was transform.apply(value): see the transforms below
        except (ValueError, TypeError, AttributeError) as exc:
            # added after the optimisation: the message shows the value
            shown = shown_value(value)
            message = f"{rule.field}: transform {transform} failed on the Magento value {shown} ({exc})"
            raise _Problem(MAPPING_ERROR, message, rule.field) from None
    if sends_list(rule) and type(value) is list:  # added after the optimisation: option_labels' list, as a list
        labels: list[str] = []
        for item in value:
            if type(item) is str and item.strip() and item.strip() not in labels:
                labels.append(item.strip())
        return labels or None
    return _clean(value, rule)


def _customer_id(customer: Mapping[str, Any]) -> int:
    raw = customer.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _DIGITS.match(raw.strip()) and int(raw.strip()) <= _MAX_INT:
        return int(raw.strip())
    return 0


def _optional_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()) and int(value.strip()) <= _MAX_INT:
        return int(value.strip())
    return None


def _raw_email(customer: Mapping[str, Any]) -> str | None:
    email = customer.get("email")
    return normalise_email(email) or None if isinstance(email, str) else None


def map_customer(
    customer: Mapping[str, Any],
    spec: MappingSpec = DEFAULT_SPEC,
    limits: Mapping[str, int] = DEFAULT_LIMITS,
) -> MappedCustomer | MappingFailure:
    """Map one Magento customer. Never raises for customer data: problems come back as a :class:`MappingFailure`."""
    customer_id = 0
    try:
        customer_id = _customer_id(customer)
        if customer_id <= 0:
            raise _Problem(MAPPING_ERROR, "the Magento customer has no valid id")
        payload: dict[str, Any] = {}
        roots = _Roots(customer)
        for rule in spec.rules:
            value = _apply(rule, roots)
            if value is not None:
                payload[rule.field] = value

        email = payload.get("Email")
        if email is None:
            raise _Problem(MISSING_EMAIL, "the customer has no email address", "Email")
        if not isinstance(email, str):
            raise _Problem(INVALID_EMAIL, "the mapped email is not text", "Email")
        email_norm = normalise_email(email)
        if not is_valid_email(email_norm):
            raise _Problem(INVALID_EMAIL, "the email address is not valid", "Email")
        payload["Email"] = email_norm
        if not isinstance(payload.get("Last_Name"), str):
            raise _Problem(MISSING_LAST_NAME, "the customer has no last name, which Zoho requires", "Last_Name")

        # added after the optimisation: a phone number (a rule ending in the phone transform) is never cut
        whole = NEVER_TRUNCATE | {r.field for r in spec.rules if any(t.name == "phone" for t in r.transforms)}
        truncated, too_long = _enforce_limits(payload, limits, spec.truncate_long_values, whole)
        if too_long:
            first_field = too_long[0][0]
            details = ", ".join(too_long_detail(*item) for item in too_long)
            fields = {f for f, _, _, _ in too_long}
            if not fields <= whole:
                hint = " (or set truncate_long_values)"
            else:
                hint = "" if fields <= NEVER_TRUNCATE else " (a phone number is never cut: fix it in Magento)"
            raise _Problem(VALUE_TOO_LONG, f"value too long: {details}{hint}", first_field)
    except _Problem as problem:
        return MappingFailure(customer_id, _raw_email(customer), problem.code, problem.message, problem.field)
    except Exception as exc:  # the last line of defence: one odd record must not stop a run
        return MappingFailure(
            customer_id, None, MAPPING_ERROR, f"unexpected customer data ({exc.__class__.__name__})", None
        )
    updated_at = customer.get("updated_at")
    return MappedCustomer(
        customer_id=customer_id,
        email_norm=email_norm,
        payload=payload,
        website_id=_optional_int(customer.get("website_id")),
        updated_at=updated_at if isinstance(updated_at, str) else None,
        truncated=tuple(truncated),
    )


def _enforce_limits(
    payload: dict[str, Any], limits: Mapping[str, int], truncate_long: bool, whole: frozenset[str]
) -> tuple[list[str], list[tuple[str, str, int, int]]]:
    truncated: list[str] = []
    too_long: list[tuple[str, str, int, int]] = []
    for name, value in list(payload.items()):
        limit = limits.get(name)
        if not isinstance(value, str) or limit is None or limit <= 0:
            continue
        if 2 * len(value) <= limit:  # a code point is at most 2 UTF-16 units: surely within, no encoding
            continue
        length = zoho_length(value)
        if length <= limit:
            continue
        if truncate_long and name not in whole:
            cut = truncate(value, limit)
            if cut:
                payload[name] = cut
            else:
                del payload[name]
            truncated.append(name)
        else:
            too_long.append((name, value, length, limit))
    return truncated, too_long


# ---- transforms, as mapping_config had them (so that the reference does not move if they are optimised) ---

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


def _is_line(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _join(separator: str) -> Callable[[Any], Any]:
    def join(value: Any) -> Any:
        if isinstance(value, list | tuple):
            lines = [str(v).strip() for v in value if _is_line(v) and str(v).strip()]
            return separator.join(lines) if lines else None
        return value

    return join


def _to_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if not text:  # an empty Magento value is no answer: left out, as every empty value (not a "no" sent to Zoho)
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("is not a yes/no value")


def _negate(value: Any) -> Any:
    converted = _to_bool(value)
    return None if converted is None else not converted


def _string_op(op: Callable[[str], str]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        return op(value) if isinstance(value, str) else value

    return apply


def _country(value: Any) -> Any:
    return country_name(value) if isinstance(value, str) else value


#: Transforms without an argument.
TRANSFORMS: Final[Mapping[str, Callable[[Any], Any]]] = {
    "join_lines": _join(", "),
    "join_newlines": _join("\n"),
    "country_name": _country,
    "lowercase": _string_op(str.lower),
    "uppercase": _string_op(str.upper),
    "trim": _string_op(str.strip),
    "bool": _to_bool,
    "negate": _negate,
    "bool_to_opt_out": _negate,
    # added after the optimisation, with one plain implementation each (tested in test_mapping.py): here the
    # equivalence covers how the compiled mapping wires them (numbers kept as numbers, failures named)
    "gender": PRODUCT_TRANSFORMS["gender"],
    "number": PRODUCT_TRANSFORMS["number"],
    "date": PRODUCT_TRANSFORMS["date"],
    "datetime": PRODUCT_TRANSFORMS["datetime"],
    "phone": PRODUCT_TRANSFORMS["phone"],
    "option_label": PRODUCT_TRANSFORMS["option_label"],  # labels not read: fails, as the product's does
    "option_labels": PRODUCT_TRANSFORMS["option_labels"],  # likewise
}


def _transform_apply(self: Transform, value: Any) -> Any:
    """``Transform.apply`` as it was (``self`` kept, so that the body is verbatim), and ``option_label`` and
    ``option_labels`` given their labels (added after the optimisation)."""
    if self.labels is not None:
        return (option_labels if self.name == "option_labels" else option_label)(dict(self.labels), value)
    if self.name == "constant":
        return self.arg
    if self.name == "default":
        empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
        return self.arg if empty else value
    return TRANSFORMS[self.name](value)
