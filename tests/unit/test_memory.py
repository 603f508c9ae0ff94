"""The malloc arena limit: applied on glibc Linux (where CI runs), harmless elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from magento_zoho_sync.memory import limit_malloc_arenas


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_accepts_the_arena_limit() -> None:
    assert limit_malloc_arenas(2) is True


def test_elsewhere_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert limit_malloc_arenas(2) is False
