"""What one sync is asked to do: the engine's options (``app.engine_options`` builds them from the settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from magento_zoho_sync.planner import DuplicatePolicy


@dataclass(frozen=True)
class EngineOptions:
    full: bool = False
    dry_run: bool = False
    page_size: int = 200
    concurrency: int = 4
    overlap_minutes: float = 10.0
    full_every_hours: float = 24.0
    max_failed_runs: int = 5
    on_deleted: str = "ignore"  # ignore | tag | delete
    deleted_tag: str = "Deleted in Magento"
    duplicate_policy: DuplicatePolicy = "oldest"
    #: what decides what is sent, by name (``app.full_run_inputs``: the mapping, truncate_long_values, ...): when
    #: one is not what the last full run recorded, the run is full, so that every contact gets what the new value
    #: sends and the customers the old one failed (parked ones included) are read again
    full_run_inputs: Mapping[str, str] | None = None
