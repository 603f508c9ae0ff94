"""The URL-encoded forms of a secret, as regular expressions for :mod:`magento_zoho_sync.redact`.

A server or a proxy echoing a URL or a form body may have encoded a secret otherwise than ``quote`` does:

- with lowercase hex digits (``%2f``: RFC 3986 §2.1 makes the case of the digits meaningless), or a mix;
- ``+`` for a space (form bodies), or ``%20``;
- only some characters encoded: ``quote``'s default leaves ``/``, a browser's form encoding leaves ``*`` and
  encodes ``~``, JavaScript's ``encodeURIComponent`` leaves ``!'()*``.

So each character other than an ASCII letter or digit matches as it is or percent-encoded (its UTF-8 bytes,
hex digits in either case), and a space as ``+`` too. ASCII letters and digits are never encoded and match only
as they are: the secret itself stays case-sensitive.
"""

from __future__ import annotations

import re


def _percent_encoded(byte: int) -> str:
    """``%2F`` as a pattern that matches ``%2F``, ``%2f`` and the other cases of its hex digits."""
    return "%" + "".join(digit if digit.isdigit() else f"[{digit}{digit.lower()}]" for digit in f"{byte:02X}")


def _char_forms(char: str) -> tuple[list[str], int]:
    """The patterns one character of a secret may be written as, and the length of the longest."""
    if char.isascii() and char.isalnum():
        return [char], 1
    data = char.encode("utf-8", "surrogatepass")  # a lone surrogate (an undecodable environment variable) too
    # the encoded form first: a secret holding "%" ("ab%") written "ab%25" is then masked whole, not up to "%"
    forms = ["".join(_percent_encoded(byte) for byte in data), re.escape(char)]
    if char == " ":
        forms.append(r"\+")
    return forms, 3 * len(data)


def url_encoded_forms(raw: str) -> dict[str, int]:
    """Patterns matching ``raw`` as it is and URL-encoded in every way above → the longest text they match.

    The first character's forms are separate patterns, so that each starts with a literal character: the
    registry's alternation is then scanned for its first characters only, as with plain strings.
    """
    chars = [_char_forms(char) for char in raw]
    tail = "".join(forms[0] if len(forms) == 1 else "(?:" + "|".join(forms) + ")" for forms, _ in chars[1:])
    longest = sum(length for _, length in chars)
    return {first + tail: longest for first in chars[0][0]}
