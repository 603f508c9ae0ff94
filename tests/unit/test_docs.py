"""The README is the contract with a newcomer: it must name every setting, command and exit code we ship."""

from __future__ import annotations

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
