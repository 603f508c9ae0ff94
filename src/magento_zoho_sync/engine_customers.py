"""A page of customers read from Magento: mapped, looked up in the state, decided (:mod:`planner`) and queued for
the writer, or merged into another customer of their email, or failed.

This is the per-customer path of a run (the benchmarks measure it): a part of
:class:`~magento_zoho_sync.engine.SyncEngine`, whose state it shares.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from magento_zoho_sync.batching import Pending
from magento_zoho_sync.engine_shared import EngineShared
from magento_zoho_sync.mapping import normalise_email
from magento_zoho_sync.mapping_addresses import fields_to_clear
from magento_zoho_sync.mapping_values import MAPPING_ERROR
from magento_zoho_sync.planner import Action, Candidate, Decision, ZohoMatch, decide, wins_over
from magento_zoho_sync.sources import MappedRecord
from magento_zoho_sync.state import FailureRecord, Link, LinkUpdate

#: Customers with a value cut to Zoho's length named one by one in the warnings (the rest are counted).
TRUNCATIONS_NAMED = 50


class CustomerHandling(EngineShared):
    """Customers read: mapped, decided and queued; a part of :class:`~magento_zoho_sync.engine.SyncEngine`."""

    def _reject_without_id(self, items: Sequence[Any], *, through: int | None) -> None:
        """Items of a page that have no valid customer id: read, and each one a failure of the run (without an id,
        the state cannot track them, so they are reported again by every run that reads them).

        They are saved once the checkpoint reaches ``through`` (their page's last id; None: a page without a valid
        id, saved when the run completes): a run resumed before their page reads them again, and lists them once.
        """
        self.tally.read += len(items)
        failures = [_without_id(item) for item in items]
        self.tally.add_failures(failures, keep=self._failures_kept)
        self._held_rejects.append((through, failures))

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
        # from here, a write acknowledged for one of these emails (a full batch sent, another harvested to make
        # room) makes what was just read stale: settle() says so, and the customer is decided on the state again
        self._writer.mark()
        asked_zoho = self._look_up_new_emails(mapped, own_links, by_email, matches, only)
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
                must_resend=record.customer_id in failed or record.email in self._lost_writes,
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
        by_email: Mapping[str, Sequence[Link]],
        matches: dict[str, list[tuple[str, str, str | None]]],
        only: set[int] | None,
    ) -> set[str]:
        """Add what Zoho holds now for the emails a write would otherwise trust the index for: the index is only as
        fresh as the last full run, and contacts created since (a web form, another integration) count too.

        * the emails customers changed to: a linked contact moving onto an email a contact holds now would make a
          twin of it;
        * on an incremental run, the emails of customers to be upserted (no contact of their own or of their
          email's): an upsert onto an email that two contacts hold now would update one of them, which Zoho
          picks without saying. Not an email the index holds twice already (what Zoho says would not change the
          decision), nor on a full run, which read every contact's email when it started.

        One exact COQL query per 50 emails; none on a first sync, nor when every customer read is linked.
        Returns the emails asked about."""
        changed = [
            record.email
            for record in mapped
            if (own := own_links.get(record.customer_id)) is not None and own.email and own.email != record.email
        ]
        unlinked: list[str] = []
        if self.tally.zoho_index_size is None:  # an incremental run
            for record in mapped:
                own = own_links.get(record.customer_id)
                if (
                    (only is None or record.customer_id in only)
                    and (own is None or not own.zoho_id)
                    and not any(link.zoho_id for link in by_email.get(record.email, ()))
                    and len(matches.get(record.email, ())) < 2
                ):
                    unlinked.append(record.email)
        asked = list(dict.fromkeys(changed + unlinked))
        self._ask_zoho(asked, matches)
        return set(asked)

    def _ask_zoho(self, emails: Sequence[str], matches: dict[str, list[tuple[str, str, str | None]]]) -> None:
        if not emails:
            return
        for email, refs in self.sink.find_contacts_by_email(emails).items():
            known = matches.setdefault(email, [])
            ids = {zoho_id for zoho_id, _, _ in known}
            known.extend((ref.id, ref.email, ref.created_time) for ref in refs if ref.id not in ids)

    def _note_truncated(self, record: MappedRecord) -> None:
        """Values cut to Zoho's lengths are said: counted, and the first few named in the warnings."""
        self.tally.truncated += 1
        if self.tally.truncated <= TRUNCATIONS_NAMED:
            fields = ", ".join(record.truncated)
            message = f"{fields} cut to Zoho's length (truncate_long_values)"
            self.tally.warnings.append(FailureRecord(record.customer_id, record.email, "VALUE_TRUNCATED", message))

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
            # keeps "the latest update wins" true; and the addresses read: another address that gives the same values
            # (so the same fields left out) is now the one whose values Zoho holds. The same payload also proves the
            # markers of the fields left out: a link of an earlier version (no markers), or one written before the
            # mapping changed, learns them here
            if own is not None and (own.updated_at != record.updated_at or own.address_ids != record.address_ids):
                self._refreshed.append(
                    LinkUpdate(
                        record.customer_id,
                        record.email,
                        record.updated_at,
                        own.zoho_id,
                        own.payload_hash,
                        address_ids=record.address_ids,
                    )
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
        self._lost_writes.discard(record.email)  # sent again: the email's contact holds its winner's data
        cleared = (
            cleared_fields(record, own, decision, self.mapper.address_fields, self.mapper.never_cleared)
            if own is not None
            else ()
        )
        self._queue(
            record,
            decision.action,
            None if upsert else decision.zoho_id,
            linked=linked,
            leaving=moved_from,
            cleared=cleared,
        )

    def _queue(
        self,
        record: MappedRecord,
        action: Action,
        zoho_id: str | None,
        *,
        linked: str | None = None,
        leaving: str | None = None,
        cleared: tuple[str, ...] = (),
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
                address_ids=record.address_ids,
                cleared=cleared,
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


def cleared_fields(
    record: MappedRecord,
    own: Link,
    decision: Decision,
    address_fields: Mapping[str, Sequence[str]],
    never: Collection[str] = (),
) -> tuple[str, ...]:
    """The fields to send as null with the customer's data: in an update of its own contact by id, those the payload
    leaves out that an address no longer read had filled, as its marker shows (:func:`fields_to_clear`); never one
    of ``never`` (the org's mandatory fields).

    None for another contact (its fields never came from this customer's addresses), nor when the payload is the
    one Zoho acknowledged last (the same values, so the same fields left out: nothing of the old address is left),
    nor when no address is remembered (a link of an earlier version): then never blank, as always."""
    if (
        not own.address_ids
        or decision.action is not Action.UPDATE_BY_ID
        or decision.zoho_id != own.zoho_id
        or own.payload_hash == record.payload_hash
    ):
        return ()
    return fields_to_clear(own.address_ids, record.address_ids, address_fields, record.payload, never)


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


def _without_id(item: Any) -> FailureRecord:
    if not isinstance(item, Mapping):
        what, email = f"an item that is not a customer object ({type(item).__name__})", None
    else:
        raw = item.get("id")
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        what = "a customer without an id" if raw is None else f"a customer whose id is not a valid one ({shown})"
        email = normalise_email(item["email"]) or None if isinstance(item.get("email"), str) else None
    return FailureRecord(
        None,
        email,
        MAPPING_ERROR,
        f"Magento listed {what}: it cannot be synced or tracked. Look at this customer in Magento's admin, and at "
        "any extension that changes the customer search API's answers.",
    )
