"""Encoded base customers, cached and read ahead of keyset readers.

Base customers never change (a change moves the customer into the backend's overlay, which is consulted
first), so their encoded JSON can be cached without invalidation. After a page sorted by ``entity_id``
ascending, the next ids are encoded on the event loop while the client is busy with the page it got: the
work a database buffer pool does for a sequential scan. The filler yields to the loop after every customer,
so an arriving request waits for at most one customer's worth of work.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict

from magento_zoho_sims.magento.seed import StoreLayout
from magento_zoho_sims.magento.seedjson import base_fragment

_CHUNK = 20


class FragmentCache:
    """An LRU of ``id -> encoded base customer`` and the read-ahead that fills it."""

    def __init__(self, layout: StoreLayout, *, capacity: int = 20_000) -> None:
        self.layout = layout
        self.capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[int, bytes] = OrderedDict()
        self._wanted: tuple[int, int] | None = None  # (first id, last id) to read ahead
        self._task: asyncio.Task[None] | None = None
        self.misses = 0  # encoded on demand by a request (the read-ahead was not there first)

    def get(self, cid: int) -> bytes:
        with self._lock:
            cached = self._items.get(cid)
        if cached is None:
            self.misses += 1
            cached = base_fragment(self.layout, cid)
            self._put(cid, cached)
        return cached

    def _put(self, cid: int, fragment: bytes) -> None:
        with self._lock:
            self._items[cid] = fragment
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def prefetch(self, first: int, count: int) -> None:
        """Ask for base ids ``first .. first + count - 1`` (replaces any earlier request); see ``schedule``."""
        last = min(first + count - 1, self.layout.count)
        with self._lock:
            self._wanted = (first, last) if count > 0 and first <= last else None

    def schedule(self) -> None:
        """Start the filler on the running event loop if there is work and it is not running already."""
        with self._lock:
            if self._wanted is None or (self._task is not None and not self._task.done()):
                return
            self._task = asyncio.get_running_loop().create_task(self._fill())

    async def _fill(self) -> None:
        while True:
            with self._lock:
                if self._wanted is None:
                    return
                first, last = self._wanted
                todo = [c for c in range(first, min(first + _CHUNK, last + 1)) if c not in self._items]
                self._wanted = (first + _CHUNK, last) if first + _CHUNK <= last else None
            for cid in todo:
                self._put(cid, base_fragment(self.layout, cid))
                await asyncio.sleep(0)
