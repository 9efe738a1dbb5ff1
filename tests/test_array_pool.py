"""The retaining numpy allocator of account runs (gep.engine.array_pool)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gep.engine.array_pool import (
    HANDLER_NAME,
    LARGE_BYTES,
    adopt_retained_arrays,
    handler_name,
    pool_statistics,
    retained_arrays,
)

LARGE = LARGE_BYTES // 8 + 1000  # float64 elements: just over the pooling threshold
LIMIT = 64 * LARGE_BYTES


def test_handler_is_installed_only_inside_the_block():
    default = handler_name()
    assert default != HANDLER_NAME
    with retained_arrays(LIMIT):
        assert handler_name() == HANDLER_NAME
        inside = np.ones(10)
    assert handler_name() == default
    assert handler_name(inside) == HANDLER_NAME
    assert handler_name(np.ones(10)) == default


def test_a_freed_large_block_is_handed_out_again_for_the_same_size():
    with retained_arrays(LIMIT):
        first = np.empty(LARGE)
        address = first.ctypes.data
        del first
        pooled, reused, fresh, _, _ = pool_statistics()
        assert pooled == LARGE * 8
        again = np.empty(LARGE)
        assert again.ctypes.data == address
        assert pool_statistics()[1] == reused + 1
        other = np.empty(LARGE + 1)  # a different size is a new block
        assert other.ctypes.data != address
        assert pool_statistics()[2] == fresh + 1
        del again, other
    assert pool_statistics()[0] == 0  # emptied when the block ends


def test_a_larger_pooled_block_serves_a_request_of_at_least_half_its_size():
    with retained_arrays(LIMIT):
        wide = np.empty(3 * LARGE // 2)
        address = wide.ctypes.data
        del wide
        narrow = np.ones(LARGE)
        assert narrow.ctypes.data == address and narrow.sum() == LARGE
        del narrow  # goes back with its full capacity
        assert pool_statistics()[0] == (3 * LARGE // 2) * 8


def test_a_miss_gives_smaller_pooled_blocks_back_first_and_keeps_larger_ones():
    with retained_arrays(LIMIT):
        huge, small = np.empty(5 * LARGE), np.empty(LARGE)
        del huge, small
        assert pool_statistics()[0] == 6 * LARGE * 8
        _, _, fresh, fresh_bytes, returned = pool_statistics()
        middle = np.empty(2 * LARGE + 10)  # fits neither; the smaller block is given back, the larger kept
        assert pool_statistics()[0] == 5 * LARGE * 8
        assert pool_statistics()[2:] == (fresh + 1, fresh_bytes + (2 * LARGE + 10) * 8, returned + LARGE * 8)
        del middle


def test_zeros_from_a_reused_block_are_zero():
    with retained_arrays(LIMIT):
        dirty = np.empty(LARGE)
        dirty.fill(7.5)
        address = dirty.ctypes.data
        del dirty
        clean = np.zeros(LARGE)
        assert clean.ctypes.data == address
        assert not clean.any()


def test_small_arrays_and_resizing_keep_their_data():
    with retained_arrays(LIMIT):
        small = np.arange(1000.0)
        assert small.sum() == 999 * 1000 / 2
        grown = np.arange(1000.0)
        grown.resize(LARGE, refcheck=False)  # small -> large block
        assert grown[:1000].sum() == 999 * 1000 / 2 and not grown[1000:].any()
        grown.resize(500, refcheck=False)  # large -> small
        assert grown.sum() == 499 * 500 / 2
        big = np.full(LARGE, 2.0)
        big.resize(2 * LARGE, refcheck=False)  # large -> larger
        assert big[:LARGE].sum() == 2.0 * LARGE
        joined = np.concatenate([np.ones(LARGE), np.zeros(LARGE)])
        assert joined.sum() == LARGE


def test_pool_stays_within_its_limit():
    limit = 3 * LARGE * 8
    with retained_arrays(limit):
        arrays = [np.empty(LARGE) for _ in range(6)]
        del arrays
        pooled = pool_statistics()[0]
        assert pooled <= limit
        assert pooled == 3 * LARGE * 8
    assert pool_statistics()[0] == 0


def test_arrays_outliving_the_block_are_freed_to_the_system():
    with retained_arrays(LIMIT):
        kept = np.ones(LARGE)
    assert pool_statistics()[0] == 0
    del kept
    assert pool_statistics()[0] == 0  # no active block: nothing is retained


def test_impossible_allocation_is_a_memory_error():
    with retained_arrays(LIMIT), pytest.raises(MemoryError):
        np.empty(2**50, dtype=np.uint8)


def test_worker_threads_share_the_pool_without_mixing_blocks():
    def work(seed: int) -> bool:
        assert handler_name() == HANDLER_NAME
        ok = True
        for round_ in range(20):
            a = np.full(LARGE, float(seed * 100 + round_))
            b = np.zeros(LARGE)
            b += a
            ok &= bool((b == seed * 100 + round_).all())
            del a, b
        return ok

    with retained_arrays(LIMIT), ThreadPoolExecutor(4, initializer=adopt_retained_arrays) as pool:
        results = list(pool.map(work, range(8)))
        assert pool_statistics()[1] > 0
    assert all(results)


def test_threads_started_outside_a_block_keep_the_default_handler():
    with ThreadPoolExecutor(1, initializer=adopt_retained_arrays) as pool:
        assert pool.submit(handler_name).result() != HANDLER_NAME


def test_numpy_huge_page_advice_is_switched_off_unless_the_user_chose(monkeypatch):
    from gep.engine.array_pool import _multiarray, avoid_numpy_huge_pages

    numpy_api = _multiarray()
    before = numpy_api._get_madvise_hugepage()
    try:
        numpy_api._set_madvise_hugepage(True)
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        assert avoid_numpy_huge_pages() is False and numpy_api._get_madvise_hugepage() is True
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE")
        assert avoid_numpy_huge_pages() is True and numpy_api._get_madvise_hugepage() is False
    finally:
        numpy_api._set_madvise_hugepage(before)
