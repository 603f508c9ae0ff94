"""Regenerate ``admin-schema-2.4.8.trimmed.json`` from Adobe's full admin schema.

Adobe publishes the Swagger 2.0 definitions of the Commerce admin REST API in GitHub AdobeDocs/commerce-webapi,
``src/openapi/admin-schema-<version>.yaml`` (about 1 MB, Apache-2.0, (c) Adobe). The tests need only the routes the
Magento simulator answers and the definitions those reference, transitively; this script keeps exactly those.

    git -C <a clone of AdobeDocs/commerce-webapi> show HEAD:src/openapi/admin-schema-2.4.8.yaml > /tmp/admin.yaml
    python tests/sims/magento/adobe_schema/trim.py /tmp/admin.yaml --commit "$(git -C <clone> rev-parse HEAD)"

To move to another release (2.4.9, ...): trim that file with ``--output`` naming it (e.g.
``admin-schema-2.4.9.trimmed.json``) and point ``SCHEMA_FILE`` in ``tests/sims/magento/adobe_swagger.py`` at it.
The input may be YAML (needs PyYAML, which openapi-spec-validator installs) or JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: Every route of ``magento_zoho_sims/magento/app.py`` (ROUTES), in the spec's spelling, with its methods.
ROUTES: dict[str, tuple[str, ...]] = {
    "/V1/integration/admin/token": ("post",),
    "/V1/tfa/provider/google/authenticate": ("post",),
    "/V1/customers/search": ("get",),
    "/V1/customers/{customerId}": ("get", "put", "delete"),
    "/V1/customerGroups/search": ("get",),
    "/V1/attributeMetadata/customer/attribute/{attributeCode}": ("get",),
    "/V1/attributeMetadata/customerAddress/attribute/{attributeCode}": ("get",),
    "/V1/store/websites": ("get",),
    "/V1/store/storeViews": ("get",),
}
DEFINITION_PREFIX = "#/definitions/"


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        loaded: dict[str, Any] = json.loads(text)
        return loaded
    import yaml  # a dev-time dependency only: the tests read the JSON this script writes

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed: dict[str, Any] = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    return parsed


def references(node: Any, found: set[str]) -> None:
    """Add the definition names ``node`` refers to (``$ref: '#/definitions/<name>'``) to ``found``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(DEFINITION_PREFIX):
                found.add(value[len(DEFINITION_PREFIX) :])
            else:
                references(value, found)
    elif isinstance(node, list):
        for item in node:
            references(item, found)


def closure(definitions: dict[str, Any], roots: set[str]) -> list[str]:
    """The definitions reachable from ``roots``, sorted by name."""
    seen: set[str] = set()
    todo = set(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        referenced: set[str] = set()
        references(definitions[name], referenced)
        todo |= referenced - seen
    return sorted(seen)


def git_blob_id(data: bytes) -> str:
    """The id git gives the file's content (``git hash-object``), to tell which version was trimmed."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def trim(spec: dict[str, Any], *, source: str, commit: str, blob: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in ROUTES.items():
        item = spec["paths"].get(path)
        if item is None:
            raise SystemExit(f"{path} is not in the source spec: update ROUTES in {Path(__file__).name}")
        missing = [m for m in methods if m not in item]
        if missing:
            raise SystemExit(f"{path} has no {missing} in the source spec")
        paths[path] = {m: item[m] for m in methods}
    roots: set[str] = set()
    references(paths, roots)
    names = closure(spec["definitions"], roots)
    used_tags = sorted({tag for item in paths.values() for op in item.values() for tag in op.get("tags", [])})
    info = dict(spec["info"])
    # The original description is a $ref to a markdown page (not valid Swagger 2.0): a plain string instead.
    info["description"] = (
        f"Trimmed copy of Adobe's {source} (AdobeDocs/commerce-webapi, commit {commit}): only the routes the "
        "Magento simulator answers and the definitions they reference. Apache-2.0, (c) Adobe; see LICENSE and "
        "NOTICE.md beside this file."
    )
    out: dict[str, Any] = {
        "swagger": spec["swagger"],
        "info": info,
        "host": spec["host"],
        "basePath": spec["basePath"],
        "schemes": spec["schemes"],
        "securityDefinitions": spec["securityDefinitions"],
        "tags": [t for t in spec.get("tags", []) if t.get("name") in used_tags],
        "paths": paths,
        "definitions": {name: spec["definitions"][name] for name in names},
        "x-trimmed-from": {
            "repository": "AdobeDocs/commerce-webapi",
            "file": f"src/openapi/{source}",
            "commit": commit,
            "blob": blob,
            "license": "Apache-2.0",
            "copyright": "Adobe",
            "script": "tests/sims/magento/adobe_schema/trim.py",
        },
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Adobe's full admin-schema-<version>.yaml (or .json)")
    parser.add_argument("--commit", required=True, help="the AdobeDocs/commerce-webapi commit the file came from")
    parser.add_argument("--output", type=Path, help="default: <source name>.trimmed.json beside this script")
    args = parser.parse_args(argv)
    source: Path = args.source
    spec = load(source)
    name = f"admin-schema-{spec['info']['version']}"
    output: Path = args.output or HERE / f"{name}.trimmed.json"
    trimmed = trim(spec, source=f"{name}.yaml", commit=args.commit, blob=git_blob_id(source.read_bytes()))
    output.write_text(json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{output}: {len(trimmed['paths'])} paths, {len(trimmed['definitions'])} definitions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
