"""A customer sent to ``PUT /V1/customers/:id`` as ``ServiceInputProcessor`` reads it: each value converted to the
type its data interface declares (``TypeProcessor::processSimpleAndAnyType``), before the repository sees it.

* ``int``: a number or a numeric string (PHP ``is_numeric``, then ``settype``: ``"2"`` and ``"2.7"`` are 2);
  anything else is a 400 with a rendered message and no parameters.
* ``string``: a number becomes its text (``settype``); ``true`` is ``"1"``, ``false`` ``""``.
* ``bool``: ``filter_var(FILTER_VALIDATE_BOOLEAN)``: ``true``, ``1``, ``"1"``, ``"true"``, ``"on"``, ``"yes"`` are
  true, anything else false.
* ``null`` is left alone; arrays where a scalar is declared are refused.

A field's error names the field, and the array it is in: ``Error occurred during "addresses" processing. Error
occurred during "region_id" processing. The "x" value's type is invalid. The "int" type was expected. ...``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from magento_zoho_sims.magento.errors import MagentoError

_NUMERIC: Final = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_TRUE: Final = ("1", "true", "on", "yes")

#: CustomerInterface's scalar getters and their declared types (addresses, extension and custom attributes apart).
CUSTOMER_TYPES: Final = {
    "id": "int",
    "group_id": "int",
    "default_billing": "string",
    "default_shipping": "string",
    "confirmation": "string",
    "created_at": "string",
    "updated_at": "string",
    "created_in": "string",
    "dob": "string",
    "email": "string",
    "firstname": "string",
    "lastname": "string",
    "middlename": "string",
    "prefix": "string",
    "suffix": "string",
    "gender": "int",
    "store_id": "int",
    "taxvat": "string",
    "website_id": "int",
    "disable_auto_group_change": "int",
}
#: AddressInterface's scalar getters (``street`` is ``string[]``, ``region`` a RegionInterface).
ADDRESS_TYPES: Final = {
    "id": "int",
    "customer_id": "int",
    "region_id": "int",
    "country_id": "string",
    "company": "string",
    "telephone": "string",
    "fax": "string",
    "postcode": "string",
    "city": "string",
    "firstname": "string",
    "lastname": "string",
    "middlename": "string",
    "prefix": "string",
    "suffix": "string",
    "vat_id": "string",
    "default_shipping": "bool",
    "default_billing": "bool",
}
REGION_TYPES: Final = {"region_code": "string", "region": "string", "region_id": "int"}


def _php_text(value: Any) -> str:
    """How PHP renders a scalar in a message (``true`` as ``1``, ``false`` as nothing)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _invalid(value: Any, expected: str) -> MagentoError:
    shown = type(value).__name__.replace("dict", "array").replace("list", "array")
    if not isinstance(value, list | dict):
        shown = _php_text(value)
    return MagentoError(
        400, f'The "{shown}" value\'s type is invalid. The "{expected}" type was expected. Verify and try again.'
    )


def _during(field: str, error: MagentoError) -> MagentoError:
    return MagentoError(400, f'Error occurred during "{field}" processing. {error.message}')


def convert(value: Any, expected: str) -> Any:
    """One scalar converted to ``int``, ``string`` or ``bool`` as PHP's ``setType`` does (``None`` kept)."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        raise _invalid(value, expected)
    if expected == "bool":
        return value is True or (not isinstance(value, bool) and _php_text(value).strip().lower() in _TRUE)
    if expected == "int":
        if isinstance(value, bool) or not _NUMERIC.match(_php_text(value)):
            raise _invalid(value, expected)
        return int(float(value))
    return _php_text(value)


def _typed(data: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    out = dict(data)
    for key, expected in types.items():
        if key in out:
            try:
                out[key] = convert(out[key], expected)
            except MagentoError as exc:
                raise _during(key, exc) from exc
    return out


def _address(data: Any) -> Any:
    if not isinstance(data, dict):
        return data  # the backend skips what is not an object
    address = _typed(data, ADDRESS_TYPES)
    street = address.get("street")
    if isinstance(street, list):
        try:
            address["street"] = [convert(line, "string") for line in street]
        except MagentoError as exc:
            raise _during("street", exc) from exc
    region = address.get("region")
    if isinstance(region, dict):
        try:
            address["region"] = _typed(region, REGION_TYPES)
        except MagentoError as exc:
            raise _during("region", exc) from exc
    return address


def typed_customer(customer: dict[str, Any]) -> dict[str, Any]:
    """``customer`` with its values (and its addresses') converted to the declared types; 400 when one cannot be."""
    out = _typed(customer, CUSTOMER_TYPES)
    if isinstance(out.get("addresses"), list):
        try:
            out["addresses"] = [_address(a) for a in out["addresses"]]
        except MagentoError as exc:
            raise _during("addresses", exc) from exc
    return out
