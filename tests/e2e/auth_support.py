"""Helpers for the authentication, doctor and grant tests: canary credentials, per-mode settings, transports.

Every credential here is a *canary*: a recognisable value that a test then looks for in every output, so that a
secret leaking into a message, a log line or the doctor's report fails a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import httpx2
from click.testing import CliRunner, Result

from magento_zoho_sims.common import InProcessTransport
from magento_zoho_sims.magento import AdminUser, Integration, MagentoConfig
from magento_zoho_sims.magento.config import CUSTOMER_RESOURCE
from magento_zoho_sync.cli import main
from tests.e2e.conftest import MAGENTO_HOST, ZOHO_HOST, World

ADMIN_USER = "sync-admin"
ADMIN_PASSWORD = "CANARY-admin-password-7f3a"
TOTP_SECRET = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"  # base32; a canary too (never printed)
CONSUMER_KEY = "CANARYck" + "k" * 24
CONSUMER_SECRET = "CANARYcs" + "s" * 24
ACCESS_TOKEN = "CANARYat" + "t" * 24
ACCESS_TOKEN_SECRET = "CANARYas" + "a" * 24

MAGENTO_SECRETS = (ADMIN_PASSWORD, TOTP_SECRET, CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET)
MODES = ("admin", "admin-totp", "integration-bearer", "integration-oauth1")


def magento_config(**switches: Any) -> MagentoConfig:
    """A store whose admin and integration carry canary credentials."""
    resources = switches.pop("resources", (CUSTOMER_RESOURCE, "Magento_Customer::group"))
    admin = AdminUser(username=ADMIN_USER, password=ADMIN_PASSWORD, totp_secret=TOTP_SECRET)
    integration = Integration(
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        access_token=ACCESS_TOKEN,
        access_token_secret=ACCESS_TOKEN_SECRET,
        resources=tuple(resources),
    )
    return MagentoConfig(admins=[admin], integrations=[integration], **switches)


def mode_overrides(mode: str) -> dict[str, Any]:
    """The settings of one ``MAGENTO_AUTH`` mode, with the canary credentials of :func:`magento_config`."""
    values: dict[str, Any] = {"magento.auth": mode, "magento.username": ADMIN_USER, "magento.password": ADMIN_PASSWORD}
    if mode == "admin-totp":
        values["magento.totp_secret"] = TOTP_SECRET
    if mode in ("integration-bearer", "integration-oauth1"):
        values["magento.access_token"] = ACCESS_TOKEN
    if mode == "integration-oauth1":
        values["magento.consumer_key"] = CONSUMER_KEY
        values["magento.consumer_secret"] = CONSUMER_SECRET
        values["magento.access_token_secret"] = ACCESS_TOKEN_SECRET
    return values


def world_secrets(world: World) -> tuple[str, ...]:
    """Every secret of the world: Magento canaries, the Zoho client secret and refresh token."""
    return (*MAGENTO_SECRETS, world.zoho.client_secret, world.refresh_token)


def assert_no_secret(text: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a secret appeared in the output"


class HookTransport(httpx2.BaseTransport):
    """Wraps a transport; ``hook(request, response)`` runs after each response (and may change the world)."""

    def __init__(
        self,
        inner: httpx2.BaseTransport,
        hook: Callable[[httpx2.Request, httpx2.Response], httpx2.Response | None],
    ) -> None:
        self.inner = inner
        self.hook = hook

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        changed = self.hook(request, response)
        return changed if changed is not None else response


def after_nth(path_part: str, n: int, action: Callable[[], None]) -> Callable[[httpx2.Request, httpx2.Response], None]:
    """A hook that runs ``action`` once, right after the ``n``-th request whose path contains ``path_part``."""
    seen = [0]

    def hook(request: httpx2.Request, response: httpx2.Response) -> None:
        del response
        if path_part in request.url.path:
            seen[0] += 1
            if seen[0] == n:
                action()

    return hook


def strip_token_scope(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response | None:
    """Token responses without their ``scope`` (Zoho leaves it out at times)."""
    if request.url.path != "/oauth/v2/token" or response.status_code != 200:
        return None
    body = response.json()
    body.pop("scope", None)
    return httpx2.Response(200, json=body, request=request)


def transport_with_hosts(world: World, extra: Mapping[str, Any]) -> InProcessTransport:
    """The world's two simulators, plus more host names (``www.zohoapis.com`` → the Zoho simulator, ...)."""
    return InProcessTransport({MAGENTO_HOST: world.magento.app, ZOHO_HOST: world.zoho.app, **extra})


def served(world: World) -> AbstractContextManager[dict[str, str]]:
    """Both simulators on loopback ports; yields the environment a user would set for them."""
    return world.served()


def invoke(args: list[str], env: Mapping[str, str], input: str | None = None) -> Result:
    """Run the CLI in-process with exactly ``env`` for the settings (the machine's MAGENTO_*/ZOHO_* are blanked)."""
    blank = {name: "" for name in _SETTING_VARIABLES}
    runner = CliRunner()
    return runner.invoke(main, args, env={**blank, **env}, input=input, catch_exceptions=False)


_SETTING_VARIABLES = (
    "MAGENTO_BASE_URL",
    "MAGENTO_AUTH",
    "MAGENTO_USERNAME",
    "MAGENTO_PASSWORD",
    "MAGENTO_TOTP_SECRET",
    "MAGENTO_ACCESS_TOKEN",
    "MAGENTO_CONSUMER_KEY",
    "MAGENTO_CONSUMER_SECRET",
    "MAGENTO_ACCESS_TOKEN_SECRET",
    "ZOHO_REGION",
    "ZOHO_ACCOUNTS_URL",
    "ZOHO_API_URL",
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_REFRESH_TOKEN",
    "ZOHO_GRANT_TOKEN",
)
