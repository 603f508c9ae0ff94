"""JSON as PHP's ``json_encode`` writes it with default flags: compact, ``\\/`` and ``\\u00e9``-style escapes."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


def encode(data: Any) -> bytes:
    return _ENCODER.encode(data).replace("/", "\\/").encode("ascii")
