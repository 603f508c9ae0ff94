"""The sync: Magento customers → Zoho CRM contacts, inserted or updated by email.

One run::

    choose the mode ── resume a checkpoint │ full (first run, --full, schedule) │ incremental (updated_at ≥ W)
    full runs: index the emails of Zoho's contacts (COQL, 2,000 a call) to find case variants and duplicates
    for each keyset page of customers (entity_id > last, ascending):
        map (pure) → merge per email → skip unchanged payloads → batch (≤ 100) → write concurrently
        full runs: linked customers missing from the page are checked with GET /V1/customers/{id} (404 = deleted)
        commit each acknowledged batch with its links, failures and the checkpoint in one transaction
    retry customers that failed in earlier runs (until they are parked)
    advance the watermark to the server time at the start of the run

Per-customer problems never stop the run: they are collected with the customer id, email, a stable code and
a message. Fatal problems (authentication, a service unreachable after retries, spent Zoho credits) stop it
after saving what was acknowledged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from magento_zoho_sync.batching import Batch, CheckpointTracker, Pending
from magento_zoho_sync.errors import (
    Interrupted,
    ServiceError,
    ZohoAuthError,
    ZohoError,
    ZohoRateLimited,
    ZohoRequestRefused,
)
from magento_zoho_sync.planner import Action, Candidate, Decision, DuplicatePolicy, ZohoMatch, decide, wins_over
from magento_zoho_sync.readahead import read_ahead
from magento_zoho_sync.redact import stop_reason
from magento_zoho_sync.sources import ContactSink, CustomerSource, MappedRecord, Mapper, RecordOutcome
from magento_zoho_sync.state import Checkpoint, CommitPart, FailureRecord, Link, LinkUpdate, StateStore
from magento_zoho_sync.writer import BatchWriter, Outcomes
from magento_zoho_sync.zoho.records import explain

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CONSECUTIVE_BATCH_ERRORS_FATAL = 3
#: Customers with a value cut to Zoho's length named one by one in the warnings (the rest are counted).
TRUNCATIONS_NAMED = 50
#: GET /V1/customers/{id} calls at once when confirming deleted customers (a purge can leave thousands)
DELETED_CHECKS_AT_ONCE = 4
FAILURES_KEPT_IN_MEMORY = 1000


class Progress(Protocol):
    def update(self, *, read: int, written: int, total: int | None) -> None: ...


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


@dataclass(frozen=True)
class RunPlan:
    mode: str
    updated_since: str | None
    after_id: int
    server_start: str | None
    resumed: bool
    run_id: int | None
    started_at: str | None = None  # a resumed run's first start (this machine's clock), for the full-run schedule


class SyncEngine:
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
        self._refreshed: list[LinkUpdate] = []
        self._page_unchanged: set[int] = set()  # counted unchanged on this page: moved to merged if one merges them
        self._reconsidering = False
        self._total: int | None = None
        # a dry run's failures are its plan of rejects, listed in full; a real run keeps a page of them and
        # the report reads the rest back from the state (memory stays flat however many customers fail)
        self._failures_kept = 10**9 if options.dry_run else FAILURES_KEPT_IN_MEMORY
        self._started = clock()
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

    # -- the run ----------------------------------------------------------------------------------------------

    def run(self) -> Tally:
        self._started = self.clock()
        plan = self._choose_plan()
        self._plan = plan
        self.tally.mode = plan.mode
        self.tally.resumed = plan.resumed
        self.tally.watermark_from = plan.updated_since
        self._run_id = plan.run_id if plan.run_id is not None else self.state.start_run(plan.mode)
        self.tally.run_id = self._run_id
        self._tracker.read_through = plan.after_id  # every customer up to the checkpoint is handled
        self._known_through = self._state_through = self.state.highest_customer_id()
        if plan.resumed:
            # the first part's failures up to the checkpoint are retried; those after it (the first part read
            # ahead of the batches in flight) are read again by this part, and are not counted or listed twice
            self.state.forget_run_errors_after(self._run_id, plan.after_id)
            failed_before = self.state.run_failure_ids(self._run_id)
            self._earlier_failures = {customer_id for customer_id in failed_before if customer_id <= plan.after_id}
        try:
            # a full run reads Zoho's contacts once the first page proves the Magento login: a wrong Magento
            # setting then costs no Zoho token refresh (Zoho allows a few per token and 10 minutes) nor credits
            self._stream(plan, before_first_page=self._index_zoho if plan.mode == "full" else None)
            if not self.stop.is_set():
                self._retry_failures()
            self._drain()
            if not self.stop.is_set():
                self._reconsider_orphans()
        except ServiceError as exc:
            if not self.stop.is_set():
                self._abort(exc)
                raise
            # the stop signal cut a service's retries short (the retry.STOPPING flag): an interruption
            self._writer.salvage()
            self._finish(status="interrupted", complete=False)
            raise Interrupted("Stopped by a signal; what Zoho acknowledged is saved.", signal_number=0) from exc
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            self._writer.close()
        if self.stop.is_set():
            self._finish(status="interrupted", complete=False)
            raise Interrupted("Stopped by a signal; what Zoho acknowledged is saved.", signal_number=0)
        self.tally.parked = self.state.count_parked()  # at the end: this run may have synced some, parked others
        # parked customers are not in Zoho either: the run is not a clean one while any is left
        clean = not self.tally.failed and not self.tally.parked
        self._finish(status="completed" if clean else "completed_with_failures", complete=True)
        return self.tally

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
                log.info("%s since the last full run: this run reads every customer", reason.capitalize())
            return RunPlan("full", None, 0, None, False, None)
        watermark = self.state.watermark
        assert watermark is not None  # _full_reason: no watermark makes a full run
        since = _parse_time(watermark) - timedelta(minutes=self.options.overlap_minutes)
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
        return self.clock() - _parse_time(stamp) >= every - min(timedelta(minutes=30), every / 20)

    def _index_zoho(self) -> None:
        """Read the emails of every Zoho contact (full runs only; COQL, 2,000 per call, immediately consistent)."""
        count = self.state.replace_zoho_index(
            (self.mapper.normalise_email(ref.email), ref.id, ref.email, ref.created_time)
            for ref in self.sink.scan_contacts()
            if ref.email
        )
        self.tally.zoho_index_size = count

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
            if self._total is None and page.total_count is not None:
                self._total = self.tally.read + page.total_count
            self._handle_customers(page.items)
            if plan.mode == "full" and page.items:
                self._sweep_deleted(previous_last, page.last_id, {int(item["id"]) for item in page.items})
            previous_last = max(previous_last, page.last_id)
            self._writer.harvest(block=False)
            self._flush()
            if self.stop.is_set():
                return
        if before_first_page is not None:  # no page at all (an empty store, or a resumed run at its end)
            before_first_page()
        if self.tally.server_start is None:
            self.tally.server_start = plan.server_start or self._server_time(self.source.server_time)
        if plan.mode == "full":
            self._sweep_deleted(previous_last, None, set())

    def _server_time(self, said: datetime | None) -> str:
        """Magento's time at the start of the run (the next watermark), from its Date header; this machine's clock,
        said once, when the answer had none (a proxy that drops it): then the clocks must agree within the overlap."""
        if said is not None:
            return _format(said)
        log.warning(
            "Magento's answer had no Date header (a proxy in front of it removes it?): the next incremental run "
            "reads the customers changed since this machine's time, minus overlap_minutes (%s). If Magento's clock "
            "differs from this machine's by more than that, edits are missed until the next full run: keep the "
            "Date header, or the clocks in step (NTP), or raise MZSYNC_OVERLAP_MINUTES.",
            self.options.overlap_minutes,
        )
        return _format(self.clock())

    def _handle_customers(
        self, items: Sequence[Mapping[str, Any]], *, count_read: bool = True, only: set[int] | None = None
    ) -> None:
        """Map, decide and queue a page of customers (``only``: decide just these; the others are context)."""
        mapped: list[MappedRecord] = []
        page_failures: list[FailureRecord] = []
        if count_read:
            self.tally.read += len(items)
        mapper = self.mapper.map
        for item in items:
            result = mapper(item)
            if only is not None and result.customer_id not in only:
                if not isinstance(result, FailureRecord):
                    mapped.append(result)  # context only: not counted, failed or said again
            elif isinstance(result, FailureRecord):
                page_failures.append(result)
            else:
                mapped.append(result)
                if result.truncated:
                    self._note_truncated(result)
        ids = [record.customer_id for record in mapped]
        self._flush()
        # customers the state cannot know (a first sync's pages, new customers) have no link and no failure
        unknown = not ids or min(ids) > self._known_through
        own_links = {} if unknown else self.state.links_for(ids)
        emails = [record.email for record in mapped]
        previous = [link.email for link in own_links.values() if link.email]
        by_email = self.state.links_by_email(emails + previous)
        failed = set() if unknown else self.state.failed_ids(ids)
        matches = self.state.zoho_contacts_for(emails)
        asked_zoho = self._look_up_new_emails(mapped, own_links, matches)
        current = {record.customer_id: record for record in mapped}
        by_email = {email: _as_read(links, current) for email, links in by_email.items()}
        self._refreshed.clear()
        self._page_unchanged.clear()
        for record in mapped:
            if only is not None and record.customer_id not in only:
                continue
            own = own_links.get(record.customer_id)
            moved_from = _moved_from(own, record.email)
            if self._writer.settle(record.email, moved_from):
                # a write for one of these emails was on its way: decide on what Zoho acknowledged
                self._flush()
                fresh = self.state.links_by_email([record.email, *([moved_from] if moved_from else [])])
                by_email.update(
                    {email: _as_read(fresh.get(email, []), current) for email in (record.email, moved_from) if email}
                )
                own_links.update(self.state.links_for([record.customer_id]))
                own = own_links.get(record.customer_id)
                # what holds these emails in Zoho, after what was just acknowledged (a contact moved off one)
                settled = [email for email in (record.email, moved_from) if email]
                fresh_matches = self.state.zoho_contacts_for(settled)
                for email in settled:
                    matches[email] = fresh_matches.get(email, [])
                self._ask_zoho([email for email in settled if email in asked_zoho], matches)
            left_behind = by_email.get(moved_from, []) if moved_from else []
            self._consider(
                record,
                own=own,
                same_email=by_email.get(record.email, []),
                # others stay on the old email and rely on this customer's contact (merged into it)
                old_email_shared=any(
                    link.customer_id != record.customer_id
                    and (link.zoho_id is None or (own is not None and link.zoho_id == own.zoho_id))
                    for link in left_behind
                ),
                zoho=matches.get(record.email, []),
                must_resend=record.customer_id in failed,
            )
        if self._refreshed:
            self._commit(links=list(self._refreshed))  # a copy: the list is reused for the next page
        if items:
            highest = max(int(item["id"]) for item in items)
            self._tracker.saw(highest)
            self._known_through = max(self._known_through, highest)
        if page_failures:
            self._record_failures(page_failures)
        if self.progress is not None:
            self.progress.update(read=self.tally.read, written=self._handled(), total=self._total)

    def _look_up_new_emails(
        self,
        mapped: Sequence[MappedRecord],
        own_links: Mapping[int, Link],
        matches: dict[str, list[tuple[str, str, str | None]]],
    ) -> set[str]:
        """Add what Zoho holds now for the emails customers changed to: the index is only as fresh as the last full
        run, and a contact created since (a web form, another integration) must not get a twin when a linked
        contact moves onto its email. One exact COQL query per 50 changed emails; none on a first sync. Returns
        the emails asked about."""
        changed = [
            record.email
            for record in mapped
            if (own := own_links.get(record.customer_id)) is not None and own.email and own.email != record.email
        ]
        self._ask_zoho(changed, matches)
        return set(changed)

    def _ask_zoho(self, emails: Sequence[str], matches: dict[str, list[tuple[str, str, str | None]]]) -> None:
        if not emails:
            return
        for email, refs in self.sink.find_contacts_by_email(emails).items():
            known = matches.setdefault(email, [])
            ids = {zoho_id for zoho_id, _, _ in known}
            known.extend((ref.id, ref.email, ref.created_time) for ref in refs if ref.id not in ids)

    def _note_relinked(self, record: Pending, new_id: str) -> None:
        """An upsert made a new contact although the customer was linked to one: that contact no longer holds
        the email in Zoho (edited there, say). Said, so that the two can be merged in Zoho."""
        message = (
            f"contact {record.linked_id} no longer holds {record.email} in Zoho (edited there?): contact {new_id} "
            f"was created for it; merge the two in Zoho if they are the same person"
        )
        warning = FailureRecord(record.customer_id, record.email, "ZOHO_CONTACT_EMAIL_CHANGED", message)
        self.tally.warnings.append(warning)

    def _note_gone(self, customer_id: int, zoho_id: str) -> None:
        """A warning that named the contact an update by id was for (the oldest of several sharing an email, the
        one holding a new email) is corrected when that contact turned out to be gone from Zoho."""
        warnings = self.tally.warnings
        for index, warning in enumerate(warnings):
            if warning.customer_id == customer_id and zoho_id in warning.message:
                note = f" But contact {zoho_id} was gone from Zoho (deleted or merged there): upserted on the email."
                warnings[index] = replace(warning, message=warning.message + note)

    def _note_truncated(self, record: MappedRecord) -> None:
        """Values cut to Zoho's lengths are said: counted, and the first few named in the warnings."""
        self.tally.truncated += 1
        if self.tally.truncated <= TRUNCATIONS_NAMED:
            fields = ", ".join(record.truncated)
            message = f"{fields} cut to Zoho's length (truncate_long_values)"
            self.tally.warnings.append(FailureRecord(record.customer_id, record.email, "VALUE_TRUNCATED", message))

    def _handled(self) -> int:
        """Customers whose outcome is known (written, unchanged, merged or failed)."""
        tally = self.tally
        return tally.inserted + tally.updated + tally.unchanged + tally.merged + tally.failed

    def _consider(
        self,
        record: MappedRecord,
        *,
        own: Link | None,
        same_email: Sequence[Link],
        zoho: Sequence[tuple[str, str, str | None]] | None,
        must_resend: bool,
        old_email_shared: bool = False,
    ) -> None:
        queued = self._writer.queued(record.email)
        if queued is None and own is None and not same_email and not zoho and not must_resend:
            # a customer new to the state whose email nobody holds (a first sync's common case): upsert
            self._queue(record, Action.UPSERT, None)
            return
        if queued is not None and queued.customer_id != record.customer_id:
            if wins_over(queued.updated_at, queued.customer_id, record.updated_at, record.customer_id):
                self._merged(record, into=queued.customer_id)
                return
            self._writer.unqueue(queued)
            self._merged_pending(queued, into=record.customer_id)
        decision = decide(
            Candidate(record.customer_id, record.email, record.updated_at, record.payload_hash),
            own=own,
            same_email=[link for link in same_email if link.customer_id != record.customer_id],
            zoho_matches=None if zoho is None else [ZohoMatch(*match) for match in zoho],
            must_resend=must_resend,
            duplicate_policy=self.options.duplicate_policy,
            old_email_shared=old_email_shared,
            # this run read Zoho's contacts (a full run): a linked contact missing from them is gone from Zoho
            zoho_read_now=self.tally.zoho_index_size is not None,
        )
        for code, message in decision.warnings:
            self.tally.warnings.append(FailureRecord(record.customer_id, record.email, code, message))
        self._apply(record, decision, same_email, own)

    def _apply(
        self, record: MappedRecord, decision: Decision, same_email: Sequence[Link], own: Link | None = None
    ) -> None:
        if decision.action is Action.UNCHANGED:
            if not self._reconsidering:
                self.tally.unchanged += 1
                self._page_unchanged.add(record.customer_id)
            if own is not None and own.updated_at != record.updated_at:  # keeps "the latest update wins" true
                self._refreshed.append(
                    LinkUpdate(record.customer_id, record.email, record.updated_at, own.zoho_id, own.payload_hash)
                )
            return
        moved_from = _moved_from(own, record.email)
        if moved_from is not None:
            # customers left on the old email may need their own contact: also when this customer is merged into
            # another or rejected on its new email (its data stays on the old email's contact until they are sent)
            self._orphaned_emails.add(moved_from)
        if decision.action is Action.MERGED:
            assert decision.merged_into is not None
            self._merged(record, into=decision.merged_into)
            return
        if decision.action is Action.REJECT:
            self._record_failures(
                [FailureRecord(record.customer_id, record.email, decision.code or "REJECTED", decision.message or "")]
            )
            return
        for other in same_email:
            if other.customer_id != record.customer_id:
                self._note_merge(other.customer_id, record.customer_id, record.email)
        upsert = decision.action is Action.UPSERT
        # an upsert that inserts although the customer's contact held this email means the contact's email was
        # edited in Zoho (said); a customer that moved to a new email gets a new contact when its old one stays
        # with the customers still on the old email: nothing to say then
        linked = own.zoho_id if upsert and own is not None and moved_from is None else None
        self._queue(record, decision.action, None if upsert else decision.zoho_id, linked=linked, leaving=moved_from)

    def _queue(
        self,
        record: MappedRecord,
        action: Action,
        zoho_id: str | None,
        *,
        linked: str | None = None,
        leaving: str | None = None,
    ) -> None:
        self._writer.queue(
            Pending(
                customer_id=record.customer_id,
                email=record.email,
                updated_at=record.updated_at,
                payload=record.payload,
                payload_hash=record.payload_hash,
                action=action,
                zoho_id=zoho_id,
                linked_id=linked,
                leaving=leaving,
            )
        )

    def _merged(self, record: MappedRecord, *, into: int) -> None:
        self._note_merge(record.customer_id, into, record.email)
        self._commit(
            links=[LinkUpdate(record.customer_id, record.email, record.updated_at, None, None, merged=True)],
            resolved=[record.customer_id],
        )

    def _merged_pending(self, pending: Pending, *, into: int) -> None:
        self._note_merge(pending.customer_id, into, pending.email)
        self._commit(
            links=[LinkUpdate(pending.customer_id, pending.email, pending.updated_at, None, None, merged=True)],
            resolved=[pending.customer_id],
        )

    def _note_merge(self, merged_id: int, into: int, email: str) -> None:
        if merged_id in self._reported_merges:
            return
        self._reported_merges.add(merged_id)
        if merged_id in self._page_unchanged:  # read before the customer that now wins its email: one outcome
            self._page_unchanged.discard(merged_id)
            self.tally.unchanged -= 1
        self.tally.merged += 1
        self.tally.merges.append((merged_id, into, email))

    # -- writing ------------------------------------------------------------------------------------------------

    def _new_writer(self) -> BatchWriter:
        return BatchWriter(
            self.sink,
            tracker=self._tracker,
            concurrency=self.options.concurrency,
            on_done=self._acknowledge,
            on_harvested=self._flush,
        )

    def _acknowledge(self, batch: Batch, future: Outcomes) -> None:
        try:
            outcomes = future.result()
        except (ZohoAuthError, ZohoRateLimited, ZohoRequestRefused):
            raise  # every batch would get it; the batch stays "waiting": the checkpoint must not pass it
        except ZohoError as exc:
            if self.stop.is_set():  # cut short by the stop signal: not the customers' failure; the checkpoint stays
                return  # before the batch, so the next run sends it again
            self._batch_errors += 1
            self._tracker.done(batch)
            self._record_failures(
                [FailureRecord(r.customer_id, r.email, "RETRIES_EXHAUSTED", str(exc)) for r in batch.records]
            )
            if self._batch_errors >= CONSECUTIVE_BATCH_ERRORS_FATAL:
                raise
            return
        self._batch_errors = 0
        links: list[LinkUpdate] = []
        failures: list[FailureRecord] = []
        resolved: list[int] = []
        retry: list[Pending] = []
        for record, outcome in zip(batch.records, outcomes, strict=True):
            if outcome.ok:
                action = "insert" if batch.action is Action.UPSERT and outcome.action == "insert" else "update"
                if action == "insert":
                    self.tally.inserted += 1
                else:
                    self.tally.updated += 1
                if self.options.dry_run:
                    self.tally.planned.append((record.customer_id, record.email, action, outcome.id, outcome.message))
                if action == "insert" and record.linked_id and outcome.id and outcome.id != record.linked_id:
                    self._note_relinked(record, outcome.id)
                links.append(
                    LinkUpdate(record.customer_id, record.email, record.updated_at, outcome.id, record.payload_hash)
                )
                resolved.append(record.customer_id)
            elif batch.action is Action.UPDATE_BY_ID and _invalid_id(outcome) and not record.fell_back:
                retry.append(record)
            else:
                message = explain(outcome.message, outcome.details)
                failures.append(FailureRecord(record.customer_id, record.email, outcome.code, message))
        self._tracker.done(batch)
        for record in retry:  # the linked contact is gone from Zoho: relink by email
            if record.zoho_id is not None:
                self._note_gone(record.customer_id, record.zoho_id)
            record.action, record.zoho_id, record.fell_back = Action.UPSERT, None, True
            self._writer.queue(record)
        self.tally.add_failures(failures, keep=self._failures_kept)
        self._commit(links=links, failures=failures, resolved=resolved)
        if self.progress is not None:
            self.progress.update(read=self.tally.read, written=self._handled(), total=self._total)

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
        if not self._unsaved and checkpoint == self._saved_checkpoint:
            return
        parts, self._unsaved = self._unsaved, []
        self.state.commit_parts(
            run_id=self._run_id, parts=parts, checkpoint=checkpoint, max_failed_runs=self.options.max_failed_runs
        )
        self._saved_checkpoint = checkpoint

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

    # -- deleted customers and earlier failures -----------------------------------------------------------------

    def _sweep_deleted(self, low: int, high: int | None, seen: set[int]) -> None:
        if low >= self._state_through:
            return  # above the state's highest id at the start, only this page's customers (seen) can be linked
        self._flush()
        candidates = [cid for cid in self.state.known_ids_between(low, high) if cid not in seen]
        gone = [cid for cid, customer in zip(candidates, self._fetch_each(candidates), strict=True) if customer is None]
        if gone:
            self._handle_deleted(gone)

    def _fetch_each(self, customer_ids: Sequence[int]) -> list[Mapping[str, Any] | None]:
        """``GET /V1/customers/{id}`` for each (None: Magento's 404), DELETED_CHECKS_AT_ONCE at a time."""
        if len(customer_ids) <= 1:
            return [self.source.get_customer(cid) for cid in customer_ids]
        pool = ThreadPoolExecutor(min(DELETED_CHECKS_AT_ONCE, len(customer_ids)), thread_name_prefix="magento-check")
        try:
            return list(pool.map(self.source.get_customer, customer_ids))
        finally:  # after an error (Magento unreachable, say) the checks not yet started are dropped
            pool.shutdown(wait=True, cancel_futures=True)

    def _handle_deleted(self, customer_ids: Sequence[int]) -> None:
        self._flush()
        links = self.state.links_for(customer_ids)
        if self.options.on_deleted in ("tag", "delete"):
            zoho_ids = sorted({link.zoho_id for link in links.values() if link.zoho_id and self._sole_owner(link)})
            for start in range(0, len(zoho_ids), 100):
                chunk = zoho_ids[start : start + 100]
                if self.options.on_deleted == "tag":
                    outcomes = self.sink.add_tags(chunk, self.options.deleted_tag)
                    self.tally.deleted_tagged += sum(1 for outcome in outcomes if outcome.ok)
                else:
                    outcomes = self.sink.delete_contacts(chunk)
                    self.state.forget_contacts([z for z, o in zip(chunk, outcomes, strict=False) if o.ok])
                    self.tally.deleted_removed += sum(1 for outcome in outcomes if outcome.ok)
                for zoho_id, outcome in zip(chunk, outcomes, strict=False):
                    if not outcome.ok:
                        self.tally.warnings.append(
                            FailureRecord(None, None, outcome.code, f"Zoho contact {zoho_id}: {outcome.message}")
                        )
        self._orphaned_emails.update(link.email for link in links.values() if link.email)
        self._forget_merges(set(customer_ids))
        self.tally.deleted += len(customer_ids)
        self.tally.deleted_ids.extend(customer_ids)
        self._commit(deleted=customer_ids)

    def _forget_merges(self, gone: set[int]) -> None:
        """Merges this run reported into (or of) customers now found deleted: the customers merged into them are
        decided again (:meth:`_reconsider_orphans`), and a deleted customer is no one's winner."""
        kept = [merge for merge in self.tally.merges if merge[0] not in gone and merge[1] not in gone]
        dropped = {merge[0] for merge in self.tally.merges} - {merge[0] for merge in kept}
        self._reported_merges -= dropped
        self.tally.merged -= len(dropped)
        self.tally.merges = kept

    def _sole_owner(self, link: Link) -> bool:
        """A contact shared with another live customer (same email) is neither tagged nor deleted."""
        self._flush()
        others = self.state.links_by_email([link.email]) if link.email else {}
        return not any(other.customer_id != link.customer_id for other in others.get(link.email or "", []))

    def _retry_failures(self) -> None:
        """Customers that failed in earlier runs (and are not parked) are read again by id and retried."""
        self._flush()
        # this run's own failures are not retried: it has just tried them (the state knows them, memory stays flat)
        pending = self._retryable()
        if not pending:
            return
        # a customer this run read and wrote may be on its way to Zoho, its old failure not yet resolved: settle
        # the writes first, or it would be read and written a second time
        self._drain()
        pending = self._retryable()
        if not pending:
            return
        self.tally.retried_failures = len(pending)
        if self._total is not None:  # the progress bar's total: the stream's customers, then these
            self._total += len(pending)
        size = self.options.page_size
        for start in range(0, len(pending), size):  # a page at a time: memory stays flat
            chunk = pending[start : start + size]
            if self._earlier_failures:  # a resumed run: its first part listed these; listed again if they fail
                self.state.forget_run_errors_of(self._run_id, [cid for cid in chunk if cid in self._earlier_failures])
            found = list(self.source.get_customers(chunk))
            present = {int(customer["id"]) for customer in found}
            gone = [customer_id for customer_id in chunk if customer_id not in present]
            if gone:
                self._handle_deleted(gone)
            self._handle_customers(found)
            self._writer.harvest(block=False)
            if self.stop.is_set():
                return

    def _retryable(self) -> list[int]:
        ids = set(self.state.retryable_failure_ids(except_run=self._run_id))
        if self._earlier_failures:  # those still failing (this part may have read and written some)
            ids.update(self._earlier_failures & set(self.state.run_failure_ids(self._run_id)))
        return sorted(cid for cid in ids if cid > 0)

    def _reconsider_orphans(self) -> None:
        """Customers whose email lost its winner this run (an email change, a deletion) are decided again.

        They were merged into a customer that has since moved to another email or disappeared, so one of them
        may now need the email's contact. Bounded: each round can only orphan emails that changed this run.
        """
        self._reconsidering = True
        for _ in range(3):
            emails, self._orphaned_emails = sorted(self._orphaned_emails), set()
            self._flush()
            ids = [link.customer_id for links in self.state.links_by_email(emails).values() for link in links]
            if not ids:
                return
            customers = list(self.source.get_customers(ids))
            # Decided again: the customers that hold the email now. Not one that moved away (decided on its new
            # email already), nor one that failed in this run (a customer rejected on the email it moved to is
            # still linked to the old one; the next run retries it): both are read, so that what they hold now,
            # not their link, is what the others compete with.
            held = set(emails)
            failed = self.state.failed_in_run(self._run_id, ids)
            decided = {
                int(customer["id"])
                for customer in customers
                if int(customer["id"]) not in failed
                and self.mapper.normalise_email(str(customer.get("email") or "")) in held
            }
            for start in range(0, len(customers), self.options.page_size):
                page = customers[start : start + self.options.page_size]
                self._handle_customers(page, count_read=False, only=decided)
            self._drain()

    # -- the end --------------------------------------------------------------------------------------------------

    def _finish(self, *, status: str, complete: bool) -> None:
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
        return plan.started_at if plan is not None and plan.started_at else _format(self._started)

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


def _moved_from(own: Link | None, email: str) -> str | None:
    """The email a linked customer had before this one, or None (not linked, or the same email)."""
    return own.email if own is not None and own.email and own.email != email else None


def _as_read(links: Sequence[Link], current: Mapping[int, MappedRecord]) -> list[Link]:
    """The state's links for one email, corrected by what this page just read from Magento.

    A customer read now with a newer ``updated_at`` competes with it ("the latest update wins"); a customer
    read now under another email no longer holds this one.
    """
    view: list[Link] = []
    for link in links:
        record = current.get(link.customer_id)
        if record is None:
            view.append(link)
        elif record.email == link.email:
            view.append(replace(link, updated_at=record.updated_at))
    return view


def _invalid_id(outcome: RecordOutcome) -> bool:
    """Zoho's answer to an update by an id that no longer exists (deleted or merged in Zoho)."""
    return outcome.code == "INVALID_DATA" and ("id" in outcome.details or "id given" in outcome.message.lower())


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)
