"""Customer and address attribute metadata: ``GET /V1/attributeMetadata/{customer|customerAddress}/attribute/{code}``.

Magento returns a select or multiselect attribute's value as its option ids (``"12"``, ``"12,14"``), and the
labels only through this metadata (``CustomerMetadataInterface::getAttributeMetadata``, ACL
``Magento_Customer::customer``; ``AttributeMetadataInterface`` serialised in snake_case). An unknown code is a 404
``NoSuchEntityException::doubleField('entityType', ..., 'attributeCode', ...)``.
"""

from __future__ import annotations

from typing import Any, Final

from magento_zoho_sims.magento.errors import MagentoError

#: The seeded store's ``preferred_language`` (a select): option id → label.
LANGUAGE_OPTIONS: Final = (("11", "English"), ("12", "Français"), ("13", "Deutsch"), ("14", "日本語"))
#: ``interests`` (a multiselect, for tests): option id → label.
INTEREST_OPTIONS: Final = (("21", "Running"), ("22", "Cycling, road"), ("23", "Swimming"))


def _metadata(code: str, label: str, frontend_input: str, options: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    backend = {"select": "int", "multiselect": "varchar", "boolean": "int"}.get(frontend_input, "varchar")
    listed = [{"label": " ", "value": ""}, *({"label": text, "value": value} for value, text in options)]
    return {
        "frontend_input": frontend_input,
        "input_filter": "",
        "store_label": label,
        "validation_rules": [],
        "multiline_count": 0,
        "visible": True,
        "required": False,
        "data_model": "",
        "options": listed if frontend_input in ("select", "multiselect") else [],
        "frontend_class": "",
        "user_defined": True,
        "sort_order": 100,
        "frontend_label": label,
        "note": "",
        "system": False,
        "backend_type": backend,
        "is_used_in_grid": False,
        "is_visible_in_grid": False,
        "is_filterable_in_grid": False,
        "is_searchable_in_grid": False,
        "attribute_code": code,
    }


CUSTOMER_ATTRIBUTES: Final = {
    "loyalty_tier": _metadata("loyalty_tier", "Loyalty Tier", "text"),
    "preferred_language": _metadata("preferred_language", "Preferred Language", "select", LANGUAGE_OPTIONS),
    "interests": _metadata("interests", "Interests", "multiselect", INTEREST_OPTIONS),
    "firstname": _metadata("firstname", "First Name", "text") | {"user_defined": False, "system": True},
}
ADDRESS_ATTRIBUTES: Final = {
    "delivery_window": _metadata(
        "delivery_window", "Delivery Window", "select", (("31", "Morning"), ("32", "Afternoon"))
    ),
}
ENTITIES: Final = {"customer": CUSTOMER_ATTRIBUTES, "customerAddress": ADDRESS_ATTRIBUTES}


def attribute_metadata(entity: str, code: str) -> dict[str, Any]:
    found = ENTITIES[entity].get(code)
    if found is None:
        raise MagentoError(
            404,
            "No such entity with %fieldName = %fieldValue, %field2Name = %field2Value",
            {
                "fieldName": "entityType",
                "fieldValue": "customer" if entity == "customer" else "customer_address",
                "field2Name": "attributeCode",
                "field2Value": code,
            },
        )
    return found
