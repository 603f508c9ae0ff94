"""Wiring: settings → clients, mapping, state, engine → a finished run report.

The CLI's ``sync`` and ``demo`` commands and the tests all come through :func:`run_sync`, so what the demo
shows is what a real store gets.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from magento_zoho_sync.dryrun import DryRunSink
from magento_zoho_sync.engine import EngineOptions, Progress, SyncEngine, Tally
from magento_zoho_sync.errors import ConfigError, LockedError, SyncError, ZohoError
from magento_zoho_sync.field_check import (
    FIELD_REFUSAL_CODES,
    NO_FIELDS,
    NO_FIELDS_FIX,
    field_problems,
    refused_a_field,
    signature,
)
from magento_zoho_sync.http import ApiStats
from magento_zoho_sync.magento.client import MagentoClient
from magento_zoho_sync.mapping import DEFAULT_LIMITS, MappingFailure, limits_from_fields, map_customer, normalise_email
from magento_zoho_sync.mapping import payload_hash as hash_payload
from magento_zoho_sync.mapping_compile import plan_for
from magento_zoho_sync.mapping_config import MappingSpec
from magento_zoho_sync.mapping_options import with_option_labels
from magento_zoho_sync.memory import limit_malloc_arenas
from magento_zoho_sync.settings import Settings
from magento_zoho_sync.sources import ContactSink, MappedRecord
from magento_zoho_sync.state import (
    FailureRecord,
    StateStore,
    StoredFailure,
    make_state_folder,
    read_uri,
    state_error,
)
from magento_zoho_sync.store_identity import check_store, check_zoho_org
from magento_zoho_sync.zoho.client import ZohoClient
from magento_zoho_sync.zoho.records import FieldMeta

log = logging.getLogger(__name__)

LIMITS_META_KEY = "zoho_field_limits"
FIELDS_CHECKED_META_KEY = "zoho_fields_checked"
#: the Contacts fields the org makes mandatory (a JSON list), read with the lengths: never cleared (Zoho refuses it)
MANDATORY_META_KEY = "zoho_mandatory_fields"


class CustomerMapper:
    """The mapping, with the org's Contacts fields checked and their real lengths used.

    Zoho orgs can lengthen or shorten fields, add mandatory ones, or lack a field a custom mapping names, and an
    admin may change them at any time. Reading the metadata costs a call (one credit), so it is read and checked
    before the first customer is mapped (:mod:`~magento_zoho_sync.field_check`), and the check that passed kept in
    the state, on the first run with a state file (or with one of an earlier version, which kept no mandatory
    fields) and after a change of the mapping or the upsert keys; again on every full run and on a run after one in
    which Zoho refused a record over one of its fields (:meth:`prepare_run`). An incremental run otherwise uses the
    lengths and the mandatory fields kept in the state, and makes no call.
    """

    def __init__(self, spec: MappingSpec, zoho: ZohoClient, state: StateStore | None) -> None:
        self.spec = spec
        self._zoho = zoho
        self._state = state
        self._lock = threading.Lock()
        cached = state.get_meta(LIMITS_META_KEY) if state is not None else None
        self._limits: Mapping[str, int] = {**DEFAULT_LIMITS, **json.loads(cached)} if cached else DEFAULT_LIMITS
        self._fetched = cached is not None
        mandatory = state.get_meta(MANDATORY_META_KEY) if state is not None else None
        self._mandatory = _names(mandatory)
        # checked already with this state file, this mapping and these upsert keys (a check that passed)
        self._signature = signature(spec, zoho.duplicate_check_fields)
        checked = state.get_meta(FIELDS_CHECKED_META_KEY) if state is not None else None
        # (a state of an earlier version keeps no mandatory fields: checked once more, which keeps them)
        self._checked = checked == self._signature and self._fetched and mandatory is not None

    def prepare_run(self, *, full: bool) -> None:
        """Before the run's first customer (the engine calls it once the run's plan is chosen, before the run is
        recorded): a full run reads and checks the org's fields again, and so does a run after one in which Zoho
        refused a record over one of its fields (a field removed, renamed, made mandatory or shortened in Zoho
        since the last check). The read is made with the first customer mapped: a run that maps none makes none."""
        if not self._checked or self._state is None:
            return
        if full:
            self._checked = False
            return
        previous = self._state.last_run_id()
        if previous is not None and refused_a_field(self._state.iter_run_error_details(previous, FIELD_REFUSAL_CODES)):
            log.info("Zoho refused records over a field in the last run: the Contacts fields are checked again")
            self._checked = False

    def normalise_email(self, email: str) -> str:
        return normalise_email(email)

    @property
    def address_fields(self) -> Mapping[str, Sequence[str]]:
        """The fields mapped from each address source (every one: the markers of the fields left out are read
        against them)."""
        return plan_for(self.spec).address_fields

    @property
    def never_cleared(self) -> Collection[str]:
        """The fields the org makes mandatory: clearing one would make Zoho refuse the whole update, so it keeps
        the old address's value, as before."""
        return self._mandatory

    def map(self, customer: Mapping[str, Any]) -> MappedRecord | FailureRecord:
        if not self._checked:
            self._check_fields()
        result = map_customer(customer, self.spec, self._limits)
        if isinstance(result, MappingFailure) and result.code == "VALUE_TOO_LONG" and not self._fetched:
            self._fetch_limits()
            result = map_customer(customer, self.spec, self._limits)
        if isinstance(result, MappingFailure):
            details = {"field": result.field} if result.field else {}
            return FailureRecord(result.customer_id, result.email, result.code, result.message, details)
        return MappedRecord(
            customer_id=result.customer_id,
            email=result.email_norm,
            updated_at=result.updated_at or "",
            payload=result.payload,
            payload_hash=hash_payload(result.payload),
            truncated=result.truncated,
            address_ids=result.address_ids,
        )

    def _fetch_limits(self, fields: Sequence[FieldMeta] | None = None) -> None:
        with self._lock:
            if self._fetched:
                return
            self._fetched = True
            read = self._zoho.contact_fields() if fields is None else fields
            limits = limits_from_fields(read)
            self._limits = limits
            self._mandatory = frozenset(meta.api_name for meta in read if meta.system_mandatory)
            if self._state is not None:
                self._state.commit_meta(LIMITS_META_KEY, json.dumps(limits, sort_keys=True))
                self._state.commit_meta(MANDATORY_META_KEY, json.dumps(sorted(self._mandatory)))

    def _check_fields(self) -> None:
        """Stop the run (ConfigError) when the settings name Zoho fields the org does not have or cannot match on,
        and (ZohoError) when Zoho lists no field at all; only a check that passed is recorded in the state (one
        that failed removes the record: the next run checks again, whatever its kind)."""
        fields = self._zoho.contact_fields()
        problems = field_problems(self.spec, self._zoho.duplicate_check_fields, fields) if fields else []
        if (problems or not fields) and self._state is not None:
            self._state.commit_meta(FIELDS_CHECKED_META_KEY, None)
        if not fields:  # nothing to check against: neither a check passed nor the org's field lengths
            raise ZohoError(
                f"{NO_FIELDS}: the mapping cannot be checked against the org's fields nor their lengths read, so no "
                "customer was sent.",
                hint=NO_FIELDS_FIX,
            )
        if problems:
            raise ConfigError(
                "Zoho would refuse every record: " + "; ".join(problems),
                hint="`magento-zoho-sync doctor` checks these fields too.",
            )
        self._checked = True
        self._fetched = False  # the same answer gives the field lengths, which may have changed too
        self._fetch_limits(fields)
        if self._state is not None:
            self._state.commit_meta(FIELDS_CHECKED_META_KEY, self._signature)


def _names(raw: str | None) -> frozenset[str]:
    """The field names of a JSON list kept in the state (none when missing or unreadable)."""
    try:
        names = json.loads(raw) if raw else []
    except ValueError:
        return frozenset()
    return frozenset(name for name in names if isinstance(name, str)) if isinstance(names, list) else frozenset()


@dataclass
class RunResult:
    tally: Tally
    stats: ApiStats
    started: float
    duration: float
    dry_run: bool
    dry_sink: DryRunSink | None
    zoho_duplicates: list[tuple[str, list[str], list[int]]]
    parked: list[StoredFailure]

    state_path: Path | None = None

    @property
    def run_id(self) -> int:
        return self.tally.run_id

    def iter_errors(self) -> Iterator[FailureRecord]:
        """Every failure of the run, read back from the state (the engine keeps only the first ones)."""
        if self.state_path is None or len(self.tally.failures) >= self.tally.failed:
            yield from self.tally.failures
            return
        state = StateStore.open(self.state_path, read_only=True)
        try:
            yield from state.iter_run_errors(self.run_id)
        finally:
            state.close()


def engine_options(settings: Settings, *, full: bool, dry_run: bool) -> EngineOptions:
    sync = settings.sync
    return EngineOptions(
        full=full,
        dry_run=dry_run,
        page_size=settings.magento.page_size,
        concurrency=settings.zoho.concurrency,
        overlap_minutes=float(sync.overlap_minutes),
        full_every_hours=sync.full_sync_every_hours,
        max_failed_runs=sync.max_failed_runs,
        on_deleted=sync.on_deleted,
        deleted_tag=sync.deleted_tag,
        duplicate_policy=sync.zoho_duplicates,
        full_run_inputs=full_run_inputs(settings),
    )


def full_run_inputs(settings: Settings) -> dict[str, str]:
    """What decides what is sent, and whether a customer can be sent, by the name a run's ``full_reason`` gives
    it: a change of one since the last full run makes the run full (the customers the old value failed, parked
    ones included, are read and sent again, not at the next scheduled full run)."""
    return {
        "the mapping": settings.mapping_spec().signature(),
        "truncate_long_values": "true" if settings.sync.truncate_long_values else "false",
        "zoho_duplicates": settings.sync.zoho_duplicates,
        "duplicate_check_fields": ",".join(settings.zoho.duplicate_check_fields),
    }


def run_sync(
    settings: Settings,
    *,
    full: bool = False,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    transport: httpx2.BaseTransport | None = None,
    store_moved: bool = False,
) -> RunResult:
    """One sync run with these settings. Raises :class:`~magento_zoho_sync.errors.SyncError` on fatal problems.

    ``store_moved`` (``sync --store-moved``): a state file of another store address is accepted when this address
    holds its customers (:func:`~magento_zoho_sync.store_identity.check_store`)."""
    limit_malloc_arenas()  # before the reader and writer threads start: memory stays flat over long runs
    spec = settings.mapping_spec()
    stats = ApiStats()
    started = time.time()
    clock = time.perf_counter()
    with ExitStack() as stack:
        magento = MagentoClient.from_settings(settings, stats=stats, transport=transport)
        stack.callback(magento.close)
        zoho = ZohoClient.from_settings(settings, stats=stats, transport=transport)
        stack.callback(zoho.close)
        state_path = settings.sync.state_path
        create_parents = settings.sync.state_path_is_default
        if dry_run:  # the sync would refuse a path whose folders are missing: so does its dry run, making none
            make_state_folder(state_path, create_parents=create_parents, create=False)
            if StateStore.in_use(state_path):  # its state is half-written: a plan from it is no sync's plan
                raise LockedError(
                    f"A sync is running with the state file {state_path} now.",
                    hint="Run the dry run when it has finished: it plans from the state, which that sync is writing.",
                )
            if state_path.exists():  # what the sync would refuse (a pipe, another program's database), said of it
                StateStore.open(state_path, read_only=True).close()
            state_path = _scratch_copy(state_path, stack)
        state = StateStore.open(state_path, create_parents=create_parents)
        stack.callback(state.close)
        stack.enter_context(state.lock())
        # one state file never serves two stores (but the same one at a new address, when asked and seen)
        # (a dry run's state is a copy: what it records is thrown away, and it says so)
        moved = magento.get_customers if store_moved else None
        check_store(state, settings, record=not dry_run, moved=moved)
        check_zoho_org(state, settings, record=True)  # nor two Zoho orgs (a sandbox, then production)
        # one call per option_label attribute; after the checks above, so that a refused run logs in to nothing
        spec = with_option_labels(spec, magento.attribute_metadata)
        dry_sink = DryRunSink(zoho) if dry_run else None
        sink: ContactSink = dry_sink if dry_sink is not None else zoho
        engine = SyncEngine(
            source=magento,
            sink=sink,
            state=state,
            mapper=CustomerMapper(spec, zoho, state),
            options=engine_options(settings, full=full, dry_run=dry_run),
            stop=stop,
            progress=progress,
        )
        try:
            try:
                tally = engine.run()
            except sqlite3.DatabaseError as exc:  # a full disk, a file made read-only meanwhile: said naming it
                raise state_error(exc, state_path) from exc
        except SyncError as exc:  # the partial run, for the summary and report written before exiting
            exc.partial = RunResult(
                tally=engine.tally,
                stats=stats,
                started=started,
                duration=time.perf_counter() - clock,
                dry_run=dry_run,
                dry_sink=dry_sink,
                zoho_duplicates=[],
                parked=[],
            )
            raise
        duplicates = state.zoho_duplicate_groups()
        parked = state.failures(parked=True)
    return RunResult(
        tally=tally,
        stats=stats,
        started=started,
        duration=time.perf_counter() - clock,
        dry_run=dry_run,
        dry_sink=dry_sink,
        zoho_duplicates=duplicates,
        parked=parked,
        state_path=None if dry_run else state_path,
    )


def _scratch_copy(path: Path, stack: ExitStack) -> Path:
    """A throw-away copy of the state for a dry run (consistent even while WAL pages are pending)."""
    folder = Path(tempfile.mkdtemp(prefix="mzsync-dry-run-"))
    stack.callback(shutil.rmtree, folder, True)
    target = folder / "state.sqlite"
    source = path.expanduser()
    if source.exists():
        with (
            closing(sqlite3.connect(read_uri(source), uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    return target
