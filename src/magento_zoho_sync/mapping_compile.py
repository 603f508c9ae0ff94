"""A mapping spec compiled into one generated function: the mapping's speed, kept apart from its rules.

:func:`plan_for` gives a spec's :class:`Plan`, compiled on first use and cached; ``plan.run(customer)`` is the
payload before :func:`magento_zoho_sync.mapping.map_customer` checks the email and the lengths, and the ids of the
addresses its sources read, each with the marker of the fields it left out (:mod:`.mapping_addresses`). The
generated code does exactly what :func:`magento_zoho_sync.mapping_values.resolve` and ``clean`` do per rule, as
``tests/unit/test_mapping_equivalence.py`` checks against the simple implementation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from magento_zoho_sync.countries import country_name
from magento_zoho_sync.mapping_addresses import (
    NO_ADDRESS,
    NONE_TEXT,
    SOURCE_LETTERS,
    Layout,
    address_key,
    encode_address_ids,
    markers,
    source_layout,
)
from magento_zoho_sync.mapping_config import (
    LIST_TRANSFORM,
    TRANSFORMS,
    FieldRule,
    MappingSpec,
    SourcePath,
    Transform,
    option_label,
    option_labels,
)
from magento_zoho_sync.mapping_kinds import keeps_numbers, sends_list
from magento_zoho_sync.mapping_values import (
    MAPPING_ERROR,
    MappingProblem,
    attribute_in,
    clean,
    clean_list,
    get_in,
    lookups,
    root_loader,
    shown_value,
)

# ---- the compiled mapping -------------------------------------------------------------------------------------
#
# A spec is compiled into one generated function, a straight run of code per rule: an interpreter loop over
# compiled rules (unpack the rule, find its root, call its fetch function, loop over its transforms) cost about
# 0.2 µs per rule more, a third of the mapping. Only generated identifiers go into the source; every value from
# the spec (field names, keys, transform functions) reaches the code through the function's globals, so no spec,
# however odd, can change the code's shape. ``plan_for(spec).source`` shows the code.

_TRANSFORM_SOURCE: Final = """\
try:
    value = transform_{i}_{j}(value)
except (ValueError, TypeError, AttributeError) as exc:
    raise _transform_failed(field_{i}, label_{i}_{j}, exc, value) from None
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
    value = _clean(value, rule_{i}, keep_numbers_{i})
    if value is not None:
        payload[field_{i}] = value
"""

# A rule that sends a list (``option_labels``, last): the list as a JSON array, anything else as _STORE_SOURCE.
_LIST_STORE_SOURCE: Final = """\
if type(value) is list:
    value = _clean_list(value)
    if value is not None:
        payload[field_{i}] = value
else:
""" + "".join(f"    {line}\n" for line in _STORE_SOURCE.splitlines())


# The same for a rule of an address source: each branch that leaves the value out also sets the rule's bit in its
# source's marker of the fields left out (:mod:`.mapping_addresses`). Only there: a value sent, the common case,
# costs nothing more.
_ADDRESS_STORE_SOURCE: Final = """\
if type(value) is str:
    value = value.strip()
    if value:
        payload[field_{i}] = value
    else:
        {out} |= {bit}
elif value is not None:
    value = _clean(value, rule_{i}, keep_numbers_{i})
    if value is not None:
        payload[field_{i}] = value
    else:
        {out} |= {bit}
else:
    {out} |= {bit}
"""

_ADDRESS_LIST_STORE_SOURCE: Final = """\
if type(value) is list:
    value = _clean_list(value)
    if value is not None:
        payload[field_{i}] = value
    else:
        {out} |= {bit}
else:
""" + "".join(f"    {line}\n" for line in _ADDRESS_STORE_SOURCE.splitlines())


@dataclass(frozen=True, slots=True)
class Plan:
    """A compiled spec: ``run(customer)`` gives the payload before the email and length checks, and the ids of the
    addresses read with the markers of the fields each left out
    (:func:`~magento_zoho_sync.mapping_addresses.encode_address_ids`; ``None`` when none is read)."""

    run: Callable[[Mapping[str, Any]], tuple[dict[str, Any], str | None]]
    source: str  # the generated code, for whoever debugs it
    #: address source (``address``, ``billing``, ``shipping``) → the fields mapped from it, in the rules' order
    address_fields: Mapping[str, tuple[str, ...]]


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
        if transform.labels is not None:
            label_function = option_labels if transform.name == LIST_TRANSFORM else option_label
            return functools.partial(label_function, dict(transform.labels))
        if transform.name == "constant":
            return _constant(transform.arg)
        if transform.name == "default":
            return _default(transform.arg)
        if transform.name in TRANSFORMS:
            return TRANSFORMS[transform.name]
    return transform.apply  # an unknown name fails when applied, as it always did


def _transform_failed(field: str, label: str, exc: Exception, value: Any) -> MappingProblem:
    shown = shown_value(value)
    return MappingProblem(
        MAPPING_ERROR, f"{field}: transform {label} failed on the Magento value {shown} ({exc})", field
    )


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

    def __init__(self, layouts: Mapping[str, Layout]) -> None:
        self._layouts = layouts  # address source → how its marker is written
        self.env: dict[str, Any] = {
            "_clean": clean,
            "_clean_list": clean_list,
            "_transform_failed": _transform_failed,
            "_getter": _getter,
            "_get_in": get_in,
            "_attribute_in": attribute_in,
            "_address_key": address_key,
            "_NO_ADDRESS": NO_ADDRESS,
            "_encode_address_ids": encode_address_ids,
        }
        self._lines = ["def run(customer):", "    payload = {}"]
        self._roots: dict[str, str] = {}  # root name → variable
        self._getters: set[str] = set()  # root variables whose ``get_`` variable is set

    def text(self) -> str:
        return "\n".join([*self._lines, f"    return payload, {self._address_ids()}", ""])

    def _address_ids(self) -> str:
        """The expression of the address ids and their markers: an f-string when every address read has an integer
        id (its usual form), else :func:`encode_address_ids`; the sources in letter order, so one set of ids is one
        text. A marker is looked up in its source's table (:func:`markers`), by the bits of the fields left out."""
        roots = self._roots.items()
        sources = sorted((SOURCE_LETTERS[name], var) for name, var in roots if name in SOURCE_LETTERS)
        if not sources:
            return "None"
        fast = ",".join(f"{letter}{{id_{var}}}{{marks_{var}[out_{var}]}}" for letter, var in sources)
        test = " and ".join(f"type(id_{var}) is int" for _, var in sources)
        none = ",".join(f"{letter}{NONE_TEXT}" for letter, _ in sources)  # a customer without any address
        test_none = " and ".join(f"id_{var} is _NO_ADDRESS" for _, var in sources)
        letters = "".join(f"{letter!r}, " for letter, _ in sources)
        keys = "".join(f"id_{var}, " for _, var in sources)
        marks = "".join(f"marks_{var}[out_{var}], " for _, var in sources)
        slow = f"_encode_address_ids(({letters}), ({keys}), ({marks}))"
        return f'(f"{fast}" if {test} else "{none}" if {test_none} else {slow})'

    def rule(self, i: int, rule: FieldRule) -> None:
        self.env[f"field_{i}"], self.env[f"rule_{i}"] = rule.field, rule
        self.env[f"keep_numbers_{i}"] = keeps_numbers(rule)  # worked out once, not per customer
        if rule.path is None:
            self._emit("value = None")
        else:
            self._fetch(i, rule.path)
        for j, transform in enumerate(rule.transforms):
            self._transform(i, j, transform)
        if rule.path is not None and rule.path.root in self._layouts:
            out, bit = f"out_{self._root(rule.path.root)}", self._layouts[rule.path.root].bit(rule.field)
            store = _ADDRESS_LIST_STORE_SOURCE if sends_list(rule) else _ADDRESS_STORE_SOURCE
            self._emit(store.format(i=i, out=out, bit=bit))
        else:
            self._emit((_LIST_STORE_SOURCE if sends_list(rule) else _STORE_SOURCE).format(i=i))

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
                self.env[f"load_{var}"] = root_loader(name)
                self._emit(f"{var} = load_{var}(customer)")
                # the address's id, remembered so that a change of address can clear what the old one filled
                self._emit(f"id_{var} = {var}.get('id') if type({var}) is dict else _address_key({var})")
                if name in self._layouts:  # an address source (a root of another name fails when it loads)
                    self._emit(f"out_{var} = 0")  # the bits of the fields this address leaves out
                    self.env[f"marks_{var}"] = markers(self._layouts[name])
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
        steps = lookups(path.keys)
        if not steps:
            root = self._root(path.root)
            self._emit(f"value = {root}")
        for k, (lookup, key) in enumerate(steps):
            self.env[f"key_{i}_{k}"] = key
            if k == 0 and lookup is get_in:
                get = self._get_function(path.root)
                self._emit(f"value = {get}(key_{i}_0)")
            elif k == 0:
                root = self._root(path.root)
                self._emit(f"value = _attribute_in({root}, key_{i}_0)")
            elif lookup is get_in:
                self._emit(f"value = value.get(key_{i}_{k}) if type(value) is dict else _get_in(value, key_{i}_{k})")
            else:
                self._emit(f"value = _attribute_in(value, key_{i}_{k})")

    def _transform(self, i: int, j: int, transform: Transform) -> None:
        self.env[f"transform_{i}_{j}"] = _transform_function(transform)
        self.env[f"label_{i}_{j}"] = str(transform)
        on_text = _ON_TEXT.get(transform.name) if type(transform) is Transform and transform.labels is None else None
        if on_text is None:
            self._emit(_TRANSFORM_SOURCE.format(i=i, j=j))
        else:
            self.env[f"on_text_{i}_{j}"] = on_text
            self._emit(_TEXT_TRANSFORM_SOURCE.format(i=i, j=j))


def address_fields(spec: MappingSpec) -> dict[str, tuple[str, ...]]:
    """Address source → the fields its rules map, in the rules' order."""
    fields: dict[str, list[str]] = {}
    for rule in spec.rules:
        if rule.path is not None and rule.path.root in SOURCE_LETTERS:
            fields.setdefault(rule.path.root, []).append(rule.field)
    return {name: tuple(names) for name, names in fields.items()}


def compile_spec(spec: MappingSpec) -> Plan:
    fields = address_fields(spec)
    source = _Source({name: source_layout(names) for name, names in fields.items()})
    for i, rule in enumerate(spec.rules):
        source.rule(i, rule)
    code = source.text()
    exec(compile(code, "<compiled mapping>", "exec"), source.env)  # noqa: S102 - generated names only, see above
    return Plan(source.env["run"], code, MappingProxyType(fields))


#: Compiled plans by ``id(spec)``; each entry holds its spec, so the id cannot be reused while it is cached.
PLANS: dict[int, tuple[MappingSpec, Plan]] = {}
MAX_PLANS: Final = 64  # a run uses one spec; tests build many


def plan_for(spec: MappingSpec) -> Plan:
    """The spec's plan, compiled on first use (``map_customer`` looks in the cache itself, saving a call)."""
    cached = PLANS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    plan = compile_spec(spec)
    if len(PLANS) >= MAX_PLANS:
        PLANS.clear()
    PLANS[id(spec)] = (spec, plan)
    return plan
