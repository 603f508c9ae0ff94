"""Zoho's OpenAPI 3.0 files (GitHub zoho/crm-oas) read from a local copy, for the conformance check.

The files are not in this repository (zoho/crm-oas has no licence). Their ``$ref``s name raw.githubusercontent.com
URLs; a ``referencing`` registry answers each such URL with the local file of that name, so nothing is fetched.
Schemas are OpenAPI 3.0's dialect of JSON Schema draft 4: ``nullable: true`` is read as "or null", ``format``
``date-time`` (RFC 3339) and ``int32`` are checked, other keywords of OpenAPI (``example``, ``xml``...) ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import referencing
import referencing.jsonschema
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing.exceptions import NoSuchResource

#: the base URL the files' ``$ref``s name (Zoho's fork of the repository)
RAW_BASE = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"
METHODS = ("get", "put", "post", "delete", "patch")
Outcome = Literal["pass", "fail", "not covered", "exception"]

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or _RFC3339.fullmatch(value) is not None

    @checker.checks("int32")
    def _int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    return checker


def openapi_to_json_schema(node: Any) -> Any:
    """A copy of ``node`` where OpenAPI 3.0's ``nullable: true`` reads as JSON Schema's "or null"."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: openapi_to_json_schema(value) for key, value in node.items()}
    if out.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@dataclass(frozen=True)
class Amendment:
    """A change made to one of Zoho's schemas before checking against it, and why (a defect of the files that
    would make the check meaningless, not a difference of the simulator's)."""

    file: str
    pointer: str  # JSON pointer inside the file
    change: Callable[[dict[str, Any]], None]
    reason: str


def pointer_parts(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]] if pointer else []


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class OasFiles:
    """Zoho's OAS files in ``folder`` (v8.0/), read lazily, with amendments applied."""

    def __init__(self, folder: Path, amendments: tuple[Amendment, ...] = ()) -> None:
        self.folder = folder
        self.amendments = amendments
        self._docs: dict[str, dict[str, Any]] = {}
        self.registry: referencing.Registry[Any] = referencing.Registry(retrieve=self._retrieve)
        self._validators: dict[str, Draft4Validator] = {}
        self._formats = _format_checker()

    def doc(self, name: str) -> dict[str, Any]:
        if name not in self._docs:
            path = self.folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such OAS file (give --oas the v8.0 folder of zoho/crm-oas)")
            raw = json.loads(path.read_text(encoding="utf-8"))
            for amendment in self.amendments:
                if amendment.file == name:
                    target = _at(raw, amendment.pointer)
                    if not isinstance(target, dict):
                        raise KeyError(f"{name}#{amendment.pointer}: no such schema to amend")
                    amendment.change(target)
            self._docs[name] = openapi_to_json_schema(raw)
        return self._docs[name]

    def _retrieve(self, uri: str) -> referencing.Resource[Any]:
        if not uri.startswith(RAW_BASE):
            raise NoSuchResource(ref=uri)
        return referencing.jsonschema.DRAFT4.create_resource(self.doc(uri.removeprefix(RAW_BASE)))

    def resolve(self, name: str, pointer: str) -> tuple[str, str, Any]:
        """The node at ``name#pointer``, following ``$ref``s of OpenAPI objects (responses, parameters) until a
        node without one: (file, pointer, node)."""
        node = _at(self.doc(name), pointer)
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
            seen += 1
            ref = node["$ref"]
            target, _, fragment = ref.partition("#")
            name = target.removeprefix(RAW_BASE) if target else name
            pointer = fragment
            node = _at(self.doc(name), pointer)
        return name, pointer, node

    def validate(self, name: str, pointer: str, instance: Any) -> list[ValidationError]:
        """The errors of ``instance`` against the schema at ``name#pointer`` (best first, deepest errors of a
        ``oneOf`` included)."""
        uri = f"{RAW_BASE}{name}#{quote(pointer, safe='/~')}"
        validator = self._validators.get(uri)
        if validator is None:
            validator = Draft4Validator({"$ref": uri}, registry=self.registry, format_checker=self._formats)
            self._validators[uri] = validator
        return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))

    def operation(self, name: str, method: str, path: str) -> Operation:
        paths = self.doc(name).get("paths", {})
        if path not in paths or method.lower() not in paths[path]:
            raise KeyError(f"{name}: no operation {method.upper()} {path}")
        base = f"/paths/{escape(path)}/{method.lower()}"
        op = paths[path][method.lower()]
        body_file, body_schema = name, None
        if isinstance(op.get("requestBody"), dict):
            body_file, pointer, request = self.resolve(name, f"{base}/requestBody")
            if "application/json" in request.get("content", {}):
                body_schema = f"{pointer}/content/application~1json/schema"
        responses: dict[str, ResponseSpec] = {}
        for status in op.get("responses", {}):
            file, pointer, response = self.resolve(name, f"{base}/responses/{escape(status)}")
            has_json = isinstance(response.get("content"), dict) and "application/json" in response["content"]
            responses[status] = ResponseSpec(
                status, file, f"{pointer}/content/application~1json/schema" if has_json else None
            )
        params = [self.resolve(name, f"{base}/parameters/{n}")[2] for n in range(len(op.get("parameters", [])))]
        path_params = [
            self.resolve(name, f"/paths/{escape(path)}/parameters/{n}")[2]
            for n in range(len(paths[path].get("parameters", [])))
        ]
        return Operation(
            file=name,
            method=method.upper(),
            path=path,
            operation_id=str(op.get("operationId", "")),
            body_file=body_file,
            body_schema=body_schema,
            responses=responses,
            parameters=[p for p in [*path_params, *params] if isinstance(p, dict)],
        )

    def operations(self, name: str) -> Iterator[tuple[str, str]]:
        for path, item in self.doc(name).get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    yield method.upper(), path


def _at(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer_parts(pointer):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"#{pointer}: no '{part}'")
    return node


@dataclass(frozen=True)
class ResponseSpec:
    status: str
    file: str
    schema: str | None  # pointer of the JSON body's schema; None: the status is declared without a JSON body


@dataclass
class Operation:
    file: str
    method: str
    path: str
    operation_id: str
    body_file: str
    body_schema: str | None
    responses: dict[str, ResponseSpec]
    parameters: list[dict[str, Any]] = field(default_factory=list)

    def label(self) -> str:
        return f"{self.file} {self.method} {self.path}"

    def response_for(self, status: int) -> ResponseSpec | None:
        return (
            self.responses.get(str(status))
            or self.responses.get(f"{str(status)[0]}XX")
            or self.responses.get("default")
        )


@dataclass(frozen=True)
class Problem:
    """One way a body differs from its schema: where (a JSON path of the body), the keyword, and what."""

    where: str
    keyword: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def problems(errors: list[ValidationError]) -> list[Problem]:
    """The errors as problems; a failed ``oneOf``/``anyOf`` is reported through the errors of its closest branch
    (the one that failed deepest and least), so that it says what is wrong rather than "not valid under any"."""
    out: list[Problem] = []
    for error in errors:
        leaves = _leaves(error)
        for leaf in leaves:
            out.append(Problem(_json_path(leaf), str(leaf.validator), leaf.instance, _short(leaf)))
    unique: dict[tuple[str, str, str], Problem] = {}
    for problem in out:
        unique.setdefault((problem.where, problem.keyword, problem.message), problem)
    return list(unique.values())


def _leaves(error: ValidationError) -> list[ValidationError]:
    if error.validator in ("oneOf", "anyOf") and error.context:
        by_branch: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branch = sub.schema_path[0] if sub.schema_path else 0
            by_branch.setdefault(int(branch), []).append(sub)
        if error.validator == "oneOf" and not by_branch:
            return [error]
        best = min(by_branch.values(), key=lambda subs: (-max(len(s.absolute_path) for s in subs), len(subs)))
        return [leaf for sub in best for leaf in _leaves(sub)]
    return [error]


def _json_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _short(error: ValidationError) -> str:
    text = str(error.message)
    return text if len(text) <= 160 else text[:157] + "..."


def query_problems(op: Operation, query: Mapping[str, str]) -> list[Problem]:
    """Query parameters against the operation's: required ones present, enums respected, no undeclared ones."""
    declared = {p.get("name"): p for p in op.parameters if p.get("in") == "query"}
    out: list[Problem] = []
    for name, param in declared.items():
        if param.get("required") is True and name not in query:
            out.append(Problem(f"?{name}", "required", None, f"required query parameter '{name}' missing"))
    for name, value in query.items():
        found = declared.get(name)
        if found is None:
            out.append(Problem(f"?{name}", "parameters", value, f"query parameter '{name}' is not declared"))
            continue
        enum = (found.get("schema") or {}).get("enum")
        if isinstance(enum, list) and value not in [str(v) for v in enum]:
            out.append(Problem(f"?{name}", "enum", value, f"{value!r} is not one of {enum}"))
    return out
