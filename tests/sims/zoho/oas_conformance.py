"""Conformance of the Zoho simulator to Zoho's OpenAPI files (GitHub zoho/crm-oas, folder v8.0), a copy of which the
developer supplies (the repository has no licence, so it is not vendored here; see docs/simulators.md):

    .venv/bin/python -m tests.sims.zoho.oas_conformance --oas /path/to/crm-oas/v8.0
    .venv/bin/python -m tests.sims.zoho.oas_conformance --list

Each scenario starts a simulator in-process, makes one call the product makes (src/magento_zoho_sync/zoho/client.py,
doctor_zoho.py) or one of its error cases, and checks the request (body, query) and the response body against the
operation's schemas for the status answered. One line per check, then a summary; the exit status is 1 on any
mismatch not listed in EXCEPTIONS (where the reference documents Zoho answering otherwise than the files, or an
[UNVERIFIED] choice, each with its reason), 2 when the files cannot be read. A status the OAS does not declare is
reported "not covered", not as a failure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
from referencing.exceptions import Unresolvable

from magento_zoho_sims.common.clock import Clock
from magento_zoho_sims.common.faults import FaultKind
from magento_zoho_sims.zoho import ZohoConfig, ZohoSimulator
from magento_zoho_sims.zoho.fields import FieldSpec

from .oas import Amendment, OasFiles, Operation, Outcome, Problem, problems, query_problems

BASE = "http://zoho.sim.test"
RECORDS = "/crm/v8/{module_api_name}"


# ------------------------------------------------------------------------------------------------ the OAS's defects
def _require(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(schema: dict[str, Any]) -> None:
        schema["required"] = sorted({*schema.get("required", []), *keys})

    return change


_ENVELOPE = "code, details, message and status"
AMENDMENTS: tuple[Amendment, ...] = (
    Amendment(
        "record.json",
        "/components/schemas/API_Exception",
        _require("code", "details", "message", "status"),
        f"record.json's schemas declare no required keys, so oneOf [{{data}}, API_Exception] matches any object "
        f"twice (reference §9); Zoho's error envelope always has {_ENVELOPE} (common.json API_Exception, §6)",
    ),
    Amendment(
        "record.json",
        "/components/schemas/Success_Response",
        _require("code", "details", "message", "status"),
        f"as API_Exception: a result per record has {_ENVELOPE} (reference §2.1, common.json)",
    ),
)


def _any_of(schema: dict[str, Any]) -> None:
    schema["anyOf"] = schema.pop("oneOf")


def _drop_pattern(schema: dict[str, Any]) -> None:
    schema.pop("pattern", None)


def _tags_by_name(schema: dict[str, Any]) -> None:
    schema["properties"]["tags"]["items"] = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 25}},
        "required": ["name"],
    }


AMENDMENTS += (
    Amendment(
        "record.json",
        "/components/schemas/Response_Wrapper",
        _require("data"),
        "a read's answer is one branch of oneOf [Response_Wrapper, API_Exception]; with no key required, every "
        "top-level error matched both (reference §9)",
    ),
    Amendment(
        "coql.json",
        "/paths/~1crm~1v8~1coql/post/responses/400/content/application~1json/schema",
        _any_of,
        "the 400 answer's oneOf lists Query_Exception, which declares SYNTAX_ERROR and INVALID_QUERY again beside "
        "Syntax_Exception and Invalid_Query_Exception: one error matches two branches by design; read as anyOf",
    ),
    Amendment(
        "users.json",
        "/components/schemas/users/properties/email",
        _drop_pattern,
        "the pattern [a-z0-9]{9}[@][a-z0-9]{5}[.]com is the shape of an example (9 characters @ 5 characters .com), "
        "not a rule: it refuses nearly every real address",
    ),
    Amendment(
        "tags.json",
        "/components/schemas/New_Tag_Request_Wrapper",
        _tags_by_name,
        "the tags to add are the tag as read (Tag requires id, color_code, created_time, created_by...: values only "
        "Zoho sets, absent from a new tag); a tag is named by its name (<= 25 characters, Tag.name) as the product "
        "sends it",
    ),
)
for _path, _method in (
    (RECORDS, "post"),
    (RECORDS, "put"),
    (RECORDS, "delete"),
    (f"{RECORDS}/upsert", "post"),
    (f"{RECORDS}/{{id}}", "put"),
):
    AMENDMENTS += (
        Amendment(
            "record.json",
            f"/paths/{_path.replace('/', '~1')}/{_method}/responses/200/content/application~1json/schema/oneOf/0",
            _require("data"),
            "the write answer {data: [...]} is one branch of a oneOf whose other is a top-level error; without "
            "'data' required, every top-level error matched both (reference §9)",
        ),
    )


# ------------------------------------------------------------------------------------------ documented exceptions
@dataclass(frozen=True)
class Documented:
    """A mismatch kept on purpose: the simulator does what the reference documents real Zoho to do."""

    key: str
    where: str  # regular expression over the problem's JSON path ($.data[0].duplicate_field, ?over_write)
    keyword: str  # regular expression over the JSON Schema keyword that failed (type, enum, required, ...)
    reason: str
    scenarios: str = ".*"  # regular expression over scenario names
    value: Callable[[Any], bool] = field(default=lambda _value: True)

    def covers(self, scenario: str, problem: Problem) -> bool:
        return (
            re.fullmatch(self.scenarios, scenario) is not None
            and re.fullmatch(self.where, problem.where) is not None
            and re.fullmatch(self.keyword, problem.keyword) is not None
            and self.value(problem.value)
        )


_FEATURE_KEYS = (
    "associated_module",
    "refer_from_field",
    "sub_module",
    "external",
    "multiuserlookup",
    "autonumber",
    "crypt",
    "tooltip",
    "history_tracking",
    "association_details",
    "textarea",
    "default_value",
)
EXCEPTIONS: tuple[Documented, ...] = (
    Documented(
        "duplicate_field-null",
        r"\$\.data\[\d+\]\.duplicate_field",
        "type",
        'an upsert that inserted answers "duplicate_field": null (DOC v7 upsert sample, reference §2.6); the OAS '
        "types it a string without nullable",
        value=lambda v: v is None,
    ),
    Documented(
        "update-missing-id-message",
        r"\$(\.data\[\d+\])?\.message",
        "enum",
        "a batch update without a record's id answers MANDATORY_NOT_FOUND \"You have not specified unique ID of the "
        "record\" (DOC v7 update-records, reference §2.3), a text the OAS's message enum lacks",
        value=lambda v: v == "You have not specified unique ID of the record",
    ),
)

EXCEPTIONS += (
    Documented(
        "page-token-null",
        r"\$\.info\.(previous_page_token|next_page_token|page_token_expiry)",
        "type",
        "a list read without a previous (or next) page answers the token as null (DOC v7 get-records sample, "
        'reference §2.5: "previous_page_token":null); the OAS types it a string without nullable',
        value=lambda v: v is None,
    ),
    Documented(
        "limit-exceeded-message",
        r"\$\.message",
        "enum",
        "LIMIT_EXCEEDED for more than 100 records: the message is [UNVERIFIED] (reference §6) and none of the OAS's "
        "texts names a write's record count ('Max field limit exceeded' is the fields' limit); the simulator keeps "
        "its neutral 'limit exceeded' until a real org's answer is known",
        scenarios=r"upsert-too-many",
        value=lambda v: v == "limit exceeded",
    ),
    Documented(
        "user-time-zone",
        r"\$\.users\[\d+\]\.time_zone",
        "type",
        "a user's time_zone is its name ('Asia/Kolkata'), as the org's is (org.json types Org.time_zone a string); "
        "users.json alone types it an object [not in the reference: check against a real org]",
        scenarios=r"current-user",
        value=lambda v: isinstance(v, str),
    ),
    Documented(
        "field-feature-null",
        r"\$\.fields\[\d+\]\.(" + "|".join(_FEATURE_KEYS) + ")",
        "type",
        "a field answers null for the keys of features it lacks (no encryption, tooltip, auto-number, multi-user "
        "lookup, sub-module, text area type, default value...); fields.json lists these keys required and not "
        "nullable for every field, which no field of a real org could satisfy (an object for crypt, tooltip, "
        "history_tracking... on a plain text field) [UNVERIFIED: reference §7 names the keys that matter; compare "
        "with a real org's answer]",
        scenarios=r"fields",
        value=lambda v: v is None,
    ),
)

#: statuses the OAS does not declare for record writes, whose body the reference documents as the 200 one
#: (reference §2.1: {"data": [a result per record]} whatever the status; a top-level error otherwise)
WRITE_STATUSES_AS_200 = frozenset({201, 207, 400})
#: any other 4xx the OAS does not declare: a top-level error, checked against common.json's API_Exception
#: (reference §6: code, details, message, status, whatever the call)
TOP_LEVEL_ERROR = ("common.json", "/components/schemas/API_Exception")


# ------------------------------------------------------------------------------------------------------ scenarios
@dataclass
class Call:
    method: str
    path: str
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    token: bool = True


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str  # the product call it mirrors, or the error case
    file: str
    method: str
    template: str
    status: int  # what the simulator is expected to answer (the scenario did what it says)
    make: Callable[[ZohoSimulator], Call]
    config: Callable[[], ZohoConfig] = ZohoConfig


SCENARIOS: list[Scenario] = []


def scenario(
    name: str,
    what: str,
    operation: tuple[str, str, str],
    status: int,
    *,
    config: Callable[[], ZohoConfig] = ZohoConfig,
) -> Callable[[Callable[[ZohoSimulator], Call]], Callable[[ZohoSimulator], Call]]:
    """Register a scenario: ``operation`` is (OAS file, method, path template), ``status`` the answer expected."""

    def register(make: Callable[[ZohoSimulator], Call]) -> Callable[[ZohoSimulator], Call]:
        SCENARIOS.append(Scenario(name, what, *operation, status, make, config))
        return make

    return register


def _contact(n: int, **extra: Any) -> dict[str, Any]:
    return {"Last_Name": f"Doe{n}", "First_Name": "Jane", "Email": f"jane{n}@example.com", **extra}


def _upsert(records: list[dict[str, Any]]) -> Call:
    """As ZohoClient.upsert_contacts sends it."""
    body = {"data": records, "duplicate_check_fields": ["Email"], "trigger": []}
    return Call("POST", "/crm/v8/Contacts/upsert", body)


def _update(records: list[dict[str, Any]]) -> Call:
    """As ZohoClient.update_contacts sends it."""
    return Call("PUT", "/crm/v8/Contacts", {"data": records, "trigger": []})


def _coql(query: str) -> Call:
    return Call("POST", "/crm/v8/coql", {"select_query": query})


UPSERT = ("record.json", "POST", f"{RECORDS}/upsert")
INSERT = ("record.json", "POST", RECORDS)
UPDATE = ("record.json", "PUT", RECORDS)
DELETE = ("record.json", "DELETE", RECORDS)
LIST = ("record.json", "GET", RECORDS)
COQL = ("coql.json", "POST", "/crm/v8/coql")
ADD_TAGS = ("tags.json", "POST", f"{RECORDS}/actions/add_tags")
UPDATE_ONE = ("record.json", "PUT", f"{RECORDS}/{{id}}")
FIELDS = ("fields.json", "GET", "/crm/v8/settings/fields")
ORG = ("org.json", "GET", "/crm/v8/org")
USERS = ("users.json", "GET", "/crm/v8/users")


@scenario("upsert-insert", "ZohoClient.upsert_contacts, every record new", UPSERT, 201)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([_contact(1), _contact(2, Magento_Customer_ID="42")])


@scenario("upsert-update", "ZohoClient.upsert_contacts, every record matched on Email", UPSERT, 200)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _upsert([_contact(1)])


@scenario("upsert-mixed", "ZohoClient.upsert_contacts, one inserted and one updated", UPSERT, 207)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _upsert([_contact(1), _contact(2)])


@scenario("upsert-invalid-data", "a value too long and one of the wrong type, beside a good record", UPSERT, 207)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([_contact(1), _contact(2, First_Name="x" * 41), _contact(3, Email_Opt_Out="yes")])


@scenario("upsert-mandatory-missing", "Last_Name missing on an insert, beside a good record", UPSERT, 207)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([_contact(1), {"Email": "nolast@example.com"}])


@scenario("upsert-duplicate-data", "a unique field (Magento_Customer_ID) held by another contact", UPSERT, 207)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Other", Email="other@example.com", Magento_Customer_ID="7")
    return _upsert([_contact(1), _contact(2, Magento_Customer_ID="7")])


@scenario(
    "upsert-all-failed",
    "every record refused: one top-level error ([UNVERIFIED] record_errors_at_request_level, default)",
    UPSERT,
    400,
)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([{"Email": "nolast@example.com"}])


@scenario(
    "upsert-all-failed-per-record",
    "every record refused, answered one by one (record_errors_at_request_level=never)",
    UPSERT,
    400,
    config=lambda: ZohoConfig(record_errors_at_request_level="never"),
)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([{"Email": "nolast@example.com"}, _contact(2, First_Name="x" * 41)])


@scenario("upsert-too-many", "101 records: LIMIT_EXCEEDED", UPSERT, 400)
def _(sim: ZohoSimulator) -> Call:
    return _upsert([_contact(n) for n in range(101)])


@scenario("upsert-invalid-token", "an expired or unknown access token: 401 INVALID_TOKEN", UPSERT, 401)
def _(sim: ZohoSimulator) -> Call:
    call = _upsert([_contact(1)])
    call.headers["Authorization"] = "Zoho-oauthtoken 1000.0123456789abcdef.0123456789abcdef"
    call.token = False
    return call


@scenario("upsert-credits-spent", "the day's credits spent: 429 TOO_MANY_REQUESTS", UPSERT, 429)
def _(sim: ZohoSimulator) -> Call:
    sim.set_credits(100)
    sim.spend_credits(100)
    return _upsert([_contact(1)])


@scenario("upsert-throttled", "too many concurrent calls: 429 TOO_MANY_REQUESTS", UPSERT, 429)
def _(sim: ZohoSimulator) -> Call:
    sim.faults.script(FaultKind.THROTTLE)
    return _upsert([_contact(1)])


@scenario("insert", "POST /Contacts (insert), every record new", INSERT, 201)
def _(sim: ZohoSimulator) -> Call:
    return Call("POST", "/crm/v8/Contacts", {"data": [_contact(1)], "trigger": []})


@scenario("insert-duplicate-email", "Email unique in the org and taken: DUPLICATE_DATA, beside a good one", INSERT, 207)
def _(sim: ZohoSimulator) -> Call:
    sim.set_email_unique(True)
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return Call("POST", "/crm/v8/Contacts", {"data": [_contact(1), _contact(2)], "trigger": []})


@scenario("update-by-id", "ZohoClient.update_contacts (PUT /Contacts, ids in the records)", UPDATE, 200)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _update([{**_contact(1), "id": first}])


@scenario("update-unknown-id", "an id no contact has, beside a good record: INVALID_DATA", UPDATE, 207)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _update([{**_contact(1), "id": first}, {**_contact(2), "id": "5843104000999999999"}])


@scenario("update-missing-id", "a record without its id, beside a good one: MANDATORY_NOT_FOUND", UPDATE, 207)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _update([{**_contact(1), "id": first}, _contact(2)])


@scenario("update-path-id", "PUT /Contacts/{id}", UPDATE_ONE, 200)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return Call("PUT", f"/crm/v8/Contacts/{first}", {"data": [{"Last_Name": "New"}], "trigger": []})


@scenario("add-tags", "ZohoClient.add_tags", ADD_TAGS, 200)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return Call(
        "POST",
        "/crm/v8/Contacts/actions/add_tags",
        {"tags": [{"name": "deleted-in-magento"}], "ids": [first], "over_write": False},
    )


@scenario("delete", "ZohoClient.delete_contacts", DELETE, 200)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return Call("DELETE", "/crm/v8/Contacts", query={"ids": first, "wf_trigger": "false"})


@scenario("delete-unknown", "ZohoClient.delete_contacts, an id no contact has: INVALID_DATA", DELETE, 400)
def _(sim: ZohoSimulator) -> Call:
    return Call("DELETE", "/crm/v8/Contacts", query={"ids": "5843104000999999999", "wf_trigger": "false"})


@scenario("list-one", "doctor's contacts.READ probe (GET /Contacts?fields=Last_Name&per_page=1)", LIST, 200)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    sim.add_contact(Last_Name="Older", Email="jane2@example.com")
    return Call("GET", "/crm/v8/Contacts", query={"fields": "Last_Name", "per_page": "1"})


@scenario("list-empty", "the same probe on an empty org: 204, no body", LIST, 204)
def _(sim: ZohoSimulator) -> Call:
    return Call("GET", "/crm/v8/Contacts", query={"fields": "Last_Name", "per_page": "1"})


@scenario("list-fields-missing", "no fields parameter: REQUIRED_PARAM_MISSING", LIST, 400)
def _(sim: ZohoSimulator) -> Call:
    return Call("GET", "/crm/v8/Contacts")


@scenario("coql-emails", "ZohoClient.find_contacts_by_email", COQL, 200)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _coql("select id, Email, Created_Time from Contacts where Email in ('jane1@example.com','o''brien@x.com')")


@scenario("coql-no-rows", "ZohoClient.find_contacts_by_email, no contact: 204, no body", COQL, 204)
def _(sim: ZohoSimulator) -> Call:
    return _coql("select id, Email, Created_Time from Contacts where Email in ('nobody@example.com')")


@scenario("coql-ids", "ZohoClient.existing_contact_ids", COQL, 200)
def _(sim: ZohoSimulator) -> Call:
    first = sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _coql(f"select id from Contacts where id in ({first},5843104000999999999)")  # noqa: S608 - digits


@scenario("coql-scan", "ZohoClient.scan_contacts (keyset on id)", COQL, 200)
def _(sim: ZohoSimulator) -> Call:
    for n in range(3):
        sim.add_contact(Last_Name=f"Doe{n}", Email=f"jane{n}@example.com")
    return _coql("select id, Email, Created_Time from Contacts where id > 0 order by id asc limit 2000")


@scenario("coql-probe", "doctor's coql.READ probe", COQL, 200)
def _(sim: ZohoSimulator) -> Call:
    sim.add_contact(Last_Name="Old", Email="jane1@example.com")
    return _coql("select id from Contacts where id is not null limit 1")


@scenario("coql-syntax-error", "a quote escaped as Zoho does not take it: SYNTAX_ERROR", COQL, 400)
def _(sim: ZohoSimulator) -> Call:
    return _coql("select id, Email from Contacts where Email in ('o\\'brien@example.com')")


@scenario("coql-invalid-column", "a column Contacts lacks: INVALID_QUERY", COQL, 400)
def _(sim: ZohoSimulator) -> Call:
    return _coql("select id, Nope__c from Contacts where id is not null limit 1")


@scenario("coql-limit-exceeded", "more than 2,000 rows asked: LIMIT_EXCEEDED", COQL, 400)
def _(sim: ZohoSimulator) -> Call:
    return _coql("select id from Contacts where id is not null limit 2001")


@scenario("coql-invalid-token", "an unknown access token: 401 INVALID_TOKEN", COQL, 401)
def _(sim: ZohoSimulator) -> Call:
    call = _coql("select id from Contacts where id is not null limit 1")
    call.headers["Authorization"] = "Zoho-oauthtoken 1000.0123456789abcdef.0123456789abcdef"
    call.token = False
    return call


@scenario(
    "fields",
    "ZohoClient.contact_fields (GET /settings/fields?module=Contacts), a custom restricted picklist among them",
    FIELDS,
    200,
)
def _(sim: ZohoSimulator) -> Call:
    sim.change_fields(
        add=[
            FieldSpec(
                "Language",
                "Language",
                "picklist",
                120,
                picklist=("English", "Deutsch"),
                restricted=True,
                custom_field=True,
            )
        ]
    )
    return Call("GET", "/crm/v8/settings/fields", query={"module": "Contacts"})


@scenario("org", "GET /org (the official SDK's bootstrap)", ORG, 200)
def _(sim: ZohoSimulator) -> Call:
    return Call("GET", "/crm/v8/org")


@scenario("org-no-token", "doctor's reachability probe: GET /org without a token", ORG, 401)
def _(sim: ZohoSimulator) -> Call:
    return Call("GET", "/crm/v8/org", token=False)


@scenario(
    "current-user",
    "GET /users?type=CurrentUser (the official SDK's bootstrap)",
    USERS,
    200,
)
def _(sim: ZohoSimulator) -> Call:
    return Call("GET", "/crm/v8/users", query={"type": "CurrentUser"})


# ------------------------------------------------------------------------------------------------------- running
@dataclass
class Check:
    scenario: str
    part: str  # "request", "response 201", "response 201 (as 200)"
    outcome: Outcome
    operation: str
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        head = f"{self.outcome.upper():<11} {self.scenario:<30} {self.part:<22} {self.operation}"
        return "\n".join([head, *(f"{'':<12}- {note}" for note in self.notes)])


def _judge(scenario: Scenario, part: str, op: Operation, found: list[Problem]) -> Check:
    """The check's outcome; its notes group the problems that differ only by an array index ($.fields[*])."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    failed = False
    for problem in found:
        documented = next((e for e in EXCEPTIONS if e.covers(scenario.name, problem)), None)
        failed = failed or documented is None
        where = re.sub(r"\[\d+\]", "[*]", problem.where)
        message = problem.message if problem.keyword == "required" else f"{problem.keyword}: {problem.message}"
        if documented is None:
            key = ("MISMATCH", f"{where}: {message}")
        else:
            key = (f"documented exception '{documented.key}'", f"{where}: {documented.reason}")
        groups.setdefault(key, []).append(problem)
    notes = [
        f"{kind} {text}" + (f" (x{len(items)})" if len(items) > 1 else "") for (kind, text), items in groups.items()
    ]
    outcome: Outcome = "fail" if failed else ("exception" if found else "pass")
    return Check(scenario.name, part, outcome, op.label(), notes)


def exchange(scenario: Scenario) -> tuple[Call, httpx2.Response]:
    """The scenario's call to a fresh simulator, in-process, and its answer."""
    sim = ZohoSimulator(seed=1, clock=Clock(frozen_at=1_760_000_000.0), config=scenario.config())
    call = scenario.make(sim)
    headers = dict(call.headers)
    if call.token:
        headers["Authorization"] = f"Zoho-oauthtoken {sim.issue_access_token()}"
    content = json.dumps(call.body).encode() if call.body is not None else None
    with httpx2.Client(transport=sim.transport(), base_url=BASE) as client:
        response = client.request(call.method, call.path, params=call.query, content=content, headers=headers)
    return call, response


def run_scenario(oas: OasFiles, scenario: Scenario) -> list[Check]:
    op = oas.operation(scenario.file, scenario.method, scenario.template)
    call, response = exchange(scenario)
    checks: list[Check] = []
    sent = dict(parse_qsl(urlsplit(str(response.request.url)).query))
    request_problems = query_problems(op, sent)
    if call.body is not None:
        if op.body_schema is None:
            request_problems.append(Problem("$", "requestBody", None, "the OAS declares no JSON request body"))
        else:
            request_problems += problems(oas.validate(op.body_file, op.body_schema, call.body))
    checks.append(_judge(scenario, "request", op, request_problems))
    status = response.status_code
    body = response.json() if response.content else None
    if status != scenario.status:
        checks.append(
            Check(
                scenario.name,
                f"response {status}",
                "fail",
                op.label(),
                [f"the simulator answered {status}, the scenario expects {scenario.status}: {response.text[:200]}"],
            )
        )
        return checks
    spec = op.response_for(status)
    if spec is None:
        declared = ", ".join(sorted(op.responses)) or "none"
        checks.append(
            Check(
                scenario.name,
                f"response {status}",
                "not covered",
                op.label(),
                [f"the OAS declares no {status} for this operation (only {declared})"],
            )
        )
        ok = op.responses.get("200")
        if status in WRITE_STATUSES_AS_200 and scenario.file == "record.json" and ok is not None and ok.schema:
            checks.append(
                _judge(scenario, f"response {status} (as 200)", op, problems(oas.validate(ok.file, ok.schema, body)))
            )
        elif 400 <= status < 500 and isinstance(body, dict) and "data" not in body:
            found = problems(oas.validate(*TOP_LEVEL_ERROR, body))
            checks.append(_judge(scenario, f"response {status} (as error)", op, found))
        return checks
    if spec.schema is None:
        found = [] if body is None else [Problem("$", "content", body, "the OAS declares this status without a body")]
        checks.append(_judge(scenario, f"response {status}", op, found))
        return checks
    if body is None:
        checks.append(
            _judge(scenario, f"response {status}", op, [Problem("$", "content", None, "no body, the OAS declares one")])
        )
        return checks
    checks.append(_judge(scenario, f"response {status}", op, problems(oas.validate(spec.file, spec.schema, body))))
    return checks


def run(oas: OasFiles, only: str | None = None) -> Iterator[Check]:
    for item in SCENARIOS:
        if only is None or re.search(only, item.name):
            yield from run_scenario(oas, item)


def describe() -> Iterator[str]:
    yield "Scenarios (each: the request, then the response for the status the simulator answers):"
    for item in SCENARIOS:
        yield f"  {item.name:<30} {item.file} {item.method} {item.template} -> {item.status}: {item.what}"
    yield "Amendments to the OAS before checking:"
    for amendment in AMENDMENTS:
        yield f"  {amendment.file}#{amendment.pointer}: {amendment.reason}"
    yield "Documented exceptions (differences kept on purpose, each with its reason):"
    for documented in EXCEPTIONS:
        yield f"  {documented.key}: {documented.reason}"
    yield (
        f"Record writes answered {sorted(WRITE_STATUSES_AS_200)} (not declared) are also checked against their 200 "
        "schema; another undeclared 4xx against common.json's API_Exception."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="oas_conformance")
    parser.add_argument("--oas", type=Path, help="the v8.0 folder of a copy of GitHub zoho/crm-oas")
    parser.add_argument("--list", action="store_true", help="list the scenarios, amendments and exceptions, and exit")
    parser.add_argument("--only", help="run the scenarios whose name matches this regular expression")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(describe()))
        return 0
    if args.oas is None:
        parser.error("--oas is required (the v8.0 folder of zoho/crm-oas)")
    oas = OasFiles(args.oas, AMENDMENTS)
    try:
        checks = list(run(oas, args.only))
    except (FileNotFoundError, KeyError, Unresolvable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for check in checks:
        print(check.line())
    counts = {
        kind: sum(1 for c in checks if c.outcome == kind) for kind in ("pass", "exception", "not covered", "fail")
    }
    print(
        f"{len(checks)} checks: {counts['pass']} passed, {counts['exception']} passed with documented exceptions, "
        f"{counts['not covered']} not covered by the OAS, {counts['fail']} failed"
    )
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
