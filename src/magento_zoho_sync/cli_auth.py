"""The ``doctor`` command and the ``auth`` group (``auth zoho-grant``); :mod:`magento_zoho_sync.cli` registers them.

``doctor`` takes the same settings flags as ``sync`` and exits 0 when every check passed, 2 otherwise.
``auth zoho-grant`` exits 0 when the refresh token was stored, 2 when nothing was (see :mod:`.grant`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from magento_zoho_sync.cli import _guard, _load, _settings_options
from magento_zoho_sync.doctor import exit_code, render, render_json, run_doctor, run_doctor_despite
from magento_zoho_sync.errors import EXIT_OK, ConfigError
from magento_zoho_sync.grant import check_destination, env_line, read_grant_code, run_grant, write_env_file
from magento_zoho_sync.redact import configure_logging, redact
from magento_zoho_sync.settings import ZOHO_REGIONS, load_zoho_client_settings

__all__ = ["auth", "doctor", "zoho_grant"]


@click.command()
@_settings_options
@click.option("--json", "as_json", is_flag=True, help="The checks as JSON instead of lines.")
@_guard
def doctor(
    *,
    config_file: Path | None,
    state_path: Path | None,
    region: str | None,
    insecure_http: bool,
    verbose: bool,
    as_json: bool,
) -> int:
    """Check the settings, both services, the credentials and the Zoho scopes, and say what to fix.

    One line per check; a failed check is followed by its fix. Magento: URL and TLS, reachability, the clock,
    the MAGENTO_AUTH mode (one login at most), reading customers. Zoho: URLs and data centre, reachability, the
    refresh token, the api_domain, each scope the sync needs, API credits. The state file: its folder, and the store
    and org it holds. Exit 0 when all pass, 2 otherwise.
    """
    configure_logging(verbose)
    try:
        settings = _load(config_file, state_path, region, insecure_http)
    except ConfigError as exc:  # still check the other service when only one's settings are wrong
        checks = run_doctor_despite(exc, lambda extra: _load(config_file, state_path, region, insecure_http, extra))
    else:
        checks = run_doctor(settings)
    click.echo(render_json(checks) if as_json else render(checks))
    return exit_code(checks)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def auth() -> None:
    """Credentials: exchange a Zoho self-client grant code for a refresh token."""


@auth.command("zoho-grant")
@click.option(
    "--grant-token",
    "grant_token",
    envvar="ZOHO_GRANT_TOKEN",
    metavar="CODE|-",
    help="The grant code from the Zoho API console (Self Client > Generate Code). '-' reads it from standard input "
    "(keeps it out of the process list); without this option it is read from ZOHO_GRANT_TOKEN or a hidden prompt.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write ZOHO_REFRESH_TOKEN=... into this file (added or replaced; the file is made owner-only, 0600).",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the ZOHO_REFRESH_TOKEN=... line on standard output.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (for the Zoho client id/secret and URLs).",
)
@click.option(
    "--region",
    type=click.Choice(list(ZOHO_REGIONS)),
    help="Zoho data centre: fills ZOHO_ACCOUNTS_URL and ZOHO_API_URL (explicit URLs win).",
)
@click.option("--insecure-http", is_flag=True, help="Allow plain http:// to hosts that are not loopback.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging (secrets are always masked).")
@_guard
def zoho_grant(
    *,
    grant_token: str | None,
    env_file: Path | None,
    to_stdout: bool,
    config_file: Path | None,
    region: str | None,
    insecure_http: bool,
    verbose: bool,
) -> int:
    """Exchange a Zoho self-client grant code for a refresh token and store it where you say.

    Needs ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and the data centre (ZOHO_REGION or the two URLs). Shows the scopes
    granted and warns about missing ones. Zoho keeps 20 refresh tokens per user and client; a 21st revokes the
    oldest silently.

    \b
    Examples:
      magento-zoho-sync auth zoho-grant --region eu --env-file ~/.config/mzsync.env
      pbpaste | magento-zoho-sync auth zoho-grant --grant-token - --env-file secrets.env
    """
    configure_logging(verbose)
    target = check_destination(env_file, to_stdout)
    overrides: dict[str, Any] = {"zoho.region": region, "network.allow_insecure_http": True if insecure_http else None}
    settings = load_zoho_client_settings(config_file, overrides)
    stdin = sys.stdin

    def ask() -> str:
        try:
            return str(click.prompt("Grant code", hide_input=True, err=True))
        except click.Abort:  # Ctrl-D or Ctrl-C at the prompt
            raise ConfigError(
                "No grant code was entered (the prompt was closed): nothing was exchanged or written. Run the "
                "command again and paste the code the API console shows."
            ) from None

    if grant_token not in (None, "-") and click.get_current_context().get_parameter_source("grant_token") is (
        click.core.ParameterSource.COMMANDLINE
    ):
        click.echo(
            "warning: a grant code given on the command line is visible in the process list (and the shell "
            "history) until it is used; `--grant-token -` or the prompt keep it out.",
            err=True,
        )
    code = read_grant_code(grant_token, stdin_text=stdin.read, prompt=ask if stdin.isatty() else None)
    outcome = run_grant(settings, code)
    token = outcome.result.refresh_token
    if target is not None:
        try:
            replaced = write_env_file(target, token)
        except (OSError, UnicodeDecodeError) as exc:  # checked before the exchange; the disk filled since, say
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ConfigError(
                f"Zoho issued a refresh token, but it could not be written to {target} ({why}); it was not stored "
                "anywhere, and the grant code is used up.",
                hint="Fix the file or its disk (or use --stdout), make a new grant code and run this again. The "
                "unstored token is harmless: it was never shown, and Zoho drops the oldest once a user and client "
                "hold 20.",
            ) from None
        how = "replaced the ZOHO_REFRESH_TOKEN line in" if replaced else "added ZOHO_REFRESH_TOKEN to"
        click.echo(f"Refresh token stored: {how} {target} (readable by you only, mode 0600).", err=True)
    else:
        click.echo(env_line(token))  # the one place a secret is printed, because the user asked for it
    for note in outcome.notes:
        click.echo(redact(note), err=True)
    for warning in outcome.warnings:
        click.echo(f"warning: {redact(warning)}", err=True)
    if target is not None:
        click.echo(
            f"Load it before a sync, e.g. `set -a; . {target}; set +a`, or pass it to systemd (EnvironmentFile=) "
            "or Docker (--env-file).",
            err=True,
        )
    return EXIT_OK
