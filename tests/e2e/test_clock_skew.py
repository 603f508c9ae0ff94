"""Magento's two clocks (reference §4): its database stamps ``updated_at``, its web server the ``Date`` header that
becomes the watermark. An edit made during a run reaches the next incremental run while the web server's clock
runs ahead of the database's by at most ``overlap_minutes``; beyond that it waits for the next full run, and the
run says what it can see of the clocks."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sims.magento.config import MagentoConfig
from magento_zoho_sims.magento.seed import fmt_ts
from tests.e2e.concurrency_support import PAGES, after_page, email, last_names, store_of_ten
from tests.e2e.conftest import World

WEB_AHEAD = "ahead of this machine's clock"
DATABASE_AHEAD = "database clock runs at least"


def skewed_world(make_world: Any, skew: int) -> World:
    world: World = make_world(0, magento_kwargs={"config": MagentoConfig(date_header_skew_seconds=skew)})
    world.magento.clock.freeze()  # the database's clock, to the second (this machine's runs on)
    store_of_ten(world)
    return world


@pytest.mark.parametrize("skew", [-900, -300, 0, 300, 600])
def test_an_edit_made_during_a_run_reaches_the_next_incremental_run_while_the_skew_is_within_the_overlap(
    make_world: Any, skew: int
) -> None:
    """The edit's updated_at is the database's time at the start of the run (the earliest an edit made during
    it can have); the watermark is the web server's, ``skew`` seconds later. Overlap: 10 minutes."""
    world = skewed_world(make_world, skew)
    after_page(world, 1, lambda: world.magento.backend.update_customer(10, lastname="During"))  # 10 is read
    first = world.sync(**PAGES)
    database_start = int(world.magento.clock.now())
    assert first.tally.server_start == fmt_ts(database_start + skew)
    assert last_names(world, email(10)) == ["Lee10"]
    following = world.sync(**PAGES)
    assert following.tally.mode == "incremental" and following.tally.updated == 1
    assert last_names(world, email(10)) == ["During"]


@pytest.mark.parametrize("skew", [601, 900])
def test_an_edit_made_during_a_run_waits_for_the_next_full_run_when_the_web_server_runs_further_ahead(
    make_world: Any, skew: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The limit the README states next to overlap_minutes: the watermark is later than any edit made in the first
    ``skew - overlap`` of the run. Nothing is written twice; the next full run has the edit."""
    world = skewed_world(make_world, skew)
    after_page(world, 1, lambda: world.magento.backend.update_customer(10, lastname="During"))
    world.sync(**PAGES)
    following = world.sync(**PAGES)
    assert following.tally.mode == "incremental" and following.tally.read == 0
    assert last_names(world, email(10)) == ["Lee10"]
    full = world.sync(full=True, **PAGES)
    assert full.tally.updated == 1 and last_names(world, email(10)) == ["During"]
    assert world.zoho.duplicate_emails() == {}
    if skew == 900:  # this machine's clock is the database's here: the web server is seen 15 minutes ahead of it
        assert WEB_AHEAD in caplog.text and "MZSYNC_OVERLAP_MINUTES" in caplog.text
        assert caplog.text.count(WEB_AHEAD) == 3  # once a run
    assert DATABASE_AHEAD not in caplog.text


def test_a_database_clock_ahead_of_the_web_server_is_said_once_a_run(
    make_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world = skewed_world(make_world, -900)
    world.sync(**PAGES)
    assert caplog.text.count(DATABASE_AHEAD) == 1 and "15 min 0 s ahead of its web server's" in caplog.text
    assert WEB_AHEAD not in caplog.text


def test_clocks_in_step_say_nothing(make_world: Any, caplog: pytest.LogCaptureFixture) -> None:
    world = skewed_world(make_world, 0)
    world.sync(**PAGES)
    world.magento.backend.update_customer(10, lastname="Again")
    world.sync(**PAGES)
    assert DATABASE_AHEAD not in caplog.text and WEB_AHEAD not in caplog.text
