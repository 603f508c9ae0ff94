"""The COQL subset a sync needs: ``select … from Contacts [where …] [order by …] [limit [o,]n | limit n offset o]``.

Comparators ``= != < > <= >= like, not like, in, not in, is null, is not null``; conditions combine with
``and``/``or`` and, as in Zoho, more than two conditions must be parenthesised in pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from magento_zoho_sims.zoho.errors import ZohoError
from magento_zoho_sims.zoho.fields import FieldSpec

MAX_SELECT_FIELDS = 50
MAX_WHERE_CONDITIONS = 25
MAX_IN_VALUES = 100

#: How a quote is written inside a string literal [UNVERIFIED: Zoho's COQL pages do not say]: ``\'`` (backslash),
#: ``''`` (doubled, as in SQL) or either.
QuoteEscape = Literal["backslash", "doubled", "both"]
_STRINGS: dict[str, str] = {
    "backslash": r"'(?:[^'\\]|\\.)*'",
    "doubled": r"'(?:[^']|'')*'",
    "both": r"'(?:[^'\\]|\\.|'')*'",
}
_TOKENS = {
    escape: re.compile(
        rf"\s*(?:(?P<str>{string})|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>!=|>=|<=|=|<|>)"
        r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_$][\w$.]*))"
    )
    for escape, string in _STRINGS.items()
}
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "is",
    "null",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "offset",
}

Getter = Callable[[str], Any]


@dataclass
class Cond:
    field: str
    op: str  # = != < > <= >= like "not like" in "not in" "is null" "is not null"
    values: list[Any] = dc_field(default_factory=list)


@dataclass
class Query:
    fields: list[str]
    module: str
    where: Any  # Cond | tuple[str, Any, Any] ("and"/"or", left, right) | None
    order_by: list[tuple[str, bool]]  # (field, descending)
    limit: int
    offset: int


def syntax_error(near: str, column: int = 1) -> ZohoError:
    """Where the query went wrong: line, column (1-based) and the text near it (OAS coql.json Parse_Error_Details)."""
    details = {"line": 1, "column": column, "near": near}
    return ZohoError(400, "SYNTAX_ERROR", "error occured while parsing the query", details)


def _tokens(text: str, escape: QuoteEscape, starts: list[int] | None = None) -> list[tuple[str, str]]:
    """The tokens of ``text`` (stripped); their offsets are appended to ``starts`` if given."""
    token = _TOKENS[escape]
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = token.match(text, pos)
        if match is None or match.end() == pos:
            raise syntax_error(text[pos : pos + 20], pos + 1)
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        if starts is not None:
            starts.append(pos)
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str, escape: QuoteEscape = "both") -> None:
        self.escape = escape
        self.text = text.strip()
        self.starts: list[int] = []
        self.toks = _tokens(text, escape, self.starts)
        self.pos = 0
        self.conditions = 0

    def error(self, near: str) -> ZohoError:
        """A syntax error at the current token, or the one just taken if ``near`` is its text."""
        index = self.pos - 1 if 0 < self.pos <= len(self.toks) and self.toks[self.pos - 1][1] == near else self.pos
        column = self.starts[index] + 1 if index < len(self.starts) else len(self.text) + 1
        return syntax_error(near, column)

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.toks[index] if index < len(self.toks) else ("end", "")

    def word(self, offset: int = 0) -> str:
        kind, value = self.peek(offset)
        return value.lower() if kind == "word" else ""

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "end":
            raise self.error("end of query")
        self.pos += 1
        return tok

    def keyword(self, word: str) -> None:
        if self.word() != word:
            raise self.error(self.peek()[1] or "end of query")
        self.pos += 1

    def identifier(self) -> str:
        kind, value = self.take()
        if kind != "word" or value.lower() in _KEYWORDS:
            raise self.error(value)
        return value

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            inner = value[1:-1]
            if self.escape != "backslash":
                inner = inner.replace("''", "'")
            return inner if self.escape == "doubled" else inner.replace("\\'", "'")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "word" and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if kind == "word" and value.lower() == "null":
            return None
        raise self.error(value)

    def query(self) -> Query:
        self.keyword("select")
        fields = [self.identifier()]
        while self.peek() == ("punct", ","):
            self.pos += 1
            fields.append(self.identifier())
        self.keyword("from")
        module = self.identifier()
        where = None
        if self.word() == "where":
            self.pos += 1
            where = self.condition()
        order: list[tuple[str, bool]] = []
        if self.word() == "order":
            self.pos += 1
            self.keyword("by")
            while True:
                name = self.identifier()
                desc = False
                if self.word() in {"asc", "desc"}:
                    desc = self.take()[1].lower() == "desc"
                order.append((name, desc))
                if self.peek() != ("punct", ","):
                    break
                self.pos += 1
        limit, offset = 200, 0
        if self.word() == "limit":
            self.pos += 1
            first = self.literal()
            if self.peek() == ("punct", ","):
                self.pos += 1
                offset, limit = first, self.literal()
            else:
                limit = first
                if self.word() == "offset":
                    self.pos += 1
                    offset = self.literal()
            if not isinstance(limit, int) or not isinstance(offset, int) or limit < 1 or offset < 0:
                raise self.error("limit")
        if self.peek()[0] != "end":
            raise self.error(self.peek()[1])
        return Query(fields, module, where, order, limit, offset)

    def condition(self) -> Any:
        left = self.term()
        if self.word() in {"and", "or"}:
            join = self.take()[1].lower()
            right = self.term()
            if self.word() in {"and", "or"}:
                raise self.error(self.peek()[1])  # three conditions at one level: Zoho wants them paired
            return (join, left, right)
        return left

    def term(self) -> Any:
        if self.peek() == ("punct", "("):
            self.pos += 1
            node = self.condition()
            if self.take() != ("punct", ")"):
                raise self.error(")")
            return node
        name = self.identifier()
        self.conditions += 1
        if self.conditions > MAX_WHERE_CONDITIONS:
            raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"clause": "where", "limit": MAX_WHERE_CONDITIONS})
        kind, value = self.peek()
        if kind == "op":
            self.pos += 1
            return Cond(name, value, [self.literal()])
        word = self.word()
        negate = False
        if word == "not":
            negate = True
            self.pos += 1
            word = self.word()
        if word == "like":
            self.pos += 1
            return Cond(name, "not like" if negate else "like", [self.literal()])
        if word == "in":
            self.pos += 1
            if self.take() != ("punct", "("):
                raise self.error("in")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.pos += 1
                values.append(self.literal())
            if self.take() != ("punct", ")"):
                raise self.error(")")
            if len(values) > MAX_IN_VALUES:
                raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"operator": "in", "limit": MAX_IN_VALUES})
            return Cond(name, "not in" if negate else "in", values)
        if word == "is" and not negate:
            self.pos += 1
            is_not = self.word() == "not"
            if is_not:
                self.pos += 1
            self.keyword("null")
            return Cond(name, "is not null" if is_not else "is null")
        raise self.error(value or "end of query")


def parse(
    text: str, specs: dict[str, FieldSpec], *, max_rows: int, max_reachable: int, escape: QuoteEscape = "both"
) -> Query:
    query = _Parser(text, escape).query()
    if query.module != "Contacts":
        raise ZohoError(
            400, "INVALID_QUERY", "invalid query formed", {"reason": "invalid module", "module": query.module}
        )
    if len(query.fields) > MAX_SELECT_FIELDS:
        raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"clause": "select", "limit": MAX_SELECT_FIELDS})
    if len(set(query.fields)) != len(query.fields):
        raise ZohoError(401, "DUPLICATE_DATA", "duplicate data", {"clause": "select"})  # the doc lists 401 here
    for name in [*query.fields, *(n for n, _ in query.order_by), *_cond_fields(query.where)]:
        if name not in specs:
            raise ZohoError(
                400,
                "INVALID_QUERY",
                "invalid query formed",
                {"column_name": name, "reason": "column given seems to be invalid"},
            )
    if query.limit > max_rows:
        raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"clause": "limit", "limit": max_rows})
    if query.offset + query.limit > max_reachable:
        raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded", {"clause": "offset", "limit": max_reachable})
    return query


def _cond_fields(node: Any) -> list[str]:
    if node is None:
        return []
    if isinstance(node, Cond):
        return [node.field]
    return [*_cond_fields(node[1]), *_cond_fields(node[2])]


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("%")) + "$", re.IGNORECASE | re.DOTALL)


def compile_where(node: Any, *, case_sensitive_fields: frozenset[str]) -> Callable[[Getter], bool]:
    if node is None:
        return lambda g: True
    if not isinstance(node, Cond):
        left = compile_where(node[1], case_sensitive_fields=case_sensitive_fields)
        right = compile_where(node[2], case_sensitive_fields=case_sensitive_fields)
        if node[0] == "and":
            return lambda g: left(g) and right(g)
        return lambda g: left(g) or right(g)
    name, op = node.field, node.op
    fold = name not in case_sensitive_fields

    def norm(value: Any) -> Any:
        if name == "id" and isinstance(value, str) and value.isdigit():
            return int(value)  # record ids are bigints that travel as strings
        return value.lower() if fold and isinstance(value, str) else value

    values = [norm(v) for v in node.values]
    if op == "is null":
        return lambda g: g(name) in (None, "", [])
    if op == "is not null":
        return lambda g: g(name) not in (None, "", [])
    if op in {"like", "not like"}:
        pattern = _like(str(node.values[0]))
        hit = op == "like"
        return lambda g: isinstance(v := g(name), str) and (pattern.match(v) is not None) == hit
    if op in {"in", "not in"}:
        wanted = set(values)
        inside = op == "in"
        return lambda g: (v := g(name)) is not None and (norm(v) in wanted) == inside
    target = values[0]

    def compare(g: Getter) -> bool:
        value = g(name)
        if value is None:
            return False
        value = norm(value)
        try:
            if op == "=":
                return bool(value == target)
            if op == "!=":
                return bool(value != target)
            if op == ">":
                return bool(value > target)
            if op == "<":
                return bool(value < target)
            if op == ">=":
                return bool(value >= target)
            return bool(value <= target)
        except TypeError:
            return False

    return compare


def exact_candidates(node: Any, indexed: frozenset[str]) -> tuple[str, list[Any]] | None:
    """An indexed field constrained by ``=`` or ``in`` at the top of an and-chain, to avoid a full scan."""
    if node is None:
        return None
    if isinstance(node, Cond):
        if node.field in indexed and node.op in {"=", "in"} and all(isinstance(v, str) for v in node.values):
            return node.field, list(node.values)
        return None
    if node[0] == "and":
        return exact_candidates(node[1], indexed) or exact_candidates(node[2], indexed)
    return None
