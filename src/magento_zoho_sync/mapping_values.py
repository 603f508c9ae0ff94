"""Magento paths and addresses → raw values, and the clean value to send: the first half of the mapping.

Pure functions over a customer as Magento's REST API returns it. :mod:`magento_zoho_sync.mapping_compile`
compiles a mapping spec into code that calls these; :mod:`magento_zoho_sync.mapping` checks and returns the
payload. The per-customer problems (a code, a message, the field) are raised as :class:`MappingProblem` and
come back from :func:`magento_zoho_sync.mapping.map_customer` as a ``MappingFailure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from magento_zoho_sync.mapping_config import FieldRule, SourcePath
from magento_zoho_sync.mapping_kinds import keeps_numbers

MISSING_EMAIL: Final = "MISSING_EMAIL"
INVALID_EMAIL: Final = "INVALID_EMAIL"
MISSING_LAST_NAME: Final = "MISSING_LAST_NAME"
VALUE_TOO_LONG: Final = "VALUE_TOO_LONG"
MAPPING_ERROR: Final = "MAPPING_ERROR"
ERROR_CODES: Final = (MISSING_EMAIL, INVALID_EMAIL, MISSING_LAST_NAME, VALUE_TOO_LONG, MAPPING_ERROR)


@dataclass
class MappingProblem(Exception):
    """One customer's data cannot be mapped: a stable code, a message, and the field concerned."""

    code: str
    message: str
    field: str | None = field(default=None)


# ---- addresses ------------------------------------------------------------------------------------------------


def _addresses(customer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    addresses = customer.get("addresses")
    if not isinstance(addresses, list):
        return []
    return [a for a in addresses if type(a) is dict or isinstance(a, Mapping)]  # dict first: the ABC check is slow


# Tuples, not ``X | Y`` unions, for isinstance: a union is built anew each time the expression runs.
_NOT_A_REFERENCE: Final = (bool, Mapping, list)
_NUMBERS: Final = (int, float)
_SEQUENCES: Final = (list, tuple)


def _default_among(addresses: list[Mapping[str, Any]], ref: Any, flag: str) -> Mapping[str, Any] | None:
    """The address whose id is ``ref`` (compared as trimmed text), else the first one flagged ``flag: true``."""
    if type(ref) is str:  # the usual reference, and one whose text is known without calling str()
        wanted = ref.strip()
        for address in addresses:
            address_id = address.get("id")
            if address_id is not None and str(address_id).strip() == wanted:
                return address
    elif ref is not None and not isinstance(ref, _NOT_A_REFERENCE):
        found = _by_id(addresses, ref)
        if found is not None:
            return found
    for address in addresses:
        if address.get(flag) is True:
            return address
    return None


def _by_id(addresses: list[Mapping[str, Any]], ref: Any) -> Mapping[str, Any] | None:
    """The address whose id is ``ref``; ``str(ref)`` is worked out only once an address has an id, as it always
    was (it can raise, e.g. for an integer too long to print)."""
    wanted: str | None = None
    for address in addresses:
        address_id = address.get("id")
        if address_id is not None:
            candidate = str(address_id).strip()
            if wanted is None:
                wanted = str(ref).strip()
            if candidate == wanted:
                return address
    return None


def default_address(customer: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The default ``billing`` or ``shipping`` address: by the customer's id reference, else by the flag."""
    addresses = _addresses(customer)
    flag = f"default_{kind}"
    return _default_among(addresses, customer.get(flag), flag)


def main_address(customer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Default billing, else default shipping, else the first address, else ``None``."""
    addresses = customer.get("addresses")
    if not isinstance(addresses, list) or not addresses:
        return None
    for address in addresses:  # _addresses, without copying the usual list of dicts
        if type(address) is not dict:
            addresses = [a for a in addresses if type(a) is dict or isinstance(a, Mapping)]
            if not addresses:
                return None
            break
    return (
        _default_among(addresses, customer.get("default_billing"), "default_billing")
        or _default_among(addresses, customer.get("default_shipping"), "default_shipping")
        or addresses[0]
    )


# ---- values ---------------------------------------------------------------------------------------------------

#: From the customer to one of its roots (an address).
Load = Callable[[Mapping[str, Any]], Any]
#: One step down a Magento path: ``(container, key) → value``, ``None`` when ``container`` is not a mapping.
Lookup = Callable[[Any, str], Any]


def _custom_attribute(container: Any, code: str) -> Any:
    if type(container) is dict or (type(container) is not list and isinstance(container, Mapping)):
        return container.get(code)  # tolerate the {code: value} form
    if isinstance(container, list):
        for item in container:
            if (type(item) is dict or isinstance(item, Mapping)) and item.get("attribute_code") == code:
                return item.get("value")
    return None


def get_in(container: Any, key: str) -> Any:
    if type(container) is dict or (container is not None and isinstance(container, Mapping)):
        return container.get(key)
    return None


def attribute_in(container: Any, code: str) -> Any:
    if type(container) is dict or (container is not None and isinstance(container, Mapping)):
        return _custom_attribute(container.get("custom_attributes"), code)
    return None


def lookups(keys: tuple[str, ...]) -> list[tuple[Lookup, str]]:
    """The steps that follow ``keys``: ``custom_attributes.<code>`` is one step, by attribute code.

    Once a step meets something that is not a mapping the value is ``None``, and stays ``None``."""
    lookups: list[tuple[Lookup, str]] = []
    i = 0
    while i < len(keys):
        if keys[i] == "custom_attributes" and i + 1 < len(keys):
            lookups.append((attribute_in, keys[i + 1]))
            i += 2
        else:
            lookups.append((get_in, keys[i]))
            i += 1
    return lookups


def root_loader(root: str) -> Load:
    if root == "address":
        return main_address
    return lambda customer: default_address(customer, root)


def resolve(customer: Mapping[str, Any], path: SourcePath) -> Any:
    """The raw Magento value at ``path``; ``None`` when anything on the way is missing."""
    value = customer if path.root == "customer" else root_loader(path.root)(customer)
    for lookup, key in lookups(path.keys):
        value = lookup(value, key)
    return value


#: How much of a value a MAPPING_ERROR message shows.
SHOWN_VALUE_LENGTH: Final = 60


def shown_value(value: Any) -> str:
    """A value as a failure message shows it (``'1,234'``), so that whoever fixes it in Magento knows what to look
    for; ``repr``, so that spaces, quotes and odd characters (a lone surrogate) show as escapes, cut when long."""
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_LENGTH else text[: SHOWN_VALUE_LENGTH - 1] + "…"


def clean_list(value: list[Any]) -> list[str] | None:
    """The list a rule that ends in ``option_labels`` sends, as a JSON array: its texts, trimmed, each once, in
    order; ``None`` for "leave the field out" when none is left (an empty list never blanks a Zoho field)."""
    return list(dict.fromkeys(text for v in value if type(v) is str and (text := v.strip()))) or None


def clean(value: Any, rule: FieldRule, keep_numbers: bool | None = None) -> Any:
    """The value to send: trimmed text, a bool, a number (the ``number`` transform's), or ``None`` for "leave the
    field out". ``keep_numbers`` is :func:`keeps_numbers` of ``rule``, when the caller worked it out once."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, _NUMBERS):
        return value if (keeps_numbers(rule) if keep_numbers is None else keep_numbers) else str(value)
    if isinstance(value, _SEQUENCES):
        parts = [clean(v, rule, keep_numbers) for v in value]
        if any(isinstance(p, bool) for p in parts):
            message = f"{rule.field}: {rule.describe()} is a list of yes/no values"
            raise MappingProblem(MAPPING_ERROR, message, rule.field)
        text = ", ".join(p for p in parts if p)
        return text or None
    raise MappingProblem(
        MAPPING_ERROR,
        f"{rule.field}: Magento path {rule.path} is an object, not a value; map one of its keys instead",
        rule.field,
    )
