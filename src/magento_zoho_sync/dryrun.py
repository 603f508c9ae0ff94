"""``sync --dry-run``: the whole engine runs, but its Zoho writer only looks.

Writes are answered by exact lookups with COQL (immediately consistent, unlike the search API): upserts by
email, updates by id (a contact gone from Zoho is planned as the real run does it, by email), so the plan says
"insert" or "update" as the real run would; deletes and tags are only listed. The engine runs
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
    def existing_contact_ids(self, ids: Sequence[str]) -> set[str]: ...


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

    # what the engine just asked Zoho about emails (an incremental run asks before it upserts): an upsert of one of
    # them is planned on that answer instead of a second query; each is used once, so the dict stays small
    _asked: dict[str, Sequence[ContactRefLike]] = field(default_factory=dict, repr=False)

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[RecordOutcome]:
        emails = [normalise_email(str(record["Email"])) for record in records]
        found = {email: self._asked.pop(email) for email in emails if email in self._asked}
        if unasked := [email for email in emails if email not in found]:
            found.update(self.zoho.find_contacts_by_email(unasked))
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
        """An update by id of a contact that is gone from Zoho is answered as Zoho would ("invalid id"), so that
        the engine plans what the real run does next: an upsert on the email."""
        existing = self.zoho.existing_contact_ids([str(record["id"]) for record in records])
        return [
            PlannedOutcome(True, "update", str(record["id"]), message="update by id")
            if str(record["id"]) in existing
            else PlannedOutcome(
                False, None, None, "INVALID_DATA", "the id given seems to be invalid", {"id": str(record["id"])}
            )
            for record in records
        ]

    def add_tags(self, ids: Sequence[str], tag: str) -> Sequence[RecordOutcome]:
        self.tagged.extend(ids)
        return [PlannedOutcome(True, None, zoho_id) for zoho_id in ids]

    def delete_contacts(self, ids: Sequence[str]) -> Sequence[RecordOutcome]:
        self.deleted.extend(ids)
        return [PlannedOutcome(True, None, zoho_id) for zoho_id in ids]

    def scan_contacts(self) -> Iterator[ContactRefLike]:
        return self.zoho.scan_contacts()

    def find_contacts_by_email(self, emails: Sequence[str]) -> Mapping[str, Sequence[ContactRefLike]]:
        found = self.zoho.find_contacts_by_email(emails)
        for email in emails:
            self._asked[normalise_email(email)] = found.get(normalise_email(email), ())
        return found
