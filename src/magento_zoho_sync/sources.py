"""The shapes the engine needs from its collaborators (the Magento client, the Zoho client, the mapping).

The engine depends on these small protocols rather than on the clients themselves, so that the dry run can
swap the Zoho writer for one that only looks, and tests can drive the engine with anything that fits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from magento_zoho_sync.state import FailureRecord


class CustomerPageLike(Protocol):
    @property
    def items(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def last_id(self) -> int: ...
    @property
    def server_time(self) -> datetime | None: ...
    @property
    def total_count(self) -> int | None: ...
    @property
    def rejected(self) -> Sequence[Any]: ...


class CustomerSource(Protocol):
    """Magento, as the engine reads it."""

    @property
    def server_time(self) -> datetime | None: ...

    def iter_customer_pages(
        self, *, after_id: int = 0, updated_since: str | None = None, page_size: int | None = None
    ) -> Iterator[CustomerPageLike]: ...

    def get_customer(self, customer_id: int) -> Mapping[str, Any] | None: ...

    def get_customers(self, customer_ids: Sequence[int]) -> Sequence[Mapping[str, Any]]: ...

    def emails_held(self, emails: Sequence[str]) -> set[str]: ...


class RecordOutcome(Protocol):
    """Zoho's answer for one record of a write (``data[i]`` of the response)."""

    @property
    def ok(self) -> bool: ...
    @property
    def action(self) -> str | None: ...
    @property
    def id(self) -> str | None: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


class ContactRefLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def created_time(self) -> str | None: ...


class ContactSink(Protocol):
    """Zoho CRM, as the engine writes it."""

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[RecordOutcome]: ...
    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[RecordOutcome]: ...
    def add_tags(self, ids: Sequence[str], tag: str) -> Sequence[RecordOutcome]: ...
    def delete_contacts(self, ids: Sequence[str]) -> Sequence[RecordOutcome]: ...
    def scan_contacts(self) -> Iterator[ContactRefLike]: ...
    def find_contacts_by_email(self, emails: Sequence[str]) -> Mapping[str, Sequence[ContactRefLike]]: ...


@dataclass(slots=True)  # one per customer: a frozen dataclass is 4x slower to build
class MappedRecord:
    """A customer ready for Zoho."""

    customer_id: int
    email: str
    updated_at: str
    payload: dict[str, Any]
    payload_hash: str
    truncated: tuple[str, ...] = ()  # fields cut to Zoho's length (truncate_long_values)
    address_ids: str | None = None  # the ids of the addresses the payload was read from (mapping_addresses)


class Mapper(Protocol):
    def prepare_run(self, *, full: bool) -> None:
        """Told the run's kind before its first customer (a full run checks the Zoho fields again)."""

    def map(self, customer: Mapping[str, Any]) -> MappedRecord | FailureRecord: ...
    def normalise_email(self, email: str) -> str: ...

    @property
    def address_fields(self) -> Mapping[str, Sequence[str]]:
        """Address source (``address``, ``billing``, ``shipping``) → the Zoho fields mapped from it, every one, in
        the rules' order (a marker of the fields left out is read against them: :mod:`.mapping_addresses`)."""
        ...

    @property
    def never_cleared(self) -> Collection[str]:
        """The Zoho fields never sent as null when an address changes: those the org makes mandatory."""
        ...
