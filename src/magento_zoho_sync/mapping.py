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

The mapping runs once per customer of the store, so it is written for speed. A :class:`MappingSpec` is compiled
once into a generated function, a straight run of code per rule (fetch, transforms, clean, store), cached per
spec; exact-type checks (``type(v) is dict``) come before the slow ``isinstance(v, Mapping)`` ABC checks; the
address is chosen once per customer, where a rule first reads it; the exact UTF-16 length of a text is counted
only when it is longer than half its field's limit. ``payload_hash`` serialises with orjson and falls back to
the standard library whenever orjson could write other bytes (the hashes are stored). The results are exactly
those of the simple implementation kept in ``tests/unit/mapping_reference.py``, as
``tests/unit/test_mapping_equivalence.py`` checks; ``bench/bench_mapping.py`` times both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import orjson

from magento_zoho_sync.countries import country_name
from magento_zoho_sync.mapping_config import DEFAULT_SPEC, TRANSFORMS, FieldRule, MappingSpec, SourcePath, Transform

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

# A lone UTF-16 surrogate (text no UTF-8 can hold) is not valid either: the state could not store the email.
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\\ud800-\udfff]{1,64}(?<!\.)"
    r"@(?:[^\s@.,;:\"()<>\[\]\\_\ud800-\udfff]+\.)+[^\s@.,;:\"()<>\[\]\\_\ud800-\udfff]{2,}$"
)
_DIGITS = re.compile(r"^[0-9]{1,18}$")
# The same test as _EMAIL, faster: its "no '..'" look-ahead scans the whole address in the regex engine, where
# ``".." not in email`` is one C search. (The look-ahead's ``.`` stops at a newline, but an address _EMAIL accepts
# has none, bar one at the very end, which "$" allows.)
_EMAIL_REST = re.compile(_EMAIL.pattern.replace(r"(?!.*\.\.)", "", 1))


# Not ``frozen``: a frozen dataclass sets every field through ``object.__setattr__``, which costs about 1 µs per
# customer, a sixth of the whole mapping. Treat the results as immutable all the same; ``unsafe_hash`` keeps them
# exactly as hashable as the frozen versions were.
@dataclass(slots=True, unsafe_hash=True)
class MappedCustomer:
    customer_id: int
    email_norm: str
    payload: dict[str, Any]
    website_id: int | None = None
    updated_at: str | None = None
    #: Fields cut to the Zoho limit (only with ``truncate_long_values``); worth a warning.
    truncated: tuple[str, ...] = ()


@dataclass(slots=True, unsafe_hash=True)
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
    return ".." not in email and _EMAIL_REST.match(email) is not None


#: Payload values orjson writes exactly as ``json.dumps`` does (floats, for one, it writes differently).
_PLAIN_VALUES: Final = frozenset({str, bool, type(None)})


def payload_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of a payload: the same content gives the same hash whatever the key order.

    The hashes are stored in the state database, so they must never change: orjson is used only for a plain
    dict of text, yes/no and null values, where it writes byte for byte what :func:`_stdlib_hash` writes; it
    refuses lone surrogates and keys that are not exactly ``str``, and those payloads go to the standard library.
    """
    if type(payload) is dict and _PLAIN_VALUES.issuperset(map(type, payload.values())):
        try:
            return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
        except orjson.JSONEncodeError:
            pass
    return _stdlib_hash(payload)


def _stdlib_hash(payload: Mapping[str, Any]) -> str:
    """The definition of the hash (and what it was before orjson): compact, sorted, non-ASCII JSON in UTF-8."""
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
_Load = Callable[[Mapping[str, Any]], Any]
#: One step down a Magento path: ``(container, key) → value``, ``None`` when ``container`` is not a mapping.
_Lookup = Callable[[Any, str], Any]


def _custom_attribute(container: Any, code: str) -> Any:
    if type(container) is dict or (type(container) is not list and isinstance(container, Mapping)):
        return container.get(code)  # tolerate the {code: value} form
    if isinstance(container, list):
        for item in container:
            if (type(item) is dict or isinstance(item, Mapping)) and item.get("attribute_code") == code:
                return item.get("value")
    return None


def _get_in(container: Any, key: str) -> Any:
    if type(container) is dict or (container is not None and isinstance(container, Mapping)):
        return container.get(key)
    return None


def _attribute_in(container: Any, code: str) -> Any:
    if type(container) is dict or (container is not None and isinstance(container, Mapping)):
        return _custom_attribute(container.get("custom_attributes"), code)
    return None


def _lookups(keys: tuple[str, ...]) -> list[tuple[_Lookup, str]]:
    """The steps that follow ``keys``: ``custom_attributes.<code>`` is one step, by attribute code.

    Once a step meets something that is not a mapping the value is ``None``, and stays ``None``."""
    lookups: list[tuple[_Lookup, str]] = []
    i = 0
    while i < len(keys):
        if keys[i] == "custom_attributes" and i + 1 < len(keys):
            lookups.append((_attribute_in, keys[i + 1]))
            i += 2
        else:
            lookups.append((_get_in, keys[i]))
            i += 1
    return lookups


def _root_loader(root: str) -> _Load:
    if root == "address":
        return main_address
    return lambda customer: default_address(customer, root)


def resolve(customer: Mapping[str, Any], path: SourcePath) -> Any:
    """The raw Magento value at ``path``; ``None`` when anything on the way is missing."""
    value = customer if path.root == "customer" else _root_loader(path.root)(customer)
    for lookup, key in _lookups(path.keys):
        value = lookup(value, key)
    return value


def _clean(value: Any, rule: FieldRule) -> Any:
    """The value to send: trimmed text, a bool, or ``None`` for "leave the field out"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, _NUMBERS):
        return str(value)
    if isinstance(value, _SEQUENCES):
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


# ---- the compiled mapping -------------------------------------------------------------------------------------
#
# A spec is compiled into one generated function, a straight run of code per rule: an interpreter loop over
# compiled rules (unpack the rule, find its root, call its fetch function, loop over its transforms) cost about
# 0.2 µs per rule more, a third of the mapping. Only generated identifiers go into the source; every value from
# the spec (field names, keys, transform functions) reaches the code through the function's globals, so no spec,
# however odd, can change the code's shape. ``_plan(spec).source`` shows the code.

_TRANSFORM_SOURCE: Final = """\
try:
    value = transform_{i}_{j}(value)
except (ValueError, TypeError, AttributeError) as exc:
    raise _transform_failed(field_{i}, label_{i}_{j}, exc) from None
"""

_TEXT_TRANSFORM_SOURCE: Final = """\
if type(value) is str:
    value = on_text_{i}_{j}(value)
else:
""" + "".join(f"    {line}\n" for line in _TRANSFORM_SOURCE.splitlines())

# What _clean answers, with its most common case (text) inlined.
_STORE_SOURCE: Final = """\
if type(value) is str:
    value = value.strip()
    if value:
        payload[field_{i}] = value
elif value is not None:
    value = _clean(value, rule_{i})
    if value is not None:
        payload[field_{i}] = value
"""


@dataclass(frozen=True, slots=True)
class _Plan:
    """A compiled spec: ``run(customer)`` gives the payload before the email and length checks."""

    run: Callable[[Mapping[str, Any]], dict[str, Any]]
    source: str  # the generated code, for whoever debugs it


def _constant(arg: str | None) -> Callable[[Any], Any]:
    def constant(_value: Any) -> Any:
        return arg

    return constant


def _default(arg: str | None) -> Callable[[Any], Any]:
    def default(value: Any) -> Any:
        empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
        return arg if empty else value

    return default


def _transform_function(transform: Transform) -> Callable[[Any], Any]:
    """The plain function :meth:`Transform.apply` would run, without its per-value dispatch on the name."""
    if type(transform) is Transform:
        if transform.name == "constant":
            return _constant(transform.arg)
        if transform.name == "default":
            return _default(transform.arg)
        if transform.name in TRANSFORMS:
            return TRANSFORMS[transform.name]
    return transform.apply  # an unknown name fails when applied, as it always did


def _transform_failed(field: str, label: str, exc: Exception) -> _Problem:
    return _Problem(MAPPING_ERROR, f"{field}: transform {label} failed on the Magento value ({exc})", field)


_NOTHING: Final = MappingProxyType[str, Any]({}).get  # a lookup that finds nothing, in C


def _getter(root: Any) -> Callable[[str], Any]:
    """``root.get`` for a mapping root; for anything else a lookup that finds nothing, as a path through it does."""
    if type(root) is dict or (root is not None and isinstance(root, Mapping)):
        return root.get
    return _NOTHING


#: Transforms that, given text, are one plain call that cannot fail (and leave anything else to the transform):
#: the generated code makes that call itself on a str, without the transform's wrapper.
_ON_TEXT: Final[Mapping[str, Callable[[str], str]]] = {
    "lowercase": str.lower,
    "uppercase": str.upper,
    "trim": str.strip,
    "country_name": country_name,
}


class _Source:
    """Writes the code of a compiled spec, and ``env``: the globals it runs with, every value from the spec."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {
            "_clean": _clean,
            "_transform_failed": _transform_failed,
            "_getter": _getter,
            "_get_in": _get_in,
            "_attribute_in": _attribute_in,
        }
        self._lines = ["def run(customer):", "    payload = {}"]
        self._roots: dict[str, str] = {}  # root name → variable
        self._getters: set[str] = set()  # root variables whose ``get_`` variable is set

    def text(self) -> str:
        return "\n".join([*self._lines, "    return payload", ""])

    def rule(self, i: int, rule: FieldRule) -> None:
        self.env[f"field_{i}"], self.env[f"rule_{i}"] = rule.field, rule
        if rule.path is None:
            self._emit("value = None")
        else:
            self._fetch(i, rule.path)
        for j, transform in enumerate(rule.transforms):
            self._transform(i, j, transform)
        self._emit(_STORE_SOURCE.format(i=i))

    def _emit(self, code: str) -> None:
        self._lines.extend(f"    {line}" for line in code.splitlines())

    def _root(self, name: str) -> str:
        """The variable holding root ``name``, loaded here if no rule read it before (as the simple
        implementation did: an address that cannot be read then fails the same rule, with the same message)."""
        var = self._roots.get(name)
        if var is None:
            var = self._roots[name] = f"root_{len(self._roots)}"
            if name == "customer":
                self._emit(f"{var} = customer")
            else:
                self.env[f"load_{var}"] = _root_loader(name)
                self._emit(f"{var} = load_{var}(customer)")
        return var

    def _get_function(self, name: str) -> str:
        """A variable holding :func:`_getter` of root ``name``, so that a key of the root is one call."""
        var = self._root(name)
        if var not in self._getters:
            self._getters.add(var)
            self._emit(f"get_{var} = {var}.get if type({var}) is dict else _getter({var})")
        return f"get_{var}"

    def _fetch(self, i: int, path: SourcePath) -> None:
        """Set ``value`` to the raw Magento value at ``path``: :func:`resolve`, one line per lookup."""
        lookups = _lookups(path.keys)
        if not lookups:
            root = self._root(path.root)
            self._emit(f"value = {root}")
        for k, (lookup, key) in enumerate(lookups):
            self.env[f"key_{i}_{k}"] = key
            if k == 0 and lookup is _get_in:
                get = self._get_function(path.root)
                self._emit(f"value = {get}(key_{i}_0)")
            elif k == 0:
                root = self._root(path.root)
                self._emit(f"value = _attribute_in({root}, key_{i}_0)")
            elif lookup is _get_in:
                self._emit(f"value = value.get(key_{i}_{k}) if type(value) is dict else _get_in(value, key_{i}_{k})")
            else:
                self._emit(f"value = _attribute_in(value, key_{i}_{k})")

    def _transform(self, i: int, j: int, transform: Transform) -> None:
        self.env[f"transform_{i}_{j}"] = _transform_function(transform)
        self.env[f"label_{i}_{j}"] = str(transform)
        on_text = _ON_TEXT.get(transform.name) if type(transform) is Transform else None
        if on_text is None:
            self._emit(_TRANSFORM_SOURCE.format(i=i, j=j))
        else:
            self.env[f"on_text_{i}_{j}"] = on_text
            self._emit(_TEXT_TRANSFORM_SOURCE.format(i=i, j=j))


def _compile(spec: MappingSpec) -> _Plan:
    source = _Source()
    for i, rule in enumerate(spec.rules):
        source.rule(i, rule)
    code = source.text()
    exec(compile(code, "<compiled mapping>", "exec"), source.env)  # noqa: S102 - generated names only, see above
    return _Plan(source.env["run"], code)


#: Compiled plans by ``id(spec)``; each entry holds its spec, so the id cannot be reused while it is cached.
_PLANS: dict[int, tuple[MappingSpec, _Plan]] = {}
_MAX_PLANS: Final = 64  # a run uses one spec; tests build many


def _plan(spec: MappingSpec) -> _Plan:
    """The spec's plan, compiled on first use (``map_customer`` looks in the cache itself, saving a call)."""
    cached = _PLANS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    plan = _compile(spec)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, plan)
    return plan


# ---- customers ------------------------------------------------------------------------------------------------


def _customer_id(raw: Any) -> int:
    value = _optional_int(raw)
    return 0 if value is None else value


def _optional_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    return None


def _raw_email(customer: Mapping[str, Any]) -> str | None:
    email = customer.get("email")
    return normalise_email(email) or None if isinstance(email, str) else None


def _checked_email(payload: dict[str, Any]) -> str:
    """The normalised email, written back to the payload; the email and the last name are required."""
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
    return email_norm


def map_customer(
    customer: Mapping[str, Any],
    spec: MappingSpec = DEFAULT_SPEC,
    limits: Mapping[str, int] = DEFAULT_LIMITS,
) -> MappedCustomer | MappingFailure:
    """Map one Magento customer. Never raises for customer data: problems come back as a :class:`MappingFailure`."""
    customer_id = 0
    try:
        raw_id = customer.get("id")
        customer_id = raw_id if type(raw_id) is int else _customer_id(raw_id)
        if customer_id <= 0:
            raise _Problem(MAPPING_ERROR, "the Magento customer has no valid id")
        cached = _PLANS.get(id(spec))
        plan = cached[1] if cached is not None and cached[0] is spec else _plan(spec)
        payload = plan.run(customer)
        email_norm = _checked_email(payload)
        truncated = _enforce_limits(payload, limits, spec.truncate_long_values)
    except _Problem as problem:
        return MappingFailure(customer_id, _raw_email(customer), problem.code, problem.message, problem.field)
    except Exception as exc:  # the last line of defence: one odd record must not stop a run
        return MappingFailure(
            customer_id, None, MAPPING_ERROR, f"unexpected customer data ({exc.__class__.__name__})", None
        )
    website_id, updated_at = customer.get("website_id"), customer.get("updated_at")
    return MappedCustomer(
        customer_id,
        email_norm,
        payload,
        website_id if type(website_id) is int else _optional_int(website_id),
        updated_at if isinstance(updated_at, str) else None,
        truncated,
    )


def _long_values(payload: dict[str, Any], limits: Mapping[str, int]) -> list[tuple[str, str, int, int]]:
    """``(field, value, length, limit)`` for each text longer than its Zoho field allows, in payload order."""
    found: list[tuple[str, str, int, int]] = []
    for name, value in payload.items():
        limit = limits.get(name)
        if not isinstance(value, str) or limit is None or limit <= 0:
            continue
        if 2 * len(value) <= limit:  # a code point is at most 2 UTF-16 units: surely within, no encoding
            continue
        length = zoho_length(value)
        if length <= limit:  # not ``length > limit``: the same answer for every limit, NaN included
            continue
        found.append((name, value, length, limit))
    return found


def _enforce_limits(payload: dict[str, Any], limits: Mapping[str, int], truncate_long: bool) -> tuple[str, ...]:
    """Cut the long values when the mapping allows it (returns the fields cut), else a ``VALUE_TOO_LONG`` problem."""
    truncated: list[str] = []
    too_long: list[tuple[str, int, int]] = []
    for name, value, length, limit in _long_values(payload, limits):
        if truncate_long and name not in NEVER_TRUNCATE:
            cut = truncate(value, limit)
            if cut:
                payload[name] = cut
            else:
                del payload[name]
            truncated.append(name)
        else:
            too_long.append((name, length, limit))
    if too_long:
        details = ", ".join(f"{f} has {n} characters, Zoho allows {lim}" for f, n, lim in too_long)
        hint = "" if {f for f, _, _ in too_long} <= NEVER_TRUNCATE else " (or set truncate_long_values)"
        raise _Problem(VALUE_TOO_LONG, f"value too long: {details}{hint}", too_long[0][0])
    return tuple(truncated)


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
