"""The org's one user: the one every token acts as (record owner, creator, modifier)."""

from __future__ import annotations

CURRENT_USER: dict[str, str] = {
    "name": "Patricia Boyle",
    "id": "5843104000000425001",
    "email": "patricia.boyle@zylker.example",
}

USER_REF = {"name": CURRENT_USER["name"], "id": CURRENT_USER["id"]}  # shared: only ever serialised
