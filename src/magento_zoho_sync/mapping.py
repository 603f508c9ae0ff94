"""Magento customer → Zoho Contact payload. Pure functions: no I/O, no clock, no settings lookup.

The default mapping (see :data:`magento_zoho_sync.mapping_config.DEFAULT_RULES`)::

    Email            ← email, trimmed and lower-cased (it is also the match key)
    First_Name       ← firstname
    Last_Name        ← lastname
    Phone            ← address.telephone
    Mailing_Street   ← address.street | join_lines      every street line, joined with ", "
    Mailing_City     ← address.city
    Mailing_State    ← address.region.region            the region's name, not its code
    Mailing_Zip      ← address.postcode
    Mailing_Country  ← address.country_id | country_name "DE" → "Germany"

``address`` is the default billing address (the customer's ``default_billing`` id, or the address flagged
``default_billing: true``), else the default shipping address, else the first address.

Street lines are joined with ", " because Mailing_Street is a single-line text field in Zoho; use
``join_newlines`` in the mapping file when the org made it a text area.

Rules every payload obeys: a missing or empty Magento value is **left out** (never sent as ``""``, which would
blank the CRM field); text is sent as Magento has it (quotes, backslashes, unicode), only trimmed; a value
longer than the Zoho field allows is a per-customer ``VALUE_TOO_LONG`` failure unless the mapping says to
truncate (Email is never truncated).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from magento_zoho_sync.mapping_config import DEFAULT_SPEC, FieldRule, MappingSpec, SourcePath

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

_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\]{1,64}(?<!\.)"
    r"@(?:[^\s@.,;:\"()<>\[\]\\_]+\.)+[^\s@.,;:\"()<>\[\]\\_]{2,}$"
)
_DIGITS = re.compile(r"^[0-9]{1,18}$")


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


@dataclass(frozen=True)
class Merge:
    """Several Magento customers share one email: ``merged_id``'s data lost to ``winner_id``'s."""

    winner_id: int
    merged_id: int
    email: str


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
    return "".join(out).rstrip()


def limits_from_fields(fields: Iterable[Any], base: Mapping[str, int] = DEFAULT_LIMITS) -> dict[str, int]:
    """``base`` overlaid with the lengths from Zoho's fields metadata (objects or dicts with api_name, length)."""
    limits = dict(base)
    for meta in fields:
        get = meta.get if isinstance(meta, Mapping) else lambda key, m=meta: getattr(m, key, None)
        name, length = get("api_name"), get("length")
        if isinstance(name, str) and isinstance(length, int) and not isinstance(length, bool) and length > 0:
            limits[name] = length
    return limits


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
        return str(value)
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
            value = transform.apply(value)
        except (ValueError, TypeError, AttributeError) as exc:
            raise _Problem(
                MAPPING_ERROR, f"{rule.field}: transform {transform} failed on the Magento value ({exc})", rule.field
            ) from None
    return _clean(value, rule)


def _customer_id(customer: Mapping[str, Any]) -> int:
    raw = customer.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _DIGITS.match(raw.strip()):
        return int(raw.strip())
    return 0


def _optional_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
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

        truncated, too_long = _enforce_limits(payload, limits, spec.truncate_long_values)
        if too_long:
            first_field = too_long[0][0]
            details = ", ".join(f"{f} has {n} characters, Zoho allows {lim}" for f, n, lim in too_long)
            hint = "" if {f for f, _, _ in too_long} <= NEVER_TRUNCATE else " (or set truncate_long_values)"
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
    payload: dict[str, Any], limits: Mapping[str, int], truncate_long: bool
) -> tuple[list[str], list[tuple[str, int, int]]]:
    truncated: list[str] = []
    too_long: list[tuple[str, int, int]] = []
    for name, value in list(payload.items()):
        limit = limits.get(name)
        if not isinstance(value, str) or limit is None or limit <= 0:
            continue
        if 2 * len(value) <= limit:  # a code point is at most 2 UTF-16 units: surely within, no encoding
            continue
        length = zoho_length(value)
        if length <= limit:
            continue
        if truncate_long and name not in NEVER_TRUNCATE:
            cut = truncate(value, limit)
            if cut:
                payload[name] = cut
            else:
                del payload[name]
            truncated.append(name)
        else:
            too_long.append((name, length, limit))
    return truncated, too_long


def merge_by_email(mapped: Sequence[MappedCustomer]) -> tuple[list[MappedCustomer], list[Merge]]:
    """One contact per email: the most recently updated customer wins (tie: the higher id).

    Returns the winners, in the order their email first appears, and one :class:`Merge` per losing customer.
    """
    groups: dict[str, list[MappedCustomer]] = {}
    for item in mapped:
        groups.setdefault(item.email_norm, []).append(item)
    winners: list[MappedCustomer] = []
    merges: list[Merge] = []
    for email, items in groups.items():
        winner = max(items, key=lambda m: (m.updated_at or "", m.customer_id))
        winners.append(winner)
        merges.extend(
            Merge(winner.customer_id, m.customer_id, email)
            for m in sorted(items, key=lambda m: m.customer_id)
            if m is not winner
        )
    return winners, merges
