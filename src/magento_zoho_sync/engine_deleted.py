"""Customers deleted in Magento: found on full runs (linked or failed customers missing from the pages, confirmed
with ``GET /V1/customers/{id}``), their Zoho contacts tagged or deleted as ``on_deleted`` says, their links gone.

A part of :class:`~magento_zoho_sync.engine.SyncEngine`, whose state it shares.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from magento_zoho_sync.engine_shared import EngineShared
from magento_zoho_sync.errors import MagentoError
from magento_zoho_sync.state import FailureRecord, Link

log = logging.getLogger("magento_zoho_sync.engine")

#: GET /V1/customers/{id} calls at once when confirming deleted customers (a purge can leave thousands)
DELETED_CHECKS_AT_ONCE = 4


class DeletedCustomers(EngineShared):
    """Customers deleted in Magento; a part of :class:`~magento_zoho_sync.engine.SyncEngine`."""

    def _sweep_deleted(
        self, low: int, high: int | None, listed: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """Customers the state knows in ``(low, high]`` that a page did not list (``listed``): read by id before the
        page is handled. Those Magento no longer has (404) are handled as deleted here; those it has (the search
        left them out) are returned, to be handled with the page, so that the checkpoint, which moves to the
        page's last id once the page is acknowledged, never passes one of them before its write is."""
        if low >= self._state_through:
            return []  # above the state's highest id at the start, only this page's customers (listed) can be linked
        self._flush()
        seen = {int(item["id"]) for item in listed}
        candidates = [cid for cid in self.state.known_ids_between(low, high) if cid not in seen]
        fetched = self._fetch_each(candidates)
        gone = [cid for cid, customer in zip(candidates, fetched, strict=True) if customer is None]
        if gone:
            self._handle_deleted(gone)
        unlisted = [customer for customer in fetched if customer is not None]
        if unlisted:  # the search left them out (an extension, a proxy): read one by one, handled like any other
            log.warning(
                "Magento's customer search did not list %d customer(s) that exist (ids %s): they were read one by "
                "one and synced. An extension or a proxy may filter GET /V1/customers/search; customers the tool "
                "has never seen cannot be found that way.",
                len(unlisted),
                ", ".join(str(customer.get("id")) for customer in unlisted[:10])
                + (", ..." if len(unlisted) > 10 else ""),
            )
        return unlisted

    def _fetch_each(self, customer_ids: Sequence[int]) -> list[Mapping[str, Any] | None]:
        """``GET /V1/customers/{id}`` for each (None: Magento's 404), DELETED_CHECKS_AT_ONCE at a time.

        A stop signal ends the checks (a purge can leave thousands): the run stops as interrupted, before anything
        is done for the customers of this sweep, and the next full run checks them again.
        """

        def fetch(customer_id: int) -> Mapping[str, Any] | None:
            if self.stop.is_set():
                raise MagentoError("Stopped by a signal while deleted customers were being checked.")
            return self.source.get_customer(customer_id)

        if len(customer_ids) <= 1:
            return [fetch(cid) for cid in customer_ids]
        pool = ThreadPoolExecutor(min(DELETED_CHECKS_AT_ONCE, len(customer_ids)), thread_name_prefix="magento-check")
        try:
            return list(pool.map(fetch, customer_ids))
        finally:  # after an error (Magento unreachable, say) the checks not yet started are dropped
            pool.shutdown(wait=True, cancel_futures=True)

    def _handle_deleted(self, customer_ids: Sequence[int]) -> None:
        self._flush()
        links = self.state.links_for(customer_ids)
        if self.options.on_deleted in ("tag", "delete"):
            owned = [link for link in links.values() if link.zoho_id and self._sole_owner(link)]
            # a live customer holding the email (one who re-registered with it, say) takes the contact over in
            # this run, or the next if it is not yet linked: the contact is neither tagged nor deleted
            held = self.source.emails_held([link.email for link in owned if link.email]) if owned else set()
            zoho_ids = sorted({link.zoho_id for link in owned if link.zoho_id and link.email not in held})
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
