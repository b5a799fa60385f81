"""The replica's cap on glibc's malloc arenas (billbot/malloc.py), observed through glibc's own
account of its heaps (malloc_info), in fresh interpreters."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's arenas")

# Eight threads allocate and stay alive (a thread's first allocation takes an arena of its own
# while glibc's limit allows; a finished thread's arena goes to the next), then glibc's heaps
# are counted.
PROBE = r"""
import ctypes, os, sys, tempfile, threading
from billbot.malloc import cap_malloc_arenas
if sys.argv[1] == "cap":
    print(cap_malloc_arenas(), os.environ.get("MALLOC_ARENA_MAX"))
else:
    print("uncapped", None)
kept = []
allocated = threading.Barrier(9)
done = threading.Event()
def allocate():
    for _ in range(500):
        kept.append(bytearray(2048))
    allocated.wait()
    done.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for t in threads:
    t.start()
allocated.wait()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    fp = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(open(report.name).read().count("<heap nr="))
done.set()
"""


def probe(mode: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], env={**clean, **env},
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return out.split()


def test_without_the_cap_each_thread_takes_an_arena() -> None:
    # The baseline the cap is measured against: glibc's default on this machine.
    assert int(probe("none")[-1]) >= 5


def test_the_cap_holds_every_thread_to_two_arenas_and_passes_to_child_processes() -> None:
    in_force, exported, heaps = probe("cap")
    assert (in_force, exported) == ("True", "2")
    assert int(heaps) <= 2


def test_an_operators_setting_stands() -> None:
    in_force, exported, heaps = probe("cap", MALLOC_ARENA_MAX="4")
    assert (in_force, exported) == ("True", "4")
    assert 2 < int(heaps) <= 4
