"""Zoho's error envelope: every error body, top-level or per record, has code, details, message, status."""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "details": details if details is not None else {}, "message": message, "status": "error"}


class ZohoError(Exception):
    """A request rejected as a whole (flat body, not wrapped in ``data``)."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body = error_body(code, message, details)


def invalid_data(api_name: str, index: int, **extra: Any) -> dict[str, Any]:
    return error_body(
        "INVALID_DATA", "invalid data", {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}", **extra}
    )


def mandatory_not_found(api_name: str, index: int) -> dict[str, Any]:
    return error_body(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        {"api_name": api_name, "json_path": f"$.data[{index}].{api_name}"},
    )


def required_param_missing(param: str) -> ZohoError:
    return ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", {"param_name": param})


def limit_exceeded(api_name: str, limit: int, json_path: str | None = None) -> ZohoError:
    details: dict[str, Any] = {"api_name": api_name, "limit": limit}
    if json_path is not None:
        details["json_path"] = json_path
    return ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", details)


def invalid_query(message: str = "invalid query formed", **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_QUERY", message, details)
