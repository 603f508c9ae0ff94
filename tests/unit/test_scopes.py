"""Least privilege: the scopes users are told to grant (README, docs, ``doctor``, ``auth zoho-grant``) are exactly
those of the Zoho calls the tool really makes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from magento_zoho_sync.doctor_zoho import needed_scopes
from magento_zoho_sync.zoho.client import ZohoClient
from magento_zoho_sync.zoho.records import SCOPES
from magento_zoho_sync.zoho.scopes import lacking_scopes

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "src" / "magento_zoho_sync"
CLIENT = PRODUCT / "zoho" / "client.py"


def client_operations() -> set[str]:
    """The ``operation="..."`` each request of the Zoho client names (the key of its scopes)."""
    tree = ast.parse(CLIENT.read_text(encoding="utf-8"))
    return {
        keyword.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "operation"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    }


def product_calls(name: str) -> list[Path]:
    """The product's modules, the Zoho client aside, that call a method of this name."""
    pattern = re.compile(rf"\.{re.escape(name)}\(")
    return [path for path in PRODUCT.rglob("*.py") if path != CLIENT and pattern.search(path.read_text("utf-8"))]


def test_every_operation_with_scopes_is_a_request_the_client_makes_and_back() -> None:
    assert set(SCOPES) == client_operations()


def test_every_operation_with_scopes_is_called_by_the_sync_or_the_doctor() -> None:
    for operation in SCOPES:
        assert callable(getattr(ZohoClient, operation, None)), operation  # the method that makes the request
        assert product_calls(operation), f"nothing calls ZohoClient.{operation}: drop it and its scopes"


def test_the_scopes_asked_for_are_exactly_those_of_the_calls() -> None:
    of_calls = {scope for scopes in SCOPES.values() for scope in scopes.split()}
    assert {need.scope for need in needed_scopes()} == of_calls  # what auth zoho-grant checks
    assert {need.scope for need in needed_scopes("tag")} | {"ZohoCRM.modules.contacts.DELETE"} == of_calls


def test_the_docs_ask_for_the_scopes_the_doctor_checks() -> None:
    always = {need.scope for need in needed_scopes("ignore") if need.only_for is None}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [listed] = re.findall(r"Scopes: `([^`]+)`", readme)
    assert set(listed.split(",")) == always
    guide = (ROOT / "docs" / "authentication.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(ZohoCRM\.[^`]+)` \|", guide, flags=re.MULTILINE))
    assert table == {need.scope for need in needed_scopes()}
    assert ",".join(listed.split(",")) in guide  # the box to paste into the self-client
    for optional in table - always:
        assert optional in readme, optional


def test_a_scope_error_names_only_the_scopes_the_token_lacks() -> None:
    needed = "ZohoCRM.modules.contacts.CREATE ZohoCRM.modules.contacts.UPDATE"
    held = ("ZohoCRM.modules.contacts.READ", "ZohoCRM.modules.contacts.UPDATE")
    assert lacking_scopes(needed, held) == "ZohoCRM.modules.contacts.CREATE"
    coql = "ZohoCRM.coql.READ ZohoCRM.modules.contacts.READ ZohoCRM.settings.fields.READ"
    assert lacking_scopes(coql, ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.settings.fields.READ")) == "ZohoCRM.coql.READ"
    assert lacking_scopes(needed, ()) == needed  # Zoho did not list the token's scopes: name them all
    assert lacking_scopes(needed, ("ZohoCRM.modules.ALL",)) == needed  # Zoho wants one more: name them all
