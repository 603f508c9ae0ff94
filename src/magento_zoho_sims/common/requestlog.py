"""What a simulator received, for tests to assert on (calls made, trigger sent, paths used)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    duration: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class RequestLog:
    """A bounded, thread-safe log of requests (the newest ``maxlen`` are kept)."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[LoggedRequest] = deque(maxlen=maxlen)
        self.total = 0

    def add(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)
            self.total += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.total = 0

    def __iter__(self) -> Iterator[LoggedRequest]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def matching(self, predicate: Callable[[LoggedRequest], bool]) -> list[LoggedRequest]:
        return [item for item in self if predicate(item)]

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return len(
            self.matching(
                lambda r: (method is None or r.method == method) and (path_contains is None or path_contains in r.path)
            )
        )
