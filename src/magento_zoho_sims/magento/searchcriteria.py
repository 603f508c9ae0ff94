"""``searchCriteria[...]`` from a GET query string, as PHP's ``parse_str`` + ``ServiceInputProcessor`` read it.

Keys are accepted in snake_case or camelCase (Magento turns either into an UpperCamel getter name), indices
may be sparse (order of appearance counts), a missing ``searchCriteria`` is a 400, an unknown key is a PHP
``LogicException`` (a masked 500), and bad integers are 400s with a rendered message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from magento_zoho_sims.magento.errors import MagentoError, internal_error, required

_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_SORT_FIELD_OK = re.compile(r"^[A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Filter:
    field: str | None
    value: str | None
    condition_type: str | None  # as sent; None or "" means "eq"

    @property
    def op(self) -> str:
        return self.condition_type or "eq"  # case-sensitive, as the MySQL adapter's array keys

    def echo(self) -> dict[str, Any]:
        # Filter::getField()/getValue() are declared "@return string" (no |null), so DataObjectProcessor emits
        # them even when not sent, as null; getConditionType() answers "eq" when unset.
        return {"field": self.field, "value": self.value, "condition_type": self.condition_type or "eq"}


@dataclass(frozen=True)
class SortOrder:
    field: str | None
    direction: str | None  # upper-cased "ASC"/"DESC", or None when not sent (which sorts DESC)

    @property
    def ascending(self) -> bool:
        return self.direction == "ASC"

    def echo(self) -> dict[str, Any]:
        # SortOrder::getField()/getDirection() are "@return string": emitted as null when not sent
        return {"field": self.field, "direction": self.direction}


@dataclass(frozen=True)
class SearchCriteria:
    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] | None = None
    page_size: int | None = None
    current_page: int | None = None

    def echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "filter_groups": [{"filters": [f.echo() for f in g]} if g else [] for g in self.filter_groups]
        }
        if self.sort_orders is not None:
            out["sort_orders"] = [s.echo() for s in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
        if self.current_page is not None:
            out["current_page"] = self.current_page
        return out

    def with_page_size(self, size: int) -> SearchCriteria:
        return SearchCriteria(self.filter_groups, self.sort_orders, size, self.current_page)


def parse_php_query(query: str) -> dict[str, Any]:
    """PHP ``parse_str``: ``+`` and ``%XX`` decoded, ``a[b][c]=v`` nested, ``a[]`` appended, last one wins."""
    result: dict[str, Any] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        bracket = key.find("[")
        if bracket == 0:
            continue
        if bracket < 0:
            name, rest = key, ""
        else:
            name, rest = key[:bracket], key[bracket:]
        name = name.lstrip(" ").replace(" ", "_").replace(".", "_")
        segments: list[str] = []
        while rest.startswith("["):
            close = rest.find("]")
            if close < 0:
                break
            segments.append(rest[1:close])
            rest = rest[close + 1 :]
        target: dict[str, Any] = result
        path = [name, *segments]
        for index, raw_segment in enumerate(path):
            segment = raw_segment
            if segment == "" and index > 0:
                segment = str(sum(1 for k in target if k.isdigit()))
            if index == len(path) - 1:
                target[segment] = value
            else:
                child = target.get(segment)
                if not isinstance(child, dict):
                    child = target[segment] = {}
                target = child
    return result


def _upper_camel(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def _type_error(key: str, value: Any, expected: str) -> MagentoError:
    shown = value if isinstance(value, str) else "Array"
    return MagentoError(
        400,
        f'Error occurred during "{key}" processing. The "{shown}" value\'s type is invalid. '
        f'The "{expected}" type was expected. Verify and try again.',
    )


def _int(key: str, value: Any) -> int:
    if not isinstance(value, str) or not _NUMERIC.match(value):
        raise _type_error(key, value, "int")
    return int(float(value))


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _type_error(key, value, "string")
    return value


def _unknown(owner: str, key: str, developer_mode: bool) -> MagentoError:
    getter = "get" + _upper_camel(key)
    return internal_error(
        f'Property "{_upper_camel(key)}" does not have accessor method "{getter}" in class "{owner}".',
        developer_mode=developer_mode,
    )


def _filter(raw: Any, developer_mode: bool) -> Filter:
    if not isinstance(raw, dict):
        raise _type_error("filters", raw, "\\Magento\\Framework\\Api\\Filter")
    field = value = condition = None
    for key, item in raw.items():
        name = _upper_camel(key)
        if name == "Field":
            field = _string(key, item)
        elif name == "Value":
            value = _string(key, item)
        elif name == "ConditionType":
            condition = _string(key, item)
        else:
            raise _unknown("Magento\\Framework\\Api\\Filter", key, developer_mode)
    return Filter(field, value, condition)


def _group(raw: Any, developer_mode: bool) -> tuple[Filter, ...]:
    if not isinstance(raw, dict):
        raise _type_error("filter_groups", raw, "\\Magento\\Framework\\Api\\Search\\FilterGroup")
    filters: tuple[Filter, ...] = ()
    for key, item in raw.items():
        if _upper_camel(key) != "Filters":
            raise _unknown("Magento\\Framework\\Api\\Search\\FilterGroup", key, developer_mode)
        if not isinstance(item, dict):
            raise _type_error(key, item, "\\Magento\\Framework\\Api\\Filter[]")
        filters = tuple(_filter(f, developer_mode) for f in item.values())
    return filters


def _sort(raw: Any, developer_mode: bool) -> SortOrder:
    if not isinstance(raw, dict):
        raise _type_error("sort_orders", raw, "\\Magento\\Framework\\Api\\SortOrder")
    field = direction = None
    for key, item in raw.items():
        name = _upper_camel(key)
        if name == "Field":
            field = _string(key, item)
            if not _SORT_FIELD_OK.match(field):
                raise MagentoError(400, "Sort order field %1 contains restricted symbols", [field])
        elif name == "Direction":
            direction = _string(key, item).upper()
            if direction not in ("ASC", "DESC"):
                raise MagentoError(
                    400,
                    "The sort order has to be specified as %1 for ascending order or %2 for descending order.",
                    ["ASC", "DESC"],
                )
        else:
            raise _unknown("Magento\\Framework\\Api\\SortOrder", key, developer_mode)
    return SortOrder(field, direction)


def criteria_from_params(params: dict[str, Any], *, developer_mode: bool = False) -> SearchCriteria:
    """Build the criteria from parsed query parameters (``parse_php_query``)."""
    if "searchCriteria" not in params:
        raise required("searchCriteria")
    raw = params["searchCriteria"]
    if not isinstance(raw, dict):
        return SearchCriteria()
    groups: tuple[tuple[Filter, ...], ...] = ()
    sorts: tuple[SortOrder, ...] | None = None
    page_size = current_page = None
    for key, item in raw.items():
        name = _upper_camel(key)
        if name == "FilterGroups":
            if not isinstance(item, dict):
                raise _type_error(key, item, "\\Magento\\Framework\\Api\\Search\\FilterGroup[]")
            groups = tuple(_group(g, developer_mode) for g in item.values())
        elif name == "SortOrders":
            if not isinstance(item, dict):
                raise _type_error(key, item, "\\Magento\\Framework\\Api\\SortOrder[]")
            sorts = tuple(_sort(s, developer_mode) for s in item.values())
        elif name == "PageSize":
            page_size = _int(key, item)
        elif name == "CurrentPage":
            current_page = _int(key, item)
        else:
            raise _unknown("Magento\\Framework\\Api\\SearchCriteria", key, developer_mode)
    return SearchCriteria(groups, sorts, page_size, current_page)


def parse_search_criteria(query: str, *, developer_mode: bool = False) -> SearchCriteria:
    return criteria_from_params(parse_php_query(query), developer_mode=developer_mode)


def parse_fields(spec: str) -> dict[str, Any]:
    """The ``fields=items[id,email],total_count`` projection as a tree (``{}`` leaf = keep all)."""
    tree: dict[str, Any] = {}
    stack = [tree]
    name = ""
    for char in spec + ",":
        if char == "[":
            child: dict[str, Any] = {}
            stack[-1][name.strip()] = child
            stack.append(child)
            name = ""
        elif char in ",]":
            if name.strip():
                stack[-1][name.strip()] = {}
            name = ""
            if char == "]" and len(stack) > 1:
                stack.pop()
        else:
            name += char
    return tree


def project(data: Any, tree: dict[str, Any]) -> Any:
    """Apply a ``parse_fields`` tree to a response (lists are projected element by element)."""
    if not tree:
        return data
    if isinstance(data, list):
        return [project(item, tree) for item in data]
    if isinstance(data, dict):
        return {k: project(v, tree[k]) for k, v in data.items() if k in tree}
    return data
