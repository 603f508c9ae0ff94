"""Magento telephones → text that a Zoho phone field takes, for the ``phone`` transform.

Magento keeps a telephone as the customer typed it (``030/1234567``, ``(555) 123-4567``, ``+44 (0)20 7946 0958``,
``555-1234 #12``). Zoho checks phone fields against a published pattern (:data:`ZOHO_PHONE`, from the Insert
Records page of the CRM API docs): a ``+`` first, then groups of letters and digits separated by one ``.`` or ``-``
and a space, with ``,`` and ``;`` for pauses. A slash, a star, a ``#`` extension or a space before a dash fail it,
and Zoho refuses the whole contact (``INVALID_DATA``). Whether Zoho takes parentheses is not settled (its pattern
refuses them, one of its own examples has them), so they are never sent.

:func:`clean_phone` keeps a value the pattern takes as it is, and rewrites any other one: the trunk ``(0)`` after a
country code is dropped (``+44 (0)20`` and ``0044 (0)20`` are dialled without it from abroad), so is a label
(``Tel.:``), a ``#`` extension is written ``x``, of two numbers in one field only the first is kept, and every
other run of separators becomes one ``-``, one ``.`` or one space, whichever it held. Full-width forms and other
scripts' digits become ASCII. Digits and letters are kept in their order; a value without a digit (``n/a``, ``-``)
is no phone and is left out.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["ZOHO_PHONE", "clean_phone"]

#: Zoho's pattern for phone fields (CRM API v7 docs, Insert Records, "Phone"), as published.
ZOHO_PHONE: Final = re.compile(
    r"^([+]?)(?![.-])(?>(?>[.-]?[ ]?[\da-zA-Z]+)+|([ ]?((?![.-])(?>[ .-]?[\da-zA-Z]+)+)(?![.])([ -]?[\da-zA-Z]+)?)+)+"
    r"(?>(?>([,]+)?[;]?[\da-zA-Z]+)+(([#][\da-zA-Z]+)+)?)?[#;]?$",
    re.ASCII,  # Zoho's \d (Java) is 0-9 only
)

#: The usual telephone (``+49 30 1234567``, ``555-123-4567``): a part of :data:`ZOHO_PHONE`, checked 3x faster.
_PLAIN: Final = re.compile(r"\+?[0-9A-Za-z]+(?:[ .-][0-9A-Za-z]+)*", re.ASCII)
_LABEL: Final = re.compile(r"^[^0-9+:]*:")  # "Tel.:", "Mobile:" before the number
_TRUNK_ZERO: Final = re.compile(r"\(\s*0\s*\)")
_HASH_EXTENSION: Final = re.compile(r"\s*#\s*(?=[0-9A-Za-z])")
#: Where a second number starts: "030 1234567 / 030 7654321", "+44 20 7946 0958, +44 7700 900123"
_SECOND_NUMBER: Final = re.compile(r"\s*(?:[/|,;]|\b(?:or|oder|ou|o)\b)\s*(?=[+(]?[0-9])", re.IGNORECASE)
_MIN_DIGITS: Final = 6  # a part with fewer digits is an area code (030/1234567) or an extension (555-1234;12)
_GROUPS: Final = re.compile(r"[0-9A-Za-z]+")


def _ascii(text: str) -> str:
    """Full-width forms as ASCII (a full-width plus and digits → ``+81``), other scripts' digits as ASCII digits
    (``٠١٢`` → ``012``), invisible formatting characters (a left-to-right mark pasted with a number) left out."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(c)) if c.isdecimal() else c for c in text if unicodedata.category(c) != "Cf")


def _first_number(text: str) -> str:
    """The first of several numbers in one field; a slash or a comma inside one number is kept."""
    for match in _SECOND_NUMBER.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if sum(c.isdigit() for c in before) >= _MIN_DIGITS and sum(c.isdigit() for c in after) >= _MIN_DIGITS:
            return before
    return text


def _separator(between: str) -> str:
    if between in ("-", ".", " ", "- ", ". "):
        return between
    if "-" in between:
        return "-"
    if "." in between:
        return "."
    return " "


def clean_phone(text: str) -> str | None:
    """``text`` as a Zoho phone field takes it, or None when it holds no digit (see the module's docstring)."""
    text = text.strip()
    if _PLAIN.fullmatch(text) or ZOHO_PHONE.match(text):
        return text if any(c.isdigit() for c in text) else None
    text = _first_number(_LABEL.sub("", _ascii(text)))
    start = text.lstrip("( ")
    international = start.startswith("+")
    if international or start.startswith("00"):  # +44 (0)20 and 0044 (0)20 are dialled without the trunk 0
        text = _TRUNK_ZERO.sub(" ", text)
    text = _HASH_EXTENSION.sub(" x", text)
    groups = list(_GROUPS.finditer(text))
    if not any(c.isdigit() for match in groups for c in match.group()):
        return None
    parts = ["+" if international else ""]
    for i, match in enumerate(groups):
        if i:
            parts.append(_separator(text[groups[i - 1].end() : match.start()]))
        parts.append(match.group())
    return "".join(parts)
