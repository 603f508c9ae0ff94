"""The run history: why a resumed run's earlier parts stopped (``earlier_stops``), kept through odd summaries."""

from __future__ import annotations

import json
from pathlib import Path

from magento_zoho_sync.state import StateStore
from magento_zoho_sync.state_runs import EARLIER_STOPS_KEPT


def test_each_stop_of_a_run_resumed_again_and_again_is_kept_the_last_ones_first_to_go(tmp_path: Path) -> None:
    state = StateStore.open(tmp_path / "state.sqlite")
    run_id = state.start_run("full")
    for n in range(EARLIER_STOPS_KEPT + 2):
        state.finish_run(run_id, status="failed", summary={"error": f"stop {n}"})
    state.finish_run(run_id, status="interrupted", summary={"error": None})
    state.finish_run(run_id, status="completed", summary={"error": None})
    [row] = state.runs()
    stops = row.summary["earlier_stops"]
    assert len(stops) == EARLIER_STOPS_KEPT
    assert stops[-2:] == [f"failed: stop {EARLIER_STOPS_KEPT + 1}", "interrupted"]
    assert stops[0] == "failed: stop 3"


def test_an_odd_summary_neither_breaks_the_end_of_the_resumed_run_nor_is_split_into_letters(tmp_path: Path) -> None:
    state = StateStore.open(tmp_path / "state.sqlite")
    run_id = state.start_run("incremental")
    state.finish_run(run_id, status="failed", summary={"error": "x"})
    for odd in ({"earlier_stops": 7, "error": 5}, {"earlier_stops": "failed", "error": None}, [1, 2], "text"):
        with state.transaction() as db:
            db.execute("UPDATE runs SET status = 'failed', summary = ? WHERE id = ?", (json.dumps(odd), run_id))
        state.finish_run(run_id, status="completed", summary={}, watermark="2026-11-28 00:00:00")
        [row] = state.runs()
        assert row.status == "completed" and row.summary["earlier_stops"] == ["failed"]
        assert state.watermark == "2026-11-28 00:00:00"
