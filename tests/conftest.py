"""Shared by every test: Hypothesis without its per-example deadline.

A property's examples take 0 to 20 ms here; on a slow or loaded CI machine one of them taking over 200 ms (a
garbage collection, another process) must not fail the run as ``DeadlineExceeded`` or "unreliable timings".
"""

from hypothesis import settings

settings.register_profile("mzsync", deadline=None)
settings.load_profile("mzsync")
