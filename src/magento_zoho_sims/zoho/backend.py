"""The simulated Zoho org: its contacts, fields, tags and the log of writes, and how a contact reads back. The
write rules are in :mod:`magento_zoho_sims.zoho.writes`; no HTTP here."""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.zoho.config import ZohoConfig
from magento_zoho_sims.zoho.fields import FieldSpec, contact_fields, fields_payload
from magento_zoho_sims.zoho.store import Contact, ContactStore
from magento_zoho_sims.zoho.user import CURRENT_USER, USER_REF
from magento_zoho_sims.zoho.writes import (
    MAX_RECORDS_PER_WRITE,
    STATUS_POLICY,
    WriteRecord,
    WriteRules,
    batch_status,
    write_credits,
)

__all__ = [
    "CURRENT_USER",
    "FIRST_ID",
    "MAX_RECORDS_PER_WRITE",
    "STATUS_POLICY",
    "WriteRecord",
    "ZohoBackend",
    "batch_status",
    "write_credits",
]

FIRST_ID = 5843104000000500001


class ZohoBackend(WriteRules):
    """State of one Zoho CRM org (Contacts module); the write rules are those of :class:`WriteRules`."""

    def __init__(self, *, clock: Clock, config: ZohoConfig) -> None:
        self.clock = clock
        self.config = config
        self.lock = threading.RLock()
        self.specs: dict[str, FieldSpec] = contact_fields(with_magento_id=config.magento_id_field)
        self.specs.update({spec.api_name: spec for spec in config.extra_fields})
        self.unique_fields = tuple(name for name, spec in self.specs.items() if spec.unique)
        self.mandatory = tuple(name for name, spec in self.specs.items() if spec.system_mandatory)
        self.store = ContactStore(email_case_sensitive=config.email_case_sensitive, unique_fields=self.unique_fields)
        self.writes: deque[WriteRecord] = deque(maxlen=200_000)
        self.tags: dict[str, str] = {}
        self._next_id = FIRST_ID
        self.owner_ids = frozenset({CURRENT_USER["id"]})

    # ----------------------------------------------------------------------------------------- helpers
    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def fmt_time(self, when: float) -> str:
        return _fmt_time(int(when), self.config.time_zone_offset_minutes)

    def set_email_case_sensitive(self, value: bool) -> None:
        with self.lock:
            self.config.email_case_sensitive = value
            self.store.rebuild_indexes(value)

    def fields_metadata(self) -> list[dict[str, Any]]:
        return fields_payload(
            self.specs, email_unique=self.config.email_unique, email_case_sensitive=self.config.email_case_sensitive
        )

    def change_fields(self, *, add: Iterable[FieldSpec] = (), remove: Iterable[str] = ()) -> None:
        """What an admin does in Zoho's Setup > Customization > Modules and Fields: fields added or changed (a spec
        with an existing API name replaces it: made mandatory, shortened) and fields removed. The values contacts
        hold are kept. Unique fields stay as the org was made (the store indexes them)."""
        with self.lock:
            specs = dict(self.specs)
            for name in remove:
                specs.pop(name, None)
            specs.update({spec.api_name: spec for spec in add})
            if tuple(name for name, spec in specs.items() if spec.unique) != self.unique_fields:
                raise ValueError("the unique fields cannot change: give them in ZohoConfig.extra_fields")
            self.specs = specs
            self.mandatory = tuple(name for name, spec in specs.items() if spec.system_mandatory)

    def reset(self) -> None:
        with self.lock:
            self.store.clear()
            self.writes.clear()
            self.tags.clear()
            self._next_id = FIRST_ID

    # ------------------------------------------------------------------------------------------ output
    def system_details(self, contact: Contact) -> dict[str, Any]:
        return {
            "Modified_Time": self.fmt_time(contact.modified),
            "Modified_By": USER_REF,
            "Created_Time": self.fmt_time(contact.created),
            "id": str(contact.id),
            "Created_By": USER_REF,
            "$approval_state": "approved",
        }

    def to_json(self, contact: Contact, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """A contact as the read APIs return it (requested fields, unset ones as null, ``id`` always)."""
        values = contact.values()
        names: Iterable[str] = fields if fields is not None else (*self.specs.keys(), "Tag")
        out: dict[str, Any] = {}
        for name in names:
            out[name] = self._field_value(contact, values, name)
        out["id"] = str(contact.id)
        return out

    def _field_value(self, contact: Contact, values: dict[str, Any], name: str) -> Any:
        if name in {"Owner", "Created_By", "Modified_By"}:
            return dict(CURRENT_USER)
        if name == "Created_Time":
            return self.fmt_time(contact.created)
        if name == "Modified_Time":
            return self.fmt_time(contact.modified)
        if name == "Full_Name":
            return " ".join(part for part in (values.get("First_Name"), values.get("Last_Name")) if part)
        if name == "Tag":
            return list(values.get("Tag") or [])
        value = values.get(name)
        return list(value) if type(value) is list else value  # a multi-select's list: a copy, not the stored one

    # ---------------------------------------------------------------------------------- control helpers
    def seed_contact(self, values: dict[str, Any], *, created: float | None = None) -> Contact:
        """Store a contact as-is (no validation): for seeding pre-existing org data."""
        with self.lock:
            contact = Contact(self.new_id(), created if created is not None else self.clock.now(), values)
            self.store.add(contact)
            return contact

    def by_email(self, email: str) -> list[Contact]:
        with self.lock:
            return [c for cid in self.store.lookup("Email", email) if (c := self.store.get(cid)) is not None]


@functools.lru_cache(maxsize=65536)
def _fmt_time(when: int, offset_minutes: int) -> str:
    """ISO 8601 with the user's offset, at second resolution (``2024-01-15T15:26:49+05:30``)."""
    return datetime.fromtimestamp(when, timezone(timedelta(minutes=offset_minutes))).isoformat()
