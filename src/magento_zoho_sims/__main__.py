"""Standalone simulators: ``python -m magento_zoho_sims magento|zoho|both``.

    python -m magento_zoho_sims magento --port 8081 --customers 10000 --seed 1
    python -m magento_zoho_sims zoho --port 8082 --seed 1
    python -m magento_zoho_sims both --magento-port 8081 --zoho-port 8082 --customers 10000

Each simulator binds 127.0.0.1 by default; ``--host`` refuses any address that is not loopback unless
``--allow-non-loopback`` is given as well. On startup the URLs and the demo credentials (of every
``MAGENTO_AUTH`` mode, and Zoho's client and refresh token) are printed as ``export`` lines, so that a person
can point the real ``.venv/bin/magento-zoho-sync sync`` at the simulators from another shell.

``--ready-file PATH`` writes the same URLs and credentials as JSON once the servers listen (written to a
temporary name and renamed, so a harness that sees the file can read it whole). The process serves until
SIGINT or SIGTERM. ``GET /_sim/`` on each simulator lists its control endpoints (reset, faults, stats, config,
mutations); ``docs/simulators.md`` describes the flags, the credentials and the control API.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from magento_zoho_sims.common.server import ThreadedServer
from magento_zoho_sims.magento import MagentoConfig, MagentoSimulator
from magento_zoho_sims.zoho import EDITION_CONCURRENCY, ZohoConfig, ZohoSimulator

DEFAULT_HOST = "127.0.0.1"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


# --------------------------------------------------------------------------------------------- arguments
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (loopback only; default 127.0.0.1)")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be a non-loopback address (the simulators have no real security: think twice)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data and credentials (1)")
    parser.add_argument("--ready-file", type=Path, help="write the URLs and credentials here as JSON when listening")
    parser.add_argument("--quiet", action="store_true", help="print nothing on startup (use --ready-file)")
    parser.add_argument(
        "--tls-cert", type=Path, metavar="FILE", help="serve https with this certificate chain (PEM; with --tls-key)"
    )
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="the certificate's private key (PEM)")


def _magento_options(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    parser.add_argument(
        "--customers", type=_count, default=1000, help="customers in the generated store (1000; 1_000_000 is fine)"
    )
    parser.add_argument(
        f"--{prefix}latency",
        dest="magento_latency",
        type=_non_negative,
        default=0.0,
        help="seconds added to every Magento request (0)",
    )
    parser.add_argument(
        f"--{prefix}latency-jitter",
        dest="magento_jitter",
        type=_non_negative,
        default=0.0,
        help="random extra seconds, uniform in [0, J], added to every Magento request (0)",
    )
    parser.add_argument(
        "--admin-token-ttl", type=_positive_int, default=None, help="admin token lifetime in seconds (3600)"
    )
    parser.add_argument(
        "--input-limits",
        action="store_true",
        help="webapi input limits on: pageSize above 300 is refused with 400 (off, as a stock 2.4.6 store)",
    )
    parser.add_argument(
        "--two-factor",
        action="store_true",
        help="Magento_TwoFactorAuth on: the plain admin token endpoint refuses; use MAGENTO_AUTH=admin-totp",
    )
    parser.add_argument(
        "--bearer-tokens",
        action="store_true",
        help="accept the integration's access token as a Bearer token (MAGENTO_AUTH=integration-bearer); "
        "off by default, as in Magento 2.4.4+",
    )


def _zoho_options(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    parser.add_argument(
        f"--{prefix}latency",
        dest="zoho_latency",
        type=_non_negative,
        default=0.0,
        help="seconds added to every Zoho call, token calls included (0)",
    )
    parser.add_argument(
        f"--{prefix}latency-jitter",
        dest="zoho_jitter",
        type=_non_negative,
        default=0.0,
        help="random extra seconds, uniform in [0, J], added to every Zoho call (0)",
    )
    parser.add_argument(
        "--edition",
        choices=sorted(EDITION_CONCURRENCY),
        default=None,
        help="Zoho edition, which sets the concurrency limit (enterprise: 20)",
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, default=None, help="concurrent CRM calls allowed (default: by edition)"
    )
    parser.add_argument(
        "--sub-concurrency",
        type=_positive_int,
        default=None,
        help="concurrent heavy calls allowed (writes of more than 10 records, COQL) (10)",
    )
    parser.add_argument(
        "--credits", type=_count, default=None, help="API credits per rolling 24 hours (250,000, enterprise)"
    )
    parser.add_argument(
        "--no-limits", action="store_true", help="switch the concurrency gates off (credits are still counted)"
    )
    parser.add_argument(
        "--refresh-limit",
        type=_positive_int,
        default=None,
        help="access-token refreshes allowed per refresh token in 10 minutes (10, as Zoho; each doctor or sync "
        "spends one: raise it to try many commands in a row)",
    )
    parser.add_argument(
        "--contacts", type=_count, default=0, help="pre-existing generated contacts, unrelated to the store (0)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m magento_zoho_sims",
        description="Run the Magento 2.4 and Zoho CRM simulators on loopback ports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    magento = sub.add_parser("magento", help="the Magento 2.4 REST simulator")
    magento.add_argument("--port", type=int, default=8081, help="port (8081; 0 = any free port)")
    _magento_options(magento)
    _common(magento)

    zoho = sub.add_parser("zoho", help="the Zoho Accounts + CRM API simulator")
    zoho.add_argument("--port", type=int, default=8082, help="port (8082; 0 = any free port)")
    _zoho_options(zoho)
    _common(zoho)

    both = sub.add_parser("both", help="both simulators in one process")
    both.add_argument("--magento-port", type=int, default=8081, help="Magento port (8081; 0 = any free port)")
    both.add_argument("--zoho-port", type=int, default=8082, help="Zoho port (8082; 0 = any free port)")
    _magento_options(both, prefix="magento-")
    _zoho_options(both, prefix="zoho-")
    both.add_argument(
        "--seed-org",
        action="store_true",
        help="pre-existing Zoho contacts matching store emails (case variants, duplicates), as the demo does",
    )
    _common(both)
    return parser


# ------------------------------------------------------------------------------------------ simulators
def make_magento(args: argparse.Namespace) -> MagentoSimulator:
    config = MagentoConfig()
    if args.admin_token_ttl is not None:
        config.admin_token_ttl = args.admin_token_ttl
    config.input_limit_enabled = bool(args.input_limits)
    config.two_factor_enabled = bool(args.two_factor)
    config.enable_integration_as_bearer = bool(args.bearer_tokens)
    sim = MagentoSimulator(customers=args.customers, seed=args.seed, config=config)
    sim.faults.latency = args.magento_latency
    sim.faults.latency_jitter = args.magento_jitter
    return sim


def make_zoho(args: argparse.Namespace) -> ZohoSimulator:
    config = ZohoConfig()
    if args.edition is not None:
        config.edition = args.edition
    if args.concurrency is not None:
        config.concurrency_limit = args.concurrency
    if args.sub_concurrency is not None:
        config.sub_concurrency_limit = args.sub_concurrency
    if args.credits is not None:
        config.credits_per_day = args.credits
    if args.refresh_limit is not None:
        config.refresh_throttle_limit = args.refresh_limit
    sim = ZohoSimulator(seed=args.seed, config=config)
    sim.limits_enabled = not args.no_limits
    sim.faults.latency = args.zoho_latency
    sim.faults.latency_jitter = args.zoho_jitter
    if args.contacts:
        sim.load_bulk_contacts(args.contacts)
    return sim


def start_server(
    app_owner: MagentoSimulator | ZohoSimulator,
    host: str,
    port: int,
    allow: bool,
    tls: tuple[str, str] | None = None,
) -> ThreadedServer:
    if host == DEFAULT_HOST and tls is None:
        return app_owner.serve(port)
    # As MagentoSimulator.serve(): the Magento simulator sends its own Date header (from its Clock).
    own_date = isinstance(app_owner, MagentoSimulator)
    server = ThreadedServer(
        app_owner.app, host=host, port=port, allow_non_loopback=allow, date_header=not own_date, tls=tls
    )
    return server.start()


def _tls(args: argparse.Namespace) -> tuple[str, str] | None:
    """The ``--tls-cert`` and ``--tls-key`` files, both or neither (checked by :func:`main`)."""
    if args.tls_cert is None:
        return None
    return str(args.tls_cert.expanduser()), str(args.tls_key.expanduser())


def _url(host: str, port: int, scheme: str = "http") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


# The product's MAGENTO_AUTH modes and the environment variables each needs, named by their simulator credential.
AUTH_MODE_ENV: dict[str, dict[str, str]] = {
    "admin": {"MAGENTO_USERNAME": "username", "MAGENTO_PASSWORD": "password"},
    "admin-totp": {
        "MAGENTO_USERNAME": "username",
        "MAGENTO_PASSWORD": "password",
        "MAGENTO_TOTP_SECRET": "totp_secret",
    },
    "integration-oauth1": {
        "MAGENTO_CONSUMER_KEY": "consumer_key",
        "MAGENTO_CONSUMER_SECRET": "consumer_secret",
        "MAGENTO_ACCESS_TOKEN": "access_token",
        "MAGENTO_ACCESS_TOKEN_SECRET": "access_token_secret",
    },
    "integration-bearer": {"MAGENTO_ACCESS_TOKEN": "access_token"},
}


def auth_modes(sim: MagentoSimulator) -> dict[str, dict[str, Any]]:
    """Per MAGENTO_AUTH mode: its variables, whether this simulator accepts it as started, and why not."""
    credentials = sim.credentials()
    config = sim.config
    refusals = {
        "admin": "refused: 2FA is on, use admin-totp" if config.two_factor_enabled else None,
        "admin-totp": None if config.two_factor_enabled else "refused: 2FA is off, start with --two-factor",
        "integration-oauth1": None,
        "integration-bearer": None if config.enable_integration_as_bearer else "refused: start with --bearer-tokens",
    }
    return {
        mode: {
            "env": {"MAGENTO_AUTH": mode, **{name: credentials[key] for name, key in variables.items()}},
            "accepted": refusals[mode] is None,
            "note": refusals[mode] or "",
        }
        for mode, variables in AUTH_MODE_ENV.items()
    }


def magento_info(sim: MagentoSimulator, url: str) -> dict[str, Any]:
    modes = auth_modes(sim)
    return {
        "url": url,
        "customers": sim.backend.count(),
        "seed": sim.backend.seed,
        **sim.credentials(),
        "two_factor": sim.config.two_factor_enabled,
        "bearer_tokens": sim.config.enable_integration_as_bearer,
        "auth": "admin-totp" if sim.config.two_factor_enabled else "admin",
        "auth_modes": modes,
        "control": f"{url}/_sim/",
    }


def zoho_info(sim: ZohoSimulator, url: str) -> dict[str, Any]:
    return {
        "url": url,
        "accounts_url": url,
        "api_url": url,
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
        "refresh_token": sim.issue_refresh_token(),
        "edition": sim.config.edition,
        "concurrency": sim.config.concurrency(),
        "sub_concurrency": sim.config.sub_concurrency_limit,
        "credits_per_day": sim.config.credits_per_day,
        "refresh_limit": sim.config.refresh_throttle_limit,
        "control": f"{url}/_sim/",
    }


def env_vars(info: dict[str, Any]) -> dict[str, str]:
    """The ``magento-zoho-sync`` environment variables that point it at these simulators."""
    env: dict[str, str] = {}
    if "magento" in info:
        magento = info["magento"]
        env.update(MAGENTO_BASE_URL=magento["url"], MAGENTO_AUTH=magento["auth"])
        for mode in magento["auth_modes"].values():  # every mode's credentials: MAGENTO_AUTH picks the one used
            env.update({name: value for name, value in mode["env"].items() if name != "MAGENTO_AUTH"})
    if "zoho" in info:
        env.update(
            ZOHO_ACCOUNTS_URL=info["zoho"]["accounts_url"],
            ZOHO_API_URL=info["zoho"]["api_url"],
            ZOHO_CLIENT_ID=info["zoho"]["client_id"],
            ZOHO_CLIENT_SECRET=info["zoho"]["client_secret"],
            ZOHO_REFRESH_TOKEN=info["zoho"]["refresh_token"],
        )
    if "magento" in info and "pid" in info:
        # a state file of its own: the default one belongs to the real store (a state file serves one store)
        env["MZSYNC_STATE"] = str(Path(tempfile.gettempdir()) / f"mzsync-simulated-store-{info['pid']}.sqlite")
    return env


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    """Write atomically (temporary name, then rename), owner-only: it holds demo credentials."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2)
        fh.write("\n")
    temporary.replace(path)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def sync_command() -> str:
    """How to run the product from here: the console script next to this interpreter (``./run`` makes .venv)."""
    script = Path(sys.executable).parent / "magento-zoho-sync"
    if not script.exists():
        return ".venv/bin/magento-zoho-sync"
    try:
        relative = os.path.relpath(script)
    except ValueError:  # another drive (Windows)
        return str(script)
    return str(script) if relative.startswith("..") else relative


def print_banner(info: dict[str, Any]) -> None:
    if "magento" in info:
        m = info["magento"]
        print(f"Magento simulator: {m['url']}  ({m['customers']} customers, seed {m['seed']}; control {m['control']})")
    if "zoho" in info:
        z = info["zoho"]
        print(
            f"Zoho simulator:    {z['url']}  ({z['edition']}, concurrency {z['concurrency']}, "
            f"sub-concurrency {z['sub_concurrency']}, {z['credits_per_day']} credits/24 h; control {z['control']})"
        )
    print(f"# Demo credentials (simulators only). Paste these into a shell, then run: {sync_command()} sync")
    for name, value in env_vars(info).items():
        print(f"export {name}={_quote(value)}")
    if "magento" in info:
        print("# Magento auth modes (export MAGENTO_AUTH=<mode> to switch; every credential is exported above):")
        for mode, details in info["magento"]["auth_modes"].items():
            names = ", ".join(name for name in details["env"] if name != "MAGENTO_AUTH")
            state = "works" if details["accepted"] else details["note"]
            print(f"#   {mode:<19} {names}  ({state})")
    if "zoho" in info:
        print(
            f"# Zoho allows {info['zoho']['refresh_limit']} token refreshes per 10 minutes, and each doctor or sync "
            "spends one (--refresh-limit N raises it)."
        )
    print("# Ctrl-C stops the simulators.", flush=True)


# ------------------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not _is_loopback(args.host) and not args.allow_non_loopback:
        parser.error(
            f"refusing to bind to {args.host}: it is not a loopback address "
            "(the simulators accept anyone; pass --allow-non-loopback as well if you really mean it)"
        )
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together: the certificate chain and its private key")
    tls = _tls(args)
    if tls is not None:
        try:  # said here: uvicorn would fail in its thread, with only "could not start" to show for it
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(*tls)
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"--tls-cert / --tls-key: cannot load the certificate and its key ({exc})")

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    servers: list[ThreadedServer] = []
    info: dict[str, Any] = {"pid": os.getpid()}
    try:
        if args.command in ("magento", "both"):
            magento = make_magento(args)
            port = args.port if args.command == "magento" else args.magento_port
            server = start_server(magento, args.host, port, args.allow_non_loopback, tls)
            servers.append(server)
            info["magento"] = magento_info(magento, _url(args.host, server.port, server.scheme))
        if args.command in ("zoho", "both"):
            zoho = make_zoho(args)
            if args.command == "both" and args.seed_org:
                zoho.seed_org(email for _, email, _ in magento.backend.iter_emails())
            port = args.port if args.command == "zoho" else args.zoho_port
            server = start_server(zoho, args.host, port, args.allow_non_loopback, tls)
            servers.append(server)
            info["zoho"] = zoho_info(zoho, _url(args.host, server.port, server.scheme))
        info["env"] = env_vars(info)
        if args.ready_file is not None:
            write_ready_file(args.ready_file, info)
        if not args.quiet:
            print_banner(info)
        while not stop.wait(0.5):
            pass
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for server in reversed(servers):
            server.stop()
        if args.ready_file is not None:
            args.ready_file.expanduser().unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
