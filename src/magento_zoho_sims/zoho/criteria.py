"""The search API's ``criteria`` parameter: ``((Field:operator:value)and(Field:operator:value))``.

Values escape ``(``, ``)``, ``,`` and ``\\`` with a backslash; unescaped ones make the query invalid. At most
ten conditions. ``equals`` on text behaves like *contains* (reference §3.1), case-insensitively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from magento_zoho_sims.zoho.errors import ZohoError, invalid_query
from magento_zoho_sims.zoho.fields import FieldSpec

MAX_CONDITIONS = 10
MAX_IN_VALUES = 100
_TEXT_TYPES = {"text", "email", "phone", "textarea", "website"}
_ORDERED_TYPES = {"date", "datetime", "bigint", "integer"}
_OPERATORS: dict[str, set[str]] = {
    "text": {"equals", "not_equal", "starts_with", "in"},
    "picklist": {"equals", "not_equal", "in"},
    "boolean": {"equals", "not_equal"},
    "ordered": {"equals", "not_equal", "in", "greater_than", "greater_equal", "less_than", "less_equal", "between"},
}

# A getter returns a field's comparable value for one record (values dict, created, modified, id).
Getter = Callable[[str], Any]
Predicate = Callable[[Getter], bool]


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    values: tuple[str, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.conditions = 0

    def fail(self, reason: str) -> ZohoError:
        return invalid_query("invalid query formed", reason=reason, position=self.pos)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def expression(self) -> list[Any]:
        """A list alternating groups and 'and'/'or'."""
        items: list[Any] = [self.group()]
        while True:
            rest = self.text[self.pos : self.pos + 3].lower()
            if rest.startswith("and"):
                self.pos += 3
            elif rest.startswith("or"):
                self.pos += 2
            else:
                return items
            items.append(rest[:3] if rest.startswith("and") else "or")
            items.append(self.group())

    def group(self) -> Any:
        self.expect("(")
        node: Any = self.expression() if self.peek() == "(" else self.condition()
        self.expect(")")
        return node

    def condition(self) -> Condition:
        start = self.pos
        end = self.text.find(":", start)
        if end < 0:
            raise self.fail("missing operator")
        field = self.text[start:end].strip()
        op_end = self.text.find(":", end + 1)
        if op_end < 0:
            raise self.fail("missing value")
        operator = self.text[end + 1 : op_end].strip().lower()
        self.pos = op_end + 1
        values: list[str] = []
        current: list[str] = []
        while True:
            char = self.peek()
            if char == "":
                raise self.fail("unbalanced parentheses")
            if char == "\\":
                nxt = self.text[self.pos + 1 : self.pos + 2]
                if nxt in {"(", ")", ",", "\\"}:
                    current.append(nxt)
                    self.pos += 2
                    continue
                current.append(char)
                self.pos += 1
                continue
            if char == ")":
                break
            if char == "(":
                raise self.fail("unescaped special character '(' in value")
            if char == ",":
                if operator not in {"in", "between"}:
                    raise self.fail("unescaped special character ',' in value")
                values.append("".join(current))
                current = []
                self.pos += 1
                continue
            current.append(char)
            self.pos += 1
        values.append("".join(current))
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"api_name": "criteria", "limit": MAX_CONDITIONS})
        return Condition(field=field, operator=operator, values=tuple(values))


def parse(text: str) -> Any:
    parser = _Parser(text.strip())
    tree = parser.group()
    if parser.pos != len(parser.text):
        raise parser.fail("unexpected text after the criteria")
    return tree


def _coerce(spec: FieldSpec, raw: str) -> Any:
    if spec.data_type == "date":
        return date.fromisoformat(raw)
    if spec.data_type == "datetime":
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            raise ValueError(raw)
        return parsed.timestamp()
    if spec.data_type in {"bigint", "integer"}:
        return int(raw)
    return raw


def _condition_predicate(cond: Condition, specs: dict[str, FieldSpec]) -> Predicate:
    spec = specs.get(cond.field)
    if spec is None:
        raise invalid_query("invalid query formed", api_name=cond.field, reason="the field does not exist")
    kind = (
        "text"
        if spec.data_type in _TEXT_TYPES
        else "ordered"
        if spec.data_type in _ORDERED_TYPES
        else spec.data_type
        if spec.data_type in _OPERATORS
        else ""
    )
    if cond.operator not in _OPERATORS.get(kind, set()):
        raise invalid_query("invalid query formed", api_name=cond.field, operator=cond.operator)
    if cond.operator == "in" and len(cond.values) > MAX_IN_VALUES:
        raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"api_name": cond.field, "limit": MAX_IN_VALUES})
    name, op = cond.field, cond.operator
    if kind == "boolean":
        if cond.values[0].lower() not in {"true", "false"}:
            raise invalid_query("invalid query formed", api_name=name, expected_data_type="boolean")
        wanted = cond.values[0].lower() == "true"
        return (lambda g: bool(g(name)) == wanted) if op == "equals" else (lambda g: bool(g(name)) != wanted)
    if kind == "ordered":
        try:
            vals = [_coerce(spec, v.strip()) for v in cond.values]
        except ValueError:
            raise invalid_query("invalid query formed", api_name=name, expected_data_type=spec.data_type) from None
        if op == "between" and len(vals) != 2:
            raise invalid_query("invalid query formed", api_name=name, operator=op)
        return _ordered(name, op, vals)
    needles = [v.lower() for v in cond.values]
    if op in {"equals", "in"}:  # "equals" is "contains" in the search API
        return lambda g: isinstance(v := g(name), str) and any(n in v.lower() for n in needles)
    if op == "not_equal":
        return lambda g: not (isinstance(v := g(name), str) and v.lower() == needles[0])
    return lambda g: isinstance(v := g(name), str) and v.lower().startswith(needles[0])


def _ordered(name: str, op: str, vals: list[Any]) -> Predicate:
    def test(g: Getter) -> bool:
        value = g(name)
        if value is None:
            return op == "not_equal"
        if isinstance(vals[0], date) and isinstance(value, str):
            value = date.fromisoformat(value)
        if op == "equals":
            return bool(value == vals[0])
        if op == "in":
            return value in vals
        if op == "not_equal":
            return bool(value != vals[0])
        if op == "between":
            return bool(vals[0] <= value <= vals[1])
        if op == "greater_than":
            return bool(value > vals[0])
        if op == "greater_equal":
            return bool(value >= vals[0])
        if op == "less_than":
            return bool(value < vals[0])
        return bool(value <= vals[0])

    return test


def compile_criteria(text: str, specs: dict[str, FieldSpec]) -> Predicate:
    """Parse and type-check ``criteria`` into a predicate over a record getter."""

    def build(node: Any) -> Predicate:
        if isinstance(node, Condition):
            return _condition_predicate(node, specs)
        preds = [build(item) for item in node[0::2]]
        joins = node[1::2]
        if len(preds) == 1:
            return preds[0]
        if len(set(joins)) > 1:
            # Zoho wants each pair parenthesised; mixing and/or at one level is ambiguous.
            raise invalid_query("invalid query formed", reason="mixed and/or without parentheses")
        if joins[0] == "and":
            return lambda g: all(p(g) for p in preds)
        return lambda g: any(p(g) for p in preds)

    return build(parse(text))
