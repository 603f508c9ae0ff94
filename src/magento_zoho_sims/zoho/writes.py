"""The write rules of the records API: insert, update, upsert (duplicate checks, unique fields, mandatory ones),
delete and add_tags, what each answers per record, and the HTTP status of a batch from its records' outcomes."""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.errors import ZohoError, error_body, limit_exceeded
from magento_zoho_sims.zoho.fields import CONTACTS_MODULE_ID, SYSTEM_DUPLICATE_CHECK_FIELD, FieldSpec
from magento_zoho_sims.zoho.refusals import (
    SameRequestValues,
    all_failed,
    first_invalid,
    refusal,
    same_request_duplicate,
)
from magento_zoho_sims.zoho.store import Contact, ContactStore
from magento_zoho_sims.zoho.user import CURRENT_USER
from magento_zoho_sims.zoho.validation import blanked_mandatory, clean_record, missing_mandatory, parse_record_id

WriteOp = Literal["insert", "update", "upsert", "delete", "add_tags"]
MAX_RECORDS_PER_WRITE = 100
ALLOWED_TRIGGERS = frozenset({"workflow", "approval", "blueprint", "pathfinder", "orchestration"})
_PICKLISTS = frozenset({"picklist", "multiselectpicklist"})

# The HTTP status of a batch write, from the outcome of its records (reference §2.1). ONE table:
# (operation, outcome) → status, where outcome is all_failed, partial, or the kind of total success.
STATUS_POLICY: dict[tuple[str, str], int] = {
    ("insert", "all_inserted"): 201,
    ("update", "all_updated"): 200,
    ("upsert", "all_inserted"): 201,
    ("upsert", "all_updated"): 200,
    ("upsert", "mixed_actions"): 207,  # overridden by ZohoConfig.upsert_mixed_status
    ("delete", "all_deleted"): 200,
    ("add_tags", "all_updated"): 200,
    ("*", "partial"): 207,
    ("*", "all_failed"): 400,
}


def batch_status(op: str, results: Sequence[dict[str, Any]], *, upsert_mixed_status: int = 207) -> int:
    successes = [r for r in results if r.get("status") == "success"]
    if not successes:
        outcome = "all_failed"
    elif len(successes) < len(results):
        outcome = "partial"
    elif op == "upsert":
        actions = {r.get("action") for r in successes}
        outcome = "mixed_actions" if len(actions) > 1 else f"all_{'inserted' if actions == {'insert'} else 'updated'}"
        if outcome == "mixed_actions":
            return upsert_mixed_status
    else:
        outcome = {"insert": "all_inserted", "delete": "all_deleted"}.get(op, "all_updated")
    return STATUS_POLICY.get((op, outcome), STATUS_POLICY.get(("*", outcome), 200))


@dataclass(frozen=True)
class WriteRecord:
    """What the product sent on one write call (so tests can assert on ``trigger``)."""

    op: WriteOp
    at: float
    count: int
    trigger: list[Any] | None  # None: the key was absent (Zoho then runs every automation)
    duplicate_check_fields: list[Any] | None = None
    ids: tuple[str, ...] = field(default=())


class WriteRules(ABC):
    """The records API's writes over the org's state, mixed into :class:`~magento_zoho_sims.zoho.backend.ZohoBackend`
    (which holds that state and the lock)."""

    clock: Clock
    config: ZohoConfig
    lock: threading.RLock
    specs: dict[str, FieldSpec]
    unique_fields: tuple[str, ...]
    mandatory: tuple[str, ...]
    store: ContactStore
    writes: deque[WriteRecord]
    tags: dict[str, str]
    owner_ids: frozenset[str]

    @abstractmethod
    def new_id(self) -> int: ...

    @abstractmethod
    def system_details(self, contact: Contact) -> dict[str, Any]: ...

    def write(
        self,
        op: Literal["insert", "update", "upsert"],
        body: Any,
        *,
        path_id: str | None = None,
        if_unmodified_since: float | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Insert, update or upsert a batch; returns (HTTP status, response body)."""
        records, trigger, dcf = self._parse_envelope(body, op)
        now = self.clock.now()
        at_request_level = self.config.record_errors_at_request_level
        with self.lock:
            check = self._check_fields(dcf) if op == "upsert" else []
            self.writes.append(
                WriteRecord(op=op, at=now, count=len(records), trigger=trigger, duplicate_check_fields=dcf)
            )
            refused = None
            if op == "upsert" and self.config.same_batch_duplicates == "reject_request":
                refused = same_request_duplicate(self.store, records, check)
            if refused is None and at_request_level == "invalid_record":
                error = first_invalid(records, lambda rec, i: self._invalid(op, rec, i, check, path_id))
                refused = refusal(error) if error is not None else None
            if refused is not None:
                raise refused
            if op == "insert":
                results = [self._insert_one(rec, i, now, batch=set()) for i, rec in enumerate(records)]
            elif op == "update":
                results = [
                    self._update_one(rec, i, now, path_id=path_id, if_unmodified_since=if_unmodified_since)
                    for i, rec in enumerate(records)
                ]
            else:
                results = self._upsert_all(records, now, check)
        if at_request_level != "never" and all_failed(results):
            raise refusal(results[0])
        status = batch_status(op, results, upsert_mixed_status=self.config.upsert_mixed_status)
        if status == 400 and all(r["code"] == "ALREADY_MODIFIED" for r in results):
            status = 412
        return status, {"data": results}

    def _upsert_all(self, records: list[Any], now: float, check: list[str]) -> list[dict[str, Any]]:
        batch: set[int] = set()
        if self.config.same_batch_duplicates != "reject_second":
            return [self._upsert_one(rec, i, now, check, batch) for i, rec in enumerate(records)]
        values = SameRequestValues(self.store, check)
        results: list[dict[str, Any]] = []
        for i, rec in enumerate(records):
            twin = values.earlier(rec, i)
            written = results[twin[1]] if twin is not None else None
            if twin is not None and written is not None and written["status"] == "success":
                results.append(self._duplicate(twin[0], i, int(written["details"]["id"])))
            else:
                results.append(self._upsert_one(rec, i, now, check, batch))
        return results

    def _invalid(
        self, op: str, record: Any, index: int, check: list[str], path_id: str | None
    ) -> dict[str, Any] | None:
        """The error validation gives ``record`` (its fields, mandatory ones, an update's id), before any write."""
        if op == "update":
            target = self._target(record, index, path_id)
            if not isinstance(target, Contact):
                return target
        values, error = self._clean(record, index)
        if error is not None:
            return error
        if op == "update" or (op == "upsert" and any(self.store.lookup(name, values.get(name)) for name in check)):
            return blanked_mandatory(values, self.mandatory, index)
        return missing_mandatory(values, self.mandatory, index)

    def _parse_envelope(self, body: Any, op: str) -> tuple[list[Any], list[Any] | None, list[Any] | None]:
        if not isinstance(body, dict):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
        data = body.get("data")
        if data is None:
            raise ZohoError(
                400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data", "json_path": "$.data"}
            )
        if not isinstance(data, list):
            raise ZohoError(
                400,
                "INVALID_DATA",
                "invalid data",
                {"api_name": "data", "json_path": "$.data", "expected_data_type": "jsonarray"},
            )
        if not data:
            raise ZohoError(
                400, "INVALID_DATA", "invalid data", {"api_name": "data", "json_path": "$.data", "minimum_length": 1}
            )
        if len(data) > MAX_RECORDS_PER_WRITE:
            raise limit_exceeded("data", MAX_RECORDS_PER_WRITE, "$.data")
        trigger = body.get("trigger")
        if trigger is not None and (not isinstance(trigger, list) or any(t not in ALLOWED_TRIGGERS for t in trigger)):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"api_name": "trigger", "json_path": "$.trigger"})
        dcf = body.get("duplicate_check_fields") if op == "upsert" else None
        if dcf is not None and (not isinstance(dcf, list) or not all(isinstance(f, str) for f in dcf)):
            raise ZohoError(
                400,
                "INVALID_DATA",
                "invalid data",
                {"api_name": "duplicate_check_fields", "json_path": "$.duplicate_check_fields"},
            )
        return data, trigger, dcf

    def _check_fields(self, dcf: list[str] | None) -> list[str]:
        """Duplicate-check order: Email then user-defined unique fields, or the given list (Email ignored if absent)."""
        if dcf is None:
            return [SYSTEM_DUPLICATE_CHECK_FIELD, *self.unique_fields]
        for n, name in enumerate(dcf):
            if name != SYSTEM_DUPLICATE_CHECK_FIELD and name not in self.unique_fields:
                raise ZohoError(
                    400,
                    "INVALID_DATA",
                    "invalid data",
                    {"api_name": name, "json_path": f"$.duplicate_check_fields[{n}]"},
                )
        return list(dict.fromkeys(dcf))

    def _result(self, contact: Contact, message: str, **extra: Any) -> dict[str, Any]:
        return {
            "code": "SUCCESS",
            **extra,
            "details": self.system_details(contact),
            "message": message,
            "status": "success",
        }

    def _duplicate(self, api_name: str, index: int, existing: int) -> dict[str, Any]:
        return error_body(
            "DUPLICATE_DATA",
            "duplicate data",
            {
                "api_name": api_name,
                "json_path": f"$.data[{index}].{api_name}",
                "duplicate_record": {
                    "module": {"api_name": "Contacts", "id": CONTACTS_MODULE_ID},
                    "id": str(existing),
                    "Owner": {"name": CURRENT_USER["name"], "id": CURRENT_USER["id"]},
                },
            },
        )

    def _unique_conflict(self, values: dict[str, Any], index: int, self_id: int | None) -> dict[str, Any] | None:
        """DUPLICATE_DATA when a value of a unique field (Email when the org enforces it) is held by another record."""
        names = [*self.unique_fields]
        if self.config.email_unique:
            names.insert(0, "Email")
        for name in names:
            if name not in values:
                continue
            others = [cid for cid in self.store.lookup(name, values[name]) if cid != self_id]
            if others:
                return self._duplicate(name, index, others[0])
        return None

    def _clean(self, record: Any, index: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
        return clean_record(
            record,
            index,
            self.specs,
            reject_unknown=self.config.reject_unknown_fields,
            owner_ids=self.owner_ids,
            numeric_strings=self.config.numeric_strings,
            utf16_lengths=self.config.utf16_lengths,
            phone_parentheses=self.config.phone_parentheses,
            reject_unknown_choices=self.config.multiselect_unknown_values == "reject",
        )

    def _add_choices(self, values: dict[str, Any]) -> None:
        """Values a picklist took that its pick list lacked are added to it (an unrestricted single picklist, as
        documented; a multi-select one as ``multiselect_unknown_values`` says)."""
        for name, value in values.items():
            spec = self.specs.get(name)
            if spec is None or spec.data_type not in _PICKLISTS:
                continue
            if spec.data_type == "multiselectpicklist" and isinstance(value, list):
                new = tuple(v for v in dict.fromkeys(value) if v not in spec.picklist)
            elif spec.data_type == "picklist" and isinstance(value, str) and value not in spec.picklist:
                new = (value,)
            else:
                continue
            if new:
                self.specs[name] = replace(spec, picklist=spec.picklist + new)

    def _insert_one(self, record: Any, index: int, now: float, *, batch: set[int]) -> dict[str, Any]:
        values, error = self._clean(record, index)
        if error is not None:
            return error
        return self._insert_values(values, index, now, batch=batch)

    def _insert_values(self, values: dict[str, Any], index: int, now: float, *, batch: set[int]) -> dict[str, Any]:
        error = missing_mandatory(values, self.mandatory, index) or self._unique_conflict(values, index, None)
        if error is not None:
            return error
        contact = Contact(self.new_id(), now, {k: v for k, v in values.items() if v is not None})
        self.store.add(contact)
        self._add_choices(values)
        batch.add(contact.id)
        return self._result(contact, "record added")

    def _apply_update(self, contact: Contact, values: dict[str, Any], now: float) -> None:
        self._add_choices(values)
        merged = contact.values()
        for name, value in values.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        self.store.replace_values(contact, merged, now)

    def _target(self, record: Any, index: int, path_id: str | None) -> Contact | dict[str, Any]:
        """The contact an update names by its ``id``, or the error: no id, or one no contact has."""
        raw_id = path_id if path_id is not None else (record.get("id") if isinstance(record, dict) else None)
        if raw_id is None:
            return error_body(
                "MANDATORY_NOT_FOUND",
                "You have not specified unique ID of the record",
                {"api_name": "id", "json_path": f"$.data[{index}].id"},
            )
        contact_id = parse_record_id(raw_id)
        contact = self.store.get(contact_id) if contact_id is not None else None
        if contact is None:
            return error_body("INVALID_DATA", "the id given seems to be invalid", {"id": str(raw_id)})
        return contact

    def _update_one(
        self, record: Any, index: int, now: float, *, path_id: str | None, if_unmodified_since: float | None
    ) -> dict[str, Any]:
        contact = self._target(record, index, path_id)
        if not isinstance(contact, Contact):
            return contact  # the error
        values, error = self._clean(record, index)
        if error is None:
            error = blanked_mandatory(values, self.mandatory, index) or self._unique_conflict(values, index, contact.id)
        if error is not None:
            return error
        if if_unmodified_since is not None and contact.modified > if_unmodified_since:
            return error_body(
                "ALREADY_MODIFIED",
                "Record updated time has already passed if-unmodified-since time",
                {"id": str(contact.id)},
            )
        self._apply_update(contact, values, now)
        return self._result(contact, "record updated")

    def _match(
        self, name: str, value: Any, batch: set[int], index: int
    ) -> tuple[Contact | None, dict[str, Any] | None]:
        ids = self.store.lookup(name, value)
        if self.config.same_batch_duplicates == "insert_both":
            ids = [cid for cid in ids if cid not in batch]
        if not ids:
            return None, None
        if len(ids) > 1:
            policy = self.config.duplicate_match
            if policy == "error":
                return None, self._duplicate(name, index, ids[0])
            chosen = ids[0] if policy == "oldest" else ids[-1]
        else:
            chosen = ids[0]
        return self.store.get(chosen), None

    def _upsert_one(self, record: Any, index: int, now: float, check: list[str], batch: set[int]) -> dict[str, Any]:
        values, error = self._clean(record, index)
        if error is not None:
            return error
        for name in check:
            contact, error = self._match(name, values.get(name), batch, index)
            if error is not None:
                return error
            if contact is not None:
                error = blanked_mandatory(values, self.mandatory, index) or self._unique_conflict(
                    values, index, contact.id
                )
                if error is not None:
                    return error
                self._apply_update(contact, values, now)
                return self._result(contact, "record updated", duplicate_field=name, action="update")
        result = self._insert_values(values, index, now, batch=batch)
        if result["status"] == "success":
            return {
                "code": "SUCCESS",
                "duplicate_field": None,
                "action": "insert",
                **{k: result[k] for k in ("details", "message", "status")},
            }
        return result

    def delete(self, raw_ids: Sequence[str]) -> tuple[int, dict[str, Any]]:
        if len(raw_ids) > MAX_RECORDS_PER_WRITE:
            raise limit_exceeded("ids", MAX_RECORDS_PER_WRITE)
        parsed = [parse_record_id(raw) for raw in raw_ids]
        if any(p is None for p in parsed):
            raise ZohoError(
                400,
                "UNABLE_TO_PARSE_DATA_TYPE",
                "either the request body or parameters is in wrong format",
                {"param_name": "ids"},
            )
        now = self.clock.now()
        results: list[dict[str, Any]] = []
        with self.lock:
            for raw, contact_id in zip(raw_ids, parsed, strict=True):
                contact = self.store.get(contact_id) if contact_id is not None else None
                if contact is None:
                    results.append(error_body("INVALID_DATA", "record not deleted", {"id": raw}))
                    continue
                self.store.delete(contact, now)
                results.append(
                    {"code": "SUCCESS", "details": {"id": raw}, "message": "record deleted", "status": "success"}
                )
            self.writes.append(WriteRecord(op="delete", at=now, count=len(raw_ids), trigger=None, ids=tuple(raw_ids)))
        return batch_status("delete", results), {"data": results}

    def add_tags(self, body: Any, query_ids: Sequence[str]) -> tuple[int, dict[str, Any]]:
        """``POST /Contacts/actions/add_tags``: body ``{"tags":[{"name":…}], "ids":[…]}`` (or ids in the query)."""
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list) or not body["tags"]:
            raise ZohoError(
                400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "tags", "json_path": "$.tags"}
            )
        ids = body.get("ids", list(query_ids))
        if not isinstance(ids, list) or not ids:
            raise ZohoError(
                400, "MANDATORY_NOT_FOUND", "required field not found", {"api_name": "ids", "json_path": "$.ids"}
            )
        if len(ids) > MAX_RECORDS_PER_WRITE:
            raise limit_exceeded("ids", MAX_RECORDS_PER_WRITE, "$.ids")
        names: list[str] = []
        for n, tag in enumerate(body["tags"]):
            name = tag.get("name") if isinstance(tag, dict) else None
            if not isinstance(name, str) or not name.strip() or len(name) > 25:
                raise ZohoError(
                    400,
                    "INVALID_DATA",
                    "invalid data",
                    {"api_name": "name", "json_path": f"$.tags[{n}].name", "maximum_length": "25"},
                )
            names.append(name.strip())
        now = self.clock.now()
        results: list[dict[str, Any]] = []
        with self.lock:
            for name in names:
                self.tags.setdefault(name, str(self.new_id()))
            for raw in ids:
                contact_id = parse_record_id(raw)
                contact = self.store.get(contact_id) if contact_id is not None else None
                if contact is None:
                    results.append(error_body("INVALID_DATA", "the id given seems to be invalid", {"id": str(raw)}))
                    continue
                current = {t["name"]: t for t in (contact.get("Tag") or [])}
                for name in names:
                    current.setdefault(name, {"name": name, "id": self.tags[name], "color_code": "#57B1FD"})
                self._apply_update(contact, {"Tag": list(current.values())}, now)
                results.append(
                    {
                        "code": "SUCCESS",
                        "details": {
                            "id": str(contact.id),
                            "tags": [
                                {"name": t["name"], "id": t["id"], "color_code": t.get("color_code")}
                                for t in current.values()
                            ],
                        },
                        "message": "tags updated successfully",
                        "status": "success",
                    }
                )
            self.writes.append(
                WriteRecord(op="add_tags", at=now, count=len(ids), trigger=None, ids=tuple(map(str, ids)))
            )
        return batch_status("add_tags", results), {"data": results}


def write_credits(count: int) -> int:
    """Insert/update/upsert cost one credit per ten records (Kaizen #103)."""
    return max(1, math.ceil(count / 10))
