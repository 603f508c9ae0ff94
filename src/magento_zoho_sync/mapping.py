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

Rules every payload obeys: a missing or empty Magento value is **left out** (never sent as ``""``, nor an empty
multiselect as ``[]``, which would blank the CRM field); text is sent as Magento has it (quotes, backslashes,
unicode), only trimmed; ``option_labels`` sends a list of labels as a JSON array (``payload_hash`` hashes it with
its order, which is the attribute's option order, so one set of options is one hash); a value
longer than the Zoho field allows is a per-customer ``VALUE_TOO_LONG`` failure unless the mapping says to
truncate (Email is never truncated).

The mapping runs once per customer of the store, so it is written for speed. A :class:`MappingSpec` is compiled
(:mod:`.mapping_compile`, over the paths and values of :mod:`.mapping_values`) once into a generated function, a
straight run of code per rule (fetch, transforms, clean, store), cached per spec; exact-type checks
(``type(v) is dict``) come before the slow ``isinstance(v, Mapping)`` ABC checks; the address is chosen once per
customer, where a rule first reads it; the exact UTF-16 length of a text is counted only when it is longer than
half its field's limit; the id of each address read is kept (:mod:`.mapping_addresses`), as an f-string when
it is an integer. ``payload_hash`` serialises with orjson and falls back to the standard library whenever
orjson could write other bytes (the hashes are stored). The results are exactly those of the simple
implementation kept in ``tests/unit/mapping_reference.py`` (the address ids, which it predates, those of a simple
definition), as ``tests/unit/test_mapping_equivalence.py`` checks; ``bench/bench_mapping.py`` times both.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from magento_zoho_sync.mapping_addresses import with_left_out
from magento_zoho_sync.mapping_compile import PLANS, plan_for
from magento_zoho_sync.mapping_config import DEFAULT_SPEC, MappingSpec
from magento_zoho_sync.mapping_values import (
    ERROR_CODES,
    INVALID_EMAIL,
    MAPPING_ERROR,
    MISSING_EMAIL,
    MISSING_LAST_NAME,
    VALUE_TOO_LONG,
    MappingProblem,
    default_address,
    main_address,
    resolve,
)

__all__ = [
    "DEFAULT_LIMITS",
    "ERROR_CODES",
    "INVALID_EMAIL",
    "MAPPING_ERROR",
    "MAX_INT",
    "MISSING_EMAIL",
    "MISSING_LAST_NAME",
    "NEVER_TRUNCATE",
    "VALUE_TOO_LONG",
    "MappedCustomer",
    "MappingFailure",
    "Merge",
    "default_address",
    "int_from_digits",
    "is_valid_email",
    "limits_from_fields",
    "main_address",
    "map_customer",
    "merge_by_email",
    "normalise_email",
    "payload_hash",
    "resolve",
    "truncate",
    "zoho_length",
]

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

# A lone UTF-16 surrogate (text no UTF-8 can hold) is not valid either: the state could not store the email. Nor
# are a control character or a domain label that starts or ends with a hyphen: no mailbox has them, and Zoho refuses
# them (INVALID_DATA, a credit spent and the fields read again on the next run, for a message less clear).
_EMAIL = re.compile(
    r"^(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}(?<!\.)"
    r"@(?:(?!-)[^\s@.,;:\"()<>\[\]\\_\x00-\x1f\x7f-\x9f\ud800-\udfff]+(?<!-)\.)+"
    r"(?!-)[^\s@.,;:\"()<>\[\]\\_\x00-\x1f\x7f-\x9f\ud800-\udfff]{2,}(?<!-)$"
)
#: The highest id (or number) taken: SQLite's integers are 64-bit.
MAX_INT: Final = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
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
    #: The ids of the addresses the mapping read, by source, each with the marker of the fields it left out
    #: (``"a12~36.0d9b"``: :mod:`.mapping_addresses`); None for none.
    address_ids: str | None = None


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


def too_long_detail(field: str, value: str, length: int, limit: int) -> str:
    """``First_Name has 41 characters, Zoho allows 40`` for a ``VALUE_TOO_LONG`` message. ``length`` is Zoho's count
    (:func:`zoho_length`); where it differs from the characters a person counts (an emoji counts 2), both are
    given, so that "60 characters" for a name of 30 emoji does not read as a miscount."""
    if length == len(value):
        return f"{field} has {length} characters, Zoho allows {limit}"
    written = f"{len(value)} as written: an emoji counts 2"
    return f"{field} has {length} characters as Zoho counts them ({written}), Zoho allows {limit}"


def _joins_previous(char: str) -> bool:
    """A character drawn as part of the one before it: a combining mark (the accent of a decomposed "é"), a
    variation selector, an emoji skin tone or tag (subdivision flags)."""
    code = ord(char)
    return (
        0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or unicodedata.category(char) in ("Mn", "Mc", "Me")
    )


def _regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def cluster_start(text: str, end: int) -> int:
    """The largest cut ``<= end`` that splits no character as a person sees it: not before a combining mark, a
    variation selector or a skin tone, not after a zero-width joiner (👨‍👩‍👧 is one sign), not inside a flag (a pair
    of regional indicators, counted from the first of a run)."""
    while 0 < end < len(text):
        char, before = text[end], text[end - 1]
        if before == "\u200d" or char == "\u200d" or _joins_previous(char):
            end -= 1
            continue
        if _regional_indicator(char) and _regional_indicator(before):
            run = end
            while run > 0 and _regional_indicator(text[run - 1]):
                run -= 1
            if (end - run) % 2:
                end -= 1
                continue
        break
    return end


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` UTF-16 units without splitting a character, nor what shows as one (an
    emoji sequence, a flag, a letter and its accent: :func:`cluster_start`); trailing spaces dropped."""
    if zoho_length(text) <= limit:
        return text
    kept = 0
    used = 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > limit:
            break
        kept += 1
        used += size
    return text[: cluster_start(text, kept)].rstrip()


def limits_from_fields(fields: Iterable[Any], base: Mapping[str, int] = DEFAULT_LIMITS) -> dict[str, int]:
    """``base`` overlaid with the lengths from Zoho's fields metadata (objects or dicts with api_name, length)."""
    limits = dict(base)
    for meta in fields:
        get = meta.get if isinstance(meta, Mapping) else lambda key, m=meta: getattr(m, key, None)
        name, length = get("api_name"), get("length")
        if isinstance(name, str) and isinstance(length, int) and not isinstance(length, bool) and length > 0:
            limits[name] = length
    return limits


# ---- customers ------------------------------------------------------------------------------------------------


def _customer_id(raw: Any) -> int:
    value = _optional_int(raw)
    return 0 if value is None else value


def _optional_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int_from_digits(value.strip()) if isinstance(value, str) else None


def int_from_digits(text: str) -> int | None:
    """The number ``text`` writes in 1 to 19 ASCII digits, if SQLite can hold it (at most :data:`MAX_INT`); else
    None. The Magento client reads ids with it too, so that an id it takes is never "no valid id" here."""
    if _DIGITS.fullmatch(text) is None:
        return None
    number = int(text)
    return number if number <= MAX_INT else None


def _raw_email(customer: Mapping[str, Any]) -> str | None:
    email = customer.get("email")
    return normalise_email(email) or None if isinstance(email, str) else None


def _checked_email(payload: dict[str, Any]) -> str:
    """The normalised email, written back to the payload; the email and the last name are required."""
    email = payload.get("Email")
    if email is None:
        raise MappingProblem(MISSING_EMAIL, "the customer has no email address", "Email")
    if not isinstance(email, str):
        raise MappingProblem(INVALID_EMAIL, "the mapped email is not text", "Email")
    email_norm = normalise_email(email)
    if not is_valid_email(email_norm):
        raise MappingProblem(INVALID_EMAIL, "the email address is not valid", "Email")
    payload["Email"] = email_norm
    if not isinstance(payload.get("Last_Name"), str):
        raise MappingProblem(MISSING_LAST_NAME, "the customer has no last name, which Zoho requires", "Last_Name")
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
            raise MappingProblem(MAPPING_ERROR, "the Magento customer has no valid id")
        cached = PLANS.get(id(spec))
        plan = cached[1] if cached is not None and cached[0] is spec else plan_for(spec)
        payload, address_ids = plan.run(customer)
        email_norm = _checked_email(payload)
        truncated = _enforce_limits(payload, limits, spec.truncate_long_values, spec.whole_fields)
        if truncated and address_ids is not None:  # a value cut to nothing is not sent after all
            address_ids = with_left_out(address_ids, plan.address_fields, [f for f in truncated if f not in payload])
    except MappingProblem as problem:
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
        address_ids,
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


def _enforce_limits(
    payload: dict[str, Any], limits: Mapping[str, int], truncate_long: bool, whole: frozenset[str] = NEVER_TRUNCATE
) -> tuple[str, ...]:
    """Cut the long values when the mapping allows it (returns the fields cut), else a ``VALUE_TOO_LONG`` problem.
    The ``whole`` fields are never cut (the email; phone numbers)."""
    truncated: list[str] = []
    too_long: list[tuple[str, str, int, int]] = []
    for name, value, length, limit in _long_values(payload, limits):
        if truncate_long and name not in whole:
            cut = truncate(value, limit)
            if cut:
                payload[name] = cut
            else:
                del payload[name]
            truncated.append(name)
        else:
            too_long.append((name, value, length, limit))
    if too_long:
        details = ", ".join(too_long_detail(*item) for item in too_long)
        fields = {f for f, _, _, _ in too_long}
        if not fields <= whole:
            hint = " (or set truncate_long_values)"
        else:
            hint = "" if fields <= NEVER_TRUNCATE else " (a phone number is never cut: fix it in Magento)"
        raise MappingProblem(VALUE_TOO_LONG, f"value too long: {details}{hint}", too_long[0][0])
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
