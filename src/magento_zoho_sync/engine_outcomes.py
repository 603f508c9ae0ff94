"""Zoho's answers to the written batches: inserts and updates counted and linked, failures kept, updates by an id
gone from Zoho sent again on the email (after asking Zoho who holds it, on an incremental run); and the warnings
those answers call for.

A part of :class:`~magento_zoho_sync.engine.SyncEngine`, called by its writer as each batch is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from magento_zoho_sync.batching import Batch, Pending
from magento_zoho_sync.engine_shared import EngineShared
from magento_zoho_sync.errors import (
    ZohoAuthError,
    ZohoError,
    ZohoRateLimited,
    ZohoRequestRefused,
    ZohoTokenUnavailable,
)
from magento_zoho_sync.planner import Action, Candidate, ZohoMatch, decide
from magento_zoho_sync.sources import RecordOutcome
from magento_zoho_sync.state import FailureRecord, LinkUpdate
from magento_zoho_sync.writer import Outcomes
from magento_zoho_sync.zoho.records import explain, failure_details

CONSECUTIVE_BATCH_ERRORS_FATAL = 3


class OutcomeHandling(EngineShared):
    """What Zoho answered for each batch; a part of :class:`~magento_zoho_sync.engine.SyncEngine`."""

    def _acknowledge(self, batch: Batch, future: Outcomes) -> None:
        try:
            outcomes = future.result()
        except (ZohoAuthError, ZohoRateLimited, ZohoRequestRefused, ZohoTokenUnavailable):
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
                    reason = outcome.message + (f"; clears {', '.join(record.cleared)}" if record.cleared else "")
                    self.tally.planned.append((record.customer_id, record.email, action, outcome.id, reason))
                if action == "insert" and record.linked_id and outcome.id and outcome.id != record.linked_id:
                    self._note_relinked(record, outcome.id)
                links.append(
                    LinkUpdate(
                        record.customer_id,
                        record.email,
                        record.updated_at,
                        outcome.id,
                        record.payload_hash,
                        address_ids=record.address_ids,
                    )
                )
                resolved.append(record.customer_id)
            elif batch.action is Action.UPDATE_BY_ID and _invalid_id(outcome) and not record.fell_back:
                retry.append(record)
            else:
                message = explain(outcome.message, outcome.details)
                details = failure_details(outcome.details)
                failures.append(FailureRecord(record.customer_id, record.email, outcome.code, message, details))
        if retry:  # the linked contact is gone from Zoho: relink by email (a lookup that fails leaves the batch
            failures.extend(self._fall_back(retry))  # waiting: the checkpoint does not pass it)
        self._tracker.done(batch)
        self.tally.add_failures(failures, keep=self._failures_kept)
        self._commit(links=links, failures=failures, resolved=resolved)
        if self.progress is not None:
            self.progress.update(read=self.tally.read, written=self._handled(), total=self._total)

    def _fall_back(self, records: Sequence[Pending]) -> list[FailureRecord]:
        """Customers whose contact is gone from Zoho (deleted or merged there) go again on their email: an upsert,
        unless Zoho holds the email in another contact, or in several.

        An incremental run asks Zoho first (one COQL query per 50 emails): its index of Zoho's emails is as old
        as the last full run, and an upsert onto an email two contacts hold now would update one of them, which
        Zoho picks without saying. The rule for contacts sharing an email then applies (``zoho_duplicates``). A
        full run read every contact's email when it started and decided on that. Returns the customers refused."""
        found: dict[str, list[ZohoMatch]] = {}
        if self.tally.zoho_index_size is None:  # an incremental run
            emails = list(dict.fromkeys(record.email for record in records))
            for email, refs in self.sink.find_contacts_by_email(emails).items():
                found[email] = [ZohoMatch(ref.id, ref.email, ref.created_time) for ref in refs]
        refused: list[FailureRecord] = []
        for record in records:
            gone = record.zoho_id
            if gone is not None:
                self._note_gone(record.customer_id, gone)
            decision = decide(
                Candidate(record.customer_id, record.email, record.updated_at, record.payload_hash),
                own=None,
                same_email=(),
                zoho_matches=[match for match in found.get(record.email, ()) if match.zoho_id != gone],
                must_resend=True,
                duplicate_policy=self.options.duplicate_policy,
            )
            for code, message in decision.warnings:
                self.tally.warnings.append(FailureRecord(record.customer_id, record.email, code, message))
            if decision.action is Action.REJECT:
                message = f"Its contact {gone} is gone from Zoho (deleted or merged there). {decision.message}"
                refused.append(FailureRecord(record.customer_id, record.email, decision.code or "REJECTED", message))
                continue
            record.action, record.zoho_id, record.fell_back = decision.action, decision.zoho_id, True
            record.cleared = ()  # another contact than the one the old address's values went to
            self._writer.queue(record)
        return refused

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
                note = f" But contact {zoho_id} was gone from Zoho (deleted or merged there): sent again on the email."
                warnings[index] = replace(warning, message=warning.message + note)


def _invalid_id(outcome: RecordOutcome) -> bool:
    """Zoho's answer to an update by an id that no longer exists (deleted or merged in Zoho)."""
    return outcome.code == "INVALID_DATA" and ("id" in outcome.details or "id given" in outcome.message.lower())
