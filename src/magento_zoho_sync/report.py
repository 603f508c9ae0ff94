"""What a run did: the :class:`RunReport`, its JSON form (``--report PATH``) and the files it must never replace.

The terminal summary of a run is in :mod:`~magento_zoho_sync.summary`, the progress display in
:mod:`~magento_zoho_sync.progress`.

The JSON report is a public contract (scripts read it). Stable keys::

    counts.read, counts.inserted, counts.updated, counts.unchanged, counts.failed, counts.merged, counts.skipped,
    counts.parked, counts.deleted_found, counts.deleted_tagged, counts.deleted_removed, counts.truncated
    errors[]         magento_customer_id, email, code, message (+ details)
    merges[]         winner_id, merged_id, email
    api_calls.magento, api_calls.zoho, zoho_credits, zoho_credits_remaining
    run_id, mode, status, dry_run, started_at, finished_at, duration_seconds, parked[], warnings[], plan[],
    identity_problems[], schema_version, error (why a run stopped: status "failed"; else null),
    full_reason (why the run reads every customer: "--full", "scheduled, every 24 hours", "the mapping changed",
    ...; a dry run says it of the run it plans; null for an incremental or resumed run),
    resumed (true when this run finished an interrupted one, under the same run_id; its counts are this part's)

New keys may be added; existing ones keep their names and meaning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from magento_zoho_sync.errors import EXIT_OK, EXIT_SOME_FAILED, ConfigError
from magento_zoho_sync.mapping import Merge
from magento_zoho_sync.redact import redact_data

SCHEMA_VERSION: Final = 1

#: The report's top-level keys, in the order they are written.
REPORT_KEYS: Final = (
    "schema_version",
    "run_id",
    "mode",
    "full_reason",
    "resumed",
    "status",
    "error",
    "dry_run",
    "started_at",
    "finished_at",
    "duration_seconds",
    "counts",
    "api_calls",
    "zoho_credits",
    "zoho_credits_remaining",
    "errors",
    "merges",
    "parked",
    "warnings",
    "plan",
    "identity_problems",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """One customer that could not be synced. ``code`` is stable (MISSING_EMAIL, INVALID_DATA, ...)."""

    magento_customer_id: int | None
    email: str | None
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Counts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    merged: int = 0
    skipped: int = 0  # always 0: kept for the scripts that read it (no outcome is counted here)
    parked: int = 0
    deleted_found: int = 0
    deleted_tagged: int = 0
    deleted_removed: int = 0
    truncated: int = 0  # customers sent with a value cut to Zoho's length (truncate_long_values)


@dataclass
class ApiCalls:
    magento: int = 0
    zoho: int = 0


@dataclass(frozen=True)
class PlanEntry:
    """Dry run: what would happen to one customer, and why."""

    magento_customer_id: int
    email: str | None
    action: str  # insert | update | unchanged | merge | reject | skip | tag | delete
    zoho_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class IdentityProblem:
    """Found before any write: Zoho contacts sharing an email, Magento customers sharing one across websites."""

    kind: str  # zoho_duplicate_contacts | magento_shared_email | ...
    email: str
    message: str
    magento_customer_ids: tuple[int, ...] = ()
    zoho_ids: tuple[str, ...] = ()


@dataclass
class RunReport:
    mode: str | None = "incremental"  # incremental | full | dry-run; None: stopped before choosing one
    full_reason: str | None = None  # why the run (or the run a dry run plans) reads every customer
    resumed: bool = False  # this run finished an interrupted one (same run_id); the counts are this part's
    run_id: int | str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    status: str = "running"  # running | completed | completed_with_failures | interrupted | failed
    error: str | None = None  # why the run stopped (status "failed"), secrets masked
    dry_run: bool = False
    counts: Counts = field(default_factory=Counts)
    api_calls: ApiCalls = field(default_factory=ApiCalls)
    zoho_credits: int = 0
    zoho_credits_remaining: int | None = None
    failures: list[Failure] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    parked: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    plan: list[PlanEntry] = field(default_factory=list)
    identity_problems: list[IdentityProblem] = field(default_factory=list)
    #: every failure, when ``failures`` holds only the first ones (the JSON report then reads them all)
    error_source: Callable[[], Iterable[Failure]] | None = field(default=None, repr=False)
    #: failures per code over all failures (else counted from ``failures``)
    failure_codes: dict[str, int] | None = None

    # ---- recording ----

    def add_failure(self, failure: Failure) -> None:
        self.failures.append(failure)
        self.counts.failed += 1

    def add_merge(self, merge: Merge) -> None:
        self.merges.append(merge)
        self.counts.merged += 1

    def finish(self, status: str = "completed", at: datetime | None = None) -> None:
        self.status = status
        self.finished_at = at or datetime.now(UTC)

    @property
    def duration_seconds(self) -> float:
        end = self.finished_at or datetime.now(UTC)
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def exit_code(self) -> int:
        """0 when every customer synced; 1 when some failed, in this run or earlier ones (parked)."""
        return EXIT_SOME_FAILED if self.failures or self.counts.failed or self.counts.parked else EXIT_OK

    # ---- JSON ----

    def to_dict_head(self) -> dict[str, Any]:
        """Every key of the report except the long lists."""
        return {
            key: value
            for key, value in self._dict(with_lists=False).items()
            if key not in ("errors", "merges", "parked", "plan", "identity_problems")
        }

    def to_dict(self) -> dict[str, Any]:
        return self._dict(with_lists=True)

    def _dict(self, *, with_lists: bool) -> dict[str, Any]:
        def rows(items: list[Any]) -> list[Any]:
            return [asdict(item) for item in items] if with_lists else []

        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "mode": self.mode,
            "full_reason": self.full_reason,
            "resumed": self.resumed,
            "status": self.status,
            "error": self.error,
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": round(self.duration_seconds, 3),
            "counts": asdict(self.counts),
            "api_calls": asdict(self.api_calls),
            "zoho_credits": self.zoho_credits,
            "zoho_credits_remaining": self.zoho_credits_remaining,
            "errors": rows(self.failures),
            "merges": rows(self.merges),
            "parked": rows(self.parked),
            "warnings": list(self.warnings),
            "plan": rows(self.plan),
            "identity_problems": rows(self.identity_problems),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text, with anything secret-shaped masked."""
        return json.dumps(redact_data(self.to_dict()), indent=indent, ensure_ascii=False, default=str)

    def _write_streaming(self, fh: TextIO) -> None:
        """The same JSON as :meth:`to_json`, written a list item at a time.

        A run with tens of thousands of failures would otherwise build the whole document three times over
        in memory (dataclass copies, the redacted copy, the string) just before exiting.
        """
        lists: dict[str, Iterable[Any]] = {
            "errors": self.error_source() if self.error_source is not None else self.failures,
            "merges": self.merges,
            "parked": self.parked,
            "plan": self.plan,
            "identity_problems": self.identity_problems,
        }
        document = self.to_dict_head()

        def dump(value: Any) -> str:
            return json.dumps(redact_data(value), ensure_ascii=False, default=str)

        fh.write("{")
        first = True
        for key in REPORT_KEYS:
            fh.write("" if first else ",")
            first = False
            fh.write(f"\n  {json.dumps(key)}: ")
            if key in lists:
                fh.write("[")
                count = 0
                for item in lists[key]:
                    fh.write(("," if count else "") + "\n    " + dump(asdict(item)))
                    count += 1
                fh.write("\n  ]" if count else "]")
            else:
                fh.write(dump(document[key]))
        fh.write("\n}\n")

    @staticmethod
    def check_destination(path: Path | str, *, protected: Iterable[Path] = ()) -> None:
        """Raise :class:`ConfigError` now if the report could not be written there later (after a whole run), or
        would replace a file it must not: one that is not a regular file (``/dev/null``, a pipe), or one of
        ``protected`` (the state file and its companions, the settings file), whatever name it is given by."""
        target = Path(path).expanduser()
        real = Path(os.path.realpath(target))  # a symlink is written through: its target is the report
        folder = real.parent
        if real.is_dir():
            why = "it is a folder"
        elif (refusal := _not_a_report_file(target, real)) is not None:
            why = refusal
        elif (clash := _same_file(real, protected)) is not None:
            why = f"it is {clash}, which the report would replace"
        elif not folder.is_dir():
            why = f"the folder {folder} does not exist (it is not created: a typo would make folders anywhere)"
        elif not os.access(folder, os.W_OK | os.X_OK):
            why = f"the folder {folder} is not writable"
        else:
            return
        raise ConfigError(f"Cannot write the report to {target}: {why}.", hint="Choose another --report PATH.")

    def write_json(self, path: Path | str) -> Path:
        """Write :meth:`to_json` to ``path`` atomically; the file is created owner-only (0600)."""
        target = Path(os.path.realpath(Path(path).expanduser()))  # through a symlink: the link stays a link
        # checked before the run too; the file can have changed in the meantime
        if (refusal := _not_a_report_file(Path(path).expanduser(), target)) is not None:
            raise ConfigError(f"Cannot write the report to {path}: {refusal}.", hint="Choose another --report PATH.")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # mkstemp: mode 0600
        except OSError as exc:
            raise ConfigError(
                f"Cannot write the report to {target}: {exc.strerror or exc}.", hint="Choose another --report PATH."
            ) from None
        try:
            # text that is not valid Unicode (a lone UTF-16 surrogate from either API) is written as its JSON
            # escape (\ud800): the file stays UTF-8 and the JSON reads back the same text
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                self._write_streaming(fh)
            os.chmod(tmp_name, 0o600)
            os.replace(tmp_name, target)
        except BaseException as exc:  # no report is better than the last run's, which a monitor trusts
            Path(tmp_name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                target.unlink(missing_ok=True)
            if not isinstance(exc, OSError):
                raise
            raise ConfigError(
                f"Cannot write the report to {target}: {exc.strerror or exc}; the previous report was removed.",
                hint="Free some space or choose another --report PATH; the run itself is saved (see `runs`).",
            ) from None
        return target


def _not_a_report_file(given: Path, real: Path) -> str | None:
    """Why the report, which replaces the file it is written to, must not go to ``given`` (resolved: ``real``)."""
    if _system_path(given) or _system_path(real) or (real.exists() and not real.is_file()):
        # /dev/stdout resolves to whatever stdout is (a cron job's log, which the report would replace)
        return "it is not a regular file (a device, a pipe, /dev/stdout): the report replaces the file it goes to"
    if _is_sqlite(real):
        return "it is an SQLite database (a state file?), which the report would replace"
    return None


def _system_path(path: Path) -> bool:
    """Whether ``path`` names something in /dev or /proc (no report file belongs there)."""
    absolute = Path(os.path.abspath(path))
    return any(absolute.is_relative_to(root) for root in ("/dev", "/proc"))


def _is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an existing SQLite database (a state file, whatever its name)."""
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _same_file(real: Path, protected: Iterable[Path]) -> str | None:
    """What ``real`` (a resolved path) is among ``protected`` and their SQLite companions, or None."""
    for path in protected:
        base = Path(os.path.realpath(Path(path).expanduser()))
        names = {base: f"the file {path}"}
        names.update({base.with_name(base.name + suffix): f"a companion of {path}" for suffix in _COMPANIONS})
        if real in names:
            return names[real]
    return None


#: The files SQLite and the lock keep beside a state file.
_COMPANIONS: Final = ("-wal", "-shm", "-journal", ".lock")
