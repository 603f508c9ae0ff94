"""Which granted Zoho OAuth scopes cover which needed ones (``ZohoCRM.modules.ALL`` covers ``…contacts.CREATE``)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["lacking_scopes", "scope_covers"]


def scope_covers(held: str, needed: str) -> bool:
    """Whether a granted scope covers a needed one (``ZohoCRM.modules.ALL`` covers ``…contacts.CREATE``)."""
    have, want = held.strip().lower().split("."), needed.strip().lower().split(".")
    if len(have) < 2 or len(want) < 2 or want[: len(have) - 1] != have[:-1]:
        return False
    return have[-1] in ("all", want[-1]) or (have[-1] == "write" and want[-1] in ("create", "update", "delete"))


def lacking_scopes(needed: str, held: Sequence[str]) -> str:
    """The scopes of ``needed`` (space-separated) that ``held`` does not cover; all of them when the token's scopes
    are unknown (Zoho did not list them) or seem to cover everything (then Zoho wants one we do not know of)."""
    wanted = needed.split()
    missing = [scope for scope in wanted if not any(scope_covers(h, scope) for h in held)]
    return " ".join(missing or wanted) if held else needed
