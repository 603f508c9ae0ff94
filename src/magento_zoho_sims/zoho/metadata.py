"""Metadata bodies: modules, layouts, current user, org (what the official SDK and a sync's doctor read)."""

from __future__ import annotations

from typing import Any

from magento_zoho_sims.zoho.fields import ACCOUNTS_MODULE_ID, CONTACTS_MODULE_ID, VENDORS_MODULE_ID
from magento_zoho_sims.zoho.user import CURRENT_USER

ORG_ID = "5843104000000224010"
ORG_ZGID = "60012345678"
PROFILE = {"name": "Administrator", "id": "5843104000000026011"}
ROLE = {"name": "CEO", "id": "5843104000000026005"}
MODIFIED = "2024-03-11T09:20:15+05:30"


def _module(api_name: str, module_id: str, singular: str) -> dict[str, Any]:
    return {
        "api_name": api_name,
        "module_name": api_name,
        "id": module_id,
        "api_supported": True,
        "generated_type": "default",
        "singular_label": singular,
        "plural_label": api_name,
        "creatable": True,
        "editable": True,
        "deletable": True,
        "viewable": True,
        "convertable": False,
        "global_search_supported": True,
        "modified_time": MODIFIED,
        "modified_by": {"name": CURRENT_USER["name"], "id": CURRENT_USER["id"]},
        "profiles": [PROFILE],
        "status": "visible",
        "visibility": 1,
        "sequence_number": 4,
        "presence_sub_menu": True,
        "quick_create": True,
        "business_card_field_limit": 5,
    }


MODULES = {
    "Contacts": _module("Contacts", CONTACTS_MODULE_ID, "Contact"),
    "Accounts": _module("Accounts", ACCOUNTS_MODULE_ID, "Account"),
    "Vendors": _module("Vendors", VENDORS_MODULE_ID, "Vendor"),
}


def modules_payload() -> dict[str, Any]:
    return {"modules": list(MODULES.values())}


def layouts_payload(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "layouts": [
            {
                "id": "5843104000000091055",
                "name": "Standard",
                "api_name": "Standard__s",
                "display_label": "Standard",
                "status": "active",
                "visible": True,
                "generated_type": "system",
                "created_time": None,
                "modified_time": MODIFIED,
                "modified_by": {"name": CURRENT_USER["name"], "id": CURRENT_USER["id"]},
                "profiles": [{**PROFILE, "default": True}],
                "sections": [
                    {
                        "display_label": "Contact Information",
                        "api_name": "Contact Information",
                        "sequence_number": 1,
                        "column_count": 2,
                        "fields": fields,
                    }
                ],
            }
        ]
    }


def current_user_payload() -> dict[str, Any]:
    first, last = CURRENT_USER["name"].split(" ", 1)
    return {
        "users": [
            {
                "id": CURRENT_USER["id"],
                "email": CURRENT_USER["email"],
                "full_name": CURRENT_USER["name"],
                "first_name": first,
                "last_name": last,
                "zuid": "70012345",
                "status": "active",
                "confirm": True,
                "role": ROLE,
                "profile": PROFILE,
                "time_zone": "Asia/Kolkata",
                "locale": "en_US",
                "country_locale": "en_US",
            }
        ],
        "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False},
    }


def org_payload(edition: str) -> dict[str, Any]:
    return {
        "org": [
            {
                "id": ORG_ID,
                "zgid": ORG_ZGID,
                "company_name": "Zylker Outfitters (simulated)",
                "domain_name": "org60012345678",
                "primary_email": CURRENT_USER["email"],
                "primary_zuid": "70012345",
                "time_zone": "Asia/Kolkata",
                "currency": "US Dollar - USD",
                "currency_symbol": "$",
                "iso_code": "USD",
                "country_code": "US",
                "country": "United States",
                "type": "production",
                "mc_status": False,
                "license_details": {
                    "paid": edition != "free",
                    "paid_type": edition,
                    "users_license_purchased": 200,
                    "trial_type": None,
                    "trial_expiry": None,
                    "paid_expiry": "2027-12-31T00:00:00+05:30",
                },
            }
        ]
    }
