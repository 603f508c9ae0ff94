"""Unreadable 200s through the command line, over real sockets: the simulators' ``truncated`` fault (a body cut
off half-way, with a Content-Length that matches, so HTTP reads it fine and only the JSON is broken) and
``html_200`` (a firewall's page, nothing applied), as a user meets them: the exit code, one clear ``error:``
line naming the request, no secret (passwords, client secret, refresh or access tokens) in the output, the
report or the state, and a clean rerun that leaves every customer in Zoho exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from magento_zoho_sims.common.faults import FaultKind
from tests.e2e.test_cli import Live

CUSTOMERS = 30
PAGE = {"MZSYNC_MAGENTO_PAGE_SIZE": "10"}  # three pages


@pytest.fixture
def live(make_world: Any, tmp_path: Path) -> Iterator[Live]:
    world = Live(make_world(0, seed=5), tmp_path)
    world.add(CUSTOMERS)
    yield world
    world.close()


def _after_first_page(live: Live, arm: Any) -> None:
    """``arm()`` once the first page of customers has been answered (the store has answered JSON in the run)."""
    calls = {"n": 0}

    def hook(*_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            arm()

    live.magento.backend.add_search_hook(hook)


def _tokens_seen(live: Live) -> set[str]:
    """The bearer tokens the product sent in the run (Magento's admin token, Zoho's access tokens)."""
    seen: set[str] = set()
    for entry in (*live.magento.log, *live.zoho.log):
        value = entry.headers.get("authorization", "")
        token = value.split(" ", 1)[-1].strip()
        if len(token) >= 16:
            seen.add(token)
    return seen


def _no_secret(live: Live, result: Any) -> None:
    """No traceback, and no secret in the output, the report or the state (the tokens of the run included)."""
    assert "Traceback" not in result.output
    secrets = [*live.secrets, *_tokens_seen(live)]
    assert len(secrets) > len(live.secrets)  # the run did use tokens: the check below covers them
    for blob in (result.output, live.report.read_text(), live.state.read_bytes().decode("latin-1")):
        for secret in secrets:
            assert secret not in blob


def _one_clear_error(live: Live, result: Any) -> str:
    """The run stopped (exit 2) with one ``error:`` line, also in the report; the line."""
    assert result.exit_code == 2, result.output
    _no_secret(live, result)
    [error] = [line for line in str(result.output).splitlines() if line.startswith("error:")]
    report = json.loads(live.report.read_text())
    assert report["status"] == "failed" and report["error"] in error
    return error


def _rerun_writes_everyone_once(live: Live) -> None:
    live.magento.faults.clear()
    live.zoho.faults.clear()
    live.magento.backend.clear_search_hooks()
    result = live.sync(env=PAGE)
    assert result.exit_code == 0, result.output
    for n in range(CUSTOMERS):
        assert len(live.zoho.contacts_by_email(f"c{n}@example.com")) == 1, n
    assert live.zoho.count() == CUSTOMERS and not live.zoho.duplicate_emails()


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_a_customer_page_that_stays_unreadable_stops_with_the_request_named(live: Live, kind: FaultKind) -> None:
    def break_pages() -> None:
        live.magento.faults.path_pattern = "customers/search"
        live.magento.faults.truncated_rate = 1.0 if kind is FaultKind.TRUNCATED else 0.0
        live.magento.faults.html_200_rate = 1.0 if kind is FaultKind.HTML_200 else 0.0

    _after_first_page(live, break_pages)
    said = _one_clear_error(live, live.sync(env=PAGE))
    assert "Magento kept answering GET /rest/all/V1/customers/search with HTTP 200 but" in said
    assert "after 6 attempts" in said
    assert live.zoho.count() <= 10  # at most the first page (read) was written: the rest was never read
    _rerun_writes_everyone_once(live)


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_one_unreadable_customer_page_is_read_again(live: Live, kind: FaultKind) -> None:
    _after_first_page(live, lambda: live.magento.faults.script(kind, 1, path_pattern="customers/search"))
    result = live.sync(env=PAGE)
    assert result.exit_code == 0, result.output
    assert json.loads(live.report.read_text())["counts"]["read"] == CUSTOMERS
    assert live.zoho.count() == CUSTOMERS and not live.zoho.duplicate_emails()


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_upsert_answers_that_stay_unreadable_claim_no_write_and_lose_no_customer(live: Live, kind: FaultKind) -> None:
    def break_upserts() -> None:
        live.zoho.faults.path_pattern = "/Contacts/upsert"
        live.zoho.faults.truncated_rate = 1.0 if kind is FaultKind.TRUNCATED else 0.0
        live.zoho.faults.html_200_rate = 1.0 if kind is FaultKind.HTML_200 else 0.0

    _after_first_page(live, break_upserts)
    result = live.sync(env=PAGE)
    # one batch of 30 whose answers stay unreadable fails its customers (the run stops after three such batches)
    assert result.exit_code == 1, result.output
    _no_secret(live, result)
    report = json.loads(live.report.read_text())
    assert report["status"] == "completed_with_failures" and len(report["errors"]) == CUSTOMERS
    for error in report["errors"]:
        assert error["code"] == "RETRIES_EXHAUSTED"
        said = error["message"]
        assert "kept answering POST /crm/v8/Contacts/upsert with HTTP 200 but a body that is not JSON" in said
    counts = report["counts"]
    claimed = counts["inserted"] + counts["updated"] + counts["unchanged"] + counts["merged"]
    assert claimed <= live.zoho.count()  # no customer is said to be in Zoho that is not
    if kind is FaultKind.HTML_200:
        assert live.zoho.count() == 0  # nothing got through the page in between
    assert not live.zoho.duplicate_emails()  # a cut-off answer's write, sent again, is the same contact
    _rerun_writes_everyone_once(live)


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_one_unreadable_upsert_answer_leaves_no_duplicate(live: Live, kind: FaultKind) -> None:
    _after_first_page(live, lambda: live.zoho.faults.script(kind, 1, path_pattern="/Contacts/upsert"))
    result = live.sync(env=PAGE)
    assert result.exit_code == 0, result.output
    assert live.zoho.count() == CUSTOMERS and not live.zoho.duplicate_emails()
    counts = json.loads(live.report.read_text())["counts"]
    assert counts["inserted"] + counts["updated"] == CUSTOMERS and counts["failed"] == 0


def test_an_html_page_from_the_token_endpoint_names_the_accounts_url(live: Live) -> None:
    live.zoho.faults.script(FaultKind.HTML_200, 1, path_pattern="/oauth/v2/token")
    result = live.sync(env=PAGE)
    assert result.exit_code == 2, result.output
    assert "ZOHO_ACCOUNTS_URL" in result.output and "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1
    assert all(secret not in result.output + live.report.read_text() for secret in live.secrets)
    assert live.zoho.count() == 0
    _rerun_writes_everyone_once(live)
