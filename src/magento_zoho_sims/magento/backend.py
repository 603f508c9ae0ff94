"""The store's state and Magento's rules for customers (no HTTP).

Base customers are derived from (seed, id) on demand (``seed.base_customer``); only changes are stored: an
overlay of created/updated customers and a set of deleted base ids. Searches walk base ids by ranges
(``baseindex``) merged with the overlay, so keyset pages and their ``total_count`` cost no full scan.
"""

from __future__ import annotations

import copy
import heapq
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.magento.auth import AuthState
from magento_zoho_sims.magento.baseindex import (
    BaseIndex,
    Bounds,
    complement,
    contains,
    intersect,
    is_cheap,
    size,
    walk,
)
from magento_zoho_sims.magento.config import MagentoConfig
from magento_zoho_sims.magento.errors import MagentoError
from magento_zoho_sims.magento.filters import check_field, compile_filter, compile_groups, sort_key
from magento_zoho_sims.magento.phpjson import encode
from magento_zoho_sims.magento.readahead import FragmentCache
from magento_zoho_sims.magento.records import STORE_OF_WEBSITE, build_address, order_customer, sync_defaults
from magento_zoho_sims.magento.searchcriteria import SearchCriteria
from magento_zoho_sims.magento.seed import StoreLayout, base_customer, email_of, fmt_ts, website_of
from magento_zoho_sims.magento.webclock import WebTierClock

Record = dict[str, Any]
SAVE_COLUMNS = [
    "group_id",
    "email",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "dob",
    "gender",
    "taxvat",
    "store_id",
    "website_id",
    "disable_auto_group_change",
]
DUPLICATE_EMAIL = "A customer with the same email address already exists in an associated website."


_ABSENT: Final = object()


class MagentoBackend:
    """Customers, their rules and the control API used by tests."""

    def __init__(
        self, *, customers: int = 0, seed: int = 1, clock: Clock | None = None, config: MagentoConfig | None = None
    ) -> None:
        self.clock = clock or Clock()
        self.config = config or MagentoConfig()
        self.seed = seed
        self.layout = StoreLayout(seed=seed, count=customers, now=int(self.clock.now()))
        self.index = BaseIndex(self.layout)
        self.fragments = FragmentCache(self.layout)
        #: the web server's clock (the Date header, PHP's time checks); ``clock`` is the database's (updated_at)
        self.web_clock = WebTierClock(self.clock, self.config)
        self.auth = AuthState(self.config, self.web_clock)
        self._lock = threading.RLock()
        self._changed: dict[int, Record] = {}  # created or modified customers, wire-shaped
        self._deleted: set[int] = set()  # deleted base ids
        self._next_id = customers + 1
        self._next_address_id = 4 * (customers + 1) + 1_000_000_000
        self._base_count_cache: dict[Any, int] = {}
        self._search_hooks: list[Callable[[int], None]] = []
        self.searches = 0

    # ----------------------------------------------------------------- reading
    def _base_alive(self, cid: int) -> bool:
        return 1 <= cid <= self.layout.count and cid not in self._deleted and cid not in self._changed

    def get(self, cid: int) -> Record | None:
        """The customer as ``GET /V1/customers/{id}`` returns it, or ``None``."""
        with self._lock:
            if cid in self._changed:
                return copy.deepcopy(self._changed[cid])
            if self._base_alive(cid):
                return base_customer(self.layout, cid)
            return None

    def require(self, cid: int) -> Record:
        record = self.get(cid)
        if record is None:
            raise MagentoError(
                404, "No such entity with %fieldName = %fieldValue", {"fieldName": "customerId", "fieldValue": cid}
            )
        return record

    def count(self) -> int:
        with self._lock:
            touched_base = sum(1 for c in (*self._changed, *self._deleted) if c <= self.layout.count)
            return self.layout.count - touched_base + len(self._changed)

    def ids(self) -> Iterator[int]:
        """Every live id in ascending order."""
        with self._lock:
            changed = sorted(self._changed)
            deleted = set(self._deleted)
        base = (c for c in range(1, self.layout.count + 1) if c not in deleted and c not in self._changed)
        yield from heapq.merge(base, changed)

    def iter_customers(self) -> Iterator[Record]:
        for cid in self.ids():
            record = self.get(cid)
            if record is not None:
                yield record

    def iter_emails(self) -> Iterator[tuple[int, str, int | None]]:
        """``(id, email, website_id)`` of every live customer (cheap: no full record for base customers)."""
        for cid in self.ids():
            changed = self._changed.get(cid)
            if changed is not None:
                yield cid, str(changed.get("email") or ""), changed.get("website_id")
            elif self._base_alive(cid):
                yield cid, email_of(self.layout, cid), website_of(self.layout, cid)

    def find_by_email(self, email: str, website_id: int | None = None) -> list[int]:
        folded = email.casefold()
        with self._lock:
            hits = [c for c, r in self._changed.items() if str(r.get("email") or "").casefold() == folded]
            for cid in self.layout.email_candidates(email):
                if self._base_alive(cid) and email_of(self.layout, cid).casefold() == folded:
                    hits.append(cid)
        if website_id is not None:
            hits = [c for c in hits if self._website(c) == website_id]
        return sorted(hits)

    def _website(self, cid: int) -> int | None:
        if cid in self._changed:
            website: int | None = self._changed[cid].get("website_id")
            return website
        return website_of(self.layout, cid)

    # ----------------------------------------------------------------- control API (mutations)
    def _now(self) -> str:
        return fmt_ts(int(self.clock.now()))

    def _own(self, cid: int) -> Record:
        """The overlay copy of a live customer (copied from the base on first change)."""
        if cid in self._changed:
            return self._changed[cid]
        if not self._base_alive(cid):
            raise MagentoError(
                404, "No such entity with %fieldName = %fieldValue", {"fieldName": "customerId", "fieldValue": cid}
            )
        record = base_customer(self.layout, cid)
        self._changed[cid] = record
        return record

    def _check_unique(self, email: str, website_id: int | None, exclude: int | None = None) -> None:
        scope = website_id if self.config.account_share_per_website else None
        for other in self.find_by_email(email, scope):
            if other != exclude:
                raise MagentoError(400, DUPLICATE_EMAIL)

    def _address(self, cid: int, data: dict[str, Any]) -> Record:
        address_id = data.get("id")
        if address_id is None:
            address_id = self._next_address_id
            self._next_address_id += 1
        return build_address(cid, int(address_id), data)

    def create_customer(
        self,
        *,
        email: str,
        firstname: str,
        lastname: str,
        website_id: int = 1,
        addresses: list[dict[str, Any]] | None = None,
        customer_id: int | None = None,
        is_subscribed: bool = False,
        custom_attributes: dict[str, str] | None = None,
        **fields: Any,
    ) -> Record:
        """Create a customer now (``customer_id`` forces an id, e.g. an out-of-order commit)."""
        with self._lock:
            self._check_unique(email, website_id)
            if customer_id is None:
                customer_id = self._next_id
            elif self.get(customer_id) is not None:
                raise ValueError(f"customer {customer_id} exists")
            self._next_id = max(self._next_id, customer_id + 1)
            store_id, created_in = STORE_OF_WEBSITE.get(website_id, (1, "Default Store View"))
            now = self._now()
            record: Record = {
                "id": customer_id,
                "group_id": 1,
                "created_at": now,
                "updated_at": now,
                "created_in": created_in,
                "email": email,
                "firstname": firstname,
                "lastname": lastname,
                "store_id": store_id,
                "website_id": website_id,
                "disable_auto_group_change": 0,
                **fields,
            }
            record["addresses"] = [self._address(customer_id, a) for a in addresses or []]
            sync_defaults(record)
            record["extension_attributes"] = {"is_subscribed": is_subscribed}
            if custom_attributes:
                record["custom_attributes"] = [{"attribute_code": k, "value": v} for k, v in custom_attributes.items()]
            record = order_customer(record)
            self._changed[customer_id] = record
            self._deleted.discard(customer_id)
            return copy.deepcopy(record)

    def update_customer(self, cid: int, *, updated_at: str | None = None, **fields: Any) -> Record:
        """Change customer columns (``email``, ``firstname``, ...): ``updated_at`` becomes now, unless no value
        changes (MySQL's ``ON UPDATE CURRENT_TIMESTAMP`` leaves a row whose values are the same).

        ``updated_at`` (``YYYY-MM-DD HH:MM:SS``) stamps the row with that time instead: a late commit, whose UPDATE
        ran then (``CURRENT_TIMESTAMP`` is the statement's time) in a transaction that becomes visible only now."""
        with self._lock:
            record = self._own(cid)
            if "email" in fields or "website_id" in fields:
                email = fields.get("email", record.get("email"))
                if email:  # a customer without an email (a MISSING_EMAIL test) clashes with none
                    self._check_unique(str(email), fields.get("website_id", record.get("website_id")), cid)
            if all(record.get(key, _ABSENT) == value for key, value in fields.items()):
                return copy.deepcopy(self._changed.get(cid, record))
            record.update(fields)
            record["updated_at"] = updated_at or self._now()
            self._changed[cid] = order_customer(record)
            return copy.deepcopy(self._changed[cid])

    def edit_address(self, cid: int, address_id: int | None = None, **fields: Any) -> Record:
        """Edit (or, with ``address_id=None``, add) an address. ``updated_at`` is NOT bumped, as in Magento,
        unless the edit changes which address is the default billing/shipping one."""
        with self._lock:
            record = self._own(cid)
            before = (record.get("default_billing"), record.get("default_shipping"))
            addresses: list[Record] = record["addresses"]
            if address_id is None:
                addresses.append(self._address(cid, fields))
            else:
                for index, address in enumerate(addresses):
                    if address["id"] == address_id:
                        merged = {**address, **fields}
                        merged.pop("region", None)
                        merged.pop("region_id", None)
                        merged.setdefault("region_code", address["region"]["region_code"])
                        addresses[index] = self._address(cid, merged)
                        if "country_id" not in fields and "region_code" not in fields:  # region unchanged
                            addresses[index]["region"] = address["region"]
                            addresses[index]["region_id"] = address["region_id"]
                        break
                else:
                    raise MagentoError(
                        404,
                        "No such entity with %fieldName = %fieldValue",
                        {"fieldName": "addressId", "fieldValue": address_id},
                    )
            for flag in ("default_billing", "default_shipping"):
                if fields.get(flag):
                    target = address_id if address_id is not None else addresses[-1]["id"]
                    for address in addresses:
                        if address["id"] != target:
                            address.pop(flag, None)
            sync_defaults(record)
            self._changed[cid] = record = order_customer(record)
            if (record.get("default_billing"), record.get("default_shipping")) != before:
                record["updated_at"] = self._now()
            return copy.deepcopy(record)

    def save_customer(self, cid: int, data: dict[str, Any]) -> Record:
        """``PUT /V1/customers/:id``: columns sent replace the stored ones; ``updated_at`` moves only when a
        ``customer_entity`` column really changed (MySQL's ON UPDATE), or the default addresses did."""
        with self._lock:
            record = copy.deepcopy(self._own(cid))
            before = {k: record.get(k) for k in SAVE_COLUMNS}
            defaults_before = (record.get("default_billing"), record.get("default_shipping"))
            for key in SAVE_COLUMNS:
                if key in data:
                    record[key] = data[key]
            if record.get("email") != before["email"] or record.get("website_id") != before["website_id"]:
                self._check_unique(str(record["email"]), record.get("website_id"), cid)
            if isinstance(data.get("addresses"), list):
                record["addresses"] = [
                    self._address(cid, {**a, "region_code": (a.get("region") or {}).get("region_code")})
                    for a in data["addresses"]
                    if isinstance(a, dict)
                ]
                sync_defaults(record)
            subscribed = (data.get("extension_attributes") or {}).get("is_subscribed")
            if isinstance(subscribed, bool):
                record["extension_attributes"] = {"is_subscribed": subscribed}
            if isinstance(data.get("custom_attributes"), list):
                record["custom_attributes"] = [
                    {"attribute_code": str(a["attribute_code"]), "value": str(a["value"])}
                    for a in data["custom_attributes"]
                ]
                if self.config.bump_updated_at_on_custom_attributes:
                    record["updated_at"] = self._now()
            changed = any(record.get(k) != v for k, v in before.items())
            if changed or (record.get("default_billing"), record.get("default_shipping")) != defaults_before:
                record["updated_at"] = self._now()
            self._changed[cid] = record = order_customer(record)
            return copy.deepcopy(record)

    def set_custom_attribute(self, cid: int, code: str, value: str) -> Record:
        """An EAV-only edit: ``updated_at`` moves only if ``bump_updated_at_on_custom_attributes`` is on."""
        with self._lock:
            record = self._own(cid)
            attrs = [a for a in record.get("custom_attributes", []) if a["attribute_code"] != code]
            attrs.append({"attribute_code": code, "value": value})
            record["custom_attributes"] = attrs
            if self.config.bump_updated_at_on_custom_attributes:
                record["updated_at"] = self._now()
            return copy.deepcopy(record)

    def set_subscribed(self, cid: int, subscribed: bool) -> Record:
        """Newsletter subscription lives in another table: ``updated_at`` does not move."""
        with self._lock:
            record = self._own(cid)
            record["extension_attributes"] = {"is_subscribed": subscribed}
            return copy.deepcopy(record)

    def delete_customer(self, cid: int) -> None:
        """Hard delete (no tombstone); addresses go with it."""
        with self._lock:
            if self.get(cid) is None:
                raise MagentoError(
                    404, "No such entity with %fieldName = %fieldValue", {"fieldName": "customerId", "fieldValue": cid}
                )
            self._changed.pop(cid, None)
            if cid <= self.layout.count:
                self._deleted.add(cid)

    def add_search_hook(self, hook: Callable[[int], None]) -> None:
        """Call ``hook(n)`` after the n-th search is answered (insert/update/delete between page requests)."""
        self._search_hooks.append(hook)

    def clear_search_hooks(self) -> None:
        self._search_hooks.clear()

    def restart(self, *, reuse_ids: bool = True) -> None:
        """A database restart. With ``reuse_ids`` (InnoDB before MySQL 8.0) the auto-increment counter is
        re-derived as max(id) + 1, so deleting the newest customers then creating one reuses an id."""
        with self._lock:
            if reuse_ids:
                live = max(self._changed, default=0)
                base_max = next((c for c in range(self.layout.count, 0, -1) if self._base_alive(c)), 0)
                self._next_id = max(live, base_max) + 1

    def reset(self) -> None:
        with self._lock:
            self._changed.clear()
            self._deleted.clear()
            self._next_id = self.layout.count + 1
            self._search_hooks.clear()
            self.searches = 0  # the stats' counter, and the number search hooks get, start again with the store
            self.auth.reset()

    # ----------------------------------------------------------------- search
    def search(self, criteria: SearchCriteria) -> tuple[list[Record], int]:
        """Items of the requested page and the total count, as ``CustomerRepository::getList``."""
        ids, total, records, number = self._search(criteria)
        items = [records[c] if c in records else self._record(c) for c in ids]
        self._run_search_hooks(number)
        return items, total

    def search_encoded(self, criteria: SearchCriteria) -> tuple[list[bytes], int]:
        """The same page as PHP-encoded JSON items (cached and read ahead for base customers)."""
        ids, total, records, number = self._search(criteria)
        out: list[bytes] = []
        for cid in ids:
            record = records.get(cid)
            if record is None:
                with self._lock:
                    record = copy.deepcopy(self._changed[cid]) if cid in self._changed else None
            out.append(encode(record) if record is not None else self.fragments.get(cid))
        self._run_search_hooks(number)
        return out, total

    def _run_search_hooks(self, number: int) -> None:
        """After the n-th page's answer is made: a hook's change shows in later pages, never in this one."""
        for hook in list(self._search_hooks):
            hook(number)

    def _record(self, cid: int) -> Record:
        with self._lock:
            if cid in self._changed:
                return copy.deepcopy(self._changed[cid])
        return base_customer(self.layout, cid)

    def _search(self, criteria: SearchCriteria) -> tuple[list[int], int, dict[int, Record], int]:
        """Ids of the page, the total, any records already built (for non-id sorts), and the search's number."""
        records: dict[int, Record] = {}
        for group in criteria.filter_groups:
            for flt in group:
                check_field(flt.field)
        known_sorts = [s for s in criteria.sort_orders or () if s.field and self._sortable(s.field)]
        with self._lock:
            predicate = compile_groups(criteria.filter_groups)
            bounds = self.index.bounds(criteria.filter_groups)
            base_test = self._base_test(criteria, predicate)
            total = self._count(criteria, bounds, base_test, predicate)
            size_, page = criteria.page_size, max(criteria.current_page or 1, 1)
            if size_ is not None and size_ < 0:
                size_ = 1
            if size_ and self.config.repeat_last_page and total:
                page = min(page, (total + size_ - 1) // size_)
            offset = (page - 1) * size_ if size_ else 0
            id_sorted = not known_sorts and not self.config.chaos_order
            if known_sorts and known_sorts[0].field == "entity_id":
                id_sorted, reverse = True, not known_sorts[0].ascending
            else:
                reverse = False
            if id_sorted:
                ids: list[int] = []
                for index, cid in enumerate(self._stream(bounds, base_test, predicate, reverse)):
                    if index < offset:
                        continue
                    ids.append(cid)
                    if size_ and len(ids) >= size_:
                        break
                if ids and not reverse and size_ and len(ids) == size_ and self.config.read_ahead:
                    self.fragments.prefetch(ids[-1] + 1, self.config.read_ahead)
            else:
                everything = [self._record(c) for c in self._stream(bounds, base_test, predicate, False)]
                if known_sorts:
                    for order in reversed(known_sorts):
                        everything.sort(key=sort_key(str(order.field)), reverse=not order.ascending)
                else:
                    random.shuffle(everything)
                page_records = everything[offset : offset + size_] if size_ else everything[offset:]
                records = {r["id"]: r for r in page_records}
                ids = [r["id"] for r in page_records]
            self.searches += 1
            number = self.searches
        return ids, total, records, number

    @staticmethod
    def _sortable(field: str) -> bool:
        try:
            check_field(field)
        except MagentoError:
            return False  # unknown sort fields are silently ignored
        return True

    def _base_test(self, criteria: SearchCriteria, predicate: Callable[[Record], bool]) -> Callable[[int], bool]:
        groups = [g for g in criteria.filter_groups if g]
        if is_cheap(criteria.filter_groups):
            compiled = [[(str(f.field), compile_filter(f)) for f in g] for g in groups]
            value = self.index.cheap_value
            return lambda cid: all(any(t(value(cid, fld)) for fld, t in g) for g in compiled)
        return lambda cid: predicate(base_customer(self.layout, cid))

    def _count(
        self,
        criteria: SearchCriteria,
        bounds: Bounds,
        base_test: Callable[[int], bool],
        predicate: Callable[[Record], bool],
    ) -> int:
        key = criteria.filter_groups
        base = self._base_count_cache.get(key)
        if base is None:
            maybe = Bounds([], intersect(bounds.possible, complement(bounds.sure, self.layout.count)))
            base = size(bounds.sure) + sum(1 for cid, _ in walk(maybe) if base_test(cid))
            if len(self._base_count_cache) > 256:
                self._base_count_cache.clear()
            self._base_count_cache[key] = base
        for cid in (*self._changed, *self._deleted):
            if (
                cid <= self.layout.count
                and contains(bounds.possible, cid)
                and (contains(bounds.sure, cid) or base_test(cid))
            ):
                base -= 1
        return base + sum(1 for record in self._changed.values() if predicate(record))

    def _stream(
        self,
        bounds: Bounds,
        base_test: Callable[[int], bool],
        predicate: Callable[[Record], bool],
        reverse: bool,
    ) -> Iterator[int]:
        changed, deleted = self._changed, self._deleted
        overlay = sorted((c for c, r in changed.items() if predicate(r)), reverse=reverse)

        def base_ids() -> Iterator[int]:
            for cid, sure in walk(bounds, reverse=reverse):
                if cid in changed or cid in deleted:
                    continue
                if sure or base_test(cid):
                    yield cid

        if not overlay:
            yield from base_ids()
            return
        key = (lambda c: -c) if reverse else None
        yield from heapq.merge(base_ids(), overlay, key=key)
