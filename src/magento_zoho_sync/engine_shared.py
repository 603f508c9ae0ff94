"""What the parts of :class:`~magento_zoho_sync.engine.SyncEngine` share: its attributes and the methods they
call on one another, declared once for the type checker (at run time this class is empty, so nothing is looked
up through it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from magento_zoho_sync.batching import CheckpointTracker
    from magento_zoho_sync.engine_options import EngineOptions
    from magento_zoho_sync.engine_tally import Progress, Tally
    from magento_zoho_sync.sources import ContactSink, CustomerSource, Mapper
    from magento_zoho_sync.state import FailureRecord, LinkUpdate, StateStore
    from magento_zoho_sync.writer import BatchWriter


class EngineShared:
    """The engine as each of its parts sees it."""

    if TYPE_CHECKING:
        source: CustomerSource
        sink: ContactSink
        state: StateStore
        mapper: Mapper
        options: EngineOptions
        clock: Callable[[], datetime]
        stop: threading.Event
        progress: Progress | None
        tally: Tally
        _run_id: int
        _tracker: CheckpointTracker
        _writer: BatchWriter
        _reported_merges: set[int]
        _orphaned_emails: set[str]
        _lost_writes: set[str]
        _refreshed: list[LinkUpdate]
        _page_unchanged: set[int]
        _reconsidering: bool
        _total: int | None
        _known_through: int
        _state_through: int
        _batch_errors: int
        _failures_kept: int
        _earlier_failures: set[int]
        _held_rejects: list[tuple[int | None, list[FailureRecord]]]

        def _flush(self) -> None: ...

        def _drain(self) -> None: ...

        def _commit(
            self,
            *,
            links: Sequence[LinkUpdate] = (),
            failures: Sequence[FailureRecord] = (),
            resolved: Sequence[int] = (),
            deleted: Sequence[int] = (),
        ) -> None: ...

        def _record_failures(self, failures: Sequence[FailureRecord]) -> None: ...

        def _handled(self) -> int: ...

        def _handle_customers(
            self, items: Sequence[Mapping[str, Any]], *, count_read: bool = True, only: set[int] | None = None
        ) -> None: ...

        def _handle_deleted(self, customer_ids: Sequence[int]) -> None: ...

        def _fetch_each(self, customer_ids: Sequence[int]) -> list[Mapping[str, Any] | None]: ...
