"""Write batches and the checkpoint they allow.

Customers are read in ascending id order and written in batches of at most 100, several batches at once.
A batch may come back before an older one, so the checkpoint ("every customer read up to this id is
handled") may only move to just below the oldest customer that is still waiting for Zoho.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magento_zoho_sync.planner import Action

MAX_BATCH = 100


@dataclass(slots=True)
class Pending:
    """One customer on its way to Zoho."""

    customer_id: int
    email: str
    updated_at: str
    payload: dict[str, Any]
    payload_hash: str
    action: Action
    zoho_id: str | None = None
    fell_back: bool = False  # an update by id that came back "invalid id" and is now sent as an upsert
    linked_id: str | None = None  # an upsert of a customer the state links to this contact
    leaving: str | None = None  # the email the state links this customer to until this write is acknowledged
    address_ids: str | None = None  # the ids of the addresses the payload was read from (kept with the link)
    #: fields sent as null: left out by the payload, filled from an address that is no longer the one read
    #: (only in an update of the customer's own contact by id; not in ``payload``, nor in its hash)
    cleared: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        if self.action is Action.UPDATE_BY_ID:
            if self.cleared:
                return {**self.payload, **dict.fromkeys(self.cleared), "id": self.zoho_id}
            return {**self.payload, "id": self.zoho_id}
        return self.payload


@dataclass
class Batch:
    action: Action
    records: list[Pending] = field(default_factory=list)
    _min_id: int | None = field(default=None, repr=False)

    def add(self, record: Pending) -> None:
        self.records.append(record)
        if self._min_id is None or record.customer_id < self._min_id:
            self._min_id = record.customer_id

    def remove(self, record: Pending) -> None:
        self.records.remove(record)
        self._min_id = min((r.customer_id for r in self.records), default=None)

    @property
    def min_id(self) -> int:
        """The lowest customer id in the batch (kept up to date: the checkpoint asks after every commit)."""
        if self._min_id is None:
            self._min_id = min(record.customer_id for record in self.records)
        return self._min_id

    def full(self) -> bool:
        return len(self.records) >= MAX_BATCH


class CheckpointTracker:
    """Tracks the highest customer id below which every customer read has been handled."""

    def __init__(self, start_after: int) -> None:
        self.read_through = start_after
        self._waiting: dict[int, Batch] = {}

    def saw(self, customer_id: int) -> None:
        self.read_through = max(self.read_through, customer_id)

    def waiting(self, batch: Batch) -> None:
        self._waiting[id(batch)] = batch

    def done(self, batch: Batch) -> None:
        self._waiting.pop(id(batch), None)

    def safe_after(self) -> int:
        batches = [batch for batch in self._waiting.values() if batch.records]
        if not batches:
            return self.read_through
        return min(self.read_through, min(batch.min_id for batch in batches) - 1)
