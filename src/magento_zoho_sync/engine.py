"""The sync: Magento customers → Zoho CRM contacts, inserted or updated by email.

One run::

    choose the mode ── resume a checkpoint │ full (first run, --full, schedule) │ incremental (updated_at ≥ W)
    full runs: index the emails of Zoho's contacts (COQL, 2,000 a call) to find case variants and duplicates
    for each keyset page of customers (entity_id > last, ascending):
        full runs, first: linked customers missing from the page are read with GET /V1/customers/{id} (404 =
            deleted; the others, left out by the search, are handled with the page)
        map (pure) → merge per email → skip unchanged payloads → batch (≤ 100) → write concurrently
        commit each acknowledged batch with its links, failures and the checkpoint in one transaction
    retry customers that failed in earlier runs (until they are parked)
    advance the watermark to the server time at the start of the run

Per-customer problems never stop the run: they are collected with the customer id, email, a stable code and
a message. Fatal problems (authentication, a service unreachable after retries, spent Zoho credits) stop it
after saving what was acknowledged.

The engine's parts, one module each, make one :class:`SyncEngine`: :mod:`engine_plan` (the choice of a run's
plan), :mod:`engine_customers` (a page of customers mapped, decided and queued), :mod:`engine_outcomes` (Zoho's
answers to the batches), :mod:`engine_deleted` (customers deleted in Magento) and :mod:`engine_rereads`
(earlier failures retried, orphaned emails decided again). :mod:`engine_options` holds what a run is asked to do,
:mod:`engine_tally` what it did.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from magento_zoho_sync.batching import CheckpointTracker
from magento_zoho_sync.clock_watch import ClockWatch
from magento_zoho_sync.engine_customers import CustomerHandling
from magento_zoho_sync.engine_deleted import DeletedCustomers
from magento_zoho_sync.engine_options import EngineOptions
from magento_zoho_sync.engine_outcomes import OutcomeHandling
from magento_zoho_sync.engine_plan import RunPlan, RunPlanning, format_time
from magento_zoho_sync.engine_rereads import Rereads
from magento_zoho_sync.engine_tally import Progress, Tally
from magento_zoho_sync.errors import Interrupted, ServiceError
from magento_zoho_sync.readahead import read_ahead
from magento_zoho_sync.redact import stop_reason
from magento_zoho_sync.sources import ContactSink, CustomerSource, Mapper
from magento_zoho_sync.state import Checkpoint, CommitPart, FailureRecord, LinkUpdate, StateStore
from magento_zoho_sync.writer import BatchWriter

#: the engine's public names, importable from here whichever module holds them
__all__ = ["EngineOptions", "Progress", "SyncEngine", "Tally"]

log = logging.getLogger(__name__)

FAILURES_KEPT_IN_MEMORY = 1000


class _ScanStopped(Exception):
    """A stop signal came while Zoho's contacts were being read: the read ends, its partial index is dropped."""


class SyncEngine(RunPlanning, CustomerHandling, OutcomeHandling, DeletedCustomers, Rereads):
    """Runs one sync. Not thread-safe: one engine, one run."""

    def __init__(
        self,
        *,
        source: CustomerSource,
        sink: ContactSink,
        state: StateStore,
        mapper: Mapper,
        options: EngineOptions,
        stop: threading.Event | None = None,
        progress: Progress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self.sink = sink
        self.state = state
        self.mapper = mapper
        self.options = options
        self.stop = stop or threading.Event()
        self.progress = progress
        self.clock = clock
        self.tally = Tally()
        self._tracker = CheckpointTracker(0)
        self._writer = self._new_writer()
        self._plan: RunPlan | None = None
        self._run_id = 0
        self._batch_errors = 0
        self._reported_merges: set[int] = set()
        self._orphaned_emails: set[str] = set()
        # emails whose contact may hold what a write that ran out of retries sent (Zoho may have applied it): the
        # customer holding each one now is sent again, even unchanged (see _handle_customers and run())
        self._lost_writes: set[str] = set()
        self._refreshed: list[LinkUpdate] = []
        self._page_unchanged: set[int] = set()  # counted unchanged on this page: moved to merged if one merges them
        self._reconsidering = False
        self._total: int | None = None
        # a dry run's failures are its plan of rejects, listed in full; a real run keeps a page of them and
        # the report reads the rest back from the state (memory stays flat however many customers fail)
        self._failures_kept = 10**9 if options.dry_run else FAILURES_KEPT_IN_MEMORY
        self._started = clock()
        self._started_text: str | None = None
        self._clocks = ClockWatch(overlap_minutes=options.overlap_minutes, clock=clock)
        # outcomes not yet in the state: saved together (one transaction) before the state is read again, after
        # each harvest of acknowledged batches and after each page, always with the checkpoint they allow
        self._unsaved: list[CommitPart] = []
        self._saved_checkpoint: Checkpoint | None = None
        # customers above this id have no link and no failure: not in the state when the run started (its
        # highest id then), nor handled by this run so far. Pages above it skip two of their reads.
        self._known_through = 0
        self._state_through = 0
        # a resumed run's failures from before the interruption: retried by this part, unlike its own
        self._earlier_failures: set[int] = set()
        # items without a valid id, with their page's last id: saved once the checkpoint passes it (or at the end)
        self._held_rejects: list[tuple[int | None, list[FailureRecord]]] = []
        # a resumed run's failures without an id saved by its first part, as (email, code, message): an earlier
        # version saved them at once, those of pages past the checkpoint too, which this part reads again
        self._saved_rejects: list[tuple[str | None, str, str]] = []

    # -- the run ----------------------------------------------------------------------------------------------

    def run(self) -> Tally:
        self._started = self.clock()
        self._started_text = None
        plan = self._choose_plan()
        self._plan = plan
        self.mapper.prepare_run(full=plan.mode == "full")  # before the run is recorded: the last run is the one before
        self.tally.mode = plan.mode
        self.tally.resumed = plan.resumed
        self.tally.watermark_from = plan.updated_since
        self._run_id = plan.run_id if plan.run_id is not None else self.state.start_run(plan.mode)
        self.tally.run_id = self._run_id
        self._tracker.read_through = plan.after_id  # every customer up to the checkpoint is handled
        self._known_through = self._state_through = self.state.highest_customer_id()
        self._lost_writes = self.state.lost_write_emails()  # before this run records failures of its own
        if plan.resumed:
            # the first part's failures up to the checkpoint are retried; those after it (the first part read
            # ahead of the batches in flight) are read again by this part, and are not counted or listed twice
            self.state.forget_run_errors_after(self._run_id, plan.after_id)
            failed_before = self.state.run_failure_ids(self._run_id)
            self._earlier_failures = {customer_id for customer_id in failed_before if customer_id <= plan.after_id}
            self._saved_rejects = self.state.run_errors_without_id(self._run_id)
        try:
            # a full run reads Zoho's contacts once the first page proves the Magento login: a wrong Magento
            # setting then costs no Zoho token refresh (Zoho allows a few per token and 10 minutes) nor credits
            self._stream(plan, before_first_page=self._index_zoho if plan.mode == "full" else None)
            if not self.stop.is_set():
                self._retry_failures()
            self._drain()
            # an email whose lost write no customer has been sent for yet (none read: an incremental run, a customer
            # who left the email since): those linked to it are decided again, and the one holding it now is sent
            self._orphaned_emails.update(self._lost_writes)
            if not self.stop.is_set():
                self._reconsider_orphans()
        except ServiceError as exc:
            if not self.stop.is_set():
                self._abort(exc)
                raise
            # the stop signal cut a service's retries short (the retry.STOPPING flag): an interruption
            self._writer.salvage()
            self._finish(status="interrupted", complete=False)
            raise self._stopped() from exc
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            self._writer.close()
        if self.stop.is_set():
            self._finish(status="interrupted", complete=False)
            raise self._stopped()
        self.tally.parked = self.state.count_parked()  # at the end: this run may have synced some, parked others
        # parked customers are not in Zoho either: the run is not a clean one while any is left
        clean = not self.tally.failed and not self.tally.parked
        self._finish(status="completed" if clean else "completed_with_failures", complete=True)
        return self.tally

    def _stopped(self) -> Interrupted:
        """The interruption a stop signal ends the run with, saying what is kept (a dry run keeps nothing)."""
        kept = "nothing was written (a dry run)" if self.options.dry_run else "what Zoho acknowledged is saved"
        return Interrupted(f"Stopped by a signal; {kept}.", signal_number=0)

    def _index_zoho(self) -> None:
        """Read the emails of every Zoho contact (full runs only; COQL, 2,000 per call, immediately consistent).

        A stop signal ends the read at once (a big org's read takes minutes and credits): the index of the last
        complete read is kept (the replacement is rolled back), and the run stops before writing anything.
        """

        def rows() -> Iterator[tuple[str, str, str, str | None]]:
            for ref in self.sink.scan_contacts():
                if self.stop.is_set():
                    raise _ScanStopped
                if ref.email:
                    yield (self.mapper.normalise_email(ref.email), ref.id, ref.email, ref.created_time)

        # said, since the progress display stands still meanwhile (minutes on a large org)
        log.info("Full run: reading the emails of Zoho's contacts first (2,000 a call), to match the customers to them")
        try:
            self.tally.zoho_index_size = self.state.replace_zoho_index(rows())
            log.debug("Read the emails of %d Zoho contacts", self.tally.zoho_index_size)
        except _ScanStopped:
            log.info("Stopped while reading the emails of Zoho's contacts: the partial read is dropped")

    # -- reading ----------------------------------------------------------------------------------------------

    def _stream(self, plan: RunPlan, *, before_first_page: Callable[[], None] | None = None) -> None:
        previous_last = plan.after_id
        pages = self.source.iter_customer_pages(
            after_id=plan.after_id, updated_since=plan.updated_since, page_size=self.options.page_size
        )
        for page in read_ahead(pages, depth=2):
            if before_first_page is not None:
                before_first_page()
                before_first_page = None
                if self.stop.is_set():  # a signal while Zoho was being read: stop before writing anything
                    return
            if self.tally.server_start is None:
                self.tally.server_start = plan.server_start or self._server_time(page.server_time)
            self._clocks.page(page.server_time, page.items)
            if self._total is None and page.total_count is not None:
                self._total = self.tally.read + page.total_count
            if page.rejected:
                self._reject_without_id(page.rejected, through=page.last_id if page.items else None)
            items = page.items
            if plan.mode == "full" and items:
                # the sweep first (deleted customers gone, before anyone competes with them for an email), and the
                # customers the search left out handled with the page: the checkpoint cannot pass them unwritten
                unlisted = self._sweep_deleted(previous_last, page.last_id, items)
                if unlisted:
                    items = sorted([*items, *unlisted], key=lambda item: int(item["id"]))
            self._handle_customers(items)
            previous_last = max(previous_last, page.last_id)
            self._writer.harvest(block=False)
            self._flush()
            if self.stop.is_set():
                return
        if before_first_page is not None:  # no page at all (an empty store, or a resumed run at its end)
            before_first_page()
        if self.tally.server_start is None:
            self.tally.server_start = plan.server_start or self._server_time(self.source.server_time)
        self._clocks.page(self.source.server_time, ())  # a run without a page: its first answer's Date
        if plan.mode == "full":
            unlisted = self._sweep_deleted(previous_last, None, ())
            if unlisted:
                self._handle_customers(unlisted)

    def _server_time(self, said: datetime | None) -> str:
        """Magento's time at the start of the run (the next watermark), from its Date header; this machine's clock,
        said once, when the answer had none (a proxy that drops it): then the clocks must agree within the overlap."""
        if said is not None:
            return format_time(said)
        log.warning(
            "Magento's answer had no Date header (a proxy in front of it removes it?): the next incremental run "
            "reads the customers changed since this machine's time, minus overlap_minutes (%s). If Magento's clock "
            "differs from this machine's by more than that, edits are missed until the next full run: keep the "
            "Date header, or the clocks in step (NTP), or raise MZSYNC_OVERLAP_MINUTES.",
            self.options.overlap_minutes,
        )
        return format_time(self.clock())

    def _handled(self) -> int:
        """Customers whose outcome is known (written, unchanged, merged or failed)."""
        tally = self.tally
        return tally.inserted + tally.updated + tally.unchanged + tally.merged + tally.failed

    # -- writing ------------------------------------------------------------------------------------------------

    def _new_writer(self) -> BatchWriter:
        return BatchWriter(
            self.sink,
            tracker=self._tracker,
            concurrency=self.options.concurrency,
            on_done=self._acknowledge,
            on_harvested=self._flush,
        )

    def _drain(self) -> None:
        self._writer.drain()
        self._flush()

    def _abort(self, exc: BaseException) -> None:
        """Something fatal happened: keep what Zoho acknowledged, lose nothing else, and say why in the run."""
        self._writer.salvage()
        try:
            self._flush()
            self.state.finish_run(self._run_id, status="failed", summary={**self.summary(), "error": stop_reason(exc)})
        except Exception as save_error:  # the disk is full, say: the CLI says what to do with the first error
            log.error("Could not save the state after a fatal error: %s", save_error)

    # -- state ----------------------------------------------------------------------------------------------------

    def _record_failures(self, failures: Sequence[FailureRecord]) -> None:
        self.tally.add_failures(failures, keep=self._failures_kept)
        self._commit(failures=failures)

    def _commit(
        self,
        *,
        links: Sequence[LinkUpdate] = (),
        failures: Sequence[FailureRecord] = (),
        resolved: Sequence[int] = (),
        deleted: Sequence[int] = (),
    ) -> None:
        """Queue an outcome for the next :meth:`_flush` (which comes before the state is read again)."""
        self._unsaved.append(CommitPart(links, failures, resolved, deleted))

    def _flush(self) -> None:
        """Save the queued outcomes, in order, with the checkpoint, in one transaction (nothing to do: no-op)."""
        checkpoint = self._checkpoint()
        if self._held_rejects and checkpoint is not None:
            self._release_rejects(checkpoint.after_id)
        if not self._unsaved and checkpoint == self._saved_checkpoint:
            return
        parts, self._unsaved = self._unsaved, []
        self.state.commit_parts(
            run_id=self._run_id, parts=parts, checkpoint=checkpoint, max_failed_runs=self.options.max_failed_runs
        )
        self._saved_checkpoint = checkpoint

    def _release_rejects(self, through: int | None) -> None:
        """Queue the held failures of items without an id whose page the checkpoint has passed (None: all)."""
        held, self._held_rejects = self._held_rejects, []
        for page_last, failures in held:
            if through is None or (page_last is not None and page_last <= through):
                if unsaved := self._not_saved_before(failures):
                    self._commit(failures=unsaved)
            else:
                self._held_rejects.append((page_last, failures))

    def _not_saved_before(self, failures: Sequence[FailureRecord]) -> list[FailureRecord]:
        """The failures without an id that the run's first part did not save already (each saved one stands for
        one item read again). This version saves none past the checkpoint; an earlier one did, and a file it left
        with a run to resume (upgraded by this version) listed such an item twice."""
        unsaved: list[FailureRecord] = []
        for failure in failures:
            key = (failure.email, failure.code, failure.message)
            if key in self._saved_rejects:
                self._saved_rejects.remove(key)
            else:
                unsaved.append(failure)
        return unsaved

    def _checkpoint(self) -> Checkpoint | None:
        plan = self._plan
        if plan is None:
            return None
        return Checkpoint(
            run_id=self._run_id,
            mode=plan.mode,
            updated_since=plan.updated_since,
            after_id=self._tracker.safe_after(),
            server_start=self.tally.server_start or plan.server_start,
            started_at=self._run_started(),
        )

    # -- the end --------------------------------------------------------------------------------------------------

    def _finish(self, *, status: str, complete: bool) -> None:
        if complete:
            self._release_rejects(None)
        self._flush()
        self.tally.status = status
        server_start = self.tally.server_start
        self.state.finish_run(
            self._run_id,
            status=status,
            summary=self.summary(),
            watermark=server_start if complete else None,
            # the schedule of full runs follows this machine's clock; the watermark follows Magento's
            # (a resumed full run began when its first part did: what that part read may have changed since)
            full_completed_at=self._run_started() if complete and self.tally.mode == "full" else None,
            full_inputs=self.options.full_run_inputs if complete and self.tally.mode == "full" else None,
            clear_checkpoint=complete,
        )

    def _run_started(self) -> str:
        plan = self._plan
        if plan is not None and plan.started_at:
            return plan.started_at
        if self._started_text is None:  # formatted once: every save of the checkpoint carries it
            self._started_text = format_time(self._started)
        return self._started_text

    def summary(self) -> dict[str, Any]:
        tally = self.tally
        return {
            "mode": tally.mode,
            "full_reason": tally.full_reason,
            "resumed": tally.resumed,
            "counts": {
                "read": tally.read,
                "inserted": tally.inserted,
                "updated": tally.updated,
                "unchanged": tally.unchanged,
                "failed": tally.failed,
                "merged": tally.merged,
                "deleted": tally.deleted,
                "truncated": tally.truncated,
                "deleted_tagged": tally.deleted_tagged,
                "deleted_removed": tally.deleted_removed,
                "parked": tally.parked,
            },
        }
