"""Answers that cannot be read, end to end: a 200 whose JSON is cut off half-way (a proxy or PHP-FPM dying
mid-answer: the simulators' ``truncated`` fault, which applies the request first) and a 200 with an HTML page (a
firewall's or a CDN's check, a login page: ``html_200``, which applies nothing).

Once a service has answered JSON in a run, its URL is right: such an answer is tried again, as a 5xx is, and after
the retries the message blames what stands in between, not the URL. Before that, an HTML page means a wrong URL and
stops the run at once with that setting's name. Nothing is lost either way: a rerun writes every customer once.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

import pytest

from magento_zoho_sims.common.faults import FaultKind
from magento_zoho_sims.zoho import ZohoConfig
from magento_zoho_sync.errors import MagentoError, SyncError, ZohoError, ZohoTokenUnavailable
from tests.e2e.auth_support import (
    HookTransport,
    after_nth,
    assert_no_secret,
    magento_config,
    mode_overrides,
    world_secrets,
)
from tests.e2e.conftest import World

CUSTOMERS = 450
PAGE = {"magento.page_size": 150}  # three pages


def _searches(world: World) -> int:
    return len([r for r in world.magento.log if r.path.endswith("/customers/search")])


def _upserts(world: World) -> int:
    return len([r for r in world.zoho.log if r.path.endswith("/Contacts/upsert")])


def _every_valid_customer_once(world: World) -> None:
    """A clean rerun leaves each customer the sync did not refuse in exactly one contact, and no duplicate."""
    result = world.sync(**PAGE)
    refused = {f.customer_id for f in result.tally.failures}
    assert {f.code for f in result.tally.failures} <= {"INVALID_EMAIL", "VALUE_TOO_LONG"}
    for customer_id, email, _ in world.magento.backend.iter_emails():
        if customer_id not in refused:
            assert len(world.zoho.contacts_by_email(email.strip().lower())) == 1, (customer_id, email)
    assert not world.zoho.duplicate_emails()


def _after_first_page(world: World, arm: Any) -> None:
    """Call ``arm()`` once the first page of customers has been answered (JSON has been read)."""
    calls = {"n": 0}

    def hook(*_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            arm()

    world.magento.backend.add_search_hook(hook)


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_one_unreadable_page_in_a_run_is_read_again(make_world: Any, kind: FaultKind) -> None:
    world: World = make_world(CUSTOMERS)
    _after_first_page(world, lambda: world.magento.faults.script(kind, 1, path_pattern="customers/search"))
    result = world.sync(**PAGE)
    assert result.tally.read == CUSTOMERS
    assert _searches(world) == 4 + 1  # three pages, the empty end... and the page asked again
    world.magento.backend.clear_search_hooks()
    _every_valid_customer_once(world)


def test_html_pages_in_the_middle_of_a_run_name_what_stands_in_front_of_the_store(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)

    def firewall() -> None:
        world.magento.faults.html_200_rate = 1.0
        world.magento.faults.path_pattern = "customers/search"

    _after_first_page(world, firewall)
    with pytest.raises(MagentoError) as info:
        world.sync(**PAGE)
    said = f"{info.value} {info.value.hint}"
    assert "kept answering GET" in said and "HTTP 200 but an HTML page instead of JSON after 6 attempts" in said
    assert "firewall" in said and "MAGENTO_BASE_URL is right" in said
    assert_no_secret(said, world_secrets(world))
    world.magento.faults.clear()
    world.magento.backend.clear_search_hooks()
    _every_valid_customer_once(world)  # the checkpoint stayed before the page that was not read


def test_an_html_page_before_any_json_names_the_base_url_at_once(make_world: Any) -> None:
    """With an integration's token nothing has answered before the first page: a wrong URL answers so every time."""
    world: World = make_world(CUSTOMERS, magento_kwargs={"config": magento_config(enable_integration_as_bearer=True)})
    world.overrides.update(mode_overrides("integration-bearer"))
    world.magento.faults.script(FaultKind.HTML_200, 1, path_pattern="customers/search")
    with pytest.raises(MagentoError) as info:
        world.sync(**PAGE)
    assert "HTML page instead of JSON" in str(info.value) and "MAGENTO_BASE_URL" in (info.value.hint or "")
    assert _searches(world) == 1  # not tried again


def test_an_html_page_on_the_first_search_after_a_login_is_read_again(make_world: Any) -> None:
    """The admin login answered a token: the URL is right, and the HTML page came from something in front of the
    store (before, it was blamed on MAGENTO_BASE_URL and the run stopped)."""
    world: World = make_world(CUSTOMERS)
    world.magento.faults.script(FaultKind.HTML_200, 1, path_pattern="customers/search")
    result = world.sync(**PAGE)
    assert result.tally.read == CUSTOMERS
    assert _logins(world) == 1 and _searches(world) == 4 + 1  # the first page asked again


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_one_unreadable_upsert_answer_is_sent_again_without_a_duplicate(make_world: Any, kind: FaultKind) -> None:
    world: World = make_world(CUSTOMERS)
    _after_first_page(world, lambda: world.zoho.faults.script(kind, 1, path_pattern="upsert"))
    result = world.sync(**PAGE)
    assert {f.code for f in result.tally.failures} <= {"INVALID_EMAIL", "VALUE_TOO_LONG"}
    assert result.tally.inserted + result.tally.updated + result.tally.failed + result.tally.merged == CUSTOMERS
    written = sum(1 for r in world.zoho.log if r.path.endswith("/Contacts/upsert") and r.status < 300)
    assert written == _upserts(world) and _upserts(world) == (CUSTOMERS - result.tally.failed + 99) // 100 + 1
    assert not world.zoho.duplicate_emails()
    world.magento.backend.clear_search_hooks()
    before = _upserts(world)
    _every_valid_customer_once(world)
    assert _upserts(world) == before  # the first run wrote everything: the rerun has nothing to send


def test_upsert_answers_that_stay_unreadable_fail_their_batches_and_stop_the_run(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)

    def filter_in_between() -> None:
        world.zoho.faults.html_200_rate = 1.0
        world.zoho.faults.path_pattern = "upsert"

    _after_first_page(world, filter_in_between)  # Zoho's COQL and field checks have answered JSON by then
    with pytest.raises(ZohoError) as info:
        world.sync(**PAGE)
    said = f"{info.value} {info.value.hint}"
    assert "kept answering POST /crm/v8/Contacts/upsert with HTTP 200 but a body that is not JSON (text/html)" in said
    assert "ZOHO_API_URL is right" in said and "proxy" in said
    assert_no_secret(said, world_secrets(world))
    assert world.zoho.count() == 0  # a page from something in between applies nothing
    world.zoho.faults.clear()
    world.magento.backend.clear_search_hooks()
    _every_valid_customer_once(world)


def test_an_html_page_as_zohos_first_answer_names_the_api_url_at_once(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)
    world.zoho.faults.script(FaultKind.HTML_200, 1, path_pattern="/crm/")
    with pytest.raises(SyncError) as info:
        world.sync(**PAGE)
    assert "not JSON" in str(info.value) and "ZOHO_API_URL" in (info.value.hint or "")
    assert len([r for r in world.zoho.log if r.path.startswith("/crm/")]) == 1


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_an_unreadable_token_answer_in_the_middle_of_a_run_is_asked_again(make_world: Any, kind: FaultKind) -> None:
    world: World = make_world(CUSTOMERS)

    def expire() -> None:
        world.zoho.expire_access_tokens()
        world.zoho.faults.script(kind, 1, path_pattern="/oauth/v2/token")

    world.transport = HookTransport(world.transport, after_nth("/Contacts/upsert", 1, expire))  # a token was given
    result = world.sync(**PAGE)
    assert {f.code for f in result.tally.failures} <= {"INVALID_EMAIL", "VALUE_TOO_LONG"}
    assert len([r for r in world.zoho.log if r.path == "/oauth/v2/token"]) == 3  # the first, the cut one, again
    _every_valid_customer_once(world)


def test_token_answers_that_stay_unreadable_blame_what_is_in_between(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)

    def expire() -> None:
        world.zoho.expire_access_tokens()
        world.zoho.faults.truncated_rate = 1.0
        world.zoho.faults.path_pattern = "/oauth/v2/token"

    world.transport = HookTransport(world.transport, after_nth("/Contacts/upsert", 1, expire))  # a token was given
    with pytest.raises(ZohoTokenUnavailable) as info:
        world.sync(**PAGE)
    said = f"{info.value} {info.value.hint}"
    assert "Zoho Accounts kept answering POST /oauth/v2/token with HTTP 200 but a body that is not JSON" in said
    assert "ZOHO_ACCOUNTS_URL is right" in said
    # the first token, then one refresh asked twice: each token Accounts hands out counts against its 10 in 10
    # minutes, and the writer threads do not each ask again (Zoho blocks clients that ask too often)
    assert len([r for r in world.zoho.log if r.path == "/oauth/v2/token"]) == 1 + 2
    with closing(sqlite3.connect(world.state_path)) as db:  # no customer failed for want of a token
        assert db.execute("SELECT COUNT(*) FROM run_errors WHERE code = 'RETRIES_EXHAUSTED'").fetchone() == (0,)
    assert_no_secret(said, world_secrets(world))
    world.zoho.faults.clear()
    _every_valid_customer_once(world)


def _expire_magento_login_then(world: World, arm: Any) -> None:
    """On the second page: Magento's admin tokens expire (a run longer than their lifetime) and ``arm()`` runs."""

    def expire() -> None:
        world.magento.backend.auth.expire_tokens()
        arm()

    calls = {"n": 0}

    def hook(*_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            expire()

    world.magento.backend.add_search_hook(hook)


def _logins(world: World, path: str = "/integration/admin/token") -> int:
    return len([r for r in world.magento.log if r.path.endswith(path)])


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_an_unreadable_login_answer_in_the_middle_of_a_run_logs_in_again(make_world: Any, kind: FaultKind) -> None:
    world: World = make_world(CUSTOMERS)
    _expire_magento_login_then(world, lambda: world.magento.faults.script(kind, 1, path_pattern="admin/token"))
    result = world.sync(**PAGE)
    assert result.tally.read == CUSTOMERS
    assert _logins(world) == 3  # the first login, the unreadable one, and again
    world.magento.backend.clear_search_hooks()
    _every_valid_customer_once(world)


def test_login_answers_that_stay_html_in_the_middle_of_a_run_name_a_firewall(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)

    def firewall() -> None:
        world.magento.faults.html_200_rate = 1.0
        world.magento.faults.path_pattern = "admin/token"

    _expire_magento_login_then(world, firewall)
    with pytest.raises(MagentoError) as info:
        world.sync(**PAGE)
    said = f"{info.value} {info.value.hint}"
    assert "kept answering POST /rest/V1/integration/admin/token with HTTP 200 but an HTML page" in said
    assert "firewall" in said and "MAGENTO_BASE_URL is right" in said
    assert_no_secret(said, world_secrets(world))
    world.magento.faults.clear()
    world.magento.backend.clear_search_hooks()
    _every_valid_customer_once(world)


def test_an_unreadable_first_login_names_the_base_url_at_once(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS)
    world.magento.faults.script(FaultKind.HTML_200, 1, path_pattern="admin/token")
    with pytest.raises(MagentoError) as info:
        world.sync(**PAGE)
    assert "not with a token" in str(info.value) and "Check that MAGENTO_BASE_URL" in (info.value.hint or "")
    assert _logins(world) == 1


def test_a_first_login_whose_token_is_cut_off_says_so_and_that_the_base_url_is_probably_right(
    make_world: Any,
) -> None:
    """A JSON string begun and cut off on its way is the store's answer: the URL is right, run again (it is not
    sent again at once: with a one-time code the lost answer may have used the code up)."""
    world: World = make_world(CUSTOMERS)
    world.magento.faults.script(FaultKind.TRUNCATED, 1, path_pattern="admin/token")
    with pytest.raises(MagentoError) as info:
        world.sync(**PAGE)
    assert "JSON cut off after" in str(info.value) and "not a whole token" in str(info.value)
    assert "MAGENTO_BASE_URL is probably right" in (info.value.hint or "")
    assert "nothing was read or written" in (info.value.hint or "")
    assert _logins(world) == 1
    assert world.sync(**PAGE).tally.read == CUSTOMERS  # run again: it goes through


def test_a_login_with_a_one_time_code_is_not_sent_again_after_an_unreadable_answer(make_world: Any) -> None:
    world: World = make_world(CUSTOMERS, magento_kwargs={"config": magento_config(two_factor_enabled=True)})
    world.overrides.update(mode_overrides("admin-totp"))
    _expire_magento_login_then(world, lambda: world.magento.faults.script(FaultKind.TRUNCATED, 1, path_pattern="tfa"))
    with pytest.raises(MagentoError) as info:  # the lost answer may have used the code up: said, not retried
        world.sync(**PAGE)
    assert "JSON cut off after" in str(info.value) and "not a whole token" in str(info.value)
    assert "what Zoho acknowledged is saved" in (info.value.hint or "")
    assert _logins(world, "/tfa/provider/google/authenticate") == 2


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.HTML_200])
def test_customers_whose_upserts_stayed_unreadable_are_not_parked(make_world: Any, kind: FaultKind) -> None:
    """One batch (the run goes on): its customers fail RETRIES_EXHAUSTED, which is not theirs to fix in Magento.
    Parked (max_failed_runs 1 here, 5 runs by default), the next incremental run skipped them: out of Zoho."""
    world: World = make_world(90)
    world.overrides["sync.max_failed_runs"] = 1

    def unreadable() -> None:
        world.zoho.faults.path_pattern = "upsert"
        world.zoho.faults.truncated_rate = 1.0 if kind is FaultKind.TRUNCATED else 0.0
        world.zoho.faults.html_200_rate = 1.0 if kind is FaultKind.HTML_200 else 0.0

    _after_first_page(world, unreadable)
    first = world.sync(**PAGE)
    exhausted = {f.customer_id for f in first.tally.failures if f.code == "RETRIES_EXHAUSTED"}
    assert len(exhausted) > 80 and first.tally.inserted == 0
    world.zoho.faults.clear()
    world.magento.backend.clear_search_hooks()
    again = world.sync(**PAGE)
    assert again.tally.mode == "incremental" and again.tally.retried_failures == len(exhausted)
    assert not {f.customer_id for f in again.tally.failures} & exhausted
    for customer_id, email, _ in world.magento.backend.iter_emails():
        if customer_id in exhausted:
            assert len(world.zoho.contacts_by_email(email.strip().lower())) == 1, (customer_id, email)
    assert not world.zoho.duplicate_emails()


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.APPLY_THEN_DROP])
def test_a_delete_whose_answer_is_lost_is_reported_as_done(make_world: Any, kind: FaultKind) -> None:
    """The first DELETE removed the contact; sent again, Zoho says "record not deleted" (there is none): the contact
    of the deleted customer is gone as asked, and is reported so, not as a contact Zoho refused to delete."""
    world: World = make_world(0)
    for name in ("kept", "gone"):
        world.magento.backend.create_customer(email=f"{name}@example.com", firstname="Ann", lastname=name.title())
    assert world.sync().tally.inserted == 2
    [gone] = world.zoho.contacts_by_email("gone@example.com")
    world.magento.backend.delete_customer(2)
    world.zoho.faults.script(kind, 1, path_pattern="/Contacts$")
    result = world.sync(full=True, **{"sync.on_deleted": "delete"})
    assert len([r for r in world.zoho.log if r.method == "DELETE"]) == 2  # the lost answer's call, and again
    assert (result.tally.deleted_ids, result.tally.deleted_removed, result.tally.warnings) == ([2], 1, [])
    assert world.zoho.contact(gone["id"]) is None and len(world.zoho.contacts_by_email("kept@example.com")) == 1
    again = world.sync(full=True, **{"sync.on_deleted": "delete"})
    assert (again.tally.deleted_ids, again.tally.warnings) == ([], [])


def _last_names(world: World, email: str = "shared@example.com") -> list[str]:
    return [contact["Last_Name"] for contact in world.zoho.contacts_by_email(email)]


def _synced_then_one_deleted_with_its_answers_cut_off(make_world: Any, answers: int) -> World:
    """Two customers synced, then customer 2 deleted in Magento; the next ``answers`` answers about it cut off."""
    world: World = make_world(0)
    for name in ("kept", "gone"):
        world.magento.backend.create_customer(email=f"{name}@example.com", firstname="Ann", lastname=name.title())
    world.sync()
    world.magento.backend.delete_customer(2)
    world.magento.faults.script(FaultKind.TRUNCATED, answers, path_pattern="/V1/customers/2$")
    return world


def test_a_deleted_customers_404_cut_off_on_its_way_is_asked_again(make_world: Any) -> None:
    """A full run confirms a deletion with ``GET /V1/customers/{id}``, whose answer is a 404 (no such entity). Cut off
    half-way once Magento has answered JSON, that 404 is no sign of a wrong URL: it is asked again, and the deletion
    is confirmed (before, the run stopped, naming MAGENTO_BASE_URL)."""
    world = _synced_then_one_deleted_with_its_answers_cut_off(make_world, 1)
    result = world.sync(full=True, **{"sync.on_deleted": "tag"})
    gets = [r for r in world.magento.log if r.path.endswith("/V1/customers/2")]
    assert [r.status for r in gets] == [404, 404]  # the answer cut off, and the one read
    assert (result.tally.deleted_ids, result.tally.deleted_tagged) == ([2], 1)


def test_a_404_that_stays_cut_off_says_what_cuts_it_not_the_base_url(make_world: Any) -> None:
    world = _synced_then_one_deleted_with_its_answers_cut_off(make_world, 10)
    with pytest.raises(MagentoError) as raised:
        world.sync(full=True, **{"sync.on_deleted": "tag"})
    assert "HTTP 404 but JSON cut off after" in str(raised.value)
    assert "cuts its answers short" in (raised.value.hint or "")
    assert "MAGENTO_BASE_URL (without /rest)" not in (raised.value.hint or "")


def test_a_zoho_error_answer_cut_off_on_its_way_is_asked_again(make_world: Any) -> None:
    """An org that answers a write whose every record failed with a request-level 400 (``all_failed``): the update by
    id of a contact deleted in Zoho. That 400 cut off half-way, once Zoho has answered JSON, is asked again rather
    than taken for a wrong ZOHO_API_URL; then the customer falls back to an upsert as usual."""
    world: World = make_world(0, zoho_kwargs={"config": ZohoConfig(record_errors_at_request_level="all_failed")})
    world.magento.backend.create_customer(email="ann@example.com", firstname="Ann", lastname="Lee")
    world.sync()
    [contact] = world.zoho.contacts_by_email("ann@example.com")
    world.zoho.backend.delete([contact["id"]])
    world.magento.clock.advance(60)
    world.magento.backend.update_customer(1, lastname="Moved")
    # a new customer on the same page whose email a contact holds: Zoho is asked about it first (COQL) and
    # answers JSON
    world.zoho.add_contact(Email="bo@example.com", Last_Name="Web form")
    world.magento.backend.create_customer(email="bo@example.com", firstname="Bo", lastname="Ek")
    world.zoho.faults.script(FaultKind.TRUNCATED, 1, path_pattern="/Contacts$")
    before = len(world.zoho.log)
    result = world.sync()
    calls = [(r.method, r.path.removeprefix("/crm/v8")) for r in list(world.zoho.log)[before:]]
    assert calls.index(("POST", "/coql")) < calls.index(("PUT", "/Contacts"))
    updates = [r.status for r in world.zoho.log if r.method == "PUT" and r.path.endswith("/Contacts")]
    assert updates == [400, 400]  # the answer cut off, and the one read
    assert result.tally.failed == 0
    assert [c["Last_Name"] for c in world.zoho.contacts_by_email("ann@example.com")] == ["Moved"]


@pytest.mark.parametrize("then", ["deleted", "moved"])
@pytest.mark.parametrize("full", [True, False])
def test_a_write_zoho_applied_though_its_answers_were_lost_never_leaves_its_data_on_another_customers_contact(
    make_world: Any, then: str, full: bool
) -> None:
    """Found by tests/soak/churn.py. A newer customer on a shared email (another website) is written; Zoho applies
    it each time but every answer is lost (timeouts, say): the batch runs out of retries, and the contact of the
    older customer now holds the newer one's data. The newer one then leaves the email (deleted, or moved to
    another): the older one is the email's customer again, unchanged, and was not written again (its contact kept
    the other's data for good). Now the next run sends it again, full or incremental."""
    world: World = make_world(0)
    older = world.magento.backend.create_customer(email="shared@example.com", firstname="A", lastname="Stays")
    world.sync()
    world.magento.clock.advance(60)
    newer = world.magento.backend.create_customer(
        email="shared@example.com", firstname="B", lastname="Leaves", website_id=2
    )
    # it takes the older one's contact over: an update by id (an upsert for the customer would be the same)
    world.zoho.faults.script(FaultKind.APPLY_THEN_DROP, 10, path_pattern="/Contacts(/upsert)?$")
    result = world.sync()
    assert [f.code for f in result.tally.failures] == ["RETRIES_EXHAUSTED"]
    assert _last_names(world) == ["Leaves"]  # applied, though the tool could not tell
    world.zoho.faults.clear()  # the scripted faults left over
    world.magento.clock.advance(60)
    if then == "deleted":
        world.magento.backend.delete_customer(int(newer["id"]))
    else:
        world.magento.backend.update_customer(int(newer["id"]), email="elsewhere@example.com")
    world.sync(full=full)
    assert _last_names(world) == ["Stays"], older
    writes = len(world.zoho.writes())
    assert world.sync(full=True).tally.failed == 0 and world.sync().tally.failed == 0
    assert len(world.zoho.writes()) == writes  # sent once: the email is no longer in doubt
