"""Error messages translated through a store view's locale, as Magento's REST dispatcher does.

The German phrases are the simulator's own renderings (the real de_DE pack may word them differently): the
point is that a client must match on status codes and ``parameters``, never on English text.
"""

from __future__ import annotations

from typing import Any

GERMAN = {
    "The consumer isn't authorized to access %resources.": (
        "Der Consumer ist nicht berechtigt, auf %resources zuzugreifen."
    ),
    "No such entity with %fieldName = %fieldValue": "Keine Entität mit %fieldName = %fieldValue",
    '"%fieldName" is required. Enter and try again.': '"%fieldName" ist erforderlich. Eingeben und erneut versuchen.',
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.": (
        "Die Anmeldung war nicht korrekt oder Ihr Konto ist vorübergehend deaktiviert. "
        "Bitte warten Sie und versuchen Sie es später erneut."
    ),
    'The "%1" attribute name is invalid. Reset the name and try again.': (
        'Der Attributname "%1" ist ungültig. Setzen Sie den Namen zurück und versuchen Sie es erneut.'
    ),
    "Maximum SearchCriteria pageSize is %max": "Die maximale SearchCriteria-pageSize ist %max",
    "Request does not match any route.": "Die Anfrage entspricht keiner Route.",
    "Invalid code.": "Ungültiger Code.",
}
TABLES = {"de_DE": GERMAN}


def translate(body: dict[str, Any], locale: str | None) -> dict[str, Any]:
    table = TABLES.get(locale or "")
    if not table:
        return body
    out = dict(body)
    out["message"] = table.get(body["message"], body["message"])
    if "errors" in body:
        out["errors"] = [{**e, "message": table.get(e["message"], e["message"])} for e in body["errors"]]
    return out
