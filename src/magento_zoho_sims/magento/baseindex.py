"""Answer filters over the (virtual) base customers by id ranges instead of scanning a million records.

Each filter on ``entity_id``, ``created_at`` or ``updated_at`` is turned into two id-interval sets over the base
ids ``1..N``: ``sure`` (every id there matches) and ``possible`` (no id outside can match). ``created_at`` is
non-decreasing in id, and ``updated_at`` lies in ``[created_at, created_at + D)``, so both are ranges (with a
window of width D to check one by one for ``updated_at``). Other filters give ``sure = {}``,
``possible = everything``: the generic scan. OR inside a group and AND across groups combine the sets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from magento_zoho_sims.magento.filters import COMPARISONS, convert
from magento_zoho_sims.magento.searchcriteria import Filter
from magento_zoho_sims.magento.seed import StoreLayout

Intervals = list[tuple[int, int]]  # inclusive, sorted, disjoint
CHEAP_FIELDS = frozenset({"entity_id", "created_at", "updated_at"})


def union(a: Intervals, b: Intervals) -> Intervals:
    merged: Intervals = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def intersect(a: Intervals, b: Intervals) -> Intervals:
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def complement(a: Intervals, n: int) -> Intervals:
    out: Intervals = []
    start = 1
    for lo, hi in a:
        if lo > start:
            out.append((start, lo - 1))
        start = hi + 1
    if start <= n:
        out.append((start, n))
    return out


def size(a: Intervals) -> int:
    return sum(hi - lo + 1 for lo, hi in a)


def contains(a: Intervals, cid: int) -> bool:
    return any(lo <= cid <= hi for lo, hi in a)


@dataclass(frozen=True)
class Bounds:
    sure: Intervals
    possible: Intervals


class BaseIndex:
    """Interval reasoning and cheap per-id evaluation over the base customers of one layout."""

    def __init__(self, layout: StoreLayout) -> None:
        self.layout = layout
        self.n = layout.count
        self.all: Intervals = [(1, self.n)] if self.n else []

    def _first_created_at_least(self, ts: float) -> int:
        """The smallest id whose created_at >= ts (n + 1 if none)."""
        lo, hi = 1, self.n + 1
        created = self.layout.created_ts
        while lo < hi:
            mid = (lo + hi) // 2
            if created(mid) >= ts:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _created_range(self, low: float | None, high: float | None) -> Intervals:
        """Ids with low <= created_at <= high (either bound optional)."""
        first = 1 if low is None else self._first_created_at_least(low)
        last = self.n if high is None else self._first_created_at_least(math.floor(high) + 1) - 1
        return [(first, last)] if first <= last else []

    def _id_range(self, low: float | None, high: float | None) -> Intervals:
        first = 1 if low is None else max(1, math.ceil(low))
        last = self.n if high is None else min(self.n, math.floor(high))
        return [(first, last)] if first <= last else []

    def _comparison(self, field: str, op: str, value: float) -> Bounds:
        if op in ("in", "nin"):
            raise AssertionError("handled by the caller")
        if field == "entity_id":
            ranges = {
                "eq": (value, value),
                "gt": (math.floor(value) + 1, None),
                "gteq": (value, None),
                "from": (value, None),
                "lt": (None, math.ceil(value) - 1),
                "lteq": (None, value),
                "to": (None, value),
            }
            if op == "neq":
                exact = complement(self._id_range(value, value), self.n)
            else:
                low, high = ranges[op]
                exact = self._id_range(low, high)
            return Bounds(exact, exact)
        if field == "created_at":
            ranges = {
                "eq": (value, value),
                "gt": (value + 1, None),
                "gteq": (value, None),
                "from": (value, None),
                "lt": (None, value - 1),
                "lteq": (None, value),
                "to": (None, value),
            }
            if op == "neq":
                exact = complement(self._created_range(value, value), self.n)
            else:
                low, high = ranges[op]
                exact = self._created_range(low, high)
            return Bounds(exact, exact)
        # updated_at in [created_at, created_at + D - 1]
        spread = self.layout.max_update_delay - 1
        if op in ("gt", "gteq", "from"):
            w = value + 1 if op == "gt" else value
            return Bounds(self._created_range(w, None), self._created_range(w - spread, None))
        if op in ("lt", "lteq", "to"):
            w = value - 1 if op == "lt" else value
            return Bounds(self._created_range(None, w - spread), self._created_range(None, w))
        window = self._created_range(value - spread, value)
        if op == "eq":
            return Bounds([], window)
        return Bounds(complement(window, self.n), self.all)  # neq

    def _email_points(self, values: list[str]) -> Bounds:
        """Base e-mails embed the id (``...<id>@``): only those ids (and their twins) can match."""
        points: Intervals = []
        for value in values:
            points = union(points, [(c, c) for c in self.layout.email_candidates(value)])
        return Bounds([], points)

    def filter_bounds(self, flt: Filter) -> Bounds:
        field, op = flt.field, flt.op
        if field == "email" and flt.value and op in ("eq", "seq", "in"):
            return self._email_points(flt.value.split(",") if op == "in" else [flt.value])
        if field not in CHEAP_FIELDS or flt.value is None:
            if field in CHEAP_FIELDS and op == "null":
                return Bounds([], [])
            if field in CHEAP_FIELDS and op == "notnull":
                return Bounds(self.all, self.all)
            return Bounds([], self.all)
        if op not in COMPARISONS:
            return Bounds([], self.all)
        if op in ("in", "nin"):
            sure: Intervals = []
            possible: Intervals = []
            for part in flt.value.split(","):
                b = self._comparison(field, "eq", convert(field, part))
                sure, possible = union(sure, b.sure), union(possible, b.possible)
            if op == "in":
                return Bounds(sure, possible)
            return Bounds(complement(possible, self.n), complement(sure, self.n))
        return self._comparison(field, op, convert(field, flt.value))

    def bounds(self, groups: tuple[tuple[Filter, ...], ...]) -> Bounds:
        sure, possible = self.all, self.all
        for group in groups:
            if not group:
                continue
            g_sure: Intervals = []
            g_possible: Intervals = []
            for flt in group:
                b = self.filter_bounds(flt)
                g_sure, g_possible = union(g_sure, b.sure), union(g_possible, b.possible)
            sure, possible = intersect(sure, g_sure), intersect(possible, g_possible)
        return Bounds(sure, possible)

    def cheap_value(self, cid: int, field: str) -> int:
        if field == "entity_id":
            return cid
        if field == "created_at":
            return self.layout.created_ts(cid)
        return self.layout.updated_ts(cid)


def is_cheap(groups: tuple[tuple[Filter, ...], ...]) -> bool:
    return all(f.field in CHEAP_FIELDS for group in groups for f in group)


def segments(bounds: Bounds) -> Intervals:
    """``possible`` cut at the edges of ``sure``, so that each piece is wholly sure or wholly maybe."""
    cuts = sorted({lo for lo, _ in bounds.sure} | {hi + 1 for _, hi in bounds.sure})
    pieces: Intervals = []
    for lo, hi in bounds.possible:
        start = lo
        for cut in cuts:
            if start < cut <= hi:
                pieces.append((start, cut - 1))
                start = cut
        pieces.append((start, hi))
    return pieces


def walk(bounds: Bounds, *, reverse: bool = False) -> Iterator[tuple[int, bool]]:
    """Ids of ``possible`` in order, each with "surely matches" (no per-id interval lookup)."""
    pieces = segments(bounds)
    sure = bounds.sure
    for lo, hi in reversed(pieces) if reverse else pieces:
        flag = _in(sure, lo)
        ids = range(hi, lo - 1, -1) if reverse else range(lo, hi + 1)
        for cid in ids:
            yield cid, flag


def _in(sure: Intervals, cid: int) -> bool:
    return any(lo <= cid <= hi for lo, hi in sure)


CheapEval = Callable[[int], bool]
