"""Adobe's Swagger 2.0 definitions of the routes the Magento simulator answers, as jsonschema validators.

The definitions are a trimmed copy of Adobe's ``admin-schema-2.4.8.yaml`` (``adobe_schema/``, see its NOTICE.md).
:func:`validator_for` picks the schema the spec names for a route's answer (the status code's, else ``default``)
and validates with ``Draft4Validator`` (Swagger 2.0 schemas are draft-4 JSON Schema).

Two modes (reference ``magento-rest-api.md`` §7):

* ``strict=False``, the spec with the documented relaxations (:data:`RELAXATIONS`): places where real Magento
  answers against its own spec, which the simulator must copy.
* ``strict=True``, the same plus ``additionalProperties: false`` on the customer, address and region definitions
  (and their extension attributes, cut to what Magento Open Source sets), the search results and the error
  envelope, so a key Magento does not send fails too.

An answer cut by ``fields=`` is checked with ``projected=True`` (nothing required): Magento projects the finished
answer, required keys included.

Imported by name (``from adobe_swagger import ...``): the test folders are not packages.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft4Validator

SCHEMA_FILE: Final = Path(__file__).resolve().parent / "adobe_schema" / "admin-schema-2.4.8.trimmed.json"


@cache
def spec() -> dict[str, Any]:
    """The vendored spec as Adobe wrote it (trimmed). Callers must not change it: copy first."""
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


# ---------------------------------------------------------------------------------------------- relaxations
#: Where real Magento contradicts the spec, and the simulator follows Magento: definition name -> why.
RELAXATIONS: Final = {
    "customer-data-region-interface": (
        "region_code and region are null for a country without regions ({'region_code': null, 'region': null, "
        "'region_id': 0}): getters declared without |null are emitted even when null (reference §2.5, #14054); "
        "Swagger 2.0 has no nullable"
    ),
    "framework-filter": (
        "field and value are null in the search_criteria echo when the request left them out: Filter::getField() "
        "and getValue() are declared '@return string' (which is also why the spec lists them as required), so "
        "DataObjectProcessor emits them, as null (reference §2.5: null values are omitted except for getters "
        "declared without |null)"
    ),
    "framework-sort-order": "field and direction: the same, for a sort order sent without a direction",
    "error-parameters": (
        "declared as an array of {resources, fieldName, fieldValue} strings; Magento sends a JSON array of the "
        "values for positional %1 placeholders (['id'], ['ASC', 'DESC']) and an object for named ones "
        "({'fieldName': 'customerId', 'fieldValue': 999}: an int; {'active_providers': ['google']}: a list) "
        "(reference §5.1, §7)"
    ),
    "error-response": (
        "trace is null in the 429 body of Magento's rate limiting ({'message': 'Too Many Requests', 'trace': "
        "null}, reference §5.3)"
    ),
}
_ANY_JSON: Final = {"type": ["string", "integer", "number", "boolean", "array", "object", "null"]}


def _relax(definitions: dict[str, Any]) -> None:
    region = definitions["customer-data-region-interface"]["properties"]
    for key in ("region_code", "region"):
        region[key]["type"] = ["string", "null"]
    for name, keys in (("framework-filter", ("field", "value")), ("framework-sort-order", ("field", "direction"))):
        for key in keys:
            definitions[name]["properties"][key]["type"] = ["string", "null"]
    definitions["error-parameters"] = {
        "description": definitions["error-parameters"].get("description", ""),
        "type": ["array", "object"],
        "items": _ANY_JSON,
        "additionalProperties": _ANY_JSON,
    }
    definitions["error-response"]["properties"]["trace"]["type"] = ["string", "null"]


# --------------------------------------------------------------------------------------------------- strict
#: Extension attributes Magento Open Source 2.4 sets on a customer (Newsletter's plugin; assistance_allowed is
#: declared by LoginAsCustomerAssistance, set only on save paths). company_attributes is Adobe Commerce B2B.
OPEN_SOURCE_CUSTOMER_EXTENSIONS: Final = ("is_subscribed", "assistance_allowed")
#: Definitions closed with additionalProperties: false in strict mode.
CLOSED: Final = (
    "customer-data-customer-search-results-interface",
    "customer-data-customer-interface",
    "customer-data-customer-extension-interface",
    "customer-data-address-interface",
    "customer-data-address-extension-interface",
    "customer-data-region-interface",
    "customer-data-region-extension-interface",
    "framework-attribute-interface",
    "framework-search-criteria-interface",
    "framework-search-filter-group",
    "framework-filter",
    "framework-sort-order",
    "error-response",
    "error-errors-item",
)


def _close(definitions: dict[str, Any]) -> None:
    extension = definitions["customer-data-customer-extension-interface"]
    extension["properties"] = {k: extension["properties"][k] for k in OPEN_SOURCE_CUSTOMER_EXTENSIONS}
    for name in CLOSED:
        definitions[name]["additionalProperties"] = False


def _drop_required(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("required", None)
        for value in node.values():
            _drop_required(value)
    elif isinstance(node, list):
        for item in node:
            _drop_required(item)


@cache
def definitions(*, strict: bool = False, relaxed: bool = True, projected: bool = False) -> dict[str, Any]:
    """The spec's definitions, relaxed (unless ``relaxed=False``: Adobe's text) and closed (``strict``).

    ``projected``: for an answer cut by ``fields=`` (``items[id,email],total_count``), which Magento applies
    after building the whole answer, so keys the spec requires may be gone: nothing is required."""
    out = copy.deepcopy(spec()["definitions"])
    if relaxed:
        _relax(out)
    if strict:
        _close(out)
    if projected:
        _drop_required(out)
    return out


# ----------------------------------------------------------------------------------------------- responses
def route_of(path: str, method: str = "GET") -> str:
    """The spec's path template for a request: ``GET /rest/all/V1/customers/7`` -> ``/V1/customers/{customerId}``.

    As Magento's router: a path without placeholders wins over a template, among the routes of that method
    (so ``PUT /V1/customers/search`` is the template's, with ``customerId`` = ``search``)."""
    tail = path[path.index("/V1/") :]
    found = [
        template
        for template, operations in spec()["paths"].items()
        if method.lower() in operations
        and re.match("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$", tail)
    ]
    if not found:
        raise KeyError(f"{method} {path}: no route of the vendored spec matches (see adobe_schema/trim.py ROUTES)")
    return min(found, key=lambda template: "{" in template)


def response_schema(method: str, route: str, status: int) -> dict[str, Any]:
    """The schema the spec declares for that answer: the status code's response, else ``default``."""
    responses = spec()["paths"][route][method.lower()]["responses"]
    response = responses.get(str(status)) or responses["default"]
    schema: dict[str, Any] = response["schema"]
    return schema


def validator_for(
    method: str, route: str, status: int, *, strict: bool = False, relaxed: bool = True, projected: bool = False
) -> Draft4Validator:
    """A validator for the answer the spec declares for ``method route`` with that status."""
    chosen = definitions(strict=strict, relaxed=relaxed, projected=projected)
    return Draft4Validator({**response_schema(method, route, status), "definitions": chosen})


def definition_validator(name: str, *, strict: bool = False, relaxed: bool = True) -> Draft4Validator:
    """A validator for one definition (``customer-data-customer-interface``, ...)."""
    schema = {"$ref": f"#/definitions/{name}", "definitions": definitions(strict=strict, relaxed=relaxed)}
    return Draft4Validator(schema)


def problems(validator: Draft4Validator, data: Any) -> list[str]:
    """Every violation as ``<json path>: <message>`` (empty: valid)."""
    return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(data))


def violations(
    method: str, path: str, status: int, data: Any, *, strict: bool = False, projected: bool = False
) -> list[str]:
    """What is wrong with answer ``data`` (HTTP ``status``) to ``method path`` according to the spec."""
    route = route_of(path, method)
    return problems(validator_for(method, route, status, strict=strict, projected=projected), data)
