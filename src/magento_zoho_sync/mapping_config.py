"""The field mapping as data: which Zoho Contact field is filled from which Magento path, through which transforms.

The mapping is parsed and checked when settings are loaded (an unknown transform or a malformed path is a
``ConfigError`` before any call is made); :mod:`magento_zoho_sync.mapping` applies it to customers.

Paths (``Magento path``)
    ``firstname``, ``email``, ``dob``, …             a top-level customer attribute
    ``custom_attributes.<code>``                    a customer custom attribute (by ``attribute_code``)
    ``extension_attributes.is_subscribed``          anything under ``extension_attributes`` (nested keys with dots)
    ``address.<key>``                               the customer's main address: default billing, else default
                                                    shipping, else the first one (``address.street``,
                                                    ``address.region.region``, ``address.custom_attributes.<code>``)
    ``billing.<key>`` / ``shipping.<key>``          the default billing / default shipping address only (no fallback)

Transforms (applied left to right)
    ``join_lines``         list of street lines → one string, non-empty lines joined with ``", "``
    ``join_newlines``      same, joined with a newline (for multi-line text areas)
    ``country_name``       ISO 3166-1 alpha-2 code → English short name (unknown codes pass through)
    ``lowercase`` / ``uppercase`` / ``trim``
    ``bool``               ``"1"/"true"/"yes"/1/true`` → true, ``"0"/"false"/"no"/0/false`` → false
    ``negate``             boolean not
    ``bool_to_opt_out``    newsletter ``is_subscribed`` → ``Email_Opt_Out`` (true → false, false → true)
    ``gender``             Magento's gender code → ``Male`` (1), ``Female`` (2), ``Not Specified`` (3); 0 is no answer
    ``phone``              a telephone as Zoho's phone fields take it: ``030/1234567`` → ``030 1234567``,
                           ``+44 (0)20 7946 0958`` → ``+44 20 7946 0958`` (:mod:`magento_zoho_sync.phones`)
    ``option_label``       a select or multiselect attribute's option ids (``"12"``, ``"12,14"``) → their labels
                           (``"Français"``, ``"Running, Swimming"``), read from Magento when a run starts
    ``option_labels``      the same ids → a list of their labels in the attribute's option order
                           (``["Running", "Swimming"]``), for a Zoho multi-select picklist; the rule's last transform
    ``number``             ``"42"``/42 → 42, ``"9.5"`` → 9.5, sent as a JSON number (Zoho number fields)
    ``date``               ``"2024-03-01 08:15:00"`` or ``"2024-03-01"`` → ``"2024-03-01"`` (Zoho date fields)
    ``datetime``           Magento's UTC ``"2024-03-01 08:15:00"`` → ``"2024-03-01T08:15:00+00:00"`` (Zoho
                           date-time fields; a time with an offset keeps it)
    ``constant:<value>``   the string ``<value>``, whatever the Magento data
    ``default:<value>``    ``<value>`` when the Magento value is missing or empty

TOML forms, under ``[mapping.fields]``::

    Lead_Source = "constant:Magento"
    Mailing_Street = "address.street | join_newlines"
    Email_Opt_Out = { path = "extension_attributes.is_subscribed", transforms = ["bool_to_opt_out"] }
    Interests = "custom_attributes.interests | option_labels"
    Phone = false              # do not send this default field at all
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from magento_zoho_sync.countries import country_name
from magento_zoho_sync.phones import clean_phone

ROOTS: Final = ("address", "billing", "shipping")

#: The keys of a customer in Magento's REST API (``CustomerInterface``), and of an address (``AddressInterface``):
#: a path naming another key is a typo (extra data lives under custom_attributes or extension_attributes).
CUSTOMER_KEYS: Final = frozenset(
    [
        "id",
        "group_id",
        "default_billing",
        "default_shipping",
        "confirmation",
        "created_at",
        "updated_at",
        "created_in",
        "dob",
        "email",
        "firstname",
        "lastname",
        "middlename",
        "prefix",
        "suffix",
        "gender",
        "store_id",
        "taxvat",
        "website_id",
        "addresses",
        "disable_auto_group_change",
        "extension_attributes",
        "custom_attributes",
    ]
)
ADDRESS_KEYS: Final = frozenset(
    [
        "id",
        "customer_id",
        "region",
        "region_id",
        "country_id",
        "street",
        "company",
        "telephone",
        "fax",
        "postcode",
        "city",
        "firstname",
        "lastname",
        "middlename",
        "prefix",
        "suffix",
        "vat_id",
        "default_shipping",
        "default_billing",
        "extension_attributes",
        "custom_attributes",
    ]
)

#: Fields that cannot be removed: Email is the match key, Last_Name is mandatory for Zoho Contacts.
REQUIRED_FIELDS: Final = ("Email", "Last_Name")

_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ATTRIBUTE_CODE = re.compile(r"^[A-Za-z0-9_]+$")

_TRUE = frozenset({"1", "true", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "off"})


class MappingConfigError(ValueError):
    """A mapping entry is malformed; the message names the field."""


# Tuples, not ``X | Y``: a union is built anew each time the expression runs, and transforms run per customer.
_SEQUENCES: Final = (list, tuple)
_NUMBERS: Final = (int, float)


def _is_line(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _join(separator: str) -> Callable[[Any], Any]:
    def join(value: Any) -> Any:
        if isinstance(value, _SEQUENCES):
            # text and numbers only: a yes/no or a nested object is no street line (never 'True' in Zoho)
            lines = [line for v in value if _is_line(v) and (line := str(v).strip())]
            return separator.join(lines) if lines else None
        return value

    return join


def _to_bool(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, _NUMBERS):
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


_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?[0-9]+\.[0-9]+$")
#: A date, or a date and time as Magento (``2024-03-01 08:15:00``) or ISO 8601 (``T``, an offset or ``Z``) write it.
_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)


def _to_number(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("is a yes/no value, not a number")
    if isinstance(value, _NUMBERS):
        return value
    if not isinstance(value, str):
        raise ValueError("is not a number")
    text = value.strip()
    if not text:  # empty: left out, as every empty value
        return None
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):  # digits and a point only: not "1e3", "1_000", "1,5" nor other scripts' digits
        number = float(text)
        if math.isfinite(number):
            return number
    raise ValueError("is not a number (digits, and a point for decimals)")


#: Magento's ``gender`` codes (0: no answer, left out).
_GENDERS: Final = {1: "Male", 2: "Female", 3: "Not Specified"}


def _gender(value: Any) -> Any:
    code = _to_number(value)
    if code is None or code == 0:
        return None
    if code not in _GENDERS:
        raise ValueError("is not one of Magento's gender codes (1, 2, 3)")
    return _GENDERS[code]


def _option_ids(labels: Mapping[str, str], value: Any) -> list[str]:
    """The option ids of a select's or a multiselect's value (``"12"``, ``"21,23"``), each one the attribute lists."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("is not an option id")
    ids = [part.strip() for part in str(value).split(",") if part.strip()]
    unknown = [i for i in ids if i not in labels]
    if unknown:
        raise ValueError(f"has option id {unknown[0]}, which the attribute does not list (deleted in Magento?)")
    return ids


def option_label(labels: Mapping[str, str], value: Any) -> Any:
    """A select attribute's option id, or a multiselect's ids joined by commas, as their labels (joined by ", ")."""
    if value is None:
        return None
    ids = _option_ids(labels, value)
    return ", ".join(dict.fromkeys(labels[i] for i in ids if labels[i])) or None  # an option without a label: none


def option_labels(labels: Mapping[str, str], value: Any) -> list[str] | None:
    """A multiselect's ids joined by commas (or a select's id) as the list of their labels, for a Zoho multi-select
    picklist: in the order ``labels`` lists the options (Magento's option order, not the order of the ids, which is
    only the order a client saved them in), each label once, labels with a comma kept whole. None (left out, as
    every empty value) when no option is chosen."""
    if value is None:
        return None
    chosen = set(_option_ids(labels, value))
    return list(dict.fromkeys(label for i, label in labels.items() if i in chosen and label)) or None


def _to_phone(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("is not a phone number")
    return clean_phone(str(value))


def _labels_not_read(value: Any) -> Any:
    raise ValueError("the attribute's option labels were not read from Magento")  # the run reads them first


def _read_time(value: Any, what: str) -> datetime | None:
    """A date, or a date and time, as :data:`_TIME` allows; None for no value; else ValueError saying ``what``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"is not {what}")
    text = value.strip()
    if not text:  # empty: left out, as every empty value
        return None
    try:
        if not _TIME.match(text):
            raise ValueError
        return datetime.fromisoformat(text)  # a real day (and time)
    except ValueError:
        raise ValueError(f"is not {what}") from None


def _to_date(value: Any) -> Any:
    parsed = _read_time(value, "a date (YYYY-MM-DD)")
    return None if parsed is None else parsed.date().isoformat()


def _to_datetime(value: Any) -> Any:
    parsed = _read_time(value, "a date and time (YYYY-MM-DD HH:MM:SS)")
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # Magento's times are UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.replace(microsecond=0).isoformat()


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
    "gender": _gender,
    "phone": _to_phone,
    "number": _to_number,
    "date": _to_date,
    "datetime": _to_datetime,
    # replaced, when a run starts, by the attribute's own labels (magento_zoho_sync.mapping_options)
    "option_label": _labels_not_read,
    "option_labels": _labels_not_read,
}

#: Transforms that read a select or multiselect attribute's option labels (given them when a run starts).
LABEL_TRANSFORMS: Final = ("option_label", "option_labels")
#: The transform that sends a list (of labels), for a Zoho multi-select picklist field.
LIST_TRANSFORM: Final = "option_labels"

#: Transforms written ``name:<argument>``.
ARG_TRANSFORMS: Final = ("constant", "default")


@dataclass(frozen=True)
class Transform:
    name: str
    arg: str | None = None
    #: ``option_label``, ``option_labels``: the attribute's options (id, label), read from Magento when a run starts
    labels: tuple[tuple[str, str], ...] | None = None

    def apply(self, value: Any) -> Any:
        if self.labels is not None:
            return (option_labels if self.name == LIST_TRANSFORM else option_label)(dict(self.labels), value)
        if self.name == "constant":
            return self.arg
        if self.name == "default":
            empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
            return self.arg if empty else value
        return TRANSFORMS[self.name](value)

    def __str__(self) -> str:
        return self.name if self.arg is None else f"{self.name}:{self.arg}"


@dataclass(frozen=True)
class SourcePath:
    """A parsed Magento path: ``root`` is ``customer``, ``address``, ``billing`` or ``shipping``."""

    root: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.keys) if self.root == "customer" else ".".join((self.root, *self.keys))


@dataclass(frozen=True)
class FieldRule:
    """One Zoho field and where its value comes from."""

    field: str
    path: SourcePath | None
    transforms: tuple[Transform, ...] = ()

    def describe(self) -> str:
        parts = ([str(self.path)] if self.path else []) + [str(t) for t in self.transforms]
        return " | ".join(parts)


@dataclass(frozen=True)
class MappingSpec:
    """The compiled mapping: ordered rules, plus the too-long-value policy."""

    rules: tuple[FieldRule, ...]
    truncate_long_values: bool = False

    def rule(self, field: str) -> FieldRule | None:
        return next((r for r in self.rules if r.field == field), None)

    @functools.cached_property
    def whole_fields(self) -> frozenset[str]:
        """Fields whose value is never cut to Zoho's length: the match key, and phone numbers (a cut number would
        be someone else's)."""
        return frozenset({"Email"} | {r.field for r in self.rules if any(t.name == "phone" for t in r.transforms)})

    def signature(self) -> str:
        """The rules as one stable text (field ← path | transforms, sorted by field): equal for the same mapping
        however the settings spell it, different as soon as a field, a path or a transform changes."""
        return "; ".join(f"{r.field}={r.describe()}" for r in sorted(self.rules, key=lambda r: r.field))


def parse_path(text: str) -> SourcePath:
    """Parse a Magento path such as ``address.street`` or ``custom_attributes.loyalty_tier``."""
    parts = [p.strip() for p in text.strip().split(".")]
    if not parts or any(not _SEGMENT.match(p) and not _ATTRIBUTE_CODE.match(p) for p in parts):
        raise MappingConfigError(f"malformed Magento path {text!r} (expected names joined by dots)")
    root = "customer"
    if parts[0] in ROOTS:
        root, parts = parts[0], parts[1:]
        if not parts:
            raise MappingConfigError(f"Magento path {text!r} names no address field (e.g. {root}.city)")
    for i, part in enumerate(parts):
        previous = parts[i - 1] if i else None
        if previous == "custom_attributes":
            if not _ATTRIBUTE_CODE.match(part):
                raise MappingConfigError(f"malformed attribute code in Magento path {text!r}")
            if i != len(parts) - 1:
                raise MappingConfigError(f"Magento path {text!r}: nothing can follow custom_attributes.<code>")
        elif not _SEGMENT.match(part):
            raise MappingConfigError(f"malformed Magento path {text!r}")
    if parts[-1] == "custom_attributes":
        raise MappingConfigError(f"Magento path {text!r} needs an attribute code: custom_attributes.<code>")
    known = CUSTOMER_KEYS if root == "customer" else ADDRESS_KEYS
    if parts[0] not in known:
        what = "a customer" if root == "customer" else "an address"
        close = difflib.get_close_matches(parts[0], known, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise MappingConfigError(
            f"Magento path {text!r}: {parts[0]!r} is not a field of {what} in Magento's REST API ({guess}known: "
            f"{', '.join(sorted(known))}; other data is under custom_attributes.<code> or extension_attributes.<key>)"
        )
    objects = _OBJECTS["customer" if root == "customer" else "address"]
    if len(parts) == 1 and parts[0] in objects:
        what, key = objects[parts[0]]
        raise MappingConfigError(f"Magento path {text!r} is {what}, not a value; map one of its keys ({key})")
    return SourcePath(root=root, keys=tuple(parts))


#: Keys whose value is an object or a list of objects, of a customer and of an address: a path must go into them.
_OBJECTS: Final = {
    "customer": {
        "addresses": ("a list of addresses", "address.city, billing.city, shipping.city, ..."),
        "extension_attributes": ("an object", "extension_attributes.is_subscribed, ..."),
    },
    "address": {
        "region": ("an object", "address.region.region for the name, address.region.region_code for the code"),
        "extension_attributes": ("an object", "address.extension_attributes.<key>"),
    },
}


def parse_transform(text: str) -> Transform:
    name, sep, arg = text.strip().partition(":")
    name = name.strip()
    if sep:
        if name not in ARG_TRANSFORMS:
            raise MappingConfigError(f"unknown transform {name!r} (with an argument: {', '.join(ARG_TRANSFORMS)})")
        return Transform(name, arg)
    if name in ARG_TRANSFORMS:
        raise MappingConfigError(f"transform {name!r} needs a value: {name}:<value>")
    if name not in TRANSFORMS:
        known = ", ".join([*TRANSFORMS, *(f"{n}:<value>" for n in ARG_TRANSFORMS)])
        raise MappingConfigError(f"unknown transform {name!r} (known: {known})")
    return Transform(name)


def parse_rule(field: str, value: Any) -> FieldRule | None:
    """Parse one ``[mapping.fields]`` entry. ``False`` means "do not send this field" (returns ``None``)."""
    if not _FIELD.match(field):
        raise MappingConfigError(f"{field!r} is not a Zoho field API name (letters, digits, underscores)")
    if value is False:
        return None
    path_text: str | None
    transforms_text: list[str]
    if isinstance(value, str):
        pieces = [p.strip() for p in value.split("|")]
        if pieces[0].partition(":")[0].strip() in ARG_TRANSFORMS:
            path_text, transforms_text = None, [value.strip()] if len(pieces) == 1 else pieces
        else:
            path_text, transforms_text = pieces[0], pieces[1:]
    elif isinstance(value, Mapping):
        unknown = set(value) - {"path", "transforms", "transform"}
        if unknown:
            raise MappingConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (use path, transforms)")
        path_text = value.get("path")
        raw = value.get("transforms", value.get("transform", []))
        transforms_text = [raw] if isinstance(raw, str) else raw
        if path_text is not None and not isinstance(path_text, str):
            raise MappingConfigError("path must be a string")
        if not isinstance(transforms_text, list) or not all(isinstance(t, str) for t in transforms_text):
            raise MappingConfigError("transforms must be a list of strings")
    else:
        raise MappingConfigError('expected "path | transform ...", a table {path, transforms} or false')
    transforms = tuple(parse_transform(t) for t in transforms_text if t.strip())
    path = parse_path(path_text) if path_text else None
    reads_labels = [t.name for t in transforms if t.name in LABEL_TRANSFORMS]
    if reads_labels and (path is None or len(path.keys) != 2 or path.keys[0] != "custom_attributes"):
        raise MappingConfigError(
            f"{reads_labels[0]} reads the labels of a select or multiselect attribute: use it on "
            "custom_attributes.<code> or address.custom_attributes.<code>"
        )
    if LIST_TRANSFORM in reads_labels and transforms[-1].name != LIST_TRANSFORM:
        after = ", ".join(str(t) for t in transforms[[t.name for t in transforms].index(LIST_TRANSFORM) + 1 :])
        raise MappingConfigError(
            f"{LIST_TRANSFORM} sends a list of labels (for a Zoho multi-select picklist field), so it must be the "
            f"rule's last transform; drop {after} after it (to send one text, use option_label instead)"
        )
    if path is None and not any(t.name == "constant" for t in transforms):
        raise MappingConfigError("needs a Magento path or a constant:<value> transform")
    return FieldRule(field=field, path=path, transforms=transforms)


#: The default mapping, written as a mapping file would write it.
DEFAULT_MAPPING: Final[dict[str, str]] = dict(
    (
        ("Email", "email | trim | lowercase"),
        ("First_Name", "firstname"),
        ("Last_Name", "lastname"),
        ("Phone", "address.telephone | phone"),
        ("Mailing_Street", "address.street | join_lines"),
        ("Mailing_City", "address.city"),
        ("Mailing_State", "address.region.region"),
        ("Mailing_Zip", "address.postcode"),
        ("Mailing_Country", "address.country_id | country_name"),
    )
)

DEFAULT_RULES: Final[tuple[FieldRule, ...]] = tuple(
    rule for field, text in DEFAULT_MAPPING.items() if (rule := parse_rule(field, text)) is not None
)


def build_spec(
    fields: Mapping[str, Any] | None = None, *, replace_defaults: bool = False, truncate_long_values: bool = False
) -> MappingSpec:
    """Compile the default rules overlaid with ``fields`` (or ``fields`` alone with ``replace_defaults``).

    Raises :class:`MappingConfigError` naming the first bad entry, as ``[mapping.fields] <Field>: <problem>``.
    """
    rules: dict[str, FieldRule | None] = {} if replace_defaults else {r.field: r for r in DEFAULT_RULES}
    for field, value in (fields or {}).items():
        try:
            rules[field] = parse_rule(field, value)
        except MappingConfigError as exc:
            raise MappingConfigError(f"[mapping.fields] {field}: {exc}") from None
    for required in REQUIRED_FIELDS:
        if rules.get(required) is None:
            raise MappingConfigError(
                f"[mapping.fields] {required} must be mapped "
                + ("(it is the match key)" if required == "Email" else "(Zoho requires it for every contact)")
            )
    return MappingSpec(
        rules=tuple(r for r in rules.values() if r is not None), truncate_long_values=truncate_long_values
    )


DEFAULT_SPEC: Final = build_spec()
