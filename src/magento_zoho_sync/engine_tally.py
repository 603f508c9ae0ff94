"""What one sync did: the tally the report is built from, and the listener of its running totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from magento_zoho_sync.state import FailureRecord


class Progress(Protocol):
    def update(self, *, read: int, written: int, total: int | None) -> None: ...


@dataclass
class Tally:
    """What the run did; the report is built from it."""

    mode: str = "full"
    full_reason: str | None = None  # why a full run is one (None: incremental, or a resumed run)
    run_id: int = 0
    resumed: bool = False
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    deleted: int = 0
    truncated: int = 0  # customers sent with a value cut to Zoho's length (truncate_long_values)
    deleted_tagged: int = 0  # Zoho contacts tagged for customers deleted in Magento (on_deleted = tag)
    deleted_removed: int = 0  # Zoho contacts deleted for them (on_deleted = delete)
    failures: list[FailureRecord] = field(default_factory=list)
    warnings: list[FailureRecord] = field(default_factory=list)
    merges: list[tuple[int, int, str]] = field(default_factory=list)  # (merged id, into id, email)
    deleted_ids: list[int] = field(default_factory=list)
    retried_failures: int = 0
    parked: int = 0
    watermark_from: str | None = None
    server_start: str | None = None
    zoho_index_size: int | None = None
    status: str = "running"
    planned: list[tuple[int, str, str, str | None, str]] = field(default_factory=list)  # dry run only

    failed: int = 0
    failure_codes: dict[str, int] = field(default_factory=dict)  # code → customers, for the summary

    def add_failures(self, failures: Sequence[FailureRecord], *, keep: int) -> None:
        """Count every failure; keep the first ``keep`` in memory (the state holds them all, in run_errors)."""
        self.failed += len(failures)
        for failure in failures:
            self.failure_codes[failure.code] = self.failure_codes.get(failure.code, 0) + 1
        room = keep - len(self.failures)
        if room > 0:
            self.failures.extend(failures[:room])
