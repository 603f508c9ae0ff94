"""The settings' problems in words: pydantic's errors said as one line per setting, naming the variable or the
config file key to fix, and the lines put together into one :class:`~magento_zoho_sync.errors.ConfigError`."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.settings_checks import QUOTES_FIX, quoted, where
from magento_zoho_sync.settings_sources import ENV_BY_SETTING, SECTIONS

_RANGE_ERRORS: Final = frozenset(
    {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "finite_number"}
)


def _range_message(loc: list[str], sections: Mapping[str, type[BaseModel]]) -> str | None:
    """ "must be between 1 and 300" from the field's own constraints."""
    model = sections.get(loc[0]) if loc else None
    field = model.model_fields.get(loc[1]) if model and len(loc) > 1 else None
    if field is None:
        return None
    low = high = None
    low_strict = False
    for item in field.metadata:
        if getattr(item, "ge", None) is not None:
            low = item.ge
        if getattr(item, "gt", None) is not None:
            low, low_strict = item.gt, True
        if getattr(item, "le", None) is not None:
            high = item.le
    if low is not None and high is not None:
        if low_strict:
            return f"must be greater than {low:g} and at most {high:g}"
        return f"must be between {low:g} and {high:g}"
    if low is not None:
        return f"must be {'greater than' if low_strict else 'at least'} {low:g}"
    if high is not None:
        return f"must be at most {high:g}"
    return None


def describe(error: Mapping[str, Any], sections: Mapping[str, type[BaseModel]]) -> str:
    """One line for one of pydantic's errors: the setting, what is wrong in a settings file's words, where to fix it."""
    loc = [str(p) for p in error["loc"]]
    setting = ".".join(loc[:2])
    var = ENV_BY_SETTING.get(setting)
    if error["type"] == "extra_forbidden":
        if len(loc) == 1:
            return f"[{loc[0]}]: unknown section in the config file (known: {', '.join(SECTIONS)})"
        model = sections.get(loc[0])
        known = list(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(loc[1], known, n=1)
        guess = f"did you mean {loc[0]}.{close[0]}? " if close else ""
        return f"{setting}: unknown setting ({guess}check the spelling in the config file)"
    if error["type"] == "missing":
        return f"{setting}: not set; {where(setting)}"
    shown = ""
    value = error.get("input")
    if var is not None and not var.secret and isinstance(value, int | float | str) and len(str(value)) <= 40:
        shown = f" (got {value!r})"
    fix = f"; {where(setting)}" if var or len(loc) >= 2 else ""
    if var is not None and not var.secret and quoted(value) and QUOTES_FIX not in str(error["msg"]):
        fix = f"; the value {QUOTES_FIX}"
    message = _range_message(loc, sections) if error["type"] in _RANGE_ERRORS else None
    message = message or _PLAIN_MESSAGES.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    return f"{setting}: {message}{shown}{fix}"


#: pydantic's messages that name Python types, in the words of a settings file.
_PLAIN_MESSAGES: Final = {
    "path_type": "must be a path (text)",
    "string_type": "must be text",
    "too_short": "must name at least one (unset it for the default)",
    "bool_parsing": "must be true or false (also 1/0, yes/no, on/off)",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "dict_type": "must be a table (a [section] of its own, with key = value lines)",
    # the one pattern, magento.store_code: a store view's code as Magento allows it
    "string_pattern_mismatch": "must be a store view code: letters, digits and underscores (Stores > All Stores)",
}


def raise_if(problems: list[str]) -> None:
    """One line per setting: the first problem found for it (``MAGENTO_PASSWORD_FILE`` missing, not also "not set")."""
    seen: set[str] = set()
    kept: list[str] = []
    for problem in problems:
        setting = problem.partition(":")[0]
        if problem.endswith(": (see zoho.region)") or setting in seen:
            continue
        seen.add(setting)
        kept.append(problem)
    if kept:
        raise ConfigError(format_problems(kept))


def format_problems(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid settings: {problems[0]}"
    return f"Invalid settings ({len(problems)} problems):\n" + "\n".join(f"  - {p}" for p in problems)
