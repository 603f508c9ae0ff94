"""Value types of the Zoho client and the reading of one per-record result (``data[i]`` of a write).

Kept apart from :mod:`magento_zoho_sync.zoho.client` so that the engine, the dry run and the tests can use
the shapes without the HTTP machinery.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from magento_zoho_sync.mapping import normalise_email
from magento_zoho_sync.redact import redact

__all__ = [
    "FATAL_REQUEST_CODES",
    "SCOPES",
    "ContactRef",
    "FieldMeta",
    "RecordResult",
    "blamed_record",
    "coql_quote",
    "no_message",
    "normalise_email",
    "record_result",
    "same_for_all",
    "text",
]

#: The OAuth scopes each call the sync makes needs: exactly what the README, docs/authentication.md, ``doctor`` and
#: ``auth zoho-grant`` ask for (least privilege: a call the tool does not make has no entry; tests/unit/test_scopes.py).
SCOPES: Mapping[str, str] = {
    "upsert_contacts": "ZohoCRM.modules.contacts.CREATE ZohoCRM.modules.contacts.UPDATE",
    "update_contacts": "ZohoCRM.modules.contacts.UPDATE",
    # COQL also needs the fields metadata scope (Zoho's COQL documentation)
    "find_contacts_by_email": "ZohoCRM.coql.READ ZohoCRM.modules.contacts.READ ZohoCRM.settings.fields.READ",
    "existing_contact_ids": "ZohoCRM.coql.READ ZohoCRM.modules.contacts.READ ZohoCRM.settings.fields.READ",
    "add_tags": "ZohoCRM.modules.contacts.UPDATE ZohoCRM.settings.tags.ALL",
    "delete_contacts": "ZohoCRM.modules.contacts.DELETE",
    "scan_contacts": "ZohoCRM.coql.READ ZohoCRM.modules.contacts.READ ZohoCRM.settings.fields.READ",
    "contact_fields": "ZohoCRM.settings.fields.READ",
}

#: Request-level error codes that would repeat on every call: stop the run instead of failing each record.
FATAL_REQUEST_CODES = frozenset(
    {
        "INVALID_MODULE",
        "INVALID_URL_PATTERN",
        "INVALID_REQUEST_METHOD",
        "AUTHORIZATION_FAILED",
        "API_NOT_SUPPORTED",
        "NO_PERMISSION",
        "OAUTH_SCOPE_MISMATCH",
        "INVALID_TOKEN",
        "AUTHENTICATION_FAILURE",
        "FEATURE_NOT_SUPPORTED",
        "FEATURE_NOT_ENABLED",
    }
)


@dataclass(slots=True)  # one per customer: a frozen dataclass is 4x slower to build
class RecordResult:
    """Zoho's answer for one record of a write call."""

    ok: bool
    action: str | None  # "insert" | "update" (upsert; "update" for update_contacts) | None
    id: str | None  # the Zoho record id when ok
    code: str  # "SUCCESS", "DUPLICATE_DATA", "MANDATORY_NOT_FOUND", "INVALID_DATA", ...
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """``CODE: message (field X, maximum length 40)`` for reports."""
        return f"{self.code}: {explain(self.message, self.details)}"


def explain(message: str, details: Mapping[str, Any]) -> str:
    """Zoho's per-record message with the details that say what to fix (field, limit, existing record)."""
    extra = []
    if isinstance(details.get("api_name"), str):
        extra.append(f"field {details['api_name']}")
    for key, label in (("maximum_length", "maximum length"), ("expected_data_type", "expected type")):
        if details.get(key) is not None:
            extra.append(f"{label} {details[key]}")
    duplicate = details.get("duplicate_record")
    if isinstance(duplicate, dict) and duplicate.get("id"):
        extra.append(f"existing record {duplicate['id']}")
    if details.get("expected_data_type") == "phone":
        extra.append("add the phone transform to the rule of this field")
    elif details.get("expected_data_type") == "picklist":
        extra.append(
            "the field takes only the values of its pick list (a restricted picklist): add the value this customer "
            "has in Magento to the field's pick list (Setup > Customization > Modules and Fields), or give the "
            "customer one of the list's values in Magento"
        )
    elif details.get("expected_data_type") == "multiselectpicklist":
        extra.append(
            "Zoho takes only values of the field's pick list: add the labels this customer has in Magento to it "
            "(Setup > Customization > Modules and Fields), or rename the options in Magento"
        )
    return f"{message} ({', '.join(extra)})" if extra else message


#: Zoho's details of a refused record kept with its failure (scalars; what :func:`explain` says in words)
FAILURE_DETAIL_KEYS: Final = ("api_name", "json_path", "maximum_length", "expected_data_type")
_MAX_DETAIL_TEXT = 200


def failure_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """The machine-readable part of Zoho's details of a refused record: :data:`FAILURE_DETAIL_KEYS` and
    ``duplicate_record_id``; text masked and shortened, anything else (nested objects, echoes) left out."""
    kept: dict[str, Any] = {}
    for key in FAILURE_DETAIL_KEYS:
        value = details.get(key)
        if isinstance(value, str):
            kept[key] = redact(value)[:_MAX_DETAIL_TEXT]
        elif type(value) is int:
            kept[key] = value
    duplicate = details.get("duplicate_record")
    if isinstance(duplicate, Mapping) and type(duplicate.get("id")) in (str, int) and duplicate["id"] != "":
        kept["duplicate_record_id"] = redact(str(duplicate["id"]))[:_MAX_DETAIL_TEXT]
    return kept


@dataclass(frozen=True)
class ContactRef:
    id: str
    email: str  # as stored in Zoho
    created_time: str | None


@dataclass(frozen=True)
class FieldMeta:
    api_name: str
    data_type: str
    length: int | None
    label: str | None = None
    json_type: str | None = None  # the JSON value Zoho takes: string, boolean, integer, double, jsonobject...
    read_only: bool = False
    system_mandatory: bool = False
    unique: bool = False


def coql_quote(value: str, *, doubled: bool = False) -> str:
    """A COQL string literal: single quotes, with backslash and quote escaped by a backslash, or (``doubled``) a
    quote written twice, as SQL does. Zoho's COQL pages do not say which it takes."""
    if doubled:
        return "'" + value.replace("'", "''") + "'"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def text(value: Any) -> str:
    return redact(str(value)) if value is not None else ""


#: Longest rendering of Zoho's details in :func:`no_message`.
_MAX_DETAILS = 200


def no_message(code: str | None, details: Mapping[str, Any]) -> str:
    """What a failure says when Zoho gave no message: its code and details (masked, shortened), never nothing."""
    shown = redact(json.dumps(details, sort_keys=True, default=str, ensure_ascii=False)) if details else "none"
    if len(shown) > _MAX_DETAILS:
        shown = shown[: _MAX_DETAILS - 1] + "…"
    said = f"code {code}" if code else "no code"
    return f"Zoho gave no message; {said}, details: {shown}"


def record_result(item: Any, *, default_action: str | None) -> RecordResult:
    if type(item) is dict and item.get("status") == "success" and type(item.get("details")) is dict:
        # the common answer, read without the checks that only failures need (one per customer written)
        said: dict[str, Any] = item["details"]
        code = item.get("code")
        message = item.get("message")
        action = item.get("action")
        if action not in ("insert", "update"):
            action = _success_action(default_action, "" if message is None else str(message))
        record_id = said.get("id")
        return RecordResult(
            True,
            action,
            str(record_id) if record_id not in (None, "") else None,
            "SUCCESS" if code is None else str(code),
            "" if message is None else str(message),
            dict(said),
        )
    if not isinstance(item, dict):
        return RecordResult(False, None, None, "UNEXPECTED_RESPONSE", "Zoho's result for this record is not an object")
    raw_code = item.get("code")
    code = str(raw_code) if raw_code is not None else ("SUCCESS" if item.get("status") == "success" else "UNKNOWN")
    status = str(item.get("status", "")).lower()
    ok = status == "success" or (not status and code == "SUCCESS")
    raw_message = item.get("message")
    # Zoho's words are masked before they reach a report; a success says nothing worth the regexes
    message = (str(raw_message) if raw_message is not None else "") if ok else text(raw_message)
    code = code if ok else redact(code)
    raw_details = item.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    if not ok and not message.strip():
        message = no_message(code if raw_code is not None and code else None, details)
    action = item.get("action") if item.get("action") in ("insert", "update") else None
    if ok and action is None:
        action = _success_action(default_action, message)
    record_id = details.get("id") if ok else None
    return RecordResult(
        ok=ok,
        action=action if ok else None,
        id=str(record_id) if record_id not in (None, "") else None,
        code=code,
        message=message,
        details=dict(details),
    )


def _success_action(default_action: str | None, message: str) -> str | None:
    """What a success without an ``action`` did: the call's own kind, else what Zoho's message says."""
    if default_action is not None:
        return default_action
    if "added" in message:
        return "insert"
    if "updated" in message:
        return "update"
    return None


_RECORD_PATH = re.compile(r"\$\.data\[(\d{1,3})\]")


def blamed_record(details: Mapping[str, Any], body: Any, records: Sequence[Any]) -> int | None:
    """The index of the one record a request-level refusal names, when the request's ``data`` holds ``records``:
    its ``json_path`` (``$.data[3].Email``), or, without one, the ``id`` in its details that one record holds (an
    update by id); else None."""
    if not isinstance(body, dict) or body.get("data") is not records:
        return None
    match = _RECORD_PATH.match(text(details.get("json_path")))
    if match is not None:
        index = int(match.group(1))
        return index if index < len(records) else None
    named = details.get("id")
    if "json_path" in details or type(named) not in (str, int):
        return None
    holding = [
        i for i, record in enumerate(records) if isinstance(record, dict) and str(record.get("id")) == str(named)
    ]
    return holding[0] if len(holding) == 1 else None


def same_for_all(n: int, code: str, message: str, details: dict[str, Any] | None = None) -> list[RecordResult]:
    return [RecordResult(False, None, None, code, message, dict(details or {})) for _ in range(n)]
