"""Helpers of the end-to-end tests that change the store while a sync reads it (reference §4, §10, §11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import World

#: two customers a page: the sync reads a store of ten in five pages, and changes land between them
PAGES: dict[str, Any] = {"magento.page_size": 2}
#: the customers of the store, ten ids apart so that a customer can be committed between two of them
IDS = tuple(range(10, 110, 10))


def email(customer_id: int) -> str:
    return f"c{customer_id}@example.com"


def add(world: World, customer_id: int, address: str | None = None, **fields: Any) -> int:
    fields.setdefault("firstname", "Ann")
    fields.setdefault("lastname", f"Lee{customer_id}")
    world.magento.backend.create_customer(customer_id=customer_id, email=address or email(customer_id), **fields)
    return customer_id


def store_of_ten(world: World) -> None:
    for customer_id in IDS:
        add(world, customer_id)


def after_page(world: World, page: int, change: Callable[[], None]) -> None:
    """``change`` once, right after the ``page``-th customer search from now is answered: the sync has read
    through that page's last id, and sees the change only on the pages it reads next."""
    target = world.magento.backend.searches + page
    done: list[bool] = []

    def hook(number: int) -> None:
        if number == target and not done:
            done.append(True)
            change()

    world.magento.backend.add_search_hook(hook)


def last_names(world: World, address: str) -> list[str]:
    """The ``Last_Name`` of each Zoho contact holding ``address`` (a list: never more than one, if all is well)."""
    return [contact["Last_Name"] for contact in world.zoho.contacts_by_email(address)]


def zoho_writes(world: World) -> int:
    return len(world.zoho.writes())
