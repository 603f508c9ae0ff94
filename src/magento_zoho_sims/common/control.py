"""The index of a simulator's ``/_sim/`` control plane, built from the same table that routes the requests.

Each simulator declares its control endpoints once, as :class:`ControlEndpoint` rows (method, path, one line
of description, handler); the router is built from the rows and ``GET /_sim/`` lists them, so the index cannot
drift from what is served. ``tests/sims/test_control_docs.py`` checks that ``docs/simulators.md`` names each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

INDEX_PATH = "/_sim/"
INDEX_DESCRIPTION = "this index of the control endpoints"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


@dataclass(frozen=True)
class ControlEndpoint:
    """One control endpoint. ``path`` may hold Starlette convertors (``{cid:int}``); the index shows ``{cid}``."""

    method: str
    path: str
    description: str
    handler: Callable[..., Any]

    @property
    def shown_path(self) -> str:
        return display_path(self.path)


def display_path(path: str) -> str:
    """``/_sim/customers/{cid:int}`` -> ``/_sim/customers/{cid}``."""
    return _CONVERTOR.sub(r"{\1}", path)


def control_index(simulator: str, endpoints: Iterable[ControlEndpoint]) -> dict[str, Any]:
    """The body of ``GET /_sim/``: the index itself first, then every endpoint in declaration order."""
    rows = [{"method": "GET", "path": INDEX_PATH, "description": INDEX_DESCRIPTION}]
    rows += [{"method": e.method, "path": e.shown_path, "description": e.description} for e in endpoints]
    return {"simulator": simulator, "endpoints": rows}
