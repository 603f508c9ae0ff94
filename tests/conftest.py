"""Shared by every test: Hypothesis without its per-example deadline, no proxy from the machine, no secret registered
by an earlier test.

A property's examples take 0 to 20 ms here; on a slow or loaded CI machine one of them taking over 200 ms (a
garbage collection, another process) must not fail the run as ``DeadlineExceeded`` or "unreliable timings".

The product follows the environment's proxy (``HTTPS_PROXY``, ...): a machine whose proxy settings reach the
tests would send their requests to it. Each test starts without them; the proxy tests set their own.
"""

from collections.abc import Iterator

import pytest
from hypothesis import settings

from magento_zoho_sync import redact

settings.register_profile("mzsync", deadline=None)
settings.load_profile("mzsync")

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Iterator[None]:
    """Each test starts with no registered secret. The registry is process-wide and every run registers the tokens it
    gets: across a whole session thousands piled up, and each new one made the next log line compile them all into
    one pattern again (a property test of many runs took 117 s instead of 5)."""
    redact.clear_secrets()
    yield
    redact.clear_secrets()


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield
