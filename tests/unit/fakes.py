"""Small in-memory stand-ins for Magento, Zoho and the mapping, to test the engine's rules in isolation.

The end-to-end tests run the same engine against the real simulators; these fakes only keep the unit tests
of the engine's decisions fast and readable.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from magento_zoho_sync.sources import MappedRecord
from magento_zoho_sync.state import FailureRecord


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    last_id: int
    server_time: datetime | None
    total_count: int | None = None
    rejected: tuple[Any, ...] = ()


class FakeMagento:
    def __init__(self, customers: list[dict[str, Any]] | None = None) -> None:
        self.customers: dict[int, dict[str, Any]] = {c["id"]: c for c in customers or []}
        self.server_time: datetime | None = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        self.pages_read = 0
        self.gets = 0

    def iter_customer_pages(
        self, *, after_id: int = 0, updated_since: str | None = None, page_size: int | None = None
    ) -> Iterator[Page]:
        size = page_size or 200
        last = after_id
        while True:
            items = [
                c
                for cid, c in sorted(self.customers.items())
                if cid > last and (updated_since is None or c["updated_at"] >= updated_since)
            ][:size]
            self.pages_read += 1
            if items:
                last = items[-1]["id"]
                yield Page(items, last, self.server_time)
            if len(items) < size:
                return

    def get_customers(self, customer_ids: Sequence[int]) -> list[Mapping[str, Any]]:
        self.gets += 1
        return [self.customers[cid] for cid in sorted(customer_ids) if cid in self.customers]

    def get_customer(self, customer_id: int) -> Mapping[str, Any] | None:
        self.gets += 1
        return self.customers.get(customer_id)

    def emails_held(self, emails: Sequence[str]) -> set[str]:
        self.gets += 1
        held = {str(c["email"]).strip().lower() for c in self.customers.values()}
        return {email for email in emails if email in held}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    action: str | None
    id: str | None
    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ref:
    id: str
    email: str
    created_time: str | None


class FakeZoho:
    """Contacts keyed by id; upsert matches Email case-insensitively (or not, by switch)."""

    def __init__(self, *, case_sensitive: bool = False) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.case_sensitive = case_sensitive
        self.calls: list[tuple[str, int]] = []
        self.fail_codes: dict[str, str] = {}  # email → error code to answer
        self._next = 1000
        self._lock = threading.RLock()

    def _key(self, email: str) -> str:
        return email if self.case_sensitive else email.lower()

    def add(self, email: str, **fields: Any) -> str:
        with self._lock:
            self._next += 1
            zid = str(self._next)
            self.contacts[zid] = {"Email": email, "id": zid, "Created_Time": f"2020-01-01T00:00:{self._next % 60:02d}"}
            self.contacts[zid].update(fields)
            return zid

    def by_email(self, email: str) -> list[dict[str, Any]]:
        return [c for c in self.contacts.values() if self._key(c.get("Email", "")) == self._key(email)]

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        with self._lock:
            return self._upsert(records)

    def _upsert(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.calls.append(("upsert", len(records)))
        out: list[Outcome] = []
        for record in records:
            if record["Email"] in self.fail_codes:
                out.append(Outcome(False, None, None, self.fail_codes[record["Email"]], "rejected"))
                continue
            found = sorted(self.by_email(record["Email"]), key=lambda c: c["Created_Time"])
            if found:
                found[0].update(record)
                out.append(Outcome(True, "update", found[0]["id"], "SUCCESS", "record updated"))
            else:
                zid = self.add(record["Email"])
                self.contacts[zid].update(record)
                out.append(Outcome(True, "insert", zid, "SUCCESS", "record added"))
        return out

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self.calls.append(("update", len(records)))
        out: list[Outcome] = []
        for record in records:
            contact = self.contacts.get(record["id"])
            if contact is None:
                out.append(Outcome(False, None, None, "INVALID_DATA", "the id given seems to be invalid", {"id": "x"}))
            else:
                contact.update({k: v for k, v in record.items() if k != "id"})
                out.append(Outcome(True, None, record["id"], "SUCCESS", "record updated"))
        return out

    def add_tags(self, ids: Sequence[str], tag: str) -> Sequence[Outcome]:
        self.calls.append(("tags", len(ids)))
        for zid in ids:
            self.contacts[zid].setdefault("Tag", []).append(tag)
        return [Outcome(True, None, zid, "SUCCESS", "") for zid in ids]

    def delete_contacts(self, ids: Sequence[str]) -> Sequence[Outcome]:
        self.calls.append(("delete", len(ids)))
        for zid in ids:
            self.contacts.pop(zid, None)
        return [Outcome(True, None, zid, "SUCCESS", "") for zid in ids]

    def scan_contacts(self) -> Iterator[Ref]:
        self.calls.append(("scan", 0))
        for contact in list(self.contacts.values()):
            yield Ref(contact["id"], contact["Email"], contact["Created_Time"])

    def find_contacts_by_email(self, emails: Sequence[str]) -> dict[str, list[Ref]]:
        self.calls.append(("coql", len(emails)))
        return {
            email.strip().lower(): [
                Ref(c["id"], c["Email"], c["Created_Time"])
                for c in sorted(self.by_email(email), key=lambda c: c["Created_Time"])
            ]
            for email in emails
        }

    def existing_contact_ids(self, ids: Sequence[str]) -> set[str]:
        self.calls.append(("coql", len(ids)))
        return {zid for zid in ids if zid in self.contacts}

    def writes(self) -> int:
        return sum(1 for kind, _ in self.calls if kind in ("upsert", "update"))


class FakeMapper:
    #: address source → the fields mapped from it (the fakes map no address)
    address_fields: Mapping[str, Sequence[str]] = {}
    #: the Zoho fields never cleared (the org's mandatory ones)
    never_cleared: frozenset[str] = frozenset()

    def prepare_run(self, *, full: bool) -> None:
        pass

    def normalise_email(self, email: str) -> str:
        return email.strip().lower()

    def map(self, customer: Mapping[str, Any]) -> MappedRecord | FailureRecord:
        email = self.normalise_email(str(customer.get("email") or ""))
        if "@" not in email:
            return FailureRecord(int(customer["id"]), email or None, "INVALID_EMAIL", "no valid email")
        payload = {"Email": email, "Last_Name": customer["lastname"]}
        if customer.get("firstname"):
            payload["First_Name"] = customer["firstname"]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return MappedRecord(int(customer["id"]), email, str(customer["updated_at"]), payload, digest)


def customer(
    cid: int, email: str, *, last: str = "Doe", first: str = "Jo", updated: str = "2025-01-01 00:00:00"
) -> dict[str, Any]:
    return {"id": cid, "email": email, "firstname": first, "lastname": last, "updated_at": updated}
