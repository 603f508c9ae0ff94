"""Property tests of the checkpoint and watermark logic (Hypothesis).

1. The checkpoint never passes a customer whose batch Zoho has not acknowledged, whatever order batches
   come back in, and reaches the last id read once everything is acknowledged.
2. Whatever sequence of Magento changes and crashes (a fatal error after k Zoho writes), a final clean run
   leaves Zoho with exactly one contact per email holding the latest data, and the watermark never moves
   past a run that did not finish.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from magento_zoho_sync.batching import Batch, CheckpointTracker, Pending
from magento_zoho_sync.engine import EngineOptions, SyncEngine
from magento_zoho_sync.errors import ZohoAuthError
from magento_zoho_sync.planner import Action
from magento_zoho_sync.state import StateStore
from tests.unit.fakes import FakeMagento, FakeMapper, FakeZoho, Outcome, customer


def _pending(customer_id: int) -> Pending:
    return Pending(customer_id, f"c{customer_id}@x.test", "", {}, "", Action.UPSERT)


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
)
def test_checkpoint_never_passes_an_unacknowledged_customer(sizes: list[int], order: Any) -> None:
    tracker = CheckpointTracker(0)
    batches: list[Batch] = []
    next_id = 1
    for size in sizes:
        batch = Batch(Action.UPSERT, [_pending(next_id + i) for i in range(size)])
        next_id += size
        tracker.waiting(batch)
        for record in batch.records:
            tracker.saw(record.customer_id)
        batches.append(batch)
    pending = list(batches)
    order.shuffle(pending)
    done: set[int] = set()
    previous = 0
    for batch in pending:
        tracker.done(batch)
        done.update(record.customer_id for record in batch.records)
        safe = tracker.safe_after()
        assert all(customer_id in done for customer_id in range(1, safe + 1))
        assert safe >= previous
        previous = safe
    assert tracker.safe_after() == next_id - 1


class CrashingZoho(FakeZoho):
    """Fails fatally (like a revoked token) once ``budget`` write calls have been made."""

    def __init__(self) -> None:
        super().__init__()
        self.budget: int | None = None

    def _spend(self) -> None:
        if self.budget is not None:
            if self.budget <= 0:
                raise ZohoAuthError("revoked")
            self.budget -= 1

    def upsert_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self._spend()
        return super().upsert_contacts(records)

    def update_contacts(self, records: list[dict[str, Any]]) -> Sequence[Outcome]:
        self._spend()
        return super().update_contacts(records)


operation = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 9)),
    st.tuples(st.just("rename"), st.integers(0, 40)),
    st.tuples(st.just("email"), st.integers(0, 40), st.integers(0, 9)),
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("sync"), st.sampled_from([None, 0, 1, 2])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    operations=[
        ("create", 0),
        ("create", 0),
        ("create", 1),
        ("rename", 0),
        ("sync", None),
        ("email", 0, 2),
        ("email", 2, 0),
    ]
)
@example(
    operations=[
        ("create", 0),
        ("create", 0),
        ("create", 0),
        ("sync", None),
        ("email", 0, 1),
        ("rename", 1),
        ("sync", None),
        ("email", 1, 1),
    ]
)
@example(
    operations=[
        ("create", 0),
        ("create", 1),
        ("sync", None),
        ("email", 0, 1),
        ("rename", 1),
        ("sync", None),
        ("email", 1, 2),
    ]
)
@example(operations=[("create", 0), ("create", 2), ("sync", None), ("email", 0, 1), ("create", 1), ("email", 1, 0)])
@example(operations=[("create", 0), ("create", 1), ("sync", None), ("email", 0, 1), ("email", 1, 0)])
@example(operations=[("create", 0), ("rename", 0), ("sync", None), ("create", 0), ("rename", 0)])
@example(operations=[("create", 0), ("create", 0), ("sync", 0), ("email", 0, 1)])
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_any_history_of_changes_and_crashes_ends_consistent(operations: list[tuple[Any, ...]]) -> None:
    magento = FakeMagento([])
    zoho = CrashingZoho()
    clock = {"t": 0}
    next_id = 1

    def stamp() -> str:
        clock["t"] += 1
        return now().strftime("%Y-%m-%d %H:%M:%S")

    def now() -> datetime:
        return datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=clock["t"])

    with tempfile.TemporaryDirectory() as folder:
        state = StateStore.open(Path(folder) / "state.sqlite")
        for op in operations:
            if op[0] == "create":
                magento.customers[next_id] = customer(next_id, f"u{op[1]}@x.test", updated=stamp())
                next_id += 1
            elif op[0] == "rename" and magento.customers:
                cid = sorted(magento.customers)[op[1] % len(magento.customers)]
                magento.customers[cid] = {**magento.customers[cid], "lastname": f"N{op[1]}", "updated_at": stamp()}
            elif op[0] == "email" and magento.customers:
                cid = sorted(magento.customers)[op[1] % len(magento.customers)]
                magento.customers[cid] = {**magento.customers[cid], "email": f"u{op[2]}@x.test", "updated_at": stamp()}
            elif op[0] == "delete" and magento.customers:
                del magento.customers[sorted(magento.customers)[op[1] % len(magento.customers)]]
            elif op[0] == "sync":
                zoho.budget = op[1]
                magento.server_time = now()  # Magento's clock: the watermark of this run
                watermark = state.watermark
                engine = SyncEngine(
                    source=magento,
                    sink=zoho,
                    state=state,
                    mapper=FakeMapper(),
                    options=EngineOptions(page_size=3, concurrency=2, overlap_minutes=0),
                )
                try:
                    engine.run()
                except ZohoAuthError:
                    assert state.watermark == watermark  # an unfinished run never moves the watermark
        zoho.budget = None
        # The next run finishes an interrupted one (and sees what changed since its start); one more full run
        # then reconciles everything.
        for full in (False, True):
            clock["t"] += 1
            magento.server_time = now()
            SyncEngine(
                source=magento,
                sink=zoho,
                state=state,
                mapper=FakeMapper(),
                options=EngineOptions(page_size=3, concurrency=2, full=full, overlap_minutes=0),
            ).run()
        state.close()

    latest: dict[str, dict[str, Any]] = {}
    for record in sorted(magento.customers.values(), key=lambda c: (c["updated_at"], c["id"])):
        latest[record["email"]] = record  # the most recently updated customer of each email wins
    emails = sorted(str(contact["Email"]) for contact in zoho.contacts.values() if contact["Email"] in latest)
    assert emails == sorted(latest)
    for email, record in latest.items():
        [contact] = zoho.by_email(email)
        assert contact["Last_Name"] == record["lastname"]
