"""The optimised mapping gives exactly the results of the simple implementation it replaced.

``tests/unit/mapping_reference.py`` is that implementation, frozen. Results are compared field by field, with
the type of every value (``1 == True`` must not hide a change) and the payload's keys in order (the order of the
fields in the request to Zoho); hashes byte for byte, as they are stored in users' state databases. The ids of
the addresses read and the markers of the fields each left out, which the reference predates, are compared with
:func:`expected_address_ids`, their simple definition (a field left out is one the payload lacks).

    .venv/bin/pytest tests/unit/test_mapping_equivalence.py --hypothesis-show-statistics   # what was exercised
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from magento_zoho_sims.magento.attributes import CUSTOMER_ATTRIBUTES
from magento_zoho_sims.magento.seed import StoreLayout, base_customer
from magento_zoho_sync import mapping, mapping_compile
from magento_zoho_sync.mapping_addresses import SOURCE_LETTERS, marker, source_layout
from magento_zoho_sync.mapping_config import (
    ARG_TRANSFORMS,
    DEFAULT_SPEC,
    LABEL_TRANSFORMS,
    TRANSFORMS,
    FieldRule,
    MappingSpec,
    SourcePath,
    Transform,
    build_spec,
    parse_transform,
)
from magento_zoho_sync.mapping_options import with_option_labels
from tests.unit import mapping_reference as reference

# ---- comparing results ----------------------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """``value`` with the type of everything in it, so that ``1 == True`` or ``"a" == StrSubclass("a")`` cannot
    hide a difference; dicts become their item lists, so that key order counts."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__name__, value)


def snapshot(result: Any) -> tuple[str, list[tuple[str, Any]]]:
    """The class name and every field of a MappedCustomer or MappingFailure (of either implementation), but the
    address ids (the reference predates them: :func:`expected_address_ids`)."""
    fields = [f.name for f in dataclasses.fields(result) if f.name != "address_ids"]
    return type(result).__name__, [(name, typed(getattr(result, name))) for name in fields]


def _id_text(raw: Any) -> str | None:
    if type(raw) is int:
        return str(raw)
    if type(raw) is str and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 19:
        return str(int(raw.strip()))
    return None


def expected_address_ids(customer: Any, spec: MappingSpec, payload: Mapping[str, Any]) -> str | None:
    """The address ids a mapped customer carries, simply: for each address source a rule reads, in letter order,
    its letter and the id of the address the reference chooses (``-`` for none; left out for an id that is not an
    integer or its digits), then the marker of the source's fields that ``payload`` lacks (not after ``-``)."""
    parts: list[str] = []
    for source, letter in sorted(SOURCE_LETTERS.items(), key=lambda item: item[1]):
        fields = tuple(rule.field for rule in spec.rules if rule.path is not None and rule.path.root == source)
        if not fields:
            continue
        chosen = (
            reference.main_address(customer) if source == "address" else reference.default_address(customer, source)
        )
        text = "-" if chosen is None else _id_text(chosen.get("id"))
        if text is not None and text != "-":
            layout = source_layout(fields)
            left_out = sum(1 << n for n, name in enumerate(sorted(fields)) if name not in payload)
            text += marker(left_out, layout.tag)
        if text is not None:
            parts.append(letter + text)
    return ",".join(parts) or None


def outcome(function: Any, *args: Any) -> Any:
    """What a call gives: its value, or the class and text of what it raised."""
    try:
        return ("returned", function(*args))
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


def assert_same_mapping(customer: Any, spec: MappingSpec = DEFAULT_SPEC, limits: Any = mapping.DEFAULT_LIMITS) -> Any:
    """Both implementations give the same result; returns the reference's."""
    expected = reference.map_customer(customer, spec, limits)
    result = mapping.map_customer(customer, spec, limits)
    assert snapshot(result) == snapshot(expected)
    if isinstance(result, mapping.MappedCustomer):
        assert result.address_ids == expected_address_ids(customer, spec, result.payload)
    return expected


def record(result: Any) -> None:
    """What the example exercised (see ``pytest --hypothesis-show-statistics``): each error code should occur."""
    event(getattr(result, "code", "truncated" if getattr(result, "truncated", ()) else "mapped"))


# ---- odd customers --------------------------------------------------------------------------------------------

lone_surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
any_text = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates too, as JSON allows
odd_text = st.sampled_from(
    ["", " ", "  \t\n", "\u00a0x\u00a0", "1", "0", "yes", "no", "maybe", "true", "DE", " de ", "gb", "ZZ", "XK", "🎉",
     "a\ud83db", 'O\'Brien "Jo" \\', "İ", "ß", "\u2028", "x" * 45, "🎉" * 21, " " + "y" * 39 + " tail",
     "1,yes", " yes , 0,1,1"]
)  # fmt: skip
long_text = st.builds(lambda char, n, pad: pad + char * n + pad, st.sampled_from(["a", "é", "🎉", " "]),
                      st.integers(10, 130), st.sampled_from(["", " ", "  "]))  # fmt: skip
text = st.text(max_size=20) | any_text | odd_text | long_text | lone_surrogates
number = st.integers(-(10**20), 10**20) | st.floats(allow_nan=True, allow_infinity=True) | st.booleans()
scalar = st.none() | number | text
json_value = st.recursive(
    scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=10,
)
odd_value = st.none() | text | scalar | st.lists(st.none() | text | number, max_size=4) | json_value


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, chosen with the given weights (``one_of`` weighs them all alike)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


maybe_value = weighted((6, text), (1, st.none()), (2, odd_value))  # mostly text, so that more customers map


def maybe_proxy(strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Mostly plain dicts, sometimes a read-only mapping that is not a dict (the slow, general paths)."""
    return strategy | strategy.map(MappingProxyType)


attribute_codes = st.sampled_from(["tier", "vip", "delivery_notes", "x", "Tier"])
custom_attributes = (
    st.lists(
        st.fixed_dictionaries({"attribute_code": attribute_codes | st.none() | st.integers(0, 2), "value": maybe_value})
        | json_value,
        max_size=4,
    )
    | maybe_proxy(st.dictionaries(attribute_codes, maybe_value, max_size=3))
    | json_value
)
address_ids = st.integers(-1, 6) | st.sampled_from(["1", " 2 ", "3.0", "x", ""]) | st.none() | st.booleans()
address = maybe_proxy(
    st.fixed_dictionaries(
        {},
        optional={
            "id": address_ids | st.floats(0, 6),
            "street": st.lists(st.none() | text | number | st.lists(text, max_size=2), max_size=4) | maybe_value,
            "city": maybe_value,
            "postcode": maybe_value,
            "telephone": maybe_value,
            "country_id": st.sampled_from(["US", "de", "ZZ", "", " gb "]) | maybe_value,
            "region": st.none()
            | maybe_proxy(st.fixed_dictionaries({}, optional={"region": maybe_value, "region_code": maybe_value}))
            | maybe_value,
            "default_billing": st.booleans() | st.sampled_from([1, "1", "true", None]),
            "default_shipping": st.booleans() | st.sampled_from([1, "1", "true", None]),
            "custom_attributes": custom_attributes,
        },
    )
)
references = st.none() | address_ids | st.floats(0, 6) | st.lists(st.integers(1, 3), max_size=2) | json_value
emails = st.emails() | st.sampled_from(["jane@example.com", " Jane.Doe+x@Example.COM ", "zoë@exämple.de"])
customer_fields = {
    "firstname": maybe_value,
    "middlename": maybe_value,
    "gender": maybe_value,
    "default_billing": references,
    "default_shipping": references,
    "addresses": st.lists(address | json_value, max_size=4) | json_value,
    "updated_at": st.none() | text | number,
    "website_id": st.integers(-1, 3) | st.sampled_from(["1", " 2", "x"]) | json_value,
    "custom_attributes": custom_attributes,
    "extension_attributes": maybe_proxy(st.fixed_dictionaries({"is_subscribed": maybe_value})) | json_value,
}
odd_ids = st.integers(-2, 10**12) | st.sampled_from(["7", " 8 ", "08", "9x", "", "-3", "1" * 19]) | scalar
odd_emails = emails | text | scalar | st.sampled_from(["a..b@c.de", ".a@b.cd", "a@b.c_d", "a@b.cd\n", "İ@x.de"])
# Mostly customers that map (a valid id, email and last name), so that limits, truncation and the odd values
# elsewhere are reached; and customers where anything at all may be missing or odd.
mappable_customers = maybe_proxy(
    st.fixed_dictionaries(
        {"id": st.integers(1, 10**6) | st.just("12"), "email": emails, "lastname": text.filter(str.strip)},
        optional=customer_fields,
    )
)
odd_customers = mappable_customers | maybe_proxy(
    st.fixed_dictionaries({}, optional={"id": odd_ids, "email": odd_emails, "lastname": maybe_value, **customer_fields})
)
customers = weighted(
    (6, mappable_customers), (2, odd_customers), (1, st.dictionaries(st.text(max_size=8), json_value)), (1, json_value)
)

# ---- specs ----------------------------------------------------------------------------------------------------

PATHS = [
    "email", "firstname", "lastname", "middlename", "gender", "id", "extension_attributes.company", "updated_at",
    "custom_attributes.tier", "custom_attributes.vip", "extension_attributes.is_subscribed",
    "address.extension_attributes.x", "address.street", "address.city", "address.region.region",
    "address.region.region_id", "address.telephone",
    "address.custom_attributes.delivery_notes", "billing.city", "billing.street", "shipping.street", "shipping.city",
    "shipping.region.region_code", "address.id",
]  # fmt: skip
# option_label and option_labels only after a custom attribute, and given their labels when a run starts: the
# hand-built specs below carry them (unread, and read), and so do the labelled specs further down
NAMED_TRANSFORMS = [
    *(t for t in TRANSFORMS if t not in LABEL_TRANSFORMS),
    "constant:X",
    "constant:",
    "default:Y",
    "default: n/a ",
]
FIELDS = ["Email", "Last_Name", "First_Name", "Phone", "Mailing_Street", "Mailing_City", "Tier", "VIP", "Notes"]

rule_text = st.builds(
    lambda path, transforms: " | ".join([path, *transforms]),
    st.sampled_from(PATHS),
    st.lists(st.sampled_from(NAMED_TRANSFORMS), max_size=3),
) | st.sampled_from(["constant:Magento", "constant: | default:none", "constant:X | lowercase", "constant:1 | bool"])


def make_spec(fields: dict[str, Any], replace: bool, truncating: bool) -> MappingSpec:
    required = {"Email": "email", "Last_Name": "lastname"}
    fields = {name: rule for name, rule in fields.items() if rule is not False or name not in required}
    fields = {**required, **fields} if replace else fields
    return build_spec(fields, replace_defaults=replace, truncate_long_values=truncating)


built_specs = st.builds(
    make_spec,
    st.dictionaries(st.sampled_from(FIELDS), rule_text | st.just(False), max_size=5),
    st.booleans(),
    st.booleans(),
)

# Specs built by hand, past the parser's checks: unknown roots and transforms, paths a parser would refuse.
KEYS = ["email", "lastname", "city", "street", "region", "region_code", "custom_attributes", "tier", "vip", "x"]
hand_paths = st.none() | st.builds(
    SourcePath,
    st.sampled_from(["customer", "address", "billing", "shipping", "store"]),
    st.lists(st.sampled_from(KEYS), max_size=4).map(tuple),
)
hand_transforms = st.builds(
    Transform,
    st.sampled_from([*TRANSFORMS, *ARG_TRANSFORMS, "bogus"]),
    st.none() | text,
    st.none() | st.just((("1", "One"), ("yes", "Yes, indeed"), ("0", ""))),  # option_label's, read
)
hand_rules = st.builds(FieldRule, st.sampled_from(FIELDS), hand_paths, st.lists(hand_transforms, max_size=2).map(tuple))
hand_specs = st.builds(
    lambda rules, truncating: MappingSpec(rules=tuple(rules), truncate_long_values=truncating),
    st.lists(hand_rules, max_size=6),
    st.booleans(),
)
specs = st.just(DEFAULT_SPEC) | built_specs | hand_specs

# Limits are ints by their type; a few that are not (None, a float, a bool, text) check that the exact length
# checks still meet them, and fail on them, where they always did.
limit_values = weighted(
    (8, st.integers(-1, 60) | st.sampled_from([0, 1, 2, 3, 100, 250])),
    (1, st.sampled_from([None, 30.0, float("nan"), True, "40"])),
)
limits = st.just(mapping.DEFAULT_LIMITS) | maybe_proxy(
    st.builds(
        lambda overrides, base: {**base, **overrides},
        st.dictionaries(st.sampled_from([*FIELDS, "Mailing_Country", "Mailing_State"]), limit_values, max_size=6),
        st.sampled_from([{}, dict(mapping.DEFAULT_LIMITS)]),
    )
)

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(customers)
def test_default_spec(customer: Any) -> None:
    record(assert_same_mapping(customer))


@SETTINGS
@given(customers, specs, limits)
def test_any_spec_and_limits(customer: Any, spec: MappingSpec, limits: Any) -> None:
    record(assert_same_mapping(customer, spec, limits))


TRUNCATING = [
    build_spec(truncate_long_values=True),
    build_spec(
        {"Notes": "custom_attributes.tier | default:  padded  ", "Tier": "address.street"}, truncate_long_values=True
    ),
]


@SETTINGS
@given(mappable_customers, st.sampled_from(TRUNCATING), limits)
def test_truncation(customer: Any, spec: MappingSpec, limits: Any) -> None:
    record(assert_same_mapping(customer, spec, limits))


@settings(max_examples=60, deadline=None)
@given(odd_customers, st.sampled_from(["billing", "shipping", "store"]), hand_paths.filter(bool))
def test_address_helpers_and_resolve(customer: Any, kind: str, path: SourcePath) -> None:
    """The public helpers pick the very same address object, and find the same value."""
    assert mapping.main_address(customer) is reference.main_address(customer)
    assert mapping.default_address(customer, kind) is reference.default_address(customer, kind)
    assert typed(mapping.resolve(customer, path)) == typed(reference.resolve(customer, path))


def test_the_same_spec_twice_and_specs_that_compare_equal() -> None:
    """Plans are cached per spec object: equal specs, and a spec seen again, give the same results."""
    customer = {"id": 3, "email": "A@b.co", "lastname": "L", "custom_attributes": [{"attribute_code": "tier"}]}
    for spec in (build_spec({"Tier": "custom_attributes.tier | default:none"}),) * 2 + (DEFAULT_SPEC,):
        assert_same_mapping(customer, spec)
    for _ in range(mapping_compile.MAX_PLANS + 2):  # past the cache's bound: it is emptied, and still right
        assert_same_mapping(customer, build_spec({"Tier": "custom_attributes.tier | default:none"}))


def test_limits_changed_in_place_between_calls() -> None:
    """The halves of the limits are kept for the last limits object; changing that object must be noticed."""
    customer = {"id": 3, "email": "a@b.co", "lastname": "Lastname", "firstname": "Firstname"}
    limits = dict(mapping.DEFAULT_LIMITS)
    for first_name_limit in (40, 8, 2, 40, 0, -3, 5):
        limits["First_Name"] = first_name_limit
        for spec in (DEFAULT_SPEC, build_spec(truncate_long_values=True), DEFAULT_SPEC):
            assert_same_mapping(customer, spec, limits)
    del limits["First_Name"]
    assert_same_mapping(customer, DEFAULT_SPEC, limits)


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from('ab.@_-+ \n\t"\\()[]:;<>,é🎉'), max_size=14) | st.emails())
def test_is_valid_email(email: str) -> None:
    assert mapping.is_valid_email(email) is reference.is_valid_email(email)
    assert mapping.is_valid_email(email + "\n") is reference.is_valid_email(email + "\n")


@pytest.mark.parametrize(
    "customer",
    [
        None,
        [],
        "customer",
        42,
        {"id": 10**300, "email": "a@b.co", "lastname": "x"},
        {"id": 1, "email": "a@b.co", "lastname": "x", "firstname": 10**5000},  # str() refuses: unexpected data
        {"id": 1, "email": "a@b.co", "lastname": "x", "default_billing": "1", "addresses": [{"id": 10**5000}]},
        {"id": 1, "email": "a@b.co", "lastname": ["x", [True]]},
    ],
)
def test_odd_customers_by_hand(customer: Any) -> None:
    """Not a mapping at all, numbers too long to print (the catch-all), a list holding a yes/no value."""
    assert_same_mapping(customer)


# ---- the simulator's realistic customers ----------------------------------------------------------------------

LAYOUT = StoreLayout(seed=1, count=5000, now=1_800_000_000)
REALISTIC_SPECS = [
    DEFAULT_SPEC,
    build_spec(truncate_long_values=True),
    build_spec(
        {
            "Tier": "custom_attributes.loyalty_tier | uppercase",
            "Language": "custom_attributes.preferred_language | default:en",
            "Email_Opt_Out": "extension_attributes.is_subscribed | bool_to_opt_out",
            "Mailing_Street": "address.street | join_newlines",
            "Other_City": "shipping.city",
            "Billing_Street": "billing.street",
            "Lead_Source": "constant:Magento",
            "Date_of_Birth": "dob",
        }
    ),
    with_option_labels(  # the seeded store's select attribute, as one text and as a list
        build_spec(
            {
                "Language": "custom_attributes.preferred_language | option_label",
                "Languages": "custom_attributes.preferred_language | option_labels",
            }
        ),
        lambda _entity, code: CUSTOMER_ATTRIBUTES.get(code),
    ),
]


@pytest.fixture(scope="module")
def realistic() -> list[dict[str, Any]]:
    built = [base_customer(LAYOUT, cid) for cid in range(1, LAYOUT.count + 1)]
    decoded: list[dict[str, Any]] = json.loads(json.dumps(built))  # as a search page decodes
    return decoded


SMALL_LIMITS = {**mapping.DEFAULT_LIMITS, "Mailing_Street": 30, "Last_Name": 8, "Phone": 12}


@pytest.mark.parametrize(
    ("spec", "limits"),
    [
        (REALISTIC_SPECS[0], mapping.DEFAULT_LIMITS),
        (REALISTIC_SPECS[0], SMALL_LIMITS),
        (REALISTIC_SPECS[1], SMALL_LIMITS),
        (REALISTIC_SPECS[2], mapping.DEFAULT_LIMITS),
        (REALISTIC_SPECS[3], mapping.DEFAULT_LIMITS),
    ],
    ids=["default", "default-small-limits", "truncating-small-limits", "custom", "option-labels"],
)
def test_realistic_customers(realistic: list[dict[str, Any]], spec: MappingSpec, limits: Mapping[str, int]) -> None:
    for customer in realistic:
        assert_same_mapping(customer, spec, limits)


def test_realistic_payload_hashes(realistic: list[dict[str, Any]]) -> None:
    for customer in realistic:
        result = mapping.map_customer(customer)
        if isinstance(result, mapping.MappedCustomer):
            assert mapping.payload_hash(result.payload) == reference.payload_hash(result.payload)


# ---- payload_hash ---------------------------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


class Text(str):
    __slots__ = ()


plain_values = st.none() | st.booleans() | text | st.text(st.characters(exclude_categories=()), max_size=30)
odd_values = (
    number
    | json_value
    | st.sampled_from([Colour.RED, Level.LOW, Text("a"), (1, "b"), 1e16, float("nan"), -0.0, 2**64, 10**30])
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(st.characters(exclude_categories=()), max_size=10), plain_values, max_size=10))
def test_payload_hash_of_text_payloads(payload: dict[str, Any]) -> None:
    assert mapping.payload_hash(payload) == reference.payload_hash(payload)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6) | st.sampled_from([Text("k"), 1, None, True, 2.5]), plain_values | odd_values, max_size=5
    )
)
def test_payload_hash_of_odd_payloads(payload: dict[str, Any]) -> None:
    """Numbers, nested values, enums, subclasses and keys that are not text: the standard library's answer,
    including its errors (keys of mixed types cannot be sorted)."""
    assert outcome(mapping.payload_hash, payload) == outcome(reference.payload_hash, payload)
    proxy = MappingProxyType(payload)
    assert outcome(mapping.payload_hash, proxy) == outcome(reference.payload_hash, proxy)


# ---- option labels: one text (option_label) or a list (option_labels) -----------------------------------------

OPTIONS = (("21", "Running"), ("22", "Cycling, road"), ("23", " Swimming "), ("24", ""), ("25", "Running"), ("0", "0"))
option_ids = weighted((12, st.sampled_from(["21", "22", "23", "24", "25", "0", " 22 ", ""])), (1, st.just("99")))
option_values = weighted((6, st.lists(option_ids, max_size=5).map(",".join)), (1, st.integers(0, 30)), (1, maybe_value))
labelled_customers = maybe_proxy(
    st.fixed_dictionaries(
        {
            "id": st.integers(1, 10**6),
            "email": emails,
            "lastname": text.filter(str.strip),
            "custom_attributes": st.tuples(option_values, option_values).map(
                lambda values: [
                    {"attribute_code": "tier", "value": values[0]},
                    {"attribute_code": "vip", "value": values[1]},
                ]
            ),
        },
        optional={
            "addresses": st.lists(
                st.fixed_dictionaries(
                    {"id": st.integers(1, 3), "default_billing": st.booleans()},
                    optional={
                        "custom_attributes": st.lists(
                            st.fixed_dictionaries({"attribute_code": st.just("tier"), "value": option_values})
                        )
                    },
                ),
                max_size=2,
            )
        },
    )
)
before_labels = st.lists(st.sampled_from(["trim", "default:21", "default: 22,23 ", "lowercase"]), max_size=2)
# after option_label anything; after option_labels only what a hand-built spec can put there (the parser refuses it)
after_labels = st.lists(st.sampled_from(["uppercase", "trim", "join_lines", "default:none", "constant:X", "bool"]),
                        max_size=2)  # fmt: skip
labelled_rules = st.builds(
    lambda field, root, code, before, name, after, read: FieldRule(
        field,
        SourcePath(root, ("custom_attributes", code)),
        (*map(parse_transform, before), Transform(name, None, OPTIONS if read else None), *map(parse_transform, after)),
    ),
    st.sampled_from(["Interests", "Tier", "VIP", "Notes"]),
    weighted((4, st.just("customer")), (1, st.sampled_from(["address", "billing"]))),
    st.sampled_from(["tier", "vip"]),
    before_labels,
    st.sampled_from(LABEL_TRANSFORMS),
    weighted((3, st.just([])), (1, after_labels)),
    weighted((6, st.just(True)), (1, st.just(False))),
)
labelled_specs = st.builds(
    lambda rules, truncating: MappingSpec(
        rules=(*build_spec().rules, *{rule.field: rule for rule in rules}.values()), truncate_long_values=truncating
    ),
    st.lists(labelled_rules, min_size=1, max_size=3),
    st.booleans(),
)


@SETTINGS
@given(labelled_customers, labelled_specs, limits)
def test_option_labels_and_their_lists(customer: Any, spec: MappingSpec, limits: Any) -> None:
    """Both label transforms, read or not, with transforms before and after them; a list's hash as well."""
    expected = assert_same_mapping(customer, spec, limits)
    record(expected)
    if isinstance(expected, reference.MappedCustomer):
        event("a list sent" if any(type(v) is list for v in expected.payload.values()) else "no list")
        assert mapping.payload_hash(expected.payload) == reference.payload_hash(expected.payload)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=8), plain_values | st.lists(plain_values, max_size=4), max_size=6))
def test_payload_hash_of_payloads_with_lists(payload: dict[str, Any]) -> None:
    """A list (option_labels') is hashed by its definition: JSON, its items in their order."""
    assert outcome(mapping.payload_hash, payload) == outcome(reference.payload_hash, payload)


#: Hashes written by the version before option_labels (stored in users' state files): the same customer under the
#: default mapping, and under a mapping of every kind of rule, gives them still.
GOLDEN_CUSTOMER = {
    "id": 42, "email": " Zoë.O'Brien@Example.COM ", "firstname": "Zoë", "lastname": 'O\'Brien "Jo"', "gender": 2,
    "default_billing": "7", "updated_at": "2024-03-01 08:15:00",
    "addresses": [{"id": 7, "street": ["Hauptstraße 1", "Hinterhaus"], "city": "Berlin", "postcode": "10115",
                   "country_id": "DE", "telephone": "030/1234567", "region": {"region": "Berlin"}}],
    "custom_attributes": [{"attribute_code": "interests", "value": "23,22"}, {"attribute_code": "vip", "value": "1"}],
    "extension_attributes": {"is_subscribed": True},
}  # fmt: skip
GOLDEN_RULES = {
    "Interests": "custom_attributes.interests | option_label",
    "Is_VIP": "custom_attributes.vip | bool",
    "Gender": "gender | gender",
    "Email_Opt_Out": "extension_attributes.is_subscribed | bool_to_opt_out",
    "Lead_Source": "constant:Magento",
}
INTERESTS_METADATA = {
    "frontend_input": "multiselect",
    "options": [{"label": " ", "value": ""}, *({"label": label, "value": value} for value, label in OPTIONS[:3])],
}


def test_the_hashes_of_existing_mappings_did_not_change() -> None:
    default = mapping.map_customer(GOLDEN_CUSTOMER)
    assert isinstance(default, mapping.MappedCustomer)
    assert mapping.payload_hash(default.payload) == "73d2de6c6772374da72f6641ff03d1a9876a3c91d219f005e2e39f0aa659fe4a"
    labelled = with_option_labels(build_spec(GOLDEN_RULES), lambda _entity, _code: INTERESTS_METADATA)
    every_kind = mapping.map_customer(GOLDEN_CUSTOMER, labelled)
    assert isinstance(every_kind, mapping.MappedCustomer)
    assert every_kind.payload["Interests"] == "Swimming, Cycling, road"  # ambiguous as text: why lists came
    assert mapping.payload_hash(every_kind.payload) == (
        "da5479e372253af4f440993b7bc235a993fc9cfe7e694736209c33890eb2afe3"
    )
    as_list = with_option_labels(
        build_spec({**GOLDEN_RULES, "Interests": "custom_attributes.interests | option_labels"}),
        lambda _entity, _code: INTERESTS_METADATA,
    )
    listed = mapping.map_customer(GOLDEN_CUSTOMER, as_list)
    assert isinstance(listed, mapping.MappedCustomer)
    assert listed.payload["Interests"] == ["Cycling, road", "Swimming"]
    assert mapping.payload_hash(listed.payload) == reference.payload_hash(listed.payload)
    assert mapping.payload_hash(listed.payload) != mapping.payload_hash(every_kind.payload)
