"""Writes answered as a whole, and records of one upsert that share a duplicate-check value. No HTTP here.

Two behaviours of Zoho that the reference leaves open ([UNVERIFIED]), each a switch of :class:`ZohoConfig`:

- ``record_errors_at_request_level``: the records Zoho refuses may come back as ONE top-level error (HTTP 400,
  the flat ``{"code", "details", "message", "status"}`` body, its ``json_path`` naming ``$.data[i]``) instead of
  ``{"data": [a result per record]}``: when every record failed (``all_failed``: the first record's error), and
  also (``invalid_record``) when one record fails validation, which then refuses the request with nothing written;
- ``same_batch_duplicates``: two records of one upsert with the same email (or value of another duplicate-check
  field): the second refused with ``DUPLICATE_DATA`` (``reject_second``), or the whole request (``reject_request``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from magento_zoho_sims.zoho.errors import ZohoError, error_body
from magento_zoho_sims.zoho.store import ContactStore

#: (record, index) → the first error that record's validation gives, or None.
Validator = Callable[[Any, int], dict[str, Any] | None]


def refusal(error: dict[str, Any]) -> ZohoError:
    """One record's error as the top-level answer of its request (412 for ALREADY_MODIFIED, else 400)."""
    status = 412 if error.get("code") == "ALREADY_MODIFIED" else 400
    return ZohoError(status, str(error.get("code")), str(error.get("message")), error.get("details") or {})


def all_failed(results: Sequence[dict[str, Any]]) -> bool:
    return bool(results) and all(result.get("status") != "success" for result in results)


def first_invalid(records: Sequence[Any], validate: Validator) -> dict[str, Any] | None:
    """The error of the first record that fails validation (``invalid_record``: it refuses the whole request)."""
    for index, record in enumerate(records):
        error = validate(record, index)
        if error is not None:
            return error
    return None


class SameRequestValues:
    """The duplicate-check values the earlier records of one upsert hold (compared by each field's index rule)."""

    def __init__(self, store: ContactStore, check: Sequence[str]) -> None:
        self.store = store
        self.check = [name for name in check if name in store.indexes]
        self._seen: dict[tuple[str, str], int] = {}

    def earlier(self, record: Any, index: int) -> tuple[str, int] | None:
        """(field, index of the earlier record) when an earlier record of the request holds one of ``record``'s
        duplicate-check values; then remembers this record's values."""
        if not isinstance(record, dict):
            return None
        found: tuple[str, int] | None = None
        for name in self.check:
            value = record.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            key = (name, self.store.indexes[name].key(value))
            if found is None and key in self._seen:
                found = (name, self._seen[key])
            self._seen.setdefault(key, index)
        return found


def same_request_duplicate(store: ContactStore, records: Sequence[Any], check: Sequence[str]) -> ZohoError | None:
    """``reject_request``: the upsert refused as a whole, naming the first record that repeats an earlier one's
    value (nothing written)."""
    values = SameRequestValues(store, check)
    for index, record in enumerate(records):
        twin = values.earlier(record, index)
        if twin is not None:
            name = twin[0]
            details = {"api_name": name, "json_path": f"$.data[{index}].{name}"}
            return refusal(error_body("DUPLICATE_DATA", "duplicate data", details))
    return None
