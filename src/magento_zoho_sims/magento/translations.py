"""Error messages translated through a store view's locale, as Magento's REST dispatcher does.

The German and Japanese phrases are the simulator's own renderings (the real language packs may word them
differently): the point is that a client must match on status codes and ``parameters``, never on English text.
The Japanese ones hold no English word at all (the German "Route" of a route 404 is the English word too).
"""

from __future__ import annotations

from typing import Any

GERMAN = {
    "The consumer isn't authorized to access %resources.": (
        "Der Consumer ist nicht berechtigt, auf %resources zuzugreifen."
    ),
    "No such entity with %fieldName = %fieldValue": "Keine Entität mit %fieldName = %fieldValue",
    "No such entity with %fieldName = %fieldValue, %field2Name = %field2Value": (
        "Keine Entität mit %fieldName = %fieldValue, %field2Name = %field2Value"
    ),
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
JAPANESE = {
    "The consumer isn't authorized to access %resources.": (
        "コンシューマーには %resources へのアクセス権限がありません。"
    ),
    "No such entity with %fieldName = %fieldValue": "%fieldName = %fieldValue のエンティティは存在しません",
    "No such entity with %fieldName = %fieldValue, %field2Name = %field2Value": (
        "%fieldName = %fieldValue, %field2Name = %field2Value のエンティティは存在しません"
    ),
    '"%fieldName" is required. Enter and try again.': '"%fieldName" は必須です。入力して再試行してください。',
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.": (
        "サインインが正しくないか、アカウントが一時的に無効になっています。しばらくしてから再試行してください。"
    ),
    'The "%1" attribute name is invalid. Reset the name and try again.': (
        '属性名 "%1" は無効です。名前をリセットして再試行してください。'
    ),
    "Maximum SearchCriteria pageSize is %max": "SearchCriteria の pageSize の上限は %max です",
    "Request does not match any route.": "リクエストに一致するルートがありません。",
    "Invalid code.": "無効なコードです。",
}
TABLES = {"de_DE": GERMAN, "ja_JP": JAPANESE}


def translate(body: dict[str, Any], locale: str | None) -> dict[str, Any]:
    table = TABLES.get(locale or "")
    if not table:
        return body
    out = dict(body)
    out["message"] = table.get(body["message"], body["message"])
    if "errors" in body:
        out["errors"] = [{**e, "message": table.get(e["message"], e["message"])} for e in body["errors"]]
    return out
