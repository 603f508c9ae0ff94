"""Compact storage of a million contacts: slotted records of shared key tuples, plus exact-match indexes.

A contact holds its id as an int, its times as floats and its field values in a tuple whose keys tuple is
shared with every contact of the same shape, which keeps a contact at a few hundred bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

_SHAPES: dict[tuple[str, ...], tuple[str, ...]] = {}
_SHAPES_LOCK = threading.Lock()


def _shape(keys: tuple[str, ...]) -> tuple[str, ...]:
    found = _SHAPES.get(keys)
    if found is None:
        with _SHAPES_LOCK:
            found = _SHAPES.setdefault(keys, keys)
    return found


class Contact:
    """One stored contact: id, created/modified epoch seconds, and user-writable field values."""

    __slots__ = ("created", "id", "keys", "modified", "vals")

    def __init__(self, id: int, created: float, values: dict[str, Any]) -> None:
        self.id = id
        self.created = created
        self.modified = created
        self.keys: tuple[str, ...] = ()
        self.vals: tuple[Any, ...] = ()
        self.set_values(values)

    def set_values(self, values: dict[str, Any]) -> None:
        self.keys = _shape(tuple(values))
        self.vals = tuple(values.values())

    def values(self) -> dict[str, Any]:
        return dict(zip(self.keys, self.vals, strict=True))

    def get(self, api_name: str) -> Any:
        try:
            return self.vals[self.keys.index(api_name)]
        except ValueError:
            return None


def _norm(value: str, case_sensitive: bool) -> str:
    if case_sensitive:
        return value
    low = value.lower()
    return value if low == value else low  # keep the stored string when it is already lower case (saves memory)


class UniqueIndex:
    """value → contact id (int) or ids (list, oldest first) for one field."""

    def __init__(self, api_name: str, case_sensitive: bool) -> None:
        self.api_name = api_name
        self.case_sensitive = case_sensitive
        self._map: dict[str, int | list[int]] = {}

    def key(self, value: str) -> str:
        return _norm(value.strip(), self.case_sensitive)

    def add(self, value: Any, contact_id: int) -> None:
        if not isinstance(value, str) or not value.strip():
            return
        key = self.key(value)
        found = self._map.get(key)
        if found is None:
            self._map[key] = contact_id
        elif isinstance(found, int):
            if found != contact_id:
                self._map[key] = sorted((found, contact_id))
        elif contact_id not in found:
            found.append(contact_id)
            found.sort()

    def remove(self, value: Any, contact_id: int) -> None:
        if not isinstance(value, str) or not value.strip():
            return
        key = self.key(value)
        found = self._map.get(key)
        if found is None:
            return
        if isinstance(found, int):
            if found == contact_id:
                del self._map[key]
            return
        if contact_id in found:
            found.remove(contact_id)
        if len(found) == 1:
            self._map[key] = found[0]
        elif not found:
            del self._map[key]

    def lookup(self, value: Any) -> list[int]:
        if not isinstance(value, str) or not value.strip():
            return []
        found = self._map.get(self.key(value))
        if found is None:
            return []
        return [found] if isinstance(found, int) else list(found)

    def duplicated(self) -> dict[str, list[int]]:
        return {key: list(ids) for key, ids in self._map.items() if isinstance(ids, list)}


class ContactStore:
    """Contacts by id (insertion order = id order) with exact indexes on the matched fields."""

    def __init__(self, *, email_case_sensitive: bool, unique_fields: Iterable[str]) -> None:
        self.contacts: dict[int, Contact] = {}
        self.deleted: dict[int, tuple[Contact, float]] = {}
        self.indexed_fields = ("Email", "Secondary_Email", *unique_fields)
        self.email_case_sensitive = email_case_sensitive
        self.indexes: dict[str, UniqueIndex] = {}
        self.rebuild_indexes(email_case_sensitive)

    def rebuild_indexes(self, email_case_sensitive: bool) -> None:
        self.email_case_sensitive = email_case_sensitive
        self.indexes = {
            name: UniqueIndex(name, email_case_sensitive if "Email" in name else False) for name in self.indexed_fields
        }
        for contact in self.contacts.values():
            self._index(contact)

    def _index(self, contact: Contact) -> None:
        values = dict(zip(contact.keys, contact.vals, strict=True))
        for name, index in self.indexes.items():
            value = values.get(name)
            if value is not None:
                index.add(value, contact.id)

    def _unindex(self, contact: Contact) -> None:
        values = dict(zip(contact.keys, contact.vals, strict=True))
        for name, index in self.indexes.items():
            value = values.get(name)
            if value is not None:
                index.remove(value, contact.id)

    def __len__(self) -> int:
        return len(self.contacts)

    def __iter__(self) -> Iterator[Contact]:
        return iter(list(self.contacts.values()))

    def get(self, contact_id: int) -> Contact | None:
        return self.contacts.get(contact_id)

    def add(self, contact: Contact) -> None:
        self.contacts[contact.id] = contact
        self._index(contact)

    def replace_values(self, contact: Contact, values: dict[str, Any], modified: float) -> None:
        old = dict(zip(contact.keys, contact.vals, strict=True))
        for name, index in self.indexes.items():
            before, after = old.get(name), values.get(name)
            if before != after:
                index.remove(before, contact.id)
                index.add(after, contact.id)
        contact.set_values(values)
        contact.modified = modified

    def delete(self, contact: Contact, when: float) -> None:
        self._unindex(contact)
        del self.contacts[contact.id]
        self.deleted[contact.id] = (contact, when)

    def lookup(self, api_name: str, value: Any) -> list[int]:
        index = self.indexes.get(api_name)
        return index.lookup(value) if index is not None else []

    def clear(self) -> None:
        self.contacts.clear()
        self.deleted.clear()
        self.rebuild_indexes(self.email_case_sensitive)
