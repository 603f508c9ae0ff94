"""The simulators and the product are independent implementations: neither imports the other, except the
product's ``demo`` command, which starts the simulators. A bug in one can then never hide a bug in the other."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_simulators_never_import_the_product() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in (SRC / "magento_zoho_sims").rglob("*.py")
        if any(name.split(".")[0] == "magento_zoho_sync" for name in imported_modules(path))
    ]
    assert offenders == []


def test_the_product_imports_the_simulators_only_in_demo() -> None:
    importers = sorted(
        str(path.relative_to(SRC))
        for path in (SRC / "magento_zoho_sync").rglob("*.py")
        if any(name.split(".")[0] == "magento_zoho_sims" for name in imported_modules(path))
    )
    assert importers == ["magento_zoho_sync/demo.py"]
