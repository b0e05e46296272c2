"""Allocator policy for the levers' replays: freed memory is kept for reuse while they run, and given back after.

A replay allocates and frees arrays of tens to hundreds of megabytes, step after step. glibc serves each from
fresh pages (`mmap`) and unmaps it when freed, so every step pays the kernel again for pages it just returned:
on the VMs this was measured on, about 3-4 microseconds a 4 KiB page, a third of a 10M-request levers run.
Inside `keep_freed_memory()` glibc serves large arrays from its heap and does not trim it, so freed pages are
reused; on leaving, or at `give_back()`, the defaults come back and the free heap goes back to the system
(`malloc_trim`). The levers give it back before their last step, which holds their peak: kept through that
step, the heap's fragments took the 10M peak from 3.72 GiB to 3.9-4.0 GiB; given back first, the peak is as
before and the run 36-41 s -> 32-33 s (docs/levers.md). Elsewhere than glibc (macOS, musl) it does nothing.

What it leaves behind: glibc has no call that turns its dynamic mmap threshold back on once `mallopt` has set
either option, so after the first use the process keeps glibc's documented defaults as fixed values (a 128
KiB trim threshold, mmap for large arrays): the behaviour of a process that set `MALLOC_TRIM_THRESHOLD_`
itself. Settings a host application made with `mallopt` are replaced by those defaults too. The state is the
process's: two `evaluate` calls in different threads share it (one's `give_back` ends the other's policy,
which costs it time, not results).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_MAX = -4
DEFAULT_TRIM_THRESHOLD = 128 * 1024  # glibc's defaults
DEFAULT_MMAP_MAX = 65536


def _glibc() -> Any | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def give_back() -> None:
    """The defaults again and the free heap returned now (before a step whose peak matters more than its time);
    the enclosing `keep_freed_memory` still trims the heap again when it ends (what was allocated before this
    call and freed after it is returned then)."""
    global _kept
    libc = _glibc()
    if libc is not None and _kept:
        _kept = False
        _restore(libc)


def _restore(libc: Any) -> None:
    libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
    libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
    libc.malloc_trim(0)


@contextmanager
def keep_freed_memory() -> Iterator[None]:
    """Within: large allocations from glibc's heap, freed memory kept for reuse; after: the defaults, and the
    free heap returned to the system. Nested uses keep the policy until the outermost ends."""
    global _depth, _kept
    libc = _glibc()
    if libc is None:
        yield
        return
    if _depth == 0:
        libc.mallopt(M_MMAP_MAX, 0)
        libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)
        _kept = True
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            if _kept:
                _kept = False
                _restore(libc)
            else:  # given back already: what was freed since goes back now
                libc.malloc_trim(0)


_depth = 0  # nesting of keep_freed_memory blocks
_kept = False  # the policy is on
