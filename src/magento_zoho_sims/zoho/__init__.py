"""Zoho simulator: Zoho Accounts OAuth + Zoho CRM API v8 (and the /crm/v2 alias) for the Contacts module.

sim = ZohoSimulator(seed=1)
sim.seed_org(store_emails)                      # pre-existing contacts (case variants, duplicates)
refresh = sim.issue_refresh_token()             # with sim.client_id / sim.client_secret
with sim.serve() as server: ...                 # loopback port; or httpx2.Client(transport=sim.transport())
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.faults import FaultMiddleware, FaultPlan, FaultRenderers
from magento_zoho_sims.common.requestlog import RequestLog
from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.common.transport import InProcessTransport
from magento_zoho_sims.zoho.accounts import DEFAULT_SCOPES, ZohoAccounts
from magento_zoho_sims.zoho.app import ZohoApp
from magento_zoho_sims.zoho.backend import ZohoBackend
from magento_zoho_sims.zoho.config import EDITION_CONCURRENCY, ZohoConfig
from magento_zoho_sims.zoho.control import control_plane
from magento_zoho_sims.zoho.errors import error_body
from magento_zoho_sims.zoho.fields import FieldSpec
from magento_zoho_sims.zoho.limits import JSON_CONTENT_TYPE, ConcurrencyGate, CreditLedger
from magento_zoho_sims.zoho.reads import Reader
from magento_zoho_sims.zoho.seed import SeedSummary, bulk_contacts, seed_org
from magento_zoho_sims.zoho.writes import STATUS_POLICY, WriteRecord, batch_status

__all__ = [
    "DEFAULT_SCOPES",
    "EDITION_CONCURRENCY",
    "STATUS_POLICY",
    "SeedSummary",
    "WriteRecord",
    "ZohoBackend",
    "ZohoConfig",
    "ZohoSimulator",
    "batch_status",
    "zoho_fault_renderers",
]


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body).encode(), status_code=status, headers={"content-type": JSON_CONTENT_TYPE.decode()})


def zoho_fault_renderers() -> FaultRenderers:
    """Zoho's 500 INTERNAL_ERROR envelope, 429 TOO_MANY_REQUESTS envelope, and a 503 maintenance page."""
    return FaultRenderers(
        error=lambda: _json(500, error_body("INTERNAL_ERROR", "Internal Server Error")),
        throttle=lambda: _json(
            429, error_body("TOO_MANY_REQUESTS", "Too many requests. Please try again after some time.")
        ),
        maintenance=lambda: Response(
            "<html><head><title>Zoho CRM - Maintenance</title></head><body><h1>We'll be back soon</h1>"
            "<p>Zoho CRM is undergoing scheduled maintenance. Please try again after some time.</p></body></html>",
            status_code=503,
            media_type="text/html",
        ),
    )


class _Server(ThreadedServer):
    """A ThreadedServer that may be entered after it was started (``with sim.serve() as server:``)."""

    def __enter__(self) -> ThreadedServer:
        return self if self._thread.is_alive() else self.start()


class ZohoSimulator:
    """One simulated Zoho data centre: accounts server + CRM API, with a Python control API for tests."""

    def __init__(self, *, seed: int = 1, clock: Clock | None = None, config: ZohoConfig | None = None) -> None:
        self.seed = seed
        self.clock = clock if clock is not None else Clock()
        self.config = config if config is not None else ZohoConfig()
        digest = hashlib.sha256(f"zoho-sim-{seed}".encode()).hexdigest().upper()
        self.client_id = f"1000.{digest[:30]}"
        self.client_secret = digest[30:72].lower()
        self.backend = ZohoBackend(clock=self.clock, config=self.config)
        self.reader = Reader(self.backend)
        self.accounts = ZohoAccounts(
            clock=self.clock, config=self.config, seed=seed, client_id=self.client_id, client_secret=self.client_secret
        )
        self.ledger = CreditLedger(self.clock, self.config)
        self.faults = FaultPlan(seed=seed)
        self.log = RequestLog(maxlen=10_000)  # bodies included: bounded so that long runs stay small
        self.limits_enabled = True
        api = ZohoApp(self, control_plane(self))
        faulty = FaultMiddleware(api, plan=lambda: self.faults, renderers=zoho_fault_renderers(), log=self.log)
        self.gate = ConcurrencyGate(faulty, config=self.config, log=self.log, enabled=lambda: self.limits_enabled)
        self.app: ASGIApp = self.gate

    # ------------------------------------------------------------------------------------- running
    def transport(self) -> InProcessTransport:
        return InProcessTransport(self.app)

    def serve(self, port: int = 0) -> ThreadedServer:
        """A started loopback server on 127.0.0.1 (use it as a context manager, or call ``stop()``)."""
        return _Server(self.app, port=port).start()

    # ------------------------------------------------------------------------------------------ auth
    def issue_refresh_token(self, scopes: Sequence[str] = DEFAULT_SCOPES) -> str:
        return self.accounts.issue_refresh_token(scopes)

    def issue_grant_code(self, scopes: Sequence[str] = DEFAULT_SCOPES) -> str:
        return self.accounts.issue_grant_code(scopes)

    def issue_access_token(self, scopes: Sequence[str] = DEFAULT_SCOPES, *, refresh_token: str | None = None) -> str:
        """An access token without a token call (for tests of the CRM API alone)."""
        return self.accounts.issue_access_token(refresh_token or self.issue_refresh_token(scopes))

    def expire_access_tokens(self) -> None:
        self.accounts.expire_all_access_tokens()

    def revoke_refresh_token(self, token: str) -> bool:
        return self.accounts.revoke_refresh_token(token)

    # ---------------------------------------------------------------------------------------- data
    def seed_org(self, store_emails: Iterable[str] = (), *, unrelated: int = 20) -> SeedSummary:
        return seed_org(self.backend, self.seed, store_emails, unrelated=unrelated)

    def add_contact(self, **values: Any) -> str:
        """Store a contact as-is (no validation), as pre-existing org data; returns its id."""
        return str(self.backend.seed_contact(values).id)

    def load_bulk_contacts(self, count: int) -> None:
        """Fill the org with ``count`` compact generated contacts (scale tests, benchmarks)."""
        for values in bulk_contacts(count, seed=self.seed):
            self.backend.seed_contact(values)

    def contacts(self) -> list[dict[str, Any]]:
        with self.backend.lock:
            return [self.backend.to_json(c) for c in self.backend.store]

    def contact(self, contact_id: str) -> dict[str, Any] | None:
        with self.backend.lock:
            found = self.backend.store.get(int(contact_id)) if contact_id.isdigit() else None
            return self.backend.to_json(found) if found is not None else None

    def contacts_by_email(self, email: str) -> list[dict[str, Any]]:
        """Contacts whose Email matches (by the org's case rule), oldest first."""
        with self.backend.lock:
            return [self.backend.to_json(c) for c in self.backend.by_email(email)]

    def count(self) -> int:
        return len(self.backend.store)

    def duplicate_emails(self) -> dict[str, list[str]]:
        with self.backend.lock:
            return {k: [str(i) for i in v] for k, v in self.backend.store.indexes["Email"].duplicated().items()}

    def writes(self, op: str | None = None) -> list[WriteRecord]:
        """The write calls received (insert/update/upsert/delete/add_tags), with the ``trigger`` each sent."""
        return [w for w in list(self.backend.writes) if op is None or w.op == op]

    # -------------------------------------------------------------------------------------- switches
    def set_index_lag(self, seconds: float) -> None:
        self.config.index_lag = seconds

    def set_email_unique(self, value: bool) -> None:
        self.config.email_unique = value

    def set_email_case_sensitive(self, value: bool) -> None:
        self.backend.set_email_case_sensitive(value)

    def change_fields(self, *, add: Iterable[FieldSpec] = (), remove: Iterable[str] = ()) -> None:
        """Fields added, changed (made mandatory, shortened) or removed by an admin after the org was made."""
        self.backend.change_fields(add=add, remove=remove)

    def set_credits(self, per_day: int) -> None:
        self.config.credits_per_day = per_day

    def spend_credits(self, credits: int) -> bool:
        """Use up credits as other integrations of the org would (False when the allowance is exceeded)."""
        return self.ledger.charge(credits)

    def credits_used(self) -> int:
        return self.ledger.used()

    def credits_remaining(self) -> int:
        return self.ledger.remaining()

    def set_edition(self, edition: str) -> None:
        if edition not in EDITION_CONCURRENCY:
            raise ValueError(f"unknown edition {edition!r}; one of {sorted(EDITION_CONCURRENCY)}")
        self.config.edition = edition
        self.config.concurrency_limit = None

    def set_concurrency(self, limit: int | None, sub_limit: int | None = None) -> None:
        self.config.concurrency_limit = limit
        if sub_limit is not None:
            self.config.sub_concurrency_limit = sub_limit

    # ------------------------------------------------------------------------------------- lifecycle
    def stats(self) -> dict[str, Any]:
        gate = self.gate.stats
        return {
            "contacts": self.count(),
            "requests": self.log.total,
            "writes": len(self.backend.writes),
            "credits_used": self.ledger.used(),
            "credits_remaining": self.ledger.remaining(),
            "credits_rejected": self.ledger.rejected,
            "token_requests": self.accounts.token_requests,
            "live_access_tokens": len(self.accounts.access_tokens),
            "max_in_flight": gate.max_in_flight,
            "max_heavy_in_flight": gate.max_heavy_in_flight,
            "concurrency_rejected": gate.rejected,
        }

    def reset(self) -> None:
        """Empty org, tokens, credits, faults and log (the registered client stays)."""
        self.backend.reset()
        self.accounts.reset()
        self.ledger.reset()
        self.faults.clear()
        self.log.clear()
        self.gate.reset_stats()
