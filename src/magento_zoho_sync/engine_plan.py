"""How a sync runs: resumed from a checkpoint, full (first run, ``--full``, schedule, changed inputs) or incremental
(customers updated since the watermark, minus the overlap), and the time stamps the choice works with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from magento_zoho_sync.engine_shared import EngineShared

# the engine's logger: what the choice says keeps the name it is logged under
log = logging.getLogger("magento_zoho_sync.engine")

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class RunPlan:
    mode: str
    updated_since: str | None
    after_id: int
    server_start: str | None
    resumed: bool
    run_id: int | None
    started_at: str | None = None  # a resumed run's first start (this machine's clock), for the full-run schedule


class RunPlanning(EngineShared):
    """The choice of a run's plan; a part of :class:`~magento_zoho_sync.engine.SyncEngine`."""

    def _choose_plan(self) -> RunPlan:
        checkpoint = self.state.checkpoint()
        # An interrupted run is finished first; --full starts a new full run instead, which reads every customer
        # now (resuming an interrupted full run would not read again those it read before, and so miss what
        # changed since without a new updated_at, such as address edits).
        if checkpoint is not None and not self.options.full:
            log.info("Resuming run %s after customer %s", checkpoint.run_id, checkpoint.after_id)
            return RunPlan(
                mode=checkpoint.mode,
                updated_since=checkpoint.updated_since,
                after_id=checkpoint.after_id,
                server_start=checkpoint.server_start,
                resumed=True,
                run_id=checkpoint.run_id,
                started_at=checkpoint.started_at,
            )
        reason = self._full_reason()
        if reason is not None:
            self.tally.full_reason = reason
            if reason.endswith("changed"):
                # (not capitalized: the reason may start with a setting's name, "truncate_long_values changed")
                log.info("A full run: %s since the last full run, so this run reads every customer", reason)
            return RunPlan("full", None, 0, None, False, None)
        watermark = self.state.watermark
        assert watermark is not None  # _full_reason: no watermark makes a full run
        since = parse_time(watermark) - timedelta(minutes=self.options.overlap_minutes)
        return RunPlan("incremental", since.strftime(TIME_FORMAT), 0, None, False, None)

    def _full_reason(self) -> str | None:
        """Why this run must be a full one, or ``None`` for an incremental run."""
        if self.options.full:
            return "--full"
        last_full = self.state.last_full_at
        if self.state.watermark is None or last_full is None:
            return "no completed full run yet"
        if self._older_than(last_full):
            return f"scheduled, every {self.options.full_every_hours:g} hours"
        recorded, current = self.state.full_run_inputs or {}, self.options.full_run_inputs or {}
        # an input the last full run did not record (a state file from before) is recorded by the next full run
        changed = [name for name, value in current.items() if recorded.get(name, value) != value]
        return " and ".join(changed) + " changed" if changed else None

    def _older_than(self, stamp: str) -> bool:
        """Whether the last full run is due again (``full_every_hours`` 0: never; only ``--full``)."""
        hours = self.options.full_every_hours
        if hours <= 0:
            return False
        # a little slack: a daily timer firing at the same minute finds a few seconds less than 24 hours since
        # the last full run's start, and would otherwise make full runs every other day
        every = timedelta(hours=hours)
        return self.clock() - parse_time(stamp) >= every - min(timedelta(minutes=30), every / 20)


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)
