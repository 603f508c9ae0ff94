"""Magento's web API exceptions and the error envelope of ``ErrorProcessor`` / ``Rest\\Response``."""

from __future__ import annotations

import secrets
import traceback
from typing import Any

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
BAD_CREDENTIALS = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)
REQUIRED_FIELD = '"%fieldName" is required. Enter and try again.'
INTERNAL_ERROR = "Internal Error. Details are available in Magento log file. Report ID: {report_id}"


class MagentoError(Exception):
    """An error answered with Magento's JSON envelope.

    ``message`` is the raw template (``%1``/``%fieldName`` placeholders unexpanded) for LocalizedExceptions,
    or an already rendered message (framework errors) with ``parameters`` left ``None``.
    """

    def __init__(
        self,
        status: int,
        message: str,
        parameters: list[Any] | dict[str, Any] | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors

    def body(self, *, developer_mode: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters is not None:
            out["parameters"] = self.parameters
        if developer_mode:
            out["trace"] = "".join(traceback.format_stack(limit=8))
        return out


def required(field: str) -> MagentoError:
    return MagentoError(400, REQUIRED_FIELD, {"fieldName": field})


def required_many(fields: list[str]) -> MagentoError:
    """One missing field => that error at top level; several => the aggregate form with ``errors``."""
    if len(fields) == 1:
        return required(fields[0])
    return MagentoError(
        400,
        "One or more input exceptions have occurred.",
        errors=[{"message": REQUIRED_FIELD, "parameters": {"fieldName": f}} for f in fields],
    )


def not_authorized(resources: str) -> MagentoError:
    return MagentoError(401, NOT_AUTHORIZED, {"resources": resources})


def new_report_id() -> str:
    """``uniqid("webapi-")``: ``webapi-`` followed by 13 hex characters."""
    return "webapi-" + secrets.token_hex(7)[:13]


def internal_error(detail: str = "", *, developer_mode: bool = False) -> MagentoError:
    """An unexpected exception: masked with a report id in production mode, shown as-is in developer mode."""
    if developer_mode and detail:
        return MagentoError(500, detail)
    return MagentoError(500, INTERNAL_ERROR.format(report_id=new_report_id()))
