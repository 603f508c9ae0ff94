"""The README is the contract with a newcomer: it must name every setting, command and exit code we ship."""

from __future__ import annotations

import itertools
from pathlib import Path

from magento_zoho_sync.cli import main
from magento_zoho_sync.settings import ENV_VARS, ORIGINAL_PROCESS_VARIABLES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_in_the_settings_table() -> None:
    for var in ENV_VARS:
        assert f"| `{var.name}` |" in README, var.name


def test_every_original_process_variable_is_mapped() -> None:
    for original in ORIGINAL_PROCESS_VARIABLES:
        assert original in README, original


def test_every_command_is_documented() -> None:
    for name in main.commands:
        assert f"magento-zoho-sync {name}" in README or f"`{name}`" in README, name


def test_the_two_quick_start_commands_are_there() -> None:
    assert "./run demo" in README and "./run test" in README


def test_the_systemd_unit_has_no_comment_after_a_value() -> None:
    """systemd takes ``#`` as a comment only at the start of a line: ``Key=value  # note`` keeps the note."""
    block = README.split("```ini", 1)[1].split("```", 1)[0]
    settings = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith(("#", ";"))]
    assert settings and all(" #" not in line for line in settings), settings
    assert any(line.startswith("ExecStart=") and "sync" in line for line in settings)


def test_every_report_key_is_listed() -> None:
    from dataclasses import fields

    from magento_zoho_sync.report import REPORT_KEYS, Counts, Failure, IdentityProblem, PlanEntry

    listed = README[README.index("Every key, in full") : README.index("`runs --json` gives each run")]
    for key in REPORT_KEYS:
        assert f"`{key}" in listed, key
    for kind in (Counts, Failure, IdentityProblem, PlanEntry):
        for field in fields(kind):
            assert f"`{field.name}`" in listed, (kind.__name__, field.name)


def test_the_zoho_refresh_limit_is_documented_where_the_readme_links() -> None:
    auth = (Path(__file__).resolve().parents[2] / "docs" / "authentication.md").read_text(encoding="utf-8")
    link = "docs/authentication.md#5-one-token-request-per-run-zohos-refresh-limit"
    assert link in README and "10 per 10 minutes per refresh token" in README
    heading = "### 5. One token request per run: Zoho's refresh limit"
    assert heading in auth  # GitHub's anchor of this heading is the link's
    assert "Access Denied" in auth and "never on disk" in auth


# ---- docs/mapping.md: the mapping reference the README links to ----------------------------------------------

MAPPING_DOC = (Path(__file__).resolve().parents[2] / "docs" / "mapping.md").read_text(encoding="utf-8")


def _table_first_cells(text: str, header: str) -> list[str]:
    """The first cell of each row of the Markdown table whose header line starts with ``header``."""
    rows = itertools.takewhile(lambda line: line.startswith("|"), text[text.index(header) :].splitlines()[2:])
    return [row.split("|")[1].strip() for row in rows]


def _github_anchor(heading: str) -> str:
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return "#" + kept.replace(" ", "-")


def test_the_readme_links_the_mapping_reference_and_lists_every_transform() -> None:
    from magento_zoho_sync.mapping_config import ARG_TRANSFORMS, TRANSFORMS

    section = README[README.index("## Mapping") : README.index("## How a run works")]
    assert "(docs/mapping.md)" in section
    for name in [*TRANSFORMS, *(f"{n}:<value>" for n in ARG_TRANSFORMS)]:
        assert f"`{name}`" in section, name


def test_every_transform_has_a_row_in_the_mapping_reference() -> None:
    from magento_zoho_sync.mapping_config import ARG_TRANSFORMS, TRANSFORMS

    rows = _table_first_cells(MAPPING_DOC, "| transform | reads | sends |")
    documented = {name.strip(" `") for row in rows for name in row.split(",")}
    assert documented == {*TRANSFORMS, *(f"{n}:<value>" for n in ARG_TRANSFORMS)}


def test_both_default_mapping_tables_are_the_code_s_default_mapping() -> None:
    from magento_zoho_sync.mapping_config import DEFAULT_MAPPING

    for text in (README, MAPPING_DOC):
        fields = [cell.strip("`") for cell in _table_first_cells(text, "| Zoho | Magento |")]
        assert fields == list(DEFAULT_MAPPING), fields
        for field, rule in DEFAULT_MAPPING.items():  # each row names the rule's path
            path = rule.split("|")[0].strip()
            row = next(line for line in text.splitlines() if line.startswith(f"| `{field}` |"))
            assert f"`{path}`" in row, (field, path)


def test_the_mapping_reference_s_contents_links_resolve() -> None:
    anchors = {_github_anchor(line.lstrip("#")) for line in MAPPING_DOC.splitlines() if line.startswith("## ")}
    links = [part.split(")", 1)[0] for part in MAPPING_DOC.split("](")[1:] if part.startswith("#")]
    assert links and set(links) <= anchors, set(links) - anchors
    assert "../README.md#mapping" in MAPPING_DOC and "## Mapping\n" in README


# ---- docs/architecture.md: the module map a contributor reads first -------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_has_a_row_in_the_architecture_map() -> None:
    """A module added without its row leaves a newcomer guessing (``magento/inputs.py`` went unlisted)."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in ("magento_zoho_sync", "magento_zoho_sims"):
        for path in sorted((ROOT / "src" / package).rglob("*.py")):
            module = path.relative_to(ROOT / "src" / package).as_posix()
            assert f"| `{module}` |" in doc, (package, module)


def test_the_sync_usage_line_names_every_flag_of_sync() -> None:
    """The usage line of "How a run works" is where a newcomer looks for a flag (``--store-moved`` was missing)."""
    usage = next(line for line in README.splitlines() if line.startswith("magento-zoho-sync sync ["))
    for param in main.commands["sync"].params:
        flag = next(opt for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-"))
        short = min(param.opts, key=len)  # -v for --verbose
        assert f"[{flag}" in usage or f"[{short}]" in usage or flag == "--help", flag
