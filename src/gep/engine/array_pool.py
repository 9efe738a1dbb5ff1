"""A numpy data allocator that keeps freed large blocks for reuse within an account run.

An account at 30 m creates and drops a few hundred full-grid arrays (256 MB each as float64). glibc
serves every block over 32 MB with a fresh ``mmap`` and unmaps it on free, so the kernel must fault in
and zero each new array page by page: on the 2-core virtual machine of our benchmarks that costs
0.5-3 s of system CPU per GB, as much as many of the computations themselves.

:func:`retained_arrays` installs, for the current thread, a numpy memory handler (numpy's
``PyDataMem_SetHandler``) that keeps freed blocks of at least :data:`LARGE_BYTES` in a pool of at most
``limit_bytes`` and hands them out again: to requests of the same size, else to requests of at least
half their size (``np.zeros`` clears a reused block with ``memset``). When no pooled block fits, the
oldest pooled blocks too small for the request are given back to the system before a new one is
allocated, so that it is made of pages the process just released (cheap to fault in again) rather than
of memory it never touched; larger pooled blocks stay for the larger requests to come.
Smaller blocks go straight to ``malloc``/``free``.

The allocator functions are numba ``cfunc``s (no GIL needed, a mutex guards the pool), called by numpy
through the C function pointers of the handler. Each block carries a 16-byte header with its size, so a
block is always returned to the right place whatever size numpy reports when freeing it. Arrays keep a
reference to the handler that allocated them and are freed through it even after the context ends;
once no context is active the pool holds nothing and frees go straight back to the system.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator

import numpy as np
from numba import cfunc, njit, types
from numba.core.extending import intrinsic

LARGE_BYTES = 4 * 1024 * 1024
"""Blocks of at least this many bytes (4 MiB) are kept for reuse; smaller ones are not pooled."""

HANDLER_NAME = "gep_retained_arrays"
"""The handler's name, as ``numpy.core.multiarray.get_handler_name`` reports it."""

_HEADER = 16
_SLOTS = 512
_ANY = 1 << 62

# ctx layout (int64 words): the pthread mutex (words 0-7), then counters, then the slots (pointer, size,
# stamp); a block's 16-byte header (its size, then padding) keeps the user pointer 16-byte aligned
_LIMIT, _POOLED, _CLOCK, _REUSED, _FRESH, _FRESH_BYTES, _RETURNED_BYTES = 8, 9, 10, 11, 12, 13, 14
_FIRST_SLOT = 16
_CTX_WORDS = _FIRST_SLOT + 3 * _SLOTS

_malloc = types.ExternalFunction("malloc", types.int64(types.int64))
_calloc = types.ExternalFunction("calloc", types.int64(types.int64, types.int64))
_realloc = types.ExternalFunction("realloc", types.int64(types.int64, types.int64))
_free = types.ExternalFunction("free", types.void(types.int64))
_memset = types.ExternalFunction("memset", types.int64(types.int64, types.int32, types.int64))
_memcpy = types.ExternalFunction("memcpy", types.int64(types.int64, types.int64, types.int64))
_lock = types.ExternalFunction("pthread_mutex_lock", types.int32(types.int64))
_unlock = types.ExternalFunction("pthread_mutex_unlock", types.int32(types.int64))


@intrinsic
def _words(typingctx, address):
    """The int64 words at ``address`` (an integer) as a pointer."""
    sig = types.CPointer(types.int64)(types.int64)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.CPointer(types.int64)))

    return sig, codegen


@njit(cache=True)
def _take(ctx, size):
    """A pooled block for ``size`` bytes (its user address), or 0: the most recently pooled block of
    exactly that size, else the smallest one of up to twice that size."""
    state = _words(ctx)
    best = -1
    stamp = -1
    for i in range(_SLOTS):
        k = _FIRST_SLOT + 3 * i
        if state[k] != 0 and state[k + 1] == size and state[k + 2] > stamp:
            best = k
            stamp = state[k + 2]
    if best < 0:
        capacity = 2 * size + 1
        for i in range(_SLOTS):
            k = _FIRST_SLOT + 3 * i
            if state[k] != 0 and size < state[k + 1] < capacity:
                best = k
                capacity = state[k + 1]
    if best < 0:
        return 0
    block = state[best]
    state[best] = 0
    state[_POOLED] -= state[best + 1]
    state[_REUSED] += 1
    return block


@njit(cache=True)
def _evict_oldest(ctx, below):
    """Free the oldest pooled block smaller than ``below`` bytes; return its size (0: none)."""
    state = _words(ctx)
    oldest = -1
    stamp = 0
    for i in range(_SLOTS):
        k = _FIRST_SLOT + 3 * i
        if state[k] != 0 and state[k + 1] < below and (oldest < 0 or state[k + 2] < stamp):
            oldest = k
            stamp = state[k + 2]
    if oldest < 0:
        return 0
    _free(state[oldest] - _HEADER)
    size = state[oldest + 1]
    state[_POOLED] -= size
    state[_RETURNED_BYTES] += size
    state[oldest] = 0
    return size


@njit(cache=True)
def _keep(ctx, block, size):
    """Put a block in the pool (evicting the oldest ones to stay within the limit) or free it."""
    state = _words(ctx)
    if size > state[_LIMIT]:
        _free(block - _HEADER)
        return
    while state[_POOLED] + size > state[_LIMIT]:
        if _evict_oldest(ctx, _ANY) == 0:
            break
    empty = -1
    for i in range(_SLOTS):
        k = _FIRST_SLOT + 3 * i
        if state[k] == 0:
            empty = k
            break
    if empty < 0:
        _evict_oldest(ctx, _ANY)
        for i in range(_SLOTS):
            k = _FIRST_SLOT + 3 * i
            if state[k] == 0:
                empty = k
                break
    state[_CLOCK] += 1
    state[empty] = block
    state[empty + 1] = size
    state[empty + 2] = state[_CLOCK]
    state[_POOLED] += size


@njit(cache=True)
def _new(ctx, size, zeroed):
    if size < 0:
        return 0
    if size >= LARGE_BYTES:
        _lock(ctx)
        block = _take(ctx, size)
        if block == 0:
            _words(ctx)[_FRESH] += 1
            _words(ctx)[_FRESH_BYTES] += size
            # pooled blocks too small for this request go back to the system first, so the new block
            # can be made of pages the process just gave back rather than of memory it never touched;
            # larger blocks stay for the larger requests to come
            freed = 0
            while freed < size:
                returned = _evict_oldest(ctx, size)
                if returned == 0:
                    break
                freed += returned
        _unlock(ctx)
        if block != 0:
            if zeroed:
                _memset(block, 0, size)
            return block
    raw = _calloc(1, size + _HEADER) if zeroed else _malloc(size + _HEADER)
    if raw == 0:
        return 0
    _words(raw)[0] = size
    return raw + _HEADER


@njit(cache=True)
def _release(ctx, block):
    if block == 0:
        return
    header = _words(block - _HEADER)
    size = header[0]
    if size >= LARGE_BYTES:
        _lock(ctx)
        _keep(ctx, block, size)
        _unlock(ctx)
    else:
        _free(block - _HEADER)


def _handler_malloc(ctx, size):
    return _new(ctx, size, False)


def _handler_calloc(ctx, count, item_size):
    if count < 0 or item_size < 0 or (item_size != 0 and count > 0x7FFFFFFFFFFFFFFF // item_size):
        return 0
    return _new(ctx, count * item_size, True)


def _handler_realloc(ctx, block, new_size):
    if block == 0:
        return _new(ctx, new_size, False)
    header = _words(block - _HEADER)
    old = header[0]
    size = new_size
    if old < LARGE_BYTES and size < LARGE_BYTES:
        raw = _realloc(block - _HEADER, size + _HEADER)
        if raw == 0:
            return 0
        _words(raw)[0] = size
        return raw + _HEADER
    moved = _new(ctx, size, False)
    if moved == 0:
        return 0
    _memcpy(moved, block, min(old, size))
    _release(ctx, block)
    return moved


def _handler_free(ctx, block, size):
    _release(ctx, block)


@njit(cache=True)
def _drain(ctx, limit):
    """Set the pool's limit and free what no longer fits; return (pooled bytes, reused, fresh)."""
    _lock(ctx)
    state = _words(ctx)
    state[_LIMIT] = limit
    while state[_POOLED] > limit:
        if _evict_oldest(ctx, _ANY) == 0:
            break
    result = (state[_POOLED], state[_REUSED], state[_FRESH])
    _unlock(ctx)
    return result


_HANDLER_FUNCTIONS = (
    (_handler_malloc, types.int64(types.int64, types.int64)),
    (_handler_calloc, types.int64(types.int64, types.int64, types.int64)),
    (_handler_realloc, types.int64(types.int64, types.int64, types.int64)),
    (_handler_free, types.void(types.int64, types.int64, types.int64)),
)
"""numpy's malloc, calloc, realloc and free, with their C signatures (compiled on first use)."""


class _Allocator(ctypes.Structure):
    _fields_ = [
        ("ctx", ctypes.c_void_p),
        ("malloc", ctypes.c_void_p),
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.c_void_p),
    ]


class _Handler(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 127), ("version", ctypes.c_uint8), ("allocator", _Allocator)]


def _multiarray():
    try:
        from numpy._core import _multiarray_umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath
    return _multiarray_umath


def handler_name(array: np.ndarray | None = None) -> str:
    """The name of the numpy memory handler of ``array`` (default: the one this thread uses now)."""
    return _multiarray().get_handler_name(array) if array is not None else _multiarray().get_handler_name()


def _numpy_api(index: int) -> int:
    """The address of entry ``index`` of numpy's C API table (entries never move, since numpy 1.22)."""
    _multiarray_umath = _multiarray()

    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = get_pointer(_multiarray_umath._ARRAY_API, None)
    return ctypes.c_void_p.from_address(table + index * ctypes.sizeof(ctypes.c_void_p)).value


_SET_HANDLER_INDEX = 304  # PyDataMem_SetHandler in numpy's C API table


class _Pool:
    """The process-wide pool: its state, handler capsule and how many contexts use it."""

    def __init__(self) -> None:
        self.state = np.zeros(_CTX_WORDS, dtype=np.int64)  # zeroed mutex = PTHREAD_MUTEX_INITIALIZER
        self.ctx = int(self.state.ctypes.data)
        self.functions = [cfunc(signature, cache=True)(function) for function, signature in _HANDLER_FUNCTIONS]
        addresses = [function.address for function in self.functions]
        self.handler = _Handler(HANDLER_NAME.encode(), 1, _Allocator(self.ctx, *addresses))
        new_capsule = ctypes.pythonapi.PyCapsule_New
        new_capsule.restype = ctypes.py_object
        new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        self.name = ctypes.c_char_p(b"mem_handler")  # the capsule keeps a pointer to its name
        self.capsule = new_capsule(ctypes.addressof(self.handler), self.name, None)
        self.set_handler = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object)(_numpy_api(_SET_HANDLER_INDEX))
        self.users = 0
        self.lock = threading.Lock()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _get_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool()
        return _pool


@contextlib.contextmanager
def retained_arrays(limit_bytes: int) -> Iterator[None]:
    """Within the block, numpy arrays created by this thread come from the retaining allocator.

    The pool keeps at most ``limit_bytes`` of freed blocks (the largest limit of the active contexts
    counts); it is emptied when the last context ends. Use :func:`adopt_retained_arrays` in worker
    threads started inside the block."""
    pool = _get_pool()
    with pool.lock:
        pool.users += 1
        _drain(pool.ctx, max(int(limit_bytes), int(pool.state[_LIMIT])))
    previous = pool.set_handler(pool.capsule)
    try:
        if handler_name() != HANDLER_NAME:  # pragma: no cover - a numpy whose C API moved
            raise RuntimeError(f"numpy {np.__version__} did not accept the gep memory handler")
        yield
    finally:
        pool.set_handler(previous)
        with pool.lock:
            pool.users -= 1
            if pool.users == 0:
                _drain(pool.ctx, 0)


def default_limit() -> int:
    """Bytes an account run keeps for reuse: 4 GiB, or a sixth of the physical memory if less."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - platforms without these names
        physical = 24 << 30
    return int(min(4 << 30, physical // 6))


def adopt_retained_arrays() -> None:
    """Use the retaining allocator in this (worker) thread if a :func:`retained_arrays` block is active.

    Meant as a thread pool ``initializer``; threads start with numpy's default handler."""
    pool = _pool
    if pool is not None and pool.users > 0:
        pool.set_handler(pool.capsule)


def pool_statistics() -> tuple[int, int, int, int, int]:
    """(bytes held in the pool, blocks handed out again, large blocks newly allocated, bytes newly
    allocated in large blocks, pooled bytes given back to the system), counted since the process began."""
    pool = _get_pool()
    words = (_POOLED, _REUSED, _FRESH, _FRESH_BYTES, _RETURNED_BYTES)
    return tuple(int(pool.state[w]) for w in words)  # type: ignore[return-value]


def avoid_numpy_huge_pages() -> bool:
    """Stop numpy from advising transparent huge pages (``madvise(MADV_HUGEPAGE)``) for the large
    arrays it allocates with its own handler, unless the user chose with numpy's
    ``NUMPY_MADVISE_HUGEPAGE`` environment variable. Returns whether the advice was switched off.

    Faulting in huge pages is very slow on virtual machines like our benchmark VM: InVEST SDR at
    4400 x 4400 took 46-52 s (22-24 s of it system CPU) with numpy's advice and 24-27 s (2.6-3.4 s
    system) without, the same run alternating (``gep invest``; the account path allocates through
    :func:`retained_arrays`, which never gives that advice). Called by the CLI commands that run
    outside :func:`retained_arrays`; a process-wide numpy setting, so the library API leaves it alone."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return False
    _multiarray()._set_madvise_hugepage(False)
    return True
