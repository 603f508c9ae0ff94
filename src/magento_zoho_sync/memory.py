"""Keep the process's memory flat across a long run: fewer glibc malloc arenas.

glibc gives threads their own malloc arena when they contend for one (up to 8 per core). A sync has a page
reader and up to ten Zoho writers, each allocating request and response bodies of tens to hundreds of KB; freed
memory stays in each thread's arena, and over a million customers the sum creeps up (measured: 74 MB peak at
1,000,000 customers with the default, 69 MB with two arenas; 63 MB at 10,000 either way). Two arenas are
enough for a process whose threads mostly wait on the network. The setting is glibc's own knob (the
``MALLOC_ARENA_MAX`` environment variable does the same); elsewhere (musl, macOS, Windows) this does nothing.
"""

from __future__ import annotations

import ctypes
import sys

_M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas; True when it agreed (call before starting threads)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
