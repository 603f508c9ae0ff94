"""The rows of the state store as Python values: links, link updates, failures, commit parts, a run's checkpoint
and history. The engine, the planner and the report use them without the store itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)  # one per customer: a frozen dataclass is 4x slower to build
class Link:
    customer_id: int
    email: str | None
    updated_at: str | None
    zoho_id: str | None
    payload_hash: str | None
    deleted: bool = False
    #: the ids of the addresses the payload last acknowledged was read from ("a12"); None: not known
    address_ids: str | None = None


@dataclass(slots=True)  # one per customer: a frozen dataclass is 4x slower to build
class LinkUpdate:
    """What a committed batch says about one customer."""

    customer_id: int
    email: str | None
    updated_at: str | None
    zoho_id: str | None
    payload_hash: str | None
    #: merged into another customer of the same email: its data is in no contact (no contact id, no hash)
    merged: bool = False
    #: the ids of the addresses the payload was read from (``MappedRecord.address_ids``)
    address_ids: str | None = None


@dataclass(slots=True)  # one per customer: a frozen dataclass is 4x slower to build
class FailureRecord:
    customer_id: int | None
    email: str | None
    code: str
    message: str
    #: machine-readable facts the message says in words: the Zoho ``field`` a mapping failure is about, what Zoho
    #: said of a refused record (:func:`magento_zoho_sync.zoho.records.failure_details`); text values masked
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CommitPart:
    """One acknowledged outcome: links written or merged, failures, failures resolved, customers deleted."""

    links: Sequence[LinkUpdate] = ()
    failures: Sequence[FailureRecord] = ()
    resolved: Sequence[int] = ()
    deleted: Sequence[int] = ()


@dataclass(frozen=True)
class StoredFailure:
    customer_id: int
    email: str | None
    code: str
    message: str
    failed_runs: int
    parked: bool
    last_failed_at: str


@dataclass(frozen=True)
class Checkpoint:
    """Where an unfinished run stands: every customer with id ≤ ``after_id`` it read has been handled."""

    run_id: int
    mode: str
    updated_since: str | None
    after_id: int
    server_start: str | None
    started_at: str | None = None  # when the run first started (this machine's clock); absent in older states


@dataclass(frozen=True)
class RunRow:
    id: int
    started_at: str
    finished_at: str | None
    mode: str
    status: str
    summary: dict[str, Any]
