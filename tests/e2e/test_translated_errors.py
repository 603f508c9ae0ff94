"""Magento translates its error messages into the store view's locale (reference §5.1: "match on status codes and
parameters, never on English text"). A full run's deletion sweep takes a 404 as "deleted" for what it is, a
NoSuchEntityException with ``fieldName``/``fieldValue``, in any language; a 404 for a route that is not there
(in any language, with no parameters) stops the run instead of deleting contacts."""

from __future__ import annotations

from typing import Any

import pytest

from magento_zoho_sims.magento.config import MagentoConfig
from magento_zoho_sync.errors import MagentoError
from tests.e2e.conftest import World

#: the simulator's German (``eu``) and Japanese (``jp``) store views; the Japanese messages hold no English word
STORES = {"eu": "de_DE", "jp": "ja_JP"}


def translated_world(make_world: Any, store: str) -> World:
    config = MagentoConfig(store_codes=("default", *STORES), store_locales=dict(STORES))
    world: World = make_world(0, magento_kwargs={"config": config})
    world.overrides["magento.store_code"] = store
    for name in ("kept", "gone"):
        world.magento.backend.create_customer(email=f"{name}@example.com", firstname="Ann", lastname=name.title())
    first = world.sync()
    assert first.tally.inserted == 2
    return world


def customer_gets(world: World, store: str) -> list[tuple[str, int]]:
    return [(r.path, r.status) for r in world.magento.log if r.path.startswith(f"/rest/{store}/V1/customers/2")]


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_deleted_customer_is_confirmed_by_a_translated_404(make_world: Any, store: str) -> None:
    world = translated_world(make_world, store)
    [contact] = world.zoho.contacts_by_email("gone@example.com")
    world.magento.backend.delete_customer(2)
    result = world.sync(full=True, **{"sync.on_deleted": "delete"})
    assert result.tally.deleted_ids == [2] and result.tally.deleted_removed == 1
    assert world.zoho.contact(contact["id"]) is None
    assert customer_gets(world, store) == [(f"/rest/{store}/V1/customers/2", 404)]
    assert [c["Last_Name"] for c in world.zoho.contacts_by_email("kept@example.com")] == ["Kept"]


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_translated_404_for_a_missing_route_deletes_nothing(make_world: Any, store: str) -> None:
    """The route of GET /V1/customers/{id} is gone (a module disabled, an extension): its 404 is no answer about
    the customer, whatever words the store view's language has for it."""
    world = translated_world(make_world, store)
    [contact] = world.zoho.contacts_by_email("gone@example.com")
    world.magento.backend.delete_customer(2)
    world.magento.config.unrouted_paths = r"^/V1/customers/\d+$"
    with pytest.raises(MagentoError, match="HTTP 404") as info:
        world.sync(full=True, **{"sync.on_deleted": "delete"})
    assert "MAGENTO_BASE_URL" in str(info.value.hint)
    assert world.zoho.contact(contact["id"]) is not None
    world.magento.config.unrouted_paths = None
    assert world.sync(full=True, **{"sync.on_deleted": "delete"}).tally.deleted_ids == [2]
    assert world.zoho.contact(contact["id"]) is None
