"""``sync --dry-run``: the whole engine runs, but its Zoho writer only looks.

Writes are answered by exact email lookups with COQL (immediately consistent, unlike the search API), so
the plan says "insert" or "update" as the real run would; deletes and tags are only listed. The engine runs
against a throw-away copy of the state, so nothing is written anywhere, not even the watermark.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from magento_zoho_sync.mapping import normalise_email
from magento_zoho_sync.sources import ContactRefLike, RecordOutcome


class EmailLookup(Protocol):
    def find_contacts_by_email(self, emails: Sequence[str]) -> Mapping[str, Sequence[ContactRefLike]]: ...
    def scan_contacts(self) -> Iterator[ContactRefLike]: ...


@dataclass(frozen=True)
class PlannedOutcome:
    ok: bool
    action: str | None
    id: str | None
    code: str = "SUCCESS"
    message: str = "dry run"
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class DryRunSink:
    """A ContactSink that writes nothing and remembers what it would have done."""

    zoho: EmailLookup
    shared_emails: dict[str, list[str]] = field(default_factory=dict)  # email → ids of the contacts holding it
    tagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[RecordOutcome]:
        found = self.zoho.find_contacts_by_email([str(record["Email"]) for record in records])
        outcomes: list[RecordOutcome] = []
        for record in records:
            matches = list(found.get(normalise_email(str(record["Email"])), ()))
            if len(matches) > 1:
                self.shared_emails[str(record["Email"])] = [match.id for match in matches]
            if matches:
                outcomes.append(PlannedOutcome(True, "update", matches[0].id, message="matches by email"))
            else:
                outcomes.append(PlannedOutcome(True, "insert", None, message="no contact with this email"))
        return outcomes

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[RecordOutcome]:
        return [PlannedOutcome(True, "update", str(record["id"]), message="update by id") for record in records]

    def add_tags(self, ids: Sequence[str], tag: str) -> Sequence[RecordOutcome]:
        self.tagged.extend(ids)
        return [PlannedOutcome(True, None, zoho_id) for zoho_id in ids]

    def delete_contacts(self, ids: Sequence[str]) -> Sequence[RecordOutcome]:
        self.deleted.extend(ids)
        return [PlannedOutcome(True, None, zoho_id) for zoho_id in ids]

    def scan_contacts(self) -> Iterator[ContactRefLike]:
        return self.zoho.scan_contacts()

    def find_contacts_by_email(self, emails: Sequence[str]) -> Mapping[str, Sequence[ContactRefLike]]:
        return self.zoho.find_contacts_by_email(emails)
