"""The Zoho fields the settings name, checked against the org's Contacts fields (``GET /settings/fields``).

A mapping onto a field the org does not have (or cannot be set from a text: a lookup, a formula), values of
another kind than the field takes (text on a yes/no or number field, Magento's times on a date-time field, text
on a multi-select picklist, which takes the list ``option_labels`` makes, or that list on any other field: see
:mod:`.mapping_kinds`), a field the org made mandatory that the mapping leaves empty, or upserts matched on a
field that is not unique, would make Zoho refuse every record of every batch: a configuration error, which
must stop the run (exit 2) with what to fix, not end as thousands of per-customer failures that are retried and
then parked. The same answer gives the org's field lengths, which may be shorter than the stock ones. An answer
that lists no field at all (``{}``, ``{"fields": null}``, HTTP 204) checks nothing: it is an error too
(:data:`NO_FIELDS`), never a check passed.

The sync makes the check (one credit) before the first customer it maps: on the first run with a state file, on the
first after the mapping or the upsert keys change, on every full run (a scheduled one comes every 24 hours by
default, so a field an admin adds, removes, renames, makes mandatory or shortens in Zoho is found within a day),
and on a run after one in which Zoho refused a record over one of its fields (:func:`refused_a_field`). An
unchanged incremental run makes none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from magento_zoho_sync.mapping_config import DEFAULT_RULES, FieldRule, MappingSpec
from magento_zoho_sync.mapping_kinds import LIST_TYPE, a_type, kind_problem, output_kind
from magento_zoho_sync.zoho.records import FieldMeta

__all__ = [
    "FIELD_REFUSAL_CODES",
    "NO_FIELDS",
    "NO_FIELDS_FIX",
    "SYSTEM_DUPLICATE_CHECK_FIELD",
    "field_problems",
    "refused_a_field",
    "signature",
    "targets",
]

#: Zoho's own duplicate-check field of Contacts: upserts may always match on it.
SYSTEM_DUPLICATE_CHECK_FIELD = "Email"

_API_NAMES = "Zoho CRM > Setup > Developer Hub > APIs > API names > Contacts"

#: Zoho's answer listed no Contacts field: neither the mapping nor the field lengths can be checked against it.
NO_FIELDS = "Zoho listed no Contacts fields (GET /crm/v8/settings/fields?module=Contacts)"
NO_FIELDS_FIX = (
    "Zoho lists the Contacts fields to every user whose profile may read them: check the profile of the Zoho user "
    "who made the refresh token (Setup > Users and Control > Profiles: Contacts and its fields), and that nothing "
    "between this machine and ZOHO_API_URL (a proxy) rewrites Zoho's answer; then run `magento-zoho-sync doctor`."
)

#: Field types a record cannot set from a text, yes/no or number value, nor from a list of labels (lookups need
#: an id object, files an upload, ...). A multi-select picklist takes the list ``option_labels`` makes.
_UNWRITABLE_TYPES = frozenset(
    {
        "lookup",
        "ownerlookup",
        "userlookup",
        "multiselectlookup",
        "multiuserlookup",
        "subform",
        "fileupload",
        "imageupload",
        "profileimage",
        "formula",
        "autonumber",
        "rollup_summary",
    }
)


#: JSON values no mapping rule makes (a lookup's ``{"id": ...}``, a list of ids or records): a field of another type
#: than those above that takes one cannot be filled either, a multi-select picklist's list of labels apart.
_OBJECT_JSON_TYPES = frozenset({"jsonobject", "jsonarray"})


#: Zoho's codes for a record refused over one of its fields: a mandatory field left empty, or a value a field does
#: not take (a field the org does not have, a value of another type, longer than the field), with the field named
FIELD_REFUSAL_CODES = ("MANDATORY_NOT_FOUND", "INVALID_DATA")


def refused_a_field(errors: Iterable[tuple[str, Mapping[str, Any]]]) -> bool:
    """Whether any of these failures (code, details) is Zoho refusing a record over one of its fields: what a change
    of the org's fields since they were checked makes. An ``INVALID_DATA`` that names no field (a stale contact
    id) is not one."""
    for code, details in errors:
        field = details.get("api_name")
        if code == "MANDATORY_NOT_FOUND" or (code == "INVALID_DATA" and isinstance(field, str) and field != "id"):
            return True
    return False


def _drop(rule: FieldRule) -> str:
    """How to stop sending a field: a rule of the default mapping was never written in [mapping.fields]."""
    if rule in DEFAULT_RULES:
        return f"drop it with {rule.field} = false under [mapping.fields] (a field of the default mapping)"
    return "remove it from [mapping.fields]"


def targets(spec: MappingSpec) -> list[str]:
    """The Zoho fields the mapping writes, in order."""
    return list(dict.fromkeys(rule.field for rule in spec.rules))


def signature(spec: MappingSpec, duplicate_check_fields: Sequence[str]) -> str:
    """What was checked (each field with the kind of value it is sent), to check it again when the settings
    change."""
    kinds = sorted(f"{rule.field}:{output_kind(rule)}" for rule in spec.rules)
    return "fields=" + ",".join(kinds) + ";match=" + ",".join(duplicate_check_fields)


def field_problems(spec: MappingSpec, duplicate_check_fields: Sequence[str], fields: Iterable[FieldMeta]) -> list[str]:
    """Each problem as ``setting: what is wrong; what to do``; none when Zoho's metadata lists no field at all (the
    callers refuse such an answer first: :data:`NO_FIELDS`)."""
    known = {meta.api_name: meta for meta in fields}
    if not known:
        return []
    problems: list[str] = []
    rules = {rule.field: rule for rule in spec.rules}
    for name in targets(spec):
        meta = known.get(name)
        if meta is None:
            problems.append(
                f"mapping.fields: Zoho's Contacts module has no field {name!r}; use the field's API name "
                f"({_API_NAMES}) or {_drop(rules[name])}"
            )
        elif meta.read_only:
            problems.append(
                f"mapping.fields: Zoho's Contacts field {name!r} is read-only; map onto another field or "
                + _drop(rules[name])
            )
        elif meta.data_type.lower() in _UNWRITABLE_TYPES or (
            meta.json_type in _OBJECT_JSON_TYPES and meta.data_type.lower() != LIST_TYPE
        ):
            problems.append(
                f"mapping.fields: Zoho's Contacts field {name!r} is {a_type(meta.data_type)} field, which the mapping "
                f"cannot fill (it sends text, numbers, yes/no values and lists of picklist labels); "
                f"{_drop(rules[name])}"
            )
        elif (problem := kind_problem(rules[name], meta.data_type, meta.json_type)) is not None:
            problems.append(problem)
    mapped = set(targets(spec))
    for meta in known.values():
        if meta.system_mandatory and meta.api_name not in mapped and not meta.read_only:
            problems.append(
                f"mapping.fields: Zoho's Contacts field {meta.api_name!r} is mandatory in this org but the mapping "
                f'does not fill it; map it in [mapping.fields] ({meta.api_name} = "<Magento path>", or '
                f'"constant:<value>"), or make it optional in Zoho'
            )
    for name in duplicate_check_fields:
        meta = known.get(name)
        if meta is None:
            problems.append(
                f"zoho.duplicate_check_fields: Zoho's Contacts module has no field {name!r}; use the field's "
                f"API name ({_API_NAMES}) or {SYSTEM_DUPLICATE_CHECK_FIELD}"
            )
        elif name != SYSTEM_DUPLICATE_CHECK_FIELD and not meta.unique:
            problems.append(
                f"zoho.duplicate_check_fields: {name!r} is not a unique field in Zoho, and upserts can only match "
                f"on unique fields; tick 'Do not allow duplicate values' on it in Zoho, or use "
                f"{SYSTEM_DUPLICATE_CHECK_FIELD}"
            )
    return problems
