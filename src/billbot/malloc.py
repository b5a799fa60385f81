"""Fewer C-heap arenas for a replica (glibc's malloc).

glibc gives each thread that allocates while another holds an arena an arena of its own, up
to eight per core, and memory freed in an arena serves only the threads attached to it. A replica's threads
(the requests' loop, the job thread, the database worker threads of each) take turns on the
interpreter lock anyway, so separate arenas buy no speed; they only hold freed memory apart.
Two arenas cost a replica nothing measurable in speed and keep its resident memory lower
(bench/startup_memory.py, bench/scale.py).

An operator's MALLOC_ARENA_MAX (glibc reads it as the process starts) is left as it is.
"""

from __future__ import annotations

import ctypes
import os
import sys

ENV = "MALLOC_ARENA_MAX"
ARENAS = 2
M_ARENA_MAX = -8  # glibc's malloc.h


def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap the arenas from now on (threads started earlier keep the one they have) and pass
    the cap to child processes (`billbot run --workers N`) through the environment. Whether a
    cap is in force: False where the C library has no such knob (not Linux, or not glibc)."""
    if os.environ.get(ENV):
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, arenas) != 1:  # musl's mallopt accepts nothing
        return False
    os.environ[ENV] = str(arenas)
    return True


__all__ = ["ARENAS", "ENV", "cap_malloc_arenas"]
