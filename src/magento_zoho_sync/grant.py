"""``magento-zoho-sync auth zoho-grant``: a Zoho self-client grant code → a refresh token, stored where asked.

The companion of the original process: in the Zoho API console (Self Client > Generate Code) the user picks the
scopes and gets a grant code that works once, for a few minutes. This exchanges it (``grant_type=
authorization_code``), shows the scopes granted, warns about the ones the sync needs and did not get, and writes
the refresh token **only** where the user says:

* ``--env-file PATH``: a ``ZOHO_REFRESH_TOKEN=…`` line is added to the file, or replaces the one already there;
  the file is written atomically and ends up owner-only (0600), whatever its mode was;
* ``--stdout``: the ``ZOHO_REFRESH_TOKEN=…`` line goes to standard output (everything else to standard error).

With neither, nothing is exchanged: a grant code is single-use, so the destination is checked first. The code
itself can come from standard input (``--grant-token -``), the ``ZOHO_GRANT_TOKEN`` variable, or a hidden prompt,
so that it need not appear in the process list or the shell history.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
from pydantic import SecretStr

from magento_zoho_sync.doctor_zoho import missing_scopes, needed_scopes
from magento_zoho_sync.errors import ConfigError
from magento_zoho_sync.redact import register_secret
from magento_zoho_sync.settings import ZohoClientSettings
from magento_zoho_sync.zoho.auth import ApiDomainMismatch, GrantResult, check_api_domain, exchange_grant_token

__all__ = [
    "ENV_NAME",
    "REFRESH_LIMIT_WARNING",
    "GrantOutcome",
    "check_destination",
    "env_line",
    "read_grant_code",
    "run_grant",
    "write_env_file",
]

ENV_NAME = "ZOHO_REFRESH_TOKEN"
REFRESH_LIMIT_WARNING = (
    "Zoho keeps at most 20 refresh tokens per user and client: creating a 21st silently revokes the oldest one, "
    "and whatever used it starts failing with invalid_code. Do not generate tokens in a loop; reuse this one."
)
_LINE = re.compile(rf"^(\s*(?:export\s+)?){ENV_NAME}\s*=")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._~+/=-]+$")


def read_grant_code(value: str | None, *, stdin_text: Callable[[], str], prompt: Callable[[], str] | None) -> SecretStr:
    """The grant code from ``--grant-token`` (``-``: standard input), or a hidden prompt when there is none.

    ``prompt`` is given when standard input is a terminal: then ``-`` prompts too, instead of waiting silently
    for an end of file the user does not know to type.
    """
    if value == "-" and prompt is not None:
        raw = prompt()
    elif value == "-":
        raw = stdin_text()
    elif value:
        raw = value
    elif prompt is not None:
        raw = prompt()
    elif os.environ.get("ZOHO_GRANT_TOKEN_FILE"):
        # every other variable has a _FILE form: this one's absence must not look like a missing code
        raise ConfigError(
            "No grant code: ZOHO_GRANT_TOKEN_FILE is not read (a grant code works once, for a few minutes: it has "
            "no _FILE form). Pass the file on standard input instead: --grant-token - < FILE.",
            hint="Or set ZOHO_GRANT_TOKEN, or give --grant-token CODE.",
        )
    else:
        raise ConfigError(
            "No grant code: pass --grant-token CODE, --grant-token - (read from standard input) or set "
            "ZOHO_GRANT_TOKEN.",
            hint="Generate one in the Zoho API console: Self Client > Generate Code.",
        )
    code = raw.strip()
    if not code or any(ch.isspace() for ch in code):
        raise ConfigError("The grant code is empty or contains spaces; paste exactly the code the API console shows.")
    register_secret(code)
    return SecretStr(code)


def check_destination(env_file: Path | None, to_stdout: bool) -> Path | None:
    """Refuse before the exchange when there is nowhere (or nowhere usable) to put the refresh token."""
    if env_file is None and not to_stdout:
        raise ConfigError(
            "Say where the refresh token goes, with --env-file PATH (created readable by you only) or --stdout.",
            hint="Nothing was exchanged; the grant code is still usable for a few minutes.",
        )
    if env_file is not None and to_stdout:
        raise ConfigError("Choose one destination: --env-file PATH or --stdout, not both.")
    if env_file is None:
        return None
    target = env_file.expanduser().resolve()
    if target.exists() and not target.is_file():
        raise ConfigError(f"--env-file {env_file} is not a regular file.")
    if not target.parent.is_dir():
        raise ConfigError(f"--env-file {env_file}: the folder {target.parent} does not exist.")
    if not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.R_OK | os.W_OK)):
        read_only_disk = bool(os.statvfs(target.parent).f_flag & os.ST_RDONLY)
        why = "its file system is mounted read-only" if read_only_disk else "this user may not write it"
        raise ConfigError(f"--env-file {env_file} cannot be written: {why}.", hint="Nothing was exchanged.")
    # what the write after the exchange needs, tried before it: the grant code works once
    try:
        if target.exists():
            target.read_text(encoding="utf-8")
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except UnicodeDecodeError:
        raise ConfigError(
            f"--env-file {env_file} is not UTF-8 text, so its ZOHO_REFRESH_TOKEN line cannot be added or replaced.",
            hint="Give a new file, or convert this one to UTF-8. Nothing was exchanged.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"--env-file {env_file} cannot be written: {exc.strerror or exc} (in {target.parent}).",
            hint="Choose a file on a writable disk with free space. Nothing was exchanged.",
        ) from None
    return target


def env_line(token: SecretStr) -> str:
    value = token.get_secret_value()
    return f"{ENV_NAME}={value}" if _SAFE_VALUE.match(value) else f'{ENV_NAME}="{value}"'


def write_env_file(path: Path, token: SecretStr) -> bool:
    """Add or replace the ``ZOHO_REFRESH_TOKEN=`` line; atomic, 0600. Returns True when a line was replaced."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    replaced = False
    kept: list[str] = []
    for line in lines:
        if match := _LINE.match(line):
            if not replaced:
                kept.append(match.group(1) + env_line(token))  # keeps its `export ` (and indentation)
            replaced = True
        else:
            kept.append(line)
    if not replaced:
        kept.append(env_line(token))
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(kept) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return replaced


@dataclass(frozen=True)
class GrantOutcome:
    """What the exchange gave and what the user should hear about it (no secret in any text)."""

    result: GrantResult
    notes: list[str]  # informational lines
    warnings: list[str]


def run_grant(
    settings: ZohoClientSettings, code: SecretStr, *, transport: httpx2.BaseTransport | None = None
) -> GrantOutcome:
    """Exchange the code; check the scopes and the data centre. Raises (a ``SyncError``) when Zoho refuses."""
    result = exchange_grant_token(
        settings.accounts_url,
        settings.client_id,
        settings.client_secret,
        code,
        timeout=settings.timeout,
        allow_insecure_http=settings.network.allow_insecure_http,
        verify_tls=settings.network.verify_tls,
        transport=transport,
    )
    notes: list[str] = []
    warnings: list[str] = []
    if result.scope:
        notes.append("Scopes granted: " + " ".join(result.scope))
        missing = missing_scopes(result.scope, needed_scopes())
        for need in missing:
            if need.only_for:
                notes.append(f"Not granted: {need.scope}, needed only for {need.only_for} (to {need.why}).")
            else:
                warnings.append(f"Missing scope {need.scope} (needed by every sync to {need.why}).")
        if any(not need.only_for for need in missing):
            warnings.append(
                "Generate a new code with every scope listed in docs/authentication.md and run this again; the sync "
                "will fail with OAUTH_SCOPE_MISMATCH otherwise."
            )
    else:
        notes.append(
            "Zoho did not say which scopes it granted; run `magento-zoho-sync doctor` to check the ones the sync needs."
        )
    try:
        domain_warning = check_api_domain(
            result.api_domain, api_url=settings.api_url, accounts_url=settings.accounts_url
        )
    except ApiDomainMismatch as exc:
        domain_warning = str(exc)
    if domain_warning:
        warnings.append(domain_warning)
    elif result.api_domain:
        notes.append(f"API domain: {result.api_domain} (matches ZOHO_API_URL)")
    warnings.append(REFRESH_LIMIT_WARNING)
    return GrantOutcome(result=result, notes=notes, warnings=warnings)
