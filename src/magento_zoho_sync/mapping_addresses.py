"""Which Magento address each address source of the mapping read, and the Zoho fields to clear when it changes.

A missing or empty Magento value is left out of the payload, so that Zoho keeps what it holds. When the address a
source (``address``, ``billing``, ``shipping``) reads is **another address** than the one last sent (the default
billing address removed, say), the fields the new address leaves out would keep the old address's values (a
Paris street with a Berlin zip code). So the mapping records the id of the address each source read (compactly,
``"a12,b12,s13"``; ``a-`` when the customer has none; a source left out when its address has no usable id), the
state keeps it with the customer's link, and :func:`fields_to_clear` names the fields to send as ``null``.

Pure functions; the compiled mapping (:mod:`.mapping_compile`) calls :func:`address_key` and
:func:`encode_address_ids` only off its fast path (an address with an integer id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

#: The letter of each address source in the text the state keeps.
SOURCE_LETTERS: Final[Mapping[str, str]] = {"address": "a", "billing": "b", "shipping": "s"}
_SOURCES_BY_LETTER: Final = {letter: source for source, letter in SOURCE_LETTERS.items()}
#: In the text kept: the customer had no address for the source.
NONE_TEXT: Final = "-"


class _NoAddress:
    """What :func:`address_key` gives for a source the customer has no address for (no address id is this)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_ADDRESS"


NO_ADDRESS: Final = _NoAddress()


def address_key(address: Any) -> Any:
    """The raw id of the address a source read (``None`` if it has none), or :data:`NO_ADDRESS` for no address."""
    if address is None:
        return NO_ADDRESS
    return address.get("id") if isinstance(address, Mapping) else None


def _id_text(key: Any) -> str | None:
    """The text kept for a source's key: an integer id (or one in digits), :data:`NONE_TEXT`, or ``None`` (not
    told: no id, or one of another kind)."""
    if key is NO_ADDRESS:
        return NONE_TEXT
    if type(key) is int:
        return str(key)
    if type(key) is str:
        text = key.strip()
        return str(int(text)) if text.isascii() and text.isdigit() and len(text) <= 19 else None
    return None


def encode_address_ids(letters: Sequence[str], keys: Sequence[Any]) -> str | None:
    """``"a12,s13"``: each source's letter and the id of its address, in the order given (the compiled mapping
    gives them sorted); ``None`` when no source could be told."""
    parts = [f"{letter}{text}" for letter, key in zip(letters, keys, strict=True) if (text := _id_text(key))]
    return ",".join(parts) or None


def decode_address_ids(text: str | None) -> dict[str, str]:
    """Source → the id text kept (or :data:`NONE_TEXT`); what cannot be read is left out (nothing is known)."""
    decoded: dict[str, str] = {}
    for part in (text or "").split(","):
        source = _SOURCES_BY_LETTER.get(part[:1])
        if source is not None and len(part) > 1:
            decoded[source] = part[1:]
    return decoded


def fields_to_clear(
    remembered: str | None,
    current: str | None,
    fields: Mapping[str, Sequence[str]],
    payload: Mapping[str, Any],
) -> tuple[str, ...]:
    """The fields to send as ``null``: of each source whose address is another one than the ``remembered`` one
    (or none now), the ``fields`` mapped from it that ``payload`` leaves out.

    Nothing for a source remembered without an address (nothing of one was sent), nor for one whose address is not
    known now (no usable id); nothing at all when nothing is remembered (a state of an earlier version, a new link):
    the old address's values then stay, as they always did."""
    if not remembered:
        return ()
    now = decode_address_ids(current)
    cleared: list[str] = []
    for source, before in decode_address_ids(remembered).items():
        after = now.get(source)
        if before == NONE_TEXT or after is None or after == before:
            continue
        cleared.extend(field for field in fields.get(source, ()) if field not in payload and field not in cleared)
    return tuple(cleared)
