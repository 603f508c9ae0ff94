"""Customers read again by id once the pages are done: those that failed in earlier runs (and are not parked),
retried; and those whose email lost its winner this run (an email change, a deletion), decided again.

A part of :class:`~magento_zoho_sync.engine.SyncEngine`, whose state it shares.
"""

from __future__ import annotations

from magento_zoho_sync.engine_shared import EngineShared


class Rereads(EngineShared):
    """Earlier failures retried, orphaned emails decided again; a part of
    :class:`~magento_zoho_sync.engine.SyncEngine`."""

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
            missing = [customer_id for customer_id in chunk if customer_id not in present]
            if missing:  # deleted only on a 404: a search that leaves customers out must not delete them
                fetched = self._fetch_each(missing)
                gone = [cid for cid, customer in zip(missing, fetched, strict=True) if customer is None]
                found = sorted([*found, *(c for c in fetched if c is not None)], key=lambda c: int(c["id"]))
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
