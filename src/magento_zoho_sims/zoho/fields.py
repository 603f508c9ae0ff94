"""A realistic Contacts fields fixture, as ``GET /crm/v8/settings/fields?module=Contacts`` returns it.

The backend validates writes from the same fixture (types, lengths, mandatory, unique), so what the
metadata says and what the API enforces can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTACTS_MODULE_ID = "5843104000000002179"
ACCOUNTS_MODULE_ID = "5843104000000002177"
VENDORS_MODULE_ID = "5843104000000002199"

# data_type -> json_type, as Zoho's field metadata pairs them.
_JSON_TYPES = {
    "text": "string",
    "email": "string",
    "phone": "string",
    "picklist": "string",
    "textarea": "string",
    "website": "string",
    "date": "string",
    "datetime": "string",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "bigint": "string",
    "integer": "integer",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "decimal": "double",
    "multiselectpicklist": "jsonarray",
    "profileimage": "string",
}

# data_type -> ui_type (Zoho's numbers for the web form's widget; [UNVERIFIED] beyond text = 1)
_UI_TYPES = {"text": 1, "textarea": 3, "email": 25, "phone": 33, "picklist": 2, "multiselectpicklist": 100, "date": 24}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """The rules of one field that the backend enforces."""

    api_name: str
    label: str
    data_type: str
    length: int
    system_mandatory: bool = False
    read_only: bool = False
    unique: bool = False
    unique_case_sensitive: bool = False
    custom_field: bool = False
    lookup_module: str | None = None
    picklist: tuple[str, ...] = ()
    # a (multi-select) picklist that takes only the values of its pick list; else a value it lacks is taken and
    # added to the list (reference §2.7: "accepted and added unless restricted")
    restricted: bool = False

    @property
    def json_type(self) -> str:
        return _JSON_TYPES[self.data_type]


#: What ``POST /_sim/fields`` may give of a field besides its ``api_name`` and ``data_type``.
_SPEC_KEYS = {
    "label": str,
    "length": int,
    "system_mandatory": bool,
    "read_only": bool,
    "unique": bool,
    "unique_case_sensitive": bool,
    "custom_field": bool,
    "picklist": list,
    "restricted": bool,
}


def field_spec(item: Any) -> FieldSpec:
    """A field as the control API describes it (``{"api_name", "data_type", "length"?, "picklist"?, ...}``); a
    ValueError says what is wrong. A custom field, 255 long, unless it says otherwise."""
    if not isinstance(item, dict) or not isinstance(item.get("api_name"), str) or not item["api_name"]:
        raise ValueError(f"a field needs an api_name: {item!r}")
    name, data_type = item["api_name"], item.get("data_type")
    if data_type not in _JSON_TYPES:
        raise ValueError(f"{name}: data_type must be one of {sorted(_JSON_TYPES)}")
    for key, value in item.items():
        if key in ("api_name", "data_type"):
            continue
        kind = _SPEC_KEYS.get(key)
        if kind is None:
            raise ValueError(f"{name}: unknown key {key!r} (known: api_name, data_type, {', '.join(_SPEC_KEYS)})")
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name}: {key} must be a list of texts")
        elif type(value) is not kind:
            raise ValueError(f"{name}: {key} must be {kind.__name__}")
    extra = {k: v for k, v in item.items() if k in _SPEC_KEYS and k not in ("label", "length", "picklist")}
    return FieldSpec(
        api_name=name,
        label=item.get("label", name.replace("_", " ")),
        data_type=data_type,
        length=item.get("length", 255),
        picklist=tuple(item.get("picklist", ())),
        **{"custom_field": True, **extra},
    )


def _f(api_name: str, data_type: str, length: int, **kw: Any) -> FieldSpec:
    return FieldSpec(api_name=api_name, label=api_name.replace("_", " "), data_type=data_type, length=length, **kw)


LEAD_SOURCES = (
    "-None-",
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Sales Email Alias",
    "Seminar Partner",
    "Internal Seminar",
    "Trade Show",
    "Web Download",
    "Web Research",
    "Chat",
)

CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    _f("Owner", "ownerlookup", 120),
    _f("Lead_Source", "picklist", 120, picklist=LEAD_SOURCES),
    _f("Salutation", "picklist", 25, picklist=("-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")),
    _f("First_Name", "text", 40),
    _f("Last_Name", "text", 80, system_mandatory=True),
    _f("Full_Name", "text", 120, read_only=True),
    _f("Account_Name", "lookup", 120, lookup_module="Accounts"),
    _f("Vendor_Name", "lookup", 120, lookup_module="Vendors"),
    _f("Email", "email", 100),
    _f("Secondary_Email", "email", 100),
    _f("Title", "text", 100),
    _f("Department", "text", 100),
    _f("Phone", "phone", 30),
    _f("Home_Phone", "phone", 30),
    _f("Other_Phone", "phone", 30),
    _f("Fax", "phone", 30),
    _f("Mobile", "phone", 30),
    _f("Assistant", "text", 40),
    _f("Asst_Phone", "phone", 30),
    _f("Date_of_Birth", "date", 20),
    _f("Email_Opt_Out", "boolean", 5),
    _f("Skype_ID", "text", 50),
    _f("Twitter", "text", 50),
    _f("Mailing_Street", "text", 250),
    _f("Mailing_City", "text", 100),
    _f("Mailing_State", "text", 100),
    _f("Mailing_Zip", "text", 30),
    _f("Mailing_Country", "text", 100),
    _f("Other_Street", "text", 250),
    _f("Other_City", "text", 100),
    _f("Other_State", "text", 100),
    _f("Other_Zip", "text", 30),
    _f("Other_Country", "text", 100),
    _f("Description", "textarea", 32000),
    _f("Created_By", "ownerlookup", 120, read_only=True),
    _f("Modified_By", "ownerlookup", 120, read_only=True),
    _f("Created_Time", "datetime", 120, read_only=True),
    _f("Modified_Time", "datetime", 120, read_only=True),
    _f("Last_Activity_Time", "datetime", 120, read_only=True),
    _f(
        "Unsubscribed_Mode",
        "picklist",
        120,
        read_only=True,
        picklist=("-None-", "Consent form", "Manual", "Unsubscribe link", "Zoho campaigns"),
    ),
    _f("Unsubscribed_Time", "datetime", 120, read_only=True),
    _f("Record_Image", "profileimage", 255, read_only=True),
    _f("id", "bigint", 19, read_only=True),
)

# A user-defined unique custom field, usable in ``duplicate_check_fields`` (an org may create one to hold the
# Magento customer id; ZohoConfig.magento_id_field switches it off).
MAGENTO_ID_FIELD = FieldSpec(
    api_name="Magento_Customer_ID",
    label="Magento Customer ID",
    data_type="text",
    length=30,
    unique=True,
    custom_field=True,
)

SYSTEM_DUPLICATE_CHECK_FIELD = "Email"


def contact_fields(*, with_magento_id: bool = True) -> dict[str, FieldSpec]:
    """The Contacts fields by API name, in metadata order."""
    specs = {spec.api_name: spec for spec in CONTACT_FIELDS}
    if with_magento_id:
        specs[MAGENTO_ID_FIELD.api_name] = MAGENTO_ID_FIELD
    return specs


def _field_id(index: int) -> str:
    return str(5843104000000002400 + index * 17)


def field_metadata(spec: FieldSpec, index: int, *, email_unique: bool, email_case_sensitive: bool) -> dict[str, Any]:
    """One field as the fields metadata API describes it (the keys Zoho returns and the SDK reads)."""
    unique: dict[str, Any] = {}
    if spec.unique:
        unique = {"casesensitive": spec.unique_case_sensitive}
    if spec.api_name == "Email" and email_unique:
        unique = {"casesensitive": email_case_sensitive}
    lookup: dict[str, Any] = {}
    if spec.lookup_module is not None:
        module_id = ACCOUNTS_MODULE_ID if spec.lookup_module == "Accounts" else VENDORS_MODULE_ID
        lookup = {
            "display_label": spec.lookup_module.rstrip("s"),
            "api_name": spec.lookup_module,
            "module": {"api_name": spec.lookup_module, "id": module_id},
            "id": _field_id(index + 500),
        }
    picklist = [
        {
            "display_value": value,
            "actual_value": value,
            "id": _field_id(index * 100 + n + 1000),
            "type": "used",
            "sequence_number": n + 1,
            "colour_code": None,
        }
        for n, value in enumerate(spec.picklist)
    ]
    writable = not spec.read_only
    return {
        "id": _field_id(index),
        "api_name": spec.api_name,
        "field_label": spec.label,
        "display_label": spec.label,
        "column_name": spec.api_name.upper(),
        "data_type": spec.data_type,
        "json_type": spec.json_type,
        "length": spec.length,
        "system_mandatory": spec.system_mandatory,
        "read_only": spec.read_only,
        "field_read_only": spec.read_only,
        "custom_field": spec.custom_field,
        "visible": True,
        "webhook": True,
        "searchable": spec.data_type not in {"boolean", "profileimage"},
        "sortable": spec.data_type not in {"textarea", "profileimage"},
        "filterable": True,
        "mass_update": not spec.read_only,
        "created_source": "custom" if spec.custom_field else "default",
        "unique": unique,
        "lookup": lookup,
        "pick_list_values": picklist,
        "textarea": {"type": "large"} if spec.data_type == "textarea" else None,
        "operation_type": {
            "web_update": not spec.read_only,
            "api_create": not spec.read_only,
            "web_create": not spec.read_only,
            "api_update": not spec.read_only,
        },
        "profiles": [{"permission_type": "read_write", "name": "Administrator", "id": "5843104000000026011"}],
        "decimal_place": None,
        "default_value": None,
        # The other keys OAS fields.json lists for every field; None where the field lacks the feature they describe
        "type": "used",
        "display_type": 1,
        "ui_type": _UI_TYPES.get(spec.data_type, 1),
        "show_type": 7,
        "category": 0,
        "quick_sequence_number": str(index + 1),
        "sequence_number": index + 1,
        "blueprint_supported": writable,
        "virtual_field": spec.data_type in {"profileimage"} or spec.api_name == "Full_Name",
        "customizable_properties": [],
        "businesscard_supported": spec.api_name in {"First_Name", "Last_Name", "Email", "Phone"},
        "available_in_user_layout": True,
        "display_field": spec.api_name == "Last_Name",
        "pick_list_values_sorted_lexically": False,
        "layout_associations": [{"id": "5843104000000091055", "name": "Standard", "api_name": "Standard__s"}],
        "separator": False,
        "enable_colour_code": False,
        "colour_code_enabled_by_system": False,
        "email_parser": {"fields_update_supported": False, "record_operations_supported": False},
        "view_type": {"view": True, "edit": writable, "quick_create": spec.system_mandatory, "create": writable},
        "hipaa_compliance": {"restricted_in_export": False, "restricted": False},
        "hipaa_compliance_enabled": False,
        "sharing_properties": {},
        "convert_mapping": {},
        "file_upolad_optionlist": [],  # sic: Zoho's spelling
        "allowed_modules": [],
        "created_time": None,
        "modified_time": None,
        "additional_column": None,
        "static_field": False,
        "number_separator": False,
        "_update_existing_records": False,
        "associated_module": None,
        "refer_from_field": None,
        "sub_module": None,
        "external": None,
        "multiuserlookup": None,
        "multiselectlookup": None,
        "multi_module_lookup": None,
        "autonumber": None,
        "auto_number": None,
        "crypt": None,
        "tooltip": None,
        "history_tracking": None,
        "association_details": None,
        "rollup_summary": None,
        "subform": None,
        "formula": None,
        "currency": None,
        "common.picklist": None,
    }


def fields_payload(
    specs: dict[str, FieldSpec], *, email_unique: bool, email_case_sensitive: bool
) -> list[dict[str, Any]]:
    return [
        field_metadata(spec, n, email_unique=email_unique, email_case_sensitive=email_case_sensitive)
        for n, spec in enumerate(specs.values())
    ]


def minimal_module_fields(module: str) -> list[dict[str, Any]]:
    """The few fields of a module that Contacts looks up (the SDK fetches them recursively)."""
    name_field = {"Accounts": "Account_Name", "Vendors": "Vendor_Name"}.get(module, "Name")
    specs = (
        FieldSpec(name_field, name_field.replace("_", " "), "text", 200, system_mandatory=True),
        FieldSpec("Owner", "Owner", "ownerlookup", 120),
        FieldSpec("id", "id", "bigint", 19, read_only=True),
    )
    return [
        field_metadata(spec, 900 + n, email_unique=False, email_case_sensitive=False) for n, spec in enumerate(specs)
    ]
