"""Encoded base customers, cached and read ahead of keyset readers.

Base customers never change (a change moves the customer into the backend's overlay, which is consulted
first), so their encoded JSON can be cached without invalidation. After a page sorted by ``entity_id``
ascending, a background thread encodes the next ids while the client is busy parsing the page it got:
the work a database buffer pool would do for a sequential scan.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from magento_zoho_sims.magento.phpjson import encode
from magento_zoho_sims.magento.seed import StoreLayout, base_customer

_CHUNK = 20


class FragmentCache:
    """An LRU of ``id -> encoded base customer`` with a single read-ahead worker."""

    def __init__(self, layout: StoreLayout, *, capacity: int = 20_000) -> None:
        self.layout = layout
        self.capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[int, bytes] = OrderedDict()
        self._wanted: tuple[int, int] | None = None  # (first id, last id) to prefetch
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None

    def get(self, cid: int) -> bytes:
        with self._lock:
            cached = self._items.get(cid)
        if cached is None:
            cached = encode(base_customer(self.layout, cid))
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
        """Encode base ids ``first .. first + count - 1`` in the background (replaces any earlier request)."""
        last = min(first + count - 1, self.layout.count)
        if count <= 0 or first > last:
            return
        with self._lock:
            self._wanted = (first, last)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="magento-sim-readahead", daemon=True)
                self._worker.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            if not self._wake.wait(timeout=5.0):
                with self._lock:  # idle: end the thread; the next prefetch starts a new one
                    if self._wanted is None and not self._wake.is_set():
                        self._worker = None
                        return
                continue
            self._wake.clear()
            while True:
                with self._lock:
                    wanted = self._wanted
                    if wanted is None:
                        break
                    first, last = wanted
                    todo = [c for c in range(first, min(first + _CHUNK, last + 1)) if c not in self._items]
                    self._wanted = (first + _CHUNK, last) if first + _CHUNK <= last else None
                for cid in todo:  # outside the lock: a request may take the GIL between two customers
                    self._put(cid, encode(base_customer(self.layout, cid)))
