"""What to do with one mapped customer: pure decisions, no I/O.

The engine gathers what it knows (the customer's own link in the state, other live customers with the same
email, the Zoho contacts known to hold that email) and asks :func:`decide`. Keeping this pure makes every
identity rule testable on its own:

* **Merge**: several Magento customers (one per website) share an email → one Zoho contact; the most
  recently updated customer wins (ties: the higher id); the others are reported as merged.
* **Unchanged**: the payload hashes to what Zoho last acknowledged for this customer → no Zoho call.
* **Email change**: the state links the customer to a Zoho contact under another email → update that
  contact by id (an upsert on the new email would create a second contact).
* **Linked**: the state links the customer to a contact, or (a merge's new winner, a customer new to the state)
  links the others sharing its email to one contact (and Zoho is not known to hold the email in another
  contact) → update that contact by id, so that an email edited in Zoho does not turn the next upsert into a
  second contact; a contact deleted in Zoho falls back to an upsert.
* **Case or spaces**: Zoho holds exactly one contact whose email differs from ours only by case or spaces →
  update it by id (whether Zoho matches emails case-sensitively is not documented; this is right either way).
* **Duplicates in Zoho**: several contacts hold the email → never pick one silently: report
  ``ZOHO_DUPLICATE_CONTACTS`` with their ids and, by setting, update the oldest or skip the customer.
* Otherwise: upsert on Email (Zoho inserts or updates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from magento_zoho_sync.state import Link


class Action(StrEnum):
    UPSERT = "upsert"
    UPDATE_BY_ID = "update_by_id"
    UNCHANGED = "unchanged"
    MERGED = "merged"
    REJECT = "reject"


@dataclass(frozen=True)
class ZohoMatch:
    """A Zoho contact known to hold an email (from the last full run's index, or a dry run's lookup)."""

    zoho_id: str
    raw_email: str
    created_time: str | None = None


@dataclass(frozen=True)
class Candidate:
    """The facts about one mapped customer that the decision needs."""

    customer_id: int
    email: str
    updated_at: str
    payload_hash: str


@dataclass(frozen=True)
class Decision:
    action: Action
    zoho_id: str | None = None  # for UPDATE_BY_ID
    merged_into: int | None = None  # for MERGED: the winning customer id
    code: str | None = None  # for REJECT and warnings
    message: str | None = None
    warnings: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (code, message)


DuplicatePolicy = Literal["oldest", "skip"]


def wins_over(a_updated: str | None, a_id: int, b_updated: str | None, b_id: int) -> bool:
    """True when customer *a* is more recently updated than *b* (ties: the higher id wins)."""
    return (a_updated or "", a_id) > (b_updated or "", b_id)


def decide(
    candidate: Candidate,
    *,
    own: Link | None,
    same_email: Sequence[Link],
    zoho_matches: Sequence[ZohoMatch] | None,
    must_resend: bool,
    duplicate_policy: DuplicatePolicy,
    old_email_shared: bool = False,
    zoho_read_now: bool = False,
) -> Decision:
    """Decide the action for one customer.

    ``same_email`` holds the other live customers with the same email; ``old_email_shared`` says whether other
    live customers still hold the email this customer had before (then its contact stays with them).
    ``zoho_read_now``: ``zoho_matches`` come from Zoho's contacts read by this run (a full run), so a linked
    contact missing from them was deleted in Zoho, or its email edited there, since the customer was written.
    """
    for other in same_email:
        if other.customer_id != candidate.customer_id and wins_over(
            other.updated_at, other.customer_id, candidate.updated_at, candidate.customer_id
        ):
            return Decision(Action.MERGED, merged_into=other.customer_id)

    if (
        own is not None
        and not must_resend
        and own.zoho_id
        and own.payload_hash == candidate.payload_hash
        and own.email == candidate.email
        # in a group sharing an email, a customer updated since its last write is now the latest one: the
        # contact may hold another customer's data, so its own (unchanged) data is sent again
        and (not same_email or own.updated_at == candidate.updated_at)
    ):
        if not zoho_read_now or any(match.zoho_id == own.zoho_id for match in zoho_matches or ()):
            return Decision(Action.UNCHANGED, zoho_id=own.zoho_id)
        if not zoho_matches:
            # a full run found the contact gone from the email (deleted, or its email edited, in Zoho): Magento's
            # data is sent again by id, as for a changed customer (an edited email comes back; a deleted contact
            # answers "invalid id" and the customer is upserted on its email, counted as inserted)
            return Decision(Action.UPDATE_BY_ID, zoho_id=own.zoho_id)
        # another contact holds the email now: decided below, as for a changed customer

    matches = list(zoho_matches or ())
    if own is not None and own.zoho_id and own.email and own.email != candidate.email and not old_email_shared:
        # The email changed, and no other customer keeps the old one, so the contact moves with it. But if a
        # contact already holds the new email (another customer's, or one Zoho has), that contact is the one
        # to update: moving ours onto the email would make two.
        taken = [link.zoho_id for link in same_email if link.zoho_id and link.zoho_id != own.zoho_id]
        others = [match for match in matches if match.zoho_id != own.zoho_id]
        if taken or len(others) == 1:
            target = taken[0] if taken else others[0].zoho_id
            note = (
                f"The email changed from {own.email} to {candidate.email}, which contact {target} already holds: "
                f"that contact was updated; the previous contact {own.zoho_id} was left as it is."
            )
            return Decision(Action.UPDATE_BY_ID, zoho_id=target, warnings=(("EMAIL_TAKEN_IN_ZOHO", note),))
        if not others:
            return Decision(Action.UPDATE_BY_ID, zoho_id=own.zoho_id)
        matches = others

    linked = own.zoho_id if own is not None and own.email == candidate.email else None
    if not linked:
        # No contact of its own for this email (merged into another customer until now, or new to the state) while
        # the customers it shares the email with have one: that is the email's contact, the one to update.
        group = {link.zoho_id for link in same_email if link.zoho_id}
        linked = group.pop() if len(group) == 1 else None
    if linked and all(match.zoho_id == linked for match in matches):
        # The customer's (or its email's) contact, which nothing says another contact shares the email with: updated
        # by id. An upsert on the email would make a second contact if the email was edited in Zoho since (the update
        # puts Magento's email back, as it does every mapped field); a contact deleted in Zoho comes back
        # "invalid id" and the customer is then upserted on its email.
        return Decision(Action.UPDATE_BY_ID, zoho_id=linked)

    if len(matches) >= 2:
        ids = ", ".join(match.zoho_id for match in matches)
        message = f"Zoho holds {len(matches)} contacts with the email {candidate.email}: {ids}."
        linked = linked or (own.zoho_id if own is not None else None)
        if linked and any(match.zoho_id == linked for match in matches):
            return Decision(
                Action.UPDATE_BY_ID,
                zoho_id=linked,
                warnings=(("ZOHO_DUPLICATE_CONTACTS", message + f" Updated the linked contact {linked}."),),
            )
        if duplicate_policy == "oldest":
            oldest = min(matches, key=lambda match: (match.created_time or "", match.zoho_id))
            return Decision(
                Action.UPDATE_BY_ID,
                zoho_id=oldest.zoho_id,
                warnings=(("ZOHO_DUPLICATE_CONTACTS", message + f" Updated the oldest, {oldest.zoho_id}."),),
            )
        return Decision(
            Action.REJECT,
            code="ZOHO_DUPLICATE_CONTACTS",
            message=message + ' Merge them in Zoho, or set zoho_duplicates = "oldest" to update the oldest.',
        )
    if len(matches) == 1 and matches[0].raw_email != candidate.email:
        return Decision(Action.UPDATE_BY_ID, zoho_id=matches[0].zoho_id)
    return Decision(Action.UPSERT)
