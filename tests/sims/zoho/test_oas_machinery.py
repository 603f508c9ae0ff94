"""The OAS conformance checker's own machinery, on tiny OpenAPI documents written here (Zoho's files are not in this
repository): $refs to Zoho's raw URLs read from local files, nullable, formats, amendments, a passing and a failing
response, a status the OAS does not declare, documented exceptions, and the command's exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from referencing.exceptions import Unresolvable

from . import oas_conformance as conformance
from .oas import RAW_BASE, Amendment, OasFiles, Problem, problems, query_problems


def _write(folder: Path, name: str, doc: dict[str, Any]) -> None:
    (folder / name).write_text(json.dumps(doc), encoding="utf-8")


def _org_doc(org_schema: dict[str, Any]) -> dict[str, Any]:
    """org.json: GET /crm/v8/org declaring 200 only, its schema reaching common.json through Zoho's raw URL."""
    return {
        "openapi": "3.0.0",
        "paths": {
            "/crm/v8/org": {
                "get": {
                    "operationId": "Get Organization",
                    "parameters": [{"$ref": "#/components/parameters/type"}],
                    "responses": {"200": {"$ref": "#/components/responses/Org"}},
                }
            }
        },
        "components": {
            "parameters": {"type": {"name": "type", "in": "query", "required": False, "schema": {"enum": ["a", "b"]}}},
            "responses": {
                "Org": {
                    "description": "",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Wrapper"}}},
                }
            },
            "schemas": {
                "Wrapper": {
                    "type": "object",
                    "properties": {"org": {"type": "array", "items": org_schema}},
                    "required": ["org"],
                }
            },
        },
    }


COMMON = {
    "openapi": "3.0.0",
    "paths": {},
    "components": {
        "schemas": {
            "API_Exception": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "status": {"type": "string", "enum": ["error"]}},
                "required": ["code", "details", "message", "status"],
            },
            "Org": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string", "enum": ["production", "sandbox"]},
                    "photo_id": {"type": "string", "nullable": True},
                    "created": {"type": "string", "format": "date-time"},
                },
                "required": ["id", "type"],
            },
        }
    },
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _write(tmp_path, "common.json", COMMON)
    _write(tmp_path, "org.json", _org_doc({"$ref": f"{RAW_BASE}common.json#/components/schemas/Org"}))
    return tmp_path


def _messages(found: list[Problem]) -> list[str]:
    return [str(p) for p in found]


def test_a_ref_to_zohos_raw_url_is_read_from_the_local_file(folder: Path) -> None:
    oas = OasFiles(folder)
    op = oas.operation("org.json", "GET", "/crm/v8/org")
    spec = op.response_for(200)
    assert spec is not None and spec.schema is not None
    good = {"org": [{"id": "1", "type": "production", "photo_id": None, "created": "2024-01-15T15:26:49+05:30"}]}
    assert oas.validate(spec.file, spec.schema, good) == []
    bad = {"org": [{"id": "1", "type": "prod"}]}  # the enum lives in common.json only: its $ref was followed
    assert _messages(problems(oas.validate(spec.file, spec.schema, bad))) == [
        "$.org[0].type: 'prod' is not one of ['production', 'sandbox']"
    ]


def test_nullable_and_formats_are_read_as_openapi_3_0_means_them(folder: Path) -> None:
    oas = OasFiles(folder)
    pointer = "/components/schemas/Org"
    assert oas.validate("common.json", pointer, {"id": "1", "type": "sandbox", "photo_id": None}) == []
    found = problems(oas.validate("common.json", pointer, {"id": 1, "type": "sandbox", "created": "15/01/2024"}))
    assert {(p.where, p.keyword) for p in found} == {("$.id", "type"), ("$.created", "format")}


def test_a_file_missing_from_the_copy_is_an_error_not_a_download(folder: Path) -> None:
    _write(folder, "org.json", _org_doc({"$ref": f"{RAW_BASE}users.json#/components/schemas/Org"}))
    oas = OasFiles(folder)
    spec = oas.operation("org.json", "GET", "/crm/v8/org").response_for(200)
    assert spec is not None and spec.schema is not None
    with pytest.raises(Unresolvable, match=r"users\.json"):
        oas.validate(spec.file, spec.schema, {"org": [{}]})
    assert conformance.main(["--oas", str(folder), "--only", "^org$"]) == 2  # said, not a crash


def test_an_amendment_changes_the_schema_before_checking(folder: Path) -> None:
    def require_photo(schema: dict[str, Any]) -> None:
        schema["required"] = [*schema["required"], "photo_id"]

    amended = OasFiles(folder, (Amendment("common.json", "/components/schemas/Org", require_photo, "a test"),))
    body = {"id": "1", "type": "sandbox"}
    assert OasFiles(folder).validate("common.json", "/components/schemas/Org", body) == []
    assert _messages(problems(amended.validate("common.json", "/components/schemas/Org", body))) == [
        "$: 'photo_id' is a required property"
    ]


def test_a_failed_one_of_is_told_by_its_closest_branch(tmp_path: Path) -> None:
    schema = {
        "oneOf": [
            {"type": "object", "properties": {"data": {"type": "array"}}, "required": ["data"]},
            {"type": "object", "properties": {"code": {"enum": ["A", "B"]}}, "required": ["code"]},
        ]
    }
    _write(tmp_path, "x.json", {"components": {"schemas": {"S": schema}}})
    found = problems(OasFiles(tmp_path).validate("x.json", "/components/schemas/S", {"code": "C"}))
    assert [(p.where, p.keyword) for p in found] == [("$.code", "enum")]


def test_query_parameters_required_declared_and_enums(folder: Path) -> None:
    op = OasFiles(folder).operation("org.json", "GET", "/crm/v8/org")
    assert query_problems(op, {"type": "a"}) == []
    assert [p.keyword for p in query_problems(op, {"type": "c", "page": "1"})] == ["enum", "parameters"]
    op.parameters.append({"name": "module", "in": "query", "required": True})
    assert [p.where for p in query_problems(op, {})] == ["?module"]


def _org_scenario(name: str, status: int, token: bool = True) -> conformance.Scenario:
    return conformance.Scenario(
        name,
        "a test",
        "org.json",
        "GET",
        "/crm/v8/org",
        status,
        lambda _sim: conformance.Call("GET", "/crm/v8/org", token=token),
    )


def test_the_simulators_answer_passes_or_fails_against_the_schema(folder: Path) -> None:
    passing = conformance.run_scenario(OasFiles(folder), _org_scenario("org", 200))
    assert [(c.part, c.outcome) for c in passing] == [("request", "pass"), ("response 200", "pass")]
    _write(folder, "org.json", _org_doc({"type": "object", "required": ["no_such_key"]}))
    failing = conformance.run_scenario(OasFiles(folder), _org_scenario("org", 200))
    assert [(c.part, c.outcome) for c in failing] == [("request", "pass"), ("response 200", "fail")]
    assert failing[1].notes == ["MISMATCH $.org[*]: 'no_such_key' is a required property"]


def test_a_status_the_oas_does_not_declare_is_not_covered_and_checked_as_an_error(folder: Path) -> None:
    checks = conformance.run_scenario(OasFiles(folder), _org_scenario("org-no-token", 401, token=False))
    assert [(c.part, c.outcome) for c in checks] == [
        ("request", "pass"),
        ("response 401", "not covered"),
        ("response 401 (as error)", "pass"),  # common.json API_Exception
    ]
    assert checks[1].notes == ["the OAS declares no 401 for this operation (only 200)"]


def test_an_unexpected_status_fails_the_scenario(folder: Path) -> None:
    checks = conformance.run_scenario(OasFiles(folder), _org_scenario("org", 401))  # the simulator answers 200
    assert checks[-1].outcome == "fail"
    assert "answered 200" in checks[-1].notes[0]


def test_a_documented_exception_passes_only_what_it_names(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(folder, "org.json", _org_doc({"type": "object", "properties": {"time_zone": {"type": "object"}}}))
    documented = conformance.Documented("tz", r"\$\.org\[\d+\]\.time_zone", "type", "a test reason", scenarios="org")
    monkeypatch.setattr(conformance, "EXCEPTIONS", (documented,))
    kept = conformance.run_scenario(OasFiles(folder), _org_scenario("org", 200))
    assert kept[1].outcome == "exception"
    assert kept[1].notes == ["documented exception 'tz' $.org[*].time_zone: a test reason"]
    other = conformance.run_scenario(OasFiles(folder), _org_scenario("org-again", 200))  # another scenario
    assert other[1].outcome == "fail"


def test_the_command_exits_1_on_a_mismatch_and_0_without(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert conformance.main(["--oas", str(folder), "--only", "^org$"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "2 checks: 2 passed, 0 passed with documented exceptions, 0 not covered by the OAS, 0 failed"
    )
    _write(folder, "org.json", _org_doc({"type": "object", "required": ["no_such_key"]}))
    assert conformance.main(["--oas", str(folder), "--only", "^org$"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("1 failed")
    assert conformance.main(["--oas", str(folder / "nowhere"), "--only", "^org$"]) == 2


def test_the_list_names_every_scenario_without_the_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert conformance.main(["--list"]) == 0
    out = capsys.readouterr().out
    for item in conformance.SCENARIOS:
        assert f"  {item.name} " in out
    assert "duplicate_field-null" in out and "Amendments" in out


def test_every_scenario_makes_the_call_it_names() -> None:
    """Without Zoho's files: each scenario's request reaches the simulator and gets the status it expects."""
    for item in conformance.SCENARIOS:
        _call, response = conformance.exchange(item)
        assert response.status_code == item.status, (item.name, response.text[:300])
