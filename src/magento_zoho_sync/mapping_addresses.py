"""Which Magento address each address source of the mapping read, which of its fields it left out, and the Zoho
fields to clear when it changes.

A missing or empty Magento value is left out of the payload, so that Zoho keeps what it holds. When the address a
source (``address``, ``billing``, ``shipping``) reads is **another address** than the one last sent (the default
billing address removed, say), the fields the new address leaves out would keep the old address's values (a
Paris street with a Berlin zip code). So the mapping records the id of the address each source read and, after a
``~``, a marker of the source's fields that address left out: ``"a12~5.3f0c,s13~0.9a1e"`` (``a-`` when the
customer has none; a source left out when its address has no usable id). The marker is a bitmask in hex over
the source's fields sorted by name (bit ``i`` is the ``i``-th), then, after a ``.``, the :class:`Layout`'s tag, a
fingerprint of that list of fields: a marker written under another list (the mapping changed) is not read. The
state keeps the text with the customer's link, and :func:`fields_to_clear` names the fields to send as ``null``:
only those the old address **filled** (sent by the tool) that the new one leaves out. A field the old address
left out too was never sent by the tool: what Zoho holds there may be a sales rep's, and it is kept.

Pure functions; the compiled mapping (:mod:`.mapping_compile`) builds the text itself on its fast path (integer
ids), and calls :func:`address_key` and :func:`encode_address_ids` only off it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, overload

#: The letter of each address source in the text the state keeps.
SOURCE_LETTERS: Final[Mapping[str, str]] = {"address": "a", "billing": "b", "shipping": "s"}
_SOURCES_BY_LETTER: Final = {letter: source for source, letter in SOURCE_LETTERS.items()}
#: In the text kept: the customer had no address for the source.
NONE_TEXT: Final = "-"
#: In the text kept: between an address id and the marker of the fields its address left out.
MARKER_TEXT: Final = "~"
_HEX_DIGITS: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Layout:
    """How the marker of one address source is written and read."""

    #: every field mapped from the source, sorted: bit ``i`` of a marker stands for ``names[i]`` (sorted, so that
    #: reordering the rules changes nothing)
    names: tuple[str, ...]
    #: 4 hex digits of ``names``: a marker with another tag was written under another list of fields
    tag: str

    def bit(self, field: str) -> int:
        return 1 << self.names.index(field)


@functools.lru_cache(maxsize=64)
def source_layout(fields: tuple[str, ...]) -> Layout:
    """The layout of the markers of a source whose rules map these ``fields`` (in any order)."""
    names = tuple(sorted(set(fields)))
    tag = hashlib.blake2s("\n".join(names).encode(), digest_size=2).hexdigest()
    return Layout(names, tag)


def marker(left_out: int, tag: str) -> str:
    """``"~5.3f0c"``: the text after an address id, for the bitmask of the fields left out."""
    return f"{MARKER_TEXT}{left_out:x}.{tag}"


#: Up to this many fields in a source, its markers are written ahead into a table (4,096 texts at most).
TABLE_BITS: Final = 12


class _Markers(Sequence[str]):
    """The markers of a source with more fields than :data:`TABLE_BITS`, each written when asked for."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout

    def __len__(self) -> int:
        return 1 << len(self._layout.names)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[n] for n in range(len(self))[index]]
        if not 0 <= index < len(self):
            raise IndexError(index)
        return marker(index, self._layout.tag)


def markers(layout: Layout) -> Sequence[str]:
    """Every marker of a source, by bitmask: the compiled mapping looks its text up (a tuple index) rather than
    formats it (an int written in hex is 6 times slower: a sixth of the cost of the address ids)."""
    if len(layout.names) <= TABLE_BITS:
        return tuple(marker(left_out, layout.tag) for left_out in range(1 << len(layout.names)))
    return _Markers(layout)


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


def encode_address_ids(letters: Sequence[str], keys: Sequence[Any], marks: Sequence[str] | None = None) -> str | None:
    """``"a12~5.3f0c,s13~0.9a1e"``: each source's letter, the id of its address and, with ``marks``, its
    :func:`marker` (none after :data:`NONE_TEXT`), in the order given (the compiled mapping gives them sorted);
    ``None`` when no source could be told."""
    parts: list[str] = []
    for n, (letter, key) in enumerate(zip(letters, keys, strict=True)):
        text = _id_text(key)
        if not text:
            continue
        if marks is not None and text != NONE_TEXT:
            text += marks[n]
        parts.append(letter + text)
    return ",".join(parts) or None


def _parts(text: str | None) -> dict[str, tuple[str, str]]:
    """Source → (the id text kept, or :data:`NONE_TEXT`; its marker, ``""`` for none); what cannot be read is left
    out (nothing is known)."""
    decoded: dict[str, tuple[str, str]] = {}
    for part in (text or "").split(","):
        source = _SOURCES_BY_LETTER.get(part[:1])
        ident, _, mark = part[1:].partition(MARKER_TEXT)
        if source is not None and ident:
            decoded[source] = (ident, mark)
    return decoded


def decode_address_ids(text: str | None) -> dict[str, str]:
    """Source → the id text kept (or :data:`NONE_TEXT`), markers aside; what cannot be read is left out."""
    return {source: ident for source, (ident, _) in _parts(text).items()}


def _left_out(mark: str, layout: Layout) -> frozenset[str] | None:
    """The fields a marker says its address left out, or ``None`` when it proves nothing: no marker (a text of an
    earlier version), another layout's tag (the source's fields changed since), or a text that is not one."""
    mask_text, dot, tag = mark.partition(".")
    if not dot or tag != layout.tag or not mask_text or not _HEX_DIGITS.issuperset(mask_text):
        return None
    mask = int(mask_text, 16)
    if mask >> len(layout.names):
        return None
    return frozenset(name for n, name in enumerate(layout.names) if mask >> n & 1)


def fields_to_clear(
    remembered: str | None,
    current: str | None,
    fields: Mapping[str, Sequence[str]],
    payload: Mapping[str, Any],
    never: Collection[str] = (),
) -> tuple[str, ...]:
    """The fields to send as ``null``: of each source whose address is another one than the ``remembered`` one
    (or none now), the ``fields`` mapped from it (every one, in the rules' order) that the old address filled, by
    its marker, and that ``payload`` leaves out; never one of ``never`` (the fields the Zoho org makes mandatory).

    Nothing for a source remembered without an address (nothing of one was sent), nor for one whose address is not
    known now (no usable id), nor for one whose marker proves nothing (a text of an earlier version, or written
    before the source's fields changed): a field the tool cannot show it sent may hold a sales rep's value. Nothing
    at all when nothing is remembered (a new link, a state of an earlier version): the old values stay."""
    if not remembered:
        return ()
    now = decode_address_ids(current)
    cleared: list[str] = []
    for source, (before, mark) in _parts(remembered).items():
        after = now.get(source)
        if before == NONE_TEXT or after is None or after == before:
            continue
        names = tuple(fields.get(source, ()))
        left_out = _left_out(mark, source_layout(names)) if names else None
        if left_out is None:
            continue
        cleared.extend(
            field
            for field in names
            if field not in payload and field not in left_out and field not in never and field not in cleared
        )
    return tuple(cleared)


def with_left_out(text: str, fields: Mapping[str, Sequence[str]], removed: Collection[str]) -> str:
    """``text`` with the ``removed`` fields marked left out: fields the mapping filled but that were then taken out
    of the payload (a value cut to nothing by ``truncate_long_values``), so were not sent after all."""
    parts: list[str] = []
    for part in text.split(","):
        source = _SOURCES_BY_LETTER.get(part[:1])
        ident, _, mark = part[1:].partition(MARKER_TEXT)
        names = tuple(fields.get(source, ())) if source is not None else ()
        hit = [name for name in names if name in removed]
        layout = source_layout(names) if hit else None
        known = _left_out(mark, layout) if layout is not None else None
        if layout is None or known is None:
            parts.append(part)
        else:
            mask = sum(layout.bit(name) for name in known.union(hit))
            parts.append(f"{part[0]}{ident}{marker(mask, layout.tag)}")
    return ",".join(parts)
