"""Customer and address records as the 2.4 data interfaces emit them (getter order, nulls omitted)."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]
REGIONS = {("US", "NY"): ("New York", 43), ("US", "CA"): ("California", 12), ("DE", "BER"): ("Berlin", 82)}
STORE_OF_WEBSITE = {1: (1, "Default Store View"), 2: (2, "EU Store View")}
CUSTOMER_KEYS = [
    "id",
    "group_id",
    "default_billing",
    "default_shipping",
    "confirmation",
    "created_at",
    "updated_at",
    "created_in",
    "dob",
    "email",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "gender",
    "store_id",
    "taxvat",
    "website_id",
    "addresses",
    "disable_auto_group_change",
    "extension_attributes",
    "custom_attributes",
]
ADDRESS_KEYS = [
    "id",
    "customer_id",
    "region",
    "region_id",
    "country_id",
    "street",
    "company",
    "telephone",
    "fax",
    "postcode",
    "city",
    "firstname",
    "lastname",
    "middlename",
    "prefix",
    "suffix",
    "vat_id",
    "default_shipping",
    "default_billing",
    "extension_attributes",
    "custom_attributes",
]


def ordered(record: Record, keys: list[str]) -> Record:
    return {k: record[k] for k in keys if record.get(k) is not None}


def order_customer(record: Record) -> Record:
    return ordered(record, CUSTOMER_KEYS)


def build_address(cid: int, address_id: int, data: dict[str, Any]) -> Record:
    """An address of customer ``cid`` from control-API input (``region_code`` picks the region object)."""
    country = str(data.get("country_id", "US"))
    code = str(data.get("region_code"))
    given = data.get("region")
    if (country, code) in REGIONS:
        name, rid = REGIONS[(country, code)]
        region: Record = {"region_code": code, "region": name, "region_id": rid}
    elif isinstance(given, dict) and given.get("region_id"):  # a region object sent back as received
        rid = int(given["region_id"])
        region = {"region_code": given.get("region_code"), "region": given.get("region"), "region_id": rid}
    else:
        region, rid = {"region_code": None, "region": None, "region_id": 0}, 0
    address = dict(data)
    address.pop("region_code", None)
    address.update({"id": address_id, "customer_id": cid, "region": region, "region_id": rid, "country_id": country})
    address["street"] = list(address.get("street") or ["1 Main St"])
    for flag in ("default_billing", "default_shipping"):
        if not address.get(flag):
            address.pop(flag, None)
    return ordered(address, ADDRESS_KEYS)


def sync_defaults(record: Record) -> None:
    """The customer's ``default_billing``/``default_shipping`` (strings) follow the address flags."""
    for flag in ("default_billing", "default_shipping"):
        chosen = [a for a in record["addresses"] if a.get(flag)]
        if chosen:
            record[flag] = str(chosen[-1]["id"])
        else:
            record.pop(flag, None)
