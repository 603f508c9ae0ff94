"""The Zoho fields the settings name, checked against the org's Contacts fields (``GET /settings/fields``).

A mapping onto a field the org does not have, or upserts matched on a field that is not unique, would make
Zoho refuse every record of every batch: a configuration error, which must stop the run (exit 2) with what
to fix, not end as thousands of per-customer failures that are retried and then parked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from magento_zoho_sync.mapping import DEFAULT_LIMITS
from magento_zoho_sync.mapping_config import MappingSpec
from magento_zoho_sync.zoho.records import FieldMeta

__all__ = ["SYSTEM_DUPLICATE_CHECK_FIELD", "field_problems", "needs_check", "signature", "targets"]

#: Zoho's own duplicate-check field of Contacts: upserts may always match on it.
SYSTEM_DUPLICATE_CHECK_FIELD = "Email"

#: Stock Contacts fields (those of the default mapping): every org has them, so a mapping onto them alone
#: needs no metadata call.
_STOCK = frozenset(DEFAULT_LIMITS)

_API_NAMES = "Zoho CRM > Setup > Developer Hub > APIs > API names > Contacts"


def targets(spec: MappingSpec) -> list[str]:
    """The Zoho fields the mapping writes, in order."""
    return list(dict.fromkeys(rule.field for rule in spec.rules))


def needs_check(spec: MappingSpec, duplicate_check_fields: Sequence[str]) -> bool:
    """Whether the settings name a field beyond the stock ones (only then is the metadata worth a call)."""
    return not set(targets(spec)) <= _STOCK or list(duplicate_check_fields) != [SYSTEM_DUPLICATE_CHECK_FIELD]


def signature(spec: MappingSpec, duplicate_check_fields: Sequence[str]) -> str:
    """What was checked, to check it again only when the settings change."""
    return "fields=" + ",".join(sorted(targets(spec))) + ";match=" + ",".join(duplicate_check_fields)


def field_problems(spec: MappingSpec, duplicate_check_fields: Sequence[str], fields: Iterable[FieldMeta]) -> list[str]:
    """Each problem as ``setting: what is wrong; what to do``; none when Zoho's metadata lists no field at all."""
    known = {meta.api_name: meta for meta in fields}
    if not known:
        return []  # nothing to check against (Zoho answered no metadata): the first batch will tell
    problems: list[str] = []
    for name in targets(spec):
        meta = known.get(name)
        if meta is None:
            problems.append(
                f"mapping.fields: Zoho's Contacts module has no field {name!r}; use the field's API name "
                f"({_API_NAMES}) or remove it from [mapping.fields]"
            )
        elif meta.read_only:
            problems.append(
                f"mapping.fields: Zoho's Contacts field {name!r} is read-only; map onto another field or remove it"
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
