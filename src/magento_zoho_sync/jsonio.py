"""JSON in and out of the HTTP clients: orjson, with the standard library for the few inputs orjson refuses.

Both APIs answer with large JSON bodies (a Magento page of 300 customers is about 260 KB), so decoding is a
good share of a sync's CPU; orjson does it several times faster than :mod:`json`. orjson is stricter, though:
it refuses lone UTF-16 surrogates (``"\\ud800"``, which a PHP or Java server can emit) and ``NaN``, both of
which :mod:`json` accepts. Such a body is decoded again with :mod:`json`, so a customer with odd text is mapped
(or reported) like any other instead of failing a whole page. (Integers beyond 64 bits become floats in
orjson; neither PHP, whose integers are 64-bit, nor Zoho sends them.)
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["CONTENT_TYPE", "dumps", "loads"]

CONTENT_TYPE = "application/json"


def loads(data: bytes | str) -> Any:
    """Decode a JSON document; raises ``ValueError`` (or ``UnicodeDecodeError``) when it is not JSON.

    A document nested deeper than the parsers go (orjson stops at 1,024 levels, :mod:`json` at the interpreter's
    recursion limit) is no answer either service gives: it raises ``ValueError`` too, as malformed JSON.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data)  # the lenient parser decides; it raises ValueError for what is truly not JSON
        except RecursionError:
            raise ValueError("JSON nested too deeply to decode") from None


def dumps(value: Any) -> bytes:
    """Encode a request body as compact UTF-8 JSON (lone surrogates are sent as ``\\ud800`` escapes)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: lone surrogates, integers beyond 64 bits, unknown types
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")
