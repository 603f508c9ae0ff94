"""A deterministic Zoho org with pre-existing contacts.

Given the store's emails, some contacts already exist for them with the email in a DIFFERENT CASE, and
some emails are shared by two contacts (the duplicates an org accumulates when Email uniqueness is off).
Unrelated contacts fill the rest. The same seed always gives the same org.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from magento_zoho_sims.zoho.backend import ZohoBackend

FIRST_NAMES = (
    "Jane",
    "John",
    "María José",
    "François",
    "Zoë",
    "Søren",
    "Łukasz",
    "Ngozi",
    "Hiroshi",
    "Aiko",
    "Dmitri",
    "Anaïs",
    "Seán",
    "O'Neil",
    "Jürgen",
    "Chloé",
    "Priya",
    "Mehmet",
    "Ana-Lucía",
    "Björn",
    "Thảo",
    "Ólafur",
)
LAST_NAMES = (
    "O'Brien",
    "Müller",
    "García Márquez",
    "D'Angelo",
    "Smith",
    "Nguyễn",
    "Kowalski",
    "van der Berg",
    "Øster",
    "Yamamoto",
    "Okafor",
    "Dubois",
    "Schröder",
    "MacLeod",
    "Al-Farsi",
    "Ivanova",
    "Brontë",
    "Lee",
    "Da Silva",
)
CITIES = (
    ("Berlin", "BE", "10115", "Germany"),
    ("Lyon", "ARA", "69001", "France"),
    ("Austin", "TX", "78701", "United States"),
    ("Osaka", "27", "530-0001", "Japan"),
    ("Cork", "CO", "T12 X2F3", "Ireland"),
    ("São Paulo", "SP", "01310-100", "Brazil"),
)
SOURCES = ("Web Download", "Online Store", "Trade Show", "Cold Call", "Partner")


@dataclass(frozen=True)
class SeedSummary:
    """What the seed put in the org, for tests and the demo to assert on."""

    contacts: int
    case_variants: tuple[str, ...]  # store emails that exist in Zoho with a different case
    duplicated: tuple[str, ...]  # store emails held by two contacts


def _case_variant(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    choice = rng.randrange(3)
    if choice == 0:
        variant = f"{local[:1].upper()}{local[1:]}@{domain}"
    elif choice == 1:
        variant = f"{local}@{domain.upper()}"
    else:
        variant = email.upper()
    return variant if variant != email else email.swapcase()


def _person(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, zip_code, country = rng.choice(CITIES)
    values: dict[str, Any] = {"First_Name": first, "Last_Name": last, "Lead_Source": rng.choice(SOURCES)}
    if rng.random() < 0.7:
        values["Phone"] = f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
    values.update(
        {
            "Mailing_Street": f"{rng.randrange(1, 300)} Rue de l'Église, Apt. {n % 50}",
            "Mailing_City": city,
            "Mailing_State": state,
            "Mailing_Zip": zip_code,
            "Mailing_Country": country,
        }
    )
    return values


def org_contacts(
    seed: int, store_emails: Iterable[str], *, unrelated: int = 20
) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """(role, store email, values) of the pre-existing contacts; role is "case", "duplicate" or "unrelated"."""
    rng = random.Random(f"zoho-org-{seed}")
    for n, email in enumerate(store_emails):
        if not email or "@" not in email:
            continue
        if n % 5 == 1:
            yield "case", email, {**_person(rng, n), "Email": _case_variant(email, rng)}
        elif n % 11 == 3:
            yield "duplicate", email, {**_person(rng, n), "Email": email}
            yield "duplicate", email, {**_person(rng, n + 1), "Email": _case_variant(email, rng) if n % 2 else email}
    for n in range(unrelated):
        values = {**_person(rng, n), "Email": f"lead{seed}.{n}@prospects.example"}
        if n % 4 == 0:
            values["Secondary_Email"] = f"alt{n}@prospects.example"
        yield "unrelated", None, values


def seed_org(backend: ZohoBackend, seed: int, store_emails: Iterable[str] = (), *, unrelated: int = 20) -> SeedSummary:
    """Add the deterministic pre-existing contacts to ``backend``; created over the preceding 30 days."""
    now = backend.clock.now()
    items = list(org_contacts(seed, store_emails, unrelated=unrelated))
    span = 30 * 86400
    for n, (_, _, values) in enumerate(items):
        backend.seed_contact(values, created=now - span + n * (span / max(1, len(items))))
    case_variants = tuple(dict.fromkeys(email for role, email, _ in items if role == "case" and email))
    duplicated = tuple(dict.fromkeys(email for role, email, _ in items if role == "duplicate" and email))
    return SeedSummary(contacts=len(items), case_variants=case_variants, duplicated=duplicated)


def bulk_contacts(count: int, *, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Cheap realistic contacts for scale tests (one million in a few seconds)."""
    rng = random.Random(f"zoho-bulk-{seed}")
    firsts, lasts = FIRST_NAMES, LAST_NAMES
    for n in range(count):
        city, state, zip_code, country = CITIES[n % len(CITIES)]
        yield {
            "First_Name": firsts[n % len(firsts)],
            "Last_Name": lasts[(n * 7) % len(lasts)],
            "Email": f"customer{n}@shop{n % 97}.example",
            "Phone": f"+1 555 {rng.randrange(100, 999)} {n % 10000:04d}",
            "Mailing_Street": f"{n % 999} Market Street",
            "Mailing_City": city,
            "Mailing_State": state,
            "Mailing_Zip": zip_code,
            "Mailing_Country": country,
            "Lead_Source": "Online Store",
        }
