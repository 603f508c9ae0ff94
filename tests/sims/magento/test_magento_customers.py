"""Customer data fidelity, ``GET /V1/customers/{id}`` and the control API's mutations (reference §2.5, §3, §4)."""

from __future__ import annotations

import re

import httpx2
from magento_helpers import criteria, keyset, query, search

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator, parse_search_criteria
from magento_zoho_sims.magento.phpjson import encode
from magento_zoho_sims.magento.seed import StoreLayout, base_customer, fmt_ts
from magento_zoho_sims.magento.seedjson import base_fragment

CUSTOMER_ORDER = [
    "id",
    "group_id",
    "default_billing",
    "default_shipping",
    "confirmation",
    "created_at",
    "updated_at",
    "created_in",
    "dob",
    "email",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "gender",
    "store_id",
    "taxvat",
    "website_id",
    "addresses",
    "disable_auto_group_change",
    "extension_attributes",
    "custom_attributes",
]
ADDRESS_ORDER = [
    "id",
    "customer_id",
    "region",
    "region_id",
    "country_id",
    "street",
    "company",
    "telephone",
    "fax",
    "postcode",
    "city",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "vat_id",
    "default_shipping",
    "default_billing",
]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _in_order(keys: list[str], order: list[str]) -> bool:
    positions = [order.index(k) for k in keys]
    return positions == sorted(positions)


def test_every_seeded_customer_has_the_2_4_shape() -> None:
    sim = MagentoSimulator(customers=3000, seed=3)
    stats = dict.fromkeys(
        ("region_less", "billing_not_first", "no_phone", "phone_as_typed", "long_street", "subscribed"), 0
    )
    for customer in sim.backend.iter_customers():
        assert _in_order(list(customer), CUSTOMER_ORDER)
        assert None not in customer.values()
        assert isinstance(customer["addresses"], list)
        assert TIMESTAMP.match(customer["created_at"]) and TIMESTAMP.match(customer["updated_at"])
        assert customer["updated_at"] >= customer["created_at"]
        assert isinstance(customer["extension_attributes"]["is_subscribed"], bool)
        stats["subscribed"] += customer["extension_attributes"]["is_subscribed"]
        if "default_billing" in customer:
            assert isinstance(customer["default_billing"], str)
            ids = [a["id"] for a in customer["addresses"]]
            assert int(customer["default_billing"]) in ids
            stats["billing_not_first"] += int(customer["default_billing"]) != ids[0]
        for attribute in customer.get("custom_attributes", []):
            assert list(attribute) == ["attribute_code", "value"] and isinstance(attribute["value"], str)
        for address in customer["addresses"]:
            assert _in_order(list(address), ADDRESS_ORDER)
            assert address["customer_id"] == customer["id"]
            assert list(address["region"]) == ["region_code", "region", "region_id"]
            assert address["region_id"] == address["region"]["region_id"]
            for flag in ("default_billing", "default_shipping"):
                assert address.get(flag, True) is True  # boolean, and only when true
            if address["region"] == {"region_code": None, "region": None, "region_id": 0}:
                stats["region_less"] += 1
            stats["no_phone"] += "telephone" not in address
            stats["phone_as_typed"] += not re.fullmatch(r"\+[0-9]+ [0-9]+ [0-9]+", address.get("telephone", "+1 2 3"))
            stats["long_street"] += any(len(line) > 255 for line in address["street"])
    assert all(count > 0 for count in stats.values()), stats


def test_seed_variety_names_emails_and_twins() -> None:
    sim = MagentoSimulator(customers=3000, seed=3)
    customers = list(sim.backend.iter_customers())
    names = " ".join(c["firstname"] + " " + c["lastname"] for c in customers)
    for needle in ("'", '"', "\\", "é", "ü"):
        assert needle in names
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", names)  # CJK
    assert any(not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", c["email"]) for c in customers)  # a few invalid
    by_email: dict[str, list[dict[str, object]]] = {}
    for customer in customers:
        by_email.setdefault(customer["email"], []).append(customer)
    twins = [group for group in by_email.values() if len(group) > 1]
    assert twins
    for a, b in twins:
        assert a["id"] != b["id"] and a.get("website_id") != b.get("website_id")
        assert a["extension_attributes"] == b["extension_attributes"]  # newsletter matched by e-mail
    emails = list(sim.backend.iter_emails())
    assert len(emails) == 3000 and emails[0][1] == customers[0]["email"]


def test_seed_is_deterministic() -> None:
    one = MagentoSimulator(customers=20, seed=5, clock=Clock(frozen_at=1e9)).backend
    two = MagentoSimulator(customers=20, seed=5, clock=Clock(frozen_at=1e9)).backend
    other = MagentoSimulator(customers=20, seed=6, clock=Clock(frozen_at=1e9)).backend
    assert list(one.iter_customers()) == list(two.iter_customers())
    assert list(one.iter_customers()) != list(other.iter_customers())


def test_get_by_id_404_and_non_numeric(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    found = client.get("/rest/V1/customers/7", headers=auth)
    assert found.status_code == 200 and found.json() == sim.backend.get(7)
    missing = client.get("/rest/V1/customers/999", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "customerId", "fieldValue": 999},
    }
    letters = client.get("/rest/V1/customers/abc", headers=auth)
    assert letters.status_code == 400
    assert letters.json() == {
        "message": 'The "abc" value\'s type is invalid. The "int" type was expected. Verify and try again.'
    }


def test_update_bumps_updated_at_but_address_edit_does_not(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator, clock: Clock
) -> None:
    backend = sim.backend
    target = next(c for c in backend.iter_customers() if len(c["addresses"]) >= 2)
    cid, before = target["id"], target["updated_at"]
    clock.advance(120)
    non_default = next(a for a in target["addresses"] if not a.get("default_billing") and not a.get("default_shipping"))
    backend.edit_address(cid, non_default["id"], city="Springfield")
    after_address = client.get(f"/rest/V1/customers/{cid}", headers=auth).json()
    assert after_address["updated_at"] == before
    assert any(a["city"] == "Springfield" for a in after_address["addresses"])
    backend.set_custom_attribute(cid, "loyalty_tier", "platinum")
    backend.set_subscribed(cid, True)
    assert backend.require(cid)["updated_at"] == before
    backend.update_customer(cid, lastname="Changed")
    updated = client.get(f"/rest/V1/customers/{cid}", headers=auth).json()
    assert updated["lastname"] == "Changed"
    assert updated["updated_at"] == backend._now() != before
    watermark = search(client, auth, criteria([[("updated_at", updated["updated_at"], "gteq")]])).json()
    assert [i["id"] for i in watermark["items"]] == [cid]


def test_custom_attribute_bump_switch(clock: Clock) -> None:
    sim = MagentoSimulator(customers=5, clock=clock, config=MagentoConfig(bump_updated_at_on_custom_attributes=True))
    clock.advance(60)
    assert sim.backend.set_custom_attribute(2, "loyalty_tier", "gold")["updated_at"] == sim.backend._now()


def test_changing_the_default_billing_address_bumps(sim: MagentoSimulator, clock: Clock) -> None:
    target = next(c for c in sim.backend.iter_customers() if len(c["addresses"]) >= 2 and "default_billing" in c)
    other = next(a for a in target["addresses"] if str(a["id"]) != target["default_billing"])
    clock.advance(60)
    edited = sim.backend.edit_address(target["id"], other["id"], default_billing=True)
    assert edited["default_billing"] == str(other["id"])
    assert edited["updated_at"] != target["updated_at"]
    assert [a["id"] for a in edited["addresses"] if a.get("default_billing")] == [other["id"]]


def test_hard_delete_and_same_email_in_two_websites(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    sim.backend.delete_customer(5)
    assert client.get("/rest/V1/customers/5", headers=auth).status_code == 404
    assert client.delete("/rest/V1/customers/6", headers=auth).json() is True
    assert sim.backend.get(6) is None
    assert search(client, auth, criteria(page_size=0)).json()["total_count"] == 48
    one = sim.backend.create_customer(email="Shared@Example.com", firstname="A", lastname="B", website_id=1)
    two = sim.backend.create_customer(email="shared@example.com", firstname="A", lastname="B", website_id=2)
    assert one["id"] != two["id"] and two["website_id"] == 2
    duplicate = client.post("/_sim/customers", json={"email": "SHARED@example.com", "firstname": "x", "lastname": "y"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "message": "A customer with the same email address already exists in an associated website."
    }


def test_created_customer_shape(sim: MagentoSimulator) -> None:
    created = sim.backend.create_customer(
        email="new@example.com",
        firstname="Zoë",
        lastname="O'Neil",
        addresses=[
            {"street": ["1 A St"], "city": "X", "country_id": "GB", "postcode": "N1"},
            {"street": ["2 B St"], "city": "Y", "country_id": "US", "region_code": "NY", "default_billing": True},
        ],
    )
    assert _in_order(list(created), CUSTOMER_ORDER)
    assert created["default_billing"] == str(created["addresses"][1]["id"])
    assert "default_shipping" not in created
    assert created["addresses"][0]["region"] == {"region_code": None, "region": None, "region_id": 0}
    assert created["addresses"][1]["region"] == {"region_code": "NY", "region": "New York", "region_id": 43}
    assert created["addresses"][1]["default_billing"] is True


def test_search_hook_mutates_between_pages(client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator) -> None:
    def hook(number: int) -> None:
        if number == 1:
            sim.backend.delete_customer(15)
            sim.backend.create_customer(email="late@example.com", firstname="L", lastname="Ate")

    sim.backend.add_search_hook(hook)
    seen: list[int] = []
    last = 0
    while True:
        page = search(client, auth, criteria([[("entity_id", str(last), "gt")]], [("entity_id", "ASC")], 10, 1))
        items = [i["id"] for i in page.json()["items"]]
        seen += items
        if len(items) < 10:
            break
        last = items[-1]
    assert 15 not in seen and 51 in seen and len(seen) == len(set(seen)) == 50


def test_a_search_hook_runs_after_its_page_is_answered(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    sim.backend.add_search_hook(lambda number: sim.backend.update_customer(3, firstname=f"After{number}"))
    first = search(client, auth, criteria([[("entity_id", "0", "gt")]], [("entity_id", "ASC")], 10, 1)).json()
    assert [i["firstname"] for i in first["items"] if i["id"] == 3] != ["After1"]  # page 1 as it was
    again = search(client, auth, criteria([[("entity_id", "0", "gt")]], [("entity_id", "ASC")], 10, 1)).json()
    assert [i["firstname"] for i in again["items"] if i["id"] == 3] == ["After1"]


def test_an_update_that_changes_no_value_leaves_updated_at(sim: MagentoSimulator) -> None:
    before = sim.backend.get(4)
    assert before is not None
    sim.clock.advance(60)
    same = sim.backend.update_customer(4, firstname=before["firstname"])
    assert same["updated_at"] == before["updated_at"]
    changed = sim.backend.update_customer(4, firstname=before["firstname"] + "x")
    assert changed["updated_at"] > before["updated_at"]


def test_restart_reuses_ids_like_old_mysql(sim: MagentoSimulator) -> None:
    sim.backend.delete_customer(50)
    sim.backend.delete_customer(49)
    assert sim.backend.create_customer(email="x@example.com", firstname="X", lastname="Y")["id"] == 51
    sim.backend.delete_customer(51)
    sim.backend.restart(reuse_ids=True)
    assert sim.backend.create_customer(email="z@example.com", firstname="Z", lastname="Y")["id"] == 49


def test_million_customer_store_answers_without_a_scan() -> None:
    sim = MagentoSimulator(customers=1_000_000, seed=1, clock=Clock(frozen_at=1_800_000_000))
    backend = sim.backend

    everything = parse_search_criteria(query(keyset(0, 300)))
    items, total = backend.search(everything)
    assert total == 1_000_000 and [i["id"] for i in items] == list(range(1, 301))
    tail, _ = backend.search(parse_search_criteria(query(keyset(999_990, 300))))
    assert [i["id"] for i in tail] == list(range(999_991, 1_000_001))
    layout = backend.layout
    watermark_ts = layout.created_ts(999_000)
    watermark = fmt_ts(watermark_ts)
    backend.update_customer(5, firstname="Recently")  # an old customer updated now
    backend.delete_customer(999_500)
    expected = {c for c in range(900_000, 1_000_001) if layout.updated_ts(c) >= watermark_ts} - {999_500} | {5}
    params = criteria([[("updated_at", watermark, "gteq")], [("entity_id", "0", "gt")]], [("entity_id", "ASC")], 0)
    found, count = backend.search(parse_search_criteria(query(params)))
    assert {i["id"] for i in found} == expected and count == len(expected)


def test_iter_emails_agrees_with_full_records() -> None:
    sim = MagentoSimulator(customers=1200, seed=4)
    sim.backend.update_customer(3, email="changed@example.com")
    full = [(c["id"], c["email"], c.get("website_id")) for c in sim.backend.iter_customers()]
    assert list(sim.backend.iter_emails()) == full
    assert any(site is None for _, _, site in full)  # a customer whose website was deleted
    assert sim.backend.find_by_email("CHANGED@example.com") == [3]


def test_email_lookup_on_a_million_customers_uses_the_embedded_id() -> None:
    backend = MagentoSimulator(customers=1_000_000, seed=1, clock=Clock(frozen_at=1_800_000_000)).backend
    email = backend.require(777_777)["email"]
    found, total = backend.search(parse_search_criteria(query(criteria([[("email", email.upper(), "eq")]]))))
    assert [c["id"] for c in found] == [777_777] and total == 1
    twin_email = backend.require(2)["email"]
    twins, _ = backend.search(parse_search_criteria(query(criteria([[("email", twin_email, "eq")]]))))
    assert [c["id"] for c in twins] == [1, 2] and [c["website_id"] for c in twins] == [1, 2]


def test_direct_json_writer_matches_the_records_byte_for_byte() -> None:
    for seed in (1, 9):
        layout = StoreLayout(seed=seed, count=6000, now=1_800_000_000)
        special = [2, 7, 218, 500, 1497, 4122, 5122]  # twins, invalid e-mails, deleted website
        for cid in [*range(1, 3000), *special]:
            assert base_fragment(layout, cid) == encode(base_customer(layout, cid)), cid


def test_put_customer_bumps_only_on_real_column_changes(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator, clock: Clock
) -> None:
    original = sim.backend.require(9)
    clock.advance(90)
    same = client.put("/rest/V1/customers/9", headers=auth, json={"customer": original})
    assert same.status_code == 200 and same.json()["updated_at"] == original["updated_at"]
    changed = client.put("/rest/V1/customers/9", headers=auth, json={"customer": {**original, "lastname": "New"}})
    assert changed.json()["lastname"] == "New" and changed.json()["updated_at"] == sim.backend._now()
    assert changed.json()["addresses"] == original["addresses"]  # addresses omitted from the change: kept
    missing = client.put("/rest/V1/customers/9", headers=auth, json={"customer": {"email": "a@example.com"}})
    assert missing.status_code == 400 and [e["parameters"] for e in missing.json()["errors"]] == [
        {"fieldName": "firstname"},
        {"fieldName": "lastname"},
    ]
    assert client.put("/rest/V1/customers/999", headers=auth, json={"customer": original}).status_code == 404


def test_put_converts_values_to_the_declared_types(client: httpx2.Client, auth: dict[str, str]) -> None:
    """ServiceInputProcessor casts input to the data interface's types: what is saved and echoed is typed."""
    sent = {
        "email": "typed@example.com",
        "firstname": 12,
        "lastname": "Typed",
        "group_id": "2",
        "gender": 1.0,
        "website_id": " 1",
        "disable_auto_group_change": "0",
        "addresses": [
            {"region": {"region_code": "NY"}, "country_id": "US", "street": ["1 Main St", 5], "city": "NYC"}
            | {"telephone": 5550100, "postcode": 10001, "default_billing": "1", "default_shipping": "false"}
        ],
    }
    saved = client.put("/rest/V1/customers/9", headers=auth, json={"customer": sent})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["firstname"], body["group_id"], body["gender"]) == ("12", 2, 1)
    assert (body["website_id"], body["disable_auto_group_change"]) == (1, 0)
    [address] = body["addresses"]
    assert (address["telephone"], address["postcode"], address["street"]) == ("5550100", "10001", ["1 Main St", "5"])
    assert address["default_billing"] is True and "default_shipping" not in address  # "false" is false
    assert body["default_billing"] == str(address["id"]) and "default_shipping" not in body
    assert client.get("/rest/V1/customers/9", headers=auth).json() == body


def test_put_refuses_a_value_of_the_wrong_type(client: httpx2.Client, auth: dict[str, str]) -> None:
    original = client.get("/rest/V1/customers/9", headers=auth).json()
    cases = [
        ({"group_id": "gold"}, 'Error occurred during "group_id" processing. The "gold" value\'s type is invalid.'),
        ({"store_id": True}, 'Error occurred during "store_id" processing. The "1" value\'s type is invalid.'),
        ({"email": ["a@example.com"]}, 'Error occurred during "email" processing. The "array" value\'s type'),
        (
            {"addresses": [{"country_id": "US", "region_id": "NY"}]},
            'Error occurred during "addresses" processing. Error occurred during "region_id" processing. '
            'The "NY" value\'s type is invalid. The "int" type was expected. Verify and try again.',
        ),
    ]
    for change, message in cases:
        refused = client.put("/rest/V1/customers/9", headers=auth, json={"customer": {**original, **change}})
        assert refused.status_code == 400 and refused.json()["message"].startswith(message), refused.text
        assert list(refused.json()) == ["message"]  # a rendered message, no parameters
    assert client.get("/rest/V1/customers/9", headers=auth).json() == original  # nothing saved


def test_put_round_trips_every_seeded_address(
    client: httpx2.Client, auth: dict[str, str], sim: MagentoSimulator
) -> None:
    for customer in list(sim.backend.iter_customers())[:30]:
        saved = client.put(f"/rest/V1/customers/{customer['id']}", headers=auth, json={"customer": customer})
        assert saved.status_code == 200
        assert saved.json() == customer  # nothing changed: same record, same updated_at


def test_attribute_metadata_gives_a_select_attributes_option_labels(
    client: httpx2.Client, auth: dict[str, str]
) -> None:
    found = client.get("/rest/V1/attributeMetadata/customer/attribute/preferred_language", headers=auth)
    assert found.status_code == 200
    body = found.json()
    assert body["frontend_input"] == "select" and body["attribute_code"] == "preferred_language"
    assert {"label": "Français", "value": "12"} in body["options"] and body["options"][0]["value"] == ""
    address = client.get("/rest/V1/attributeMetadata/customerAddress/attribute/delivery_window", headers=auth)
    assert [o["label"] for o in address.json()["options"]][1:] == ["Morning", "Afternoon"]
    missing = client.get("/rest/V1/attributeMetadata/customer/attribute/nope", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["parameters"] == {
        "fieldName": "entityType",
        "fieldValue": "customer",
        "field2Name": "attributeCode",
        "field2Value": "nope",
    }
    assert client.get("/rest/V1/attributeMetadata/customer/attribute/preferred_language").status_code == 401


def test_a_customer_without_an_email_does_not_break_other_email_changes(sim: MagentoSimulator) -> None:
    """A customer whose email was removed (a test of MISSING_EMAIL) leaves the other customers' email and website
    changes working, and its own too."""
    sim.backend.update_customer(5, email=None)
    changed = sim.backend.update_customer(6, email="someone.new@example.com")
    assert changed["email"] == "someone.new@example.com"
    assert sim.backend.find_by_email("someone.new@example.com") == [6]
    moved = sim.backend.update_customer(7, website_id=2)
    assert moved["website_id"] == 2
    again = sim.backend.update_customer(5, email="back@example.com")
    assert again["email"] == "back@example.com"


def test_control_plane_answers_a_customer_whose_name_holds_a_lone_surrogate(
    client: httpx2.Client, auth: dict[str, str]
) -> None:
    # JSON may write a lone surrogate ("\ud800"); UTF-8 cannot: the control plane answered such a customer with a 500
    body = b'{"email": "lone@example.com", "firstname": "A\\ud800B", "lastname": "C"}'
    created = client.post("/_sim/customers", content=body, headers={"Content-Type": "application/json"})
    assert created.status_code == 200
    assert created.json()["firstname"] == "A\ud800B"
    cid = created.json()["id"]
    assert client.put(f"/_sim/customers/{cid}", json={"lastname": "D"}).json()["firstname"] == "A\ud800B"
    assert client.get(f"/rest/V1/customers/{cid}", headers=auth).json()["firstname"] == "A\ud800B"
