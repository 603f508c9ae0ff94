"""``magento-zoho-sync demo``: the real sync, end to end, against the bundled simulators.

The only module of the product that imports the simulators. It starts a simulated Magento store (a few
thousand customers with every tricky case: default billing not first, quotes and backslashes, very long
streets, invalid emails, one email on two websites, newsletter subscribers) and a simulated Zoho org that
already holds contacts (some with the same emails in another case, some emails held twice), both on loopback
ports, then runs ``sync`` against them exactly as against a real store, twice: the first run, then an
unchanged rerun that makes no Zoho write.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from magento_zoho_sims.magento import MagentoSimulator
from magento_zoho_sims.zoho import ZohoSimulator
from magento_zoho_sync.errors import EXIT_OK, EXIT_SOME_FAILED, ConfigError
from magento_zoho_sync.settings import Settings, load_settings


def _are(count: int, noun: str = "") -> str:
    """``1 email is``, ``2 emails are`` (``1 is``, ``2 are`` without a noun)."""
    if not noun:
        return f"{count:,} is" if count == 1 else f"{count:,} are"
    return f"{count:,} {noun} is" if count == 1 else f"{count:,} {noun}s are"


def demo_settings(
    magento_url: str, zoho_url: str, magento: MagentoSimulator, zoho: ZohoSimulator, state: Path
) -> Settings:
    """Settings for the simulators, through the same loading and checks as a real configuration."""
    return load_settings(
        None,
        {
            "magento.base_url": magento_url,
            "magento.username": magento.config.admins[0].username,
            "magento.password": magento.config.admins[0].password,
            "zoho.accounts_url": zoho_url,
            "zoho.api_url": zoho_url,
            "zoho.client_id": zoho.client_id,
            "zoho.client_secret": zoho.client_secret,
            "zoho.refresh_token": zoho.issue_refresh_token(),
            "sync.state_path": state,
        },
        env={},
    )


def run_demo(*, customers: int, seed: int, report_path: Path | None, state_path: Path | None) -> int:
    from magento_zoho_sync.cli import run_and_report  # noqa: PLC0415 - cli imports demo lazily too

    if state_path is not None and state_path.expanduser().exists():
        # each demo is a new simulated store and org: a state file of an earlier demo belongs to another store
        raise ConfigError(
            f"{state_path} exists: every demo starts a new simulated store and Zoho org, so its state must be a new "
            "file.",
            hint="Give --state a path that does not exist yet (or delete that file).",
        )
    console = Console()
    magento = MagentoSimulator(customers=customers, seed=seed)
    zoho = ZohoSimulator(seed=seed)
    # One store email in five is offered to the org's seed, which turns some of those into contacts with the
    # same email in another letter case, and a few into two contacts holding one email.
    seeded = zoho.seed_org(email for n, (_, email, _) in enumerate(magento.backend.iter_emails()) if n % 5 == 0)
    console.rule("magento-zoho-sync demo")
    console.print(
        f"Simulated Magento 2.4 store: {customers:,} customers (seed {seed}).\n"
        f"Simulated Zoho CRM org: {seeded.contacts:,} existing contacts; "
        f"{_are(len(seeded.case_variants), 'store email')} there in another letter case and "
        f"{_are(len(seeded.duplicated))} held by two contacts."
    )
    with tempfile.TemporaryDirectory(prefix="mzsync-demo-") as scratch:
        state = state_path or Path(scratch) / "state.sqlite"
        with magento.serve() as magento_server, zoho.serve() as zoho_server:
            settings = demo_settings(magento_server.url, zoho_server.url, magento, zoho, state)
            console.rule("First run")
            first = run_and_report(
                settings, full=False, dry_run=False, report_path=report_path, console=console, max_rows=12
            )
            writes_before = len(zoho.writes())
            console.rule("Second run (nothing changed in Magento)")
            run_and_report(settings, full=False, dry_run=False, report_path=None, console=console, max_rows=5)
            console.print(f"Zoho write calls in the second run: {len(zoho.writes()) - writes_before}")
    console.print(
        f"Zoho now holds {zoho.count():,} contacts; "
        f"{_are(len(zoho.duplicate_emails()), 'email')} still held by several contacts (see ZOHO_DUPLICATE_CONTACTS)."
    )
    if state_path is None:  # the summary's "see --report PATH or `errors`" needs a state that outlives the demo
        console.print(
            "This demo kept no state: it was a temporary file. To read every failure afterwards, run it as "
            "`magento-zoho-sync demo --report demo-report.json --state demo-state.sqlite` (or `./run demo ...`; "
            "a new state file each time), then `magento-zoho-sync errors --state demo-state.sqlite`.",
            markup=False,
            highlight=False,
        )
    elif report_path is None:
        console.print(
            f"The state is in {state_path}: `magento-zoho-sync errors --state {state_path}` lists every failure.",
            markup=False,
            highlight=False,
        )
    return EXIT_OK if first in (EXIT_OK, EXIT_SOME_FAILED) else first
