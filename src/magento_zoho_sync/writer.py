"""Zoho writes in flight: open batches, at most ``concurrency`` calls at once, one write per email at a time.

The writer only moves batches and futures; what an acknowledged batch means (links, failures, counts) is the
engine's business, told through ``on_done``. Everything here runs on the engine's thread except the HTTP calls
themselves, which run in a small thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from magento_zoho_sync.batching import Batch, CheckpointTracker, Pending
from magento_zoho_sync.planner import Action
from magento_zoho_sync.sources import ContactSink, RecordOutcome

Outcomes = Future[Sequence[RecordOutcome]]


class BatchWriter:
    def __init__(
        self,
        sink: ContactSink,
        *,
        tracker: CheckpointTracker,
        concurrency: int,
        on_done: Callable[[Batch, Outcomes], None],
        on_harvested: Callable[[], None] = lambda: None,
    ) -> None:
        self._sink = sink
        self._tracker = tracker
        self._concurrency = concurrency
        self._on_done = on_done
        self._on_harvested = on_harvested
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="zoho-write")
        self._open: dict[Action, Batch] = {}
        self._open_by_email: dict[str, Pending] = {}
        self._inflight: dict[Outcomes, Batch] = {}
        self._inflight_emails: dict[str, Outcomes] = {}
        # emails whose writes were acknowledged since mark(): a decision on a snapshot taken before is stale
        self._acknowledged: set[str] = set()
        # writes of customers moving off an email: until acknowledged, the state still links them to it
        self._open_leaving: dict[str, list[Pending]] = {}
        self._inflight_leaving: dict[str, set[Outcomes]] = {}

    def mark(self) -> None:
        """Start telling which emails get a write acknowledged from now on (see :meth:`settle`): the caller has just
        read the state."""
        self._acknowledged.clear()

    def queued(self, email: str) -> Pending | None:
        """The customer queued (not yet sent) for this email, if any."""
        return self._open_by_email.get(email)

    def queue(self, pending: Pending) -> None:
        batch = self._open.get(pending.action)
        if batch is None:
            batch = Batch(pending.action)
            self._open[pending.action] = batch
            self._tracker.waiting(batch)
        batch.add(pending)
        self._open_by_email[pending.email] = pending
        if pending.leaving is not None:
            self._open_leaving.setdefault(pending.leaving, []).append(pending)
        if batch.full():
            self.submit(pending.action)

    def unqueue(self, pending: Pending) -> None:
        batch = self._open.get(pending.action)
        if batch is not None and pending in batch.records:
            batch.remove(pending)
        self._open_by_email.pop(pending.email, None)
        self._forget_open_leaving(pending)

    def _forget_open_leaving(self, pending: Pending) -> None:
        if pending.leaving is None:
            return
        leaving = self._open_leaving.get(pending.leaving, [])
        if pending in leaving:
            leaving.remove(pending)
            if not leaving:
                del self._open_leaving[pending.leaving]

    def submit(self, action: Action) -> None:
        """Send the open batch of this action (waiting first if ``concurrency`` calls are in flight)."""
        batch = self._open.pop(action, None)
        if batch is None or not batch.records:
            if batch is not None:
                self._tracker.done(batch)
            return
        while len(self._inflight) >= self._concurrency:
            self.harvest(block=True)
        bodies = [record.body() for record in batch.records]
        future = self._pool.submit(self._write, action, bodies)
        self._inflight[future] = batch
        for record in batch.records:
            self._open_by_email.pop(record.email, None)
            self._inflight_emails[record.email] = future
            if record.leaving is not None:
                self._forget_open_leaving(record)
                self._inflight_leaving.setdefault(record.leaving, set()).add(future)

    def _write(self, action: Action, bodies: list[dict[str, Any]]) -> Sequence[RecordOutcome]:
        if action is Action.UPDATE_BY_ID:
            return self._sink.update_contacts(bodies)
        return self._sink.upsert_contacts(bodies)

    def settle(self, email: str, moved_from: str | None) -> bool:
        """Wait until no write for ``email`` is in flight, nor (after an email change) for the old email, nor a
        write of another customer moving off ``email``.

        Two writes for one email must never travel at once (two concurrent upserts of a new email can both
        insert), and an email change is decided on what Zoho acknowledged for the email it leaves. A customer
        whose write moves it off ``email`` is linked to it until Zoho acknowledges the write (and its contact may
        still hold the email in Zoho): whoever takes the email is decided after that. True when something was
        waited for, or a write for one of these emails was acknowledged since :meth:`mark` (a batch harvested to
        make room for another, say): the caller should read the state again, as what it read before misses it.
        """
        settled = False
        # until none is left: an acknowledged write can queue another one leaving the email (an update by id
        # whose contact was deleted in Zoho comes back as an upsert)
        while self._open_leaving.get(email) or self._inflight_leaving.get(email):
            for pending in list(self._open_leaving.get(email, ())):
                self.submit(pending.action)
            for leaving in list(self._inflight_leaving.get(email, ())):
                wait([leaving])
                self.harvest(block=False)
                settled = True
        for address in (email, moved_from):
            if address is None:
                continue
            if address == moved_from and address in self._open_by_email:
                self.submit(self._open_by_email[address].action)
            future = self._inflight_emails.get(address)
            if future is not None:
                wait([future])
                self.harvest(block=False)
                settled = True
        for address in (email, moved_from):  # acknowledged since mark() (a batch harvested to make room for
            if address is not None and address in self._acknowledged:  # another): the caller's read is stale
                self._acknowledged.discard(address)
                settled = True
        return settled

    def harvest(self, *, block: bool) -> None:
        """Hand every finished write to ``on_done``, then call ``on_harvested`` once (``block``: wait for one)."""
        if not self._inflight:
            return
        done, _ = wait(list(self._inflight), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        if not done:
            return
        for future in done:
            batch = self._inflight.pop(future)
            for record in batch.records:
                if self._inflight_emails.get(record.email) is future:
                    del self._inflight_emails[record.email]
                self._acknowledged.add(record.email)
                if record.leaving is not None:
                    self._done_leaving(record.leaving, future)
                    self._acknowledged.add(record.leaving)
            self._on_done(batch, future)
        self._on_harvested()

    def _done_leaving(self, email: str, future: Outcomes) -> None:
        futures = self._inflight_leaving.get(email)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self._inflight_leaving[email]

    def drain(self) -> None:
        """Send every open batch and wait for every write (including fallbacks queued meanwhile)."""
        for action in list(self._open):
            self.submit(action)
        while self._inflight:
            self.harvest(block=True)
            for action in list(self._open):
                self.submit(action)

    def salvage(self) -> None:
        """After a fatal error: wait for the writes in flight and hand over those that succeeded (no ``on_harvested``:
        the caller saves what it was handed)."""
        for future in list(self._inflight):
            wait([future])
            batch = self._inflight.pop(future)
            try:
                self._on_done(batch, future)
            except Exception:  # noqa: S112 - already failing; save what can be saved
                continue

    def close(self) -> None:
        self._pool.shutdown(wait=True)
