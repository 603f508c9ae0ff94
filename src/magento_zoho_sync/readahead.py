"""Read the next Magento pages while the current one is being mapped and written.

Magento answers a page in 100-300 ms; without read-ahead the engine waits for every page in turn. A thread
fetches up to ``depth`` pages ahead into a bounded queue, so memory stays flat and reading overlaps the rest.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from magento_zoho_sync.retry import abandoned_when

T = TypeVar("T")

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(source: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield what ``source`` yields, produced by a background thread up to ``depth`` items ahead.

    An exception in the source is raised here, in the consumer. When the consumer stops early (a signal, an
    error), the producer stops at its next item, and a request of the source that fails from then on is not
    retried (:func:`~magento_zoho_sync.retry.abandoned_when`); it never blocks the process from exiting (daemon
    thread).
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def offer(item: object) -> bool:
        while not stopped.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with abandoned_when(stopped):  # a request cut once the consumer stopped is not tried again
                for item in source:
                    if not offer(item):
                        return
            offer(_END)
        except BaseException as error:  # handed to the consumer, which raises it
            offer(_Failed(error))

    producer = threading.Thread(target=produce, name="magento-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stopped.set()
