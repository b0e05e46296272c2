"""The allocator policy of the lever replays (`inferplan.memory`): freed memory is kept for reuse inside
`keep_freed_memory()` and given back on leaving it or at `give_back()`; measured on this process's RSS."""

from __future__ import annotations

import os

import numpy as np
import pytest

from inferplan import memory

MB = 1 << 20
pytestmark = pytest.mark.skipif(memory._glibc() is None, reason="the policy is glibc's; elsewhere it does nothing")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def churn(mb: int = 256) -> int:
    """Allocate, touch and free one large array; the RSS right after the free, minus the RSS before."""
    before = rss()
    a = np.ones(mb * MB // 8)
    del a
    return rss() - before


def test_freed_memory_is_kept_inside_and_given_back_after():
    assert churn() < 32 * MB  # by default a large array is unmapped when freed
    with memory.keep_freed_memory():
        kept = churn()
        assert kept > 200 * MB  # kept for reuse: the next array of that size takes the same pages
        again = churn()
        assert again < 32 * MB
        with memory.keep_freed_memory():  # nested: the policy lasts until the outermost ends
            pass
        assert churn() < 32 * MB
        base = rss()
    assert rss() < base - 200 * MB  # given back on leaving
    assert churn() < 32 * MB  # and the defaults are back


def test_give_back_returns_the_memory_at_once():
    with memory.keep_freed_memory():
        churn()
        base = rss()
        memory.give_back()
        assert rss() < base - 200 * MB
        assert churn() < 32 * MB  # the defaults already, inside the block


def test_memory_freed_after_give_back_is_returned_when_the_block_ends():
    """An array allocated while memory was kept and freed after `give_back` (the levers' own table, freed when
    `evaluate` returns) goes back to the system at the end of the block, even behind a small live allocation."""
    with memory.keep_freed_memory():
        big = np.ones(200 * MB // 8)
        small = np.ones(MB // 8)  # from the heap too, above it: the heap's top cannot shrink past it
        memory.give_back()
        before = rss()
        del big
    assert rss() < before - 150 * MB
    assert small.sum() == MB // 8
