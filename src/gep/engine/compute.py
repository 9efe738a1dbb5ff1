"""Run the selected services over the account grid.

Each item becomes *blocks*: a per-pixel service runs on row blocks of ``chunk_rows`` rows (so its
temporaries stay small and blocks run in parallel), a service that needs the whole landscape (routing,
regional caps: ``ServiceDeclaration.whole_grid``) runs as one block covering the grid. A block computes
the service, applies per-region parameter overrides (the service re-run with the region's parameters,
its pixels taken inside the region, deeper regions last so they win) and sets the pixels outside the
account to NaN. The blocks of an item are then assembled in row order.

Blocks run on a backend: by default a local thread pool (numpy and GDAL release the GIL), or a
dask.distributed cluster when a scheduler address is given (:mod:`gep.engine.distributed`, imported
only then). Both run the same block function on the same row blocks, so the results are bitwise
identical.

Items are produced in catalogue order, with at most ``lookahead`` items in flight, so a consumer that
writes and drops each item holds a bounded number of them: :func:`iter_item_runs` yields each item's
full float64 result, :func:`iter_item_outcomes` (the account's path) what an account keeps of it, its
sums and float32 maps, summarized block by block where the blocks are computed
(:mod:`gep.engine.summary`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numba import njit

from gep.engine.array_pool import adopt_retained_arrays
from gep.engine.summary import BlockOutcome, ItemOutcome, assemble_outcome, summarize_block
from gep.engine.tally import BlockTally, Tally
from gep.inputs.prepare import PreparedInputs
from gep.parameters import ParameterSet
from gep.services.base import Component, ServiceContext, ServiceResult
from gep.services.registry import Service, services

DEFAULT_CHUNK_ROWS = 512
"""Rows per block of a per-pixel service (512 rows × 5,700 columns ≈ 23 MB per float64 layer at 30 m)."""
DEFAULT_LOOKAHEAD = 2
"""Items computed ahead of the one being consumed (local backend)."""
Progress = Callable[[str, float], None]
Overrides = tuple[tuple[str, ParameterSet], ...]
"""(region code, parameters with the region's overrides), shallow regions first."""


@dataclass(frozen=True)
class ItemRun:
    """A service's result over the whole grid, with the parameters it used."""

    service: Service
    result: ServiceResult


@dataclass(frozen=True)
class ItemPlan:
    """What to compute for one item: the service, its context on the whole grid, the region overrides
    (applied inside each block) and the row blocks."""

    service: Service
    ctx: ServiceContext
    overrides: Overrides
    blocks: tuple[slice, ...]

    @property
    def override_notes(self) -> tuple[str, ...]:
        return tuple(f"parameters overridden for region {code}" for code, _ in self.overrides)


class BlockFuture(Protocol):
    def result(self) -> ServiceResult | BlockOutcome: ...


class Backend(Protocol):
    """Where blocks run. ``derived`` computes the derived layers; ``submit`` one item's blocks, each
    summarized with its rows of ``tally`` when one is given (:func:`summarized_block`), without
    waiting for the derived layers; ``waiting`` tells whether an item's blocks still wait for them."""

    lookahead: int

    def derived(self, prepared: PreparedInputs, names: set[str]) -> None: ...

    def waiting(self, plan: ItemPlan) -> bool: ...

    def submit(self, plan: ItemPlan, tally: Tally | None = None) -> list[BlockFuture]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------------------


def derived_layers(prepared: PreparedInputs, names: set[str]) -> dict[str, np.ndarray]:
    """Compute derived layers (``ls_factor`` from ``dem``) on the account grid."""
    if "ls_factor" not in names:
        return {}
    return {
        "ls_factor": ls_factor_layer(
            prepared.layers["dem"].data,
            prepared.index.inside,
            prepared.grid.resolution,
            str(prepared.options.get("ls_routing", "mfd")),
        )
    }


def ls_factor_layer(dem: np.ndarray, inside: np.ndarray, resolution: float, method: str) -> np.ndarray:
    """RUSLE LS (dimensionless) of ``dem`` (m) with the pixels outside the account as nodata."""
    from gep.routing.terrain import ls_factor

    masked = np.array(dem, dtype=np.float64, copy=True)
    masked[~inside] = np.nan
    return ls_factor(masked, resolution, method=method)


def base_context(prepared: PreparedInputs, extra_layers: dict[str, np.ndarray]) -> ServiceContext:
    layers = {name: layer.data for name, layer in prepared.layers.items()}
    layers.update(extra_layers)
    index = prepared.index
    classes = prepared.classes
    if classes is None:
        import pandas as pd

        classes = pd.DataFrame()
    return ServiceContext(
        layers=layers,
        classes=classes,
        tables=dict(prepared.tables),
        params=prepared.params,
        pixel_area_m2=prepared.grid.pixel_area_m2,
        inside=index.inside,
        unit_index=index.unit_index,
        unit_codes=index.codes,
        region_units=index.region_units,
        transform=prepared.grid.transform,
        crs=prepared.grid.crs,
        options=dict(prepared.options),
    )


def item_layers(service: Service, available: Sequence[str]) -> tuple[str, ...]:
    """Layers a service may read: its declared and derived layers, plus ``landcover`` (read through the
    class table by every item with class columns), among those ``available``."""
    declaration = service.declaration
    wanted = {layer.name for layer in declaration.layers} | set(declaration.derived_layers) | {"landcover"}
    return tuple(name for name in available if name in wanted)


# --------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------


def row_blocks(rows: int, chunk_rows: int, whole_grid: bool) -> tuple[slice, ...]:
    """Row blocks of an item: one block for whole-grid services (or a grid of at most ``chunk_rows``
    rows), else consecutive blocks of ``chunk_rows`` rows."""
    if whole_grid or rows <= chunk_rows:
        return (slice(0, rows),)
    return tuple(slice(r, min(rows, r + chunk_rows)) for r in range(0, rows, chunk_rows))


def plan_items(prepared: PreparedInputs, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> list[ItemPlan]:
    """One :class:`ItemPlan` per computable item, in catalogue order. The contexts hold the input layers
    only; derived layers are added by the backend."""
    registry = services()
    ctx = base_context(prepared, {})
    options = _options(prepared)
    rows = prepared.grid.shape[0]
    plans = []
    for item_id in prepared.computable_items:
        service = registry[item_id]
        item_ctx = replace(ctx, variant=prepared.variants.get(item_id), options=options)
        plans.append(
            ItemPlan(
                service,
                item_ctx,
                region_overrides(service, prepared),
                row_blocks(rows, chunk_rows, service.declaration.whole_grid),
            )
        )
    return plans


def region_overrides(service: Service, prepared: PreparedInputs) -> Overrides:
    """Per-region parameter sets for the regions whose overrides touch a parameter of ``service``,
    shallow regions first (so deeper ones are applied last and win)."""
    used = set(service.declaration.parameters)
    overrides = [(code, values) for code, values in prepared.region_params.items() if used & set(values)]
    if not overrides:
        return ()
    depth = {r.code: prepared.regions.depth(r.code) for r in prepared.regions.regions}
    return tuple(
        (
            code,
            prepared.params.with_values(
                {k: v for k, v in values.items() if k in used}, source=f"account spec, region {code}"
            ),
        )
        for code, values in sorted(overrides, key=lambda item: depth[item[0]])
    )


def _options(prepared: PreparedInputs) -> dict[str, object]:
    """Profile options plus the carbon variant, so oxygen from carbon uses the same basis."""
    options = dict(prepared.options)
    options.setdefault("year", prepared.spec.account.year)
    carbon = registry_variant(prepared, "carbon_sequestration")
    if carbon is not None:
        options.setdefault("carbon_variant", carbon)
    return options


def registry_variant(prepared: PreparedInputs, item_id: str) -> str | None:
    """The variant the profile picks for ``item_id``, else the service's default (first) variant."""
    chosen = prepared.variants.get(item_id)
    if chosen:
        return chosen
    service = services().get(item_id)
    return service.declaration.variants[0] if service and service.declaration.variants else None


# --------------------------------------------------------------------------------------------------
# One block, and assembling blocks
# --------------------------------------------------------------------------------------------------


def slice_context(ctx: ServiceContext, rows: slice) -> ServiceContext:
    """``ctx`` restricted to the rows ``rows`` (views, no copies)."""
    layers = {name: array[rows] for name, array in ctx.layers.items()}
    return replace(ctx, layers=layers, inside=ctx.inside[rows], unit_index=ctx.unit_index[rows])


def compute_block(service: Service, ctx: ServiceContext, overrides: Overrides) -> ServiceResult:
    """The service on ``ctx`` (a block or the whole grid), with the region overrides applied and NaN
    outside the account. Every array of the result is float64 of the block's shape.

    A region override re-runs the service with the region's parameters and takes its pixels inside the
    region; for a per-pixel service this is done block by block (blocks without a pixel of the region
    are skipped), which gives the same pixels as doing it on the whole grid.
    """
    return _mask_outside(_with_overrides(service, ctx, overrides), ctx.inside, tuple(ctx.layers.values()))


def _with_overrides(service: Service, ctx: ServiceContext, overrides: Overrides) -> ServiceResult:
    """The service on ``ctx`` with the region overrides applied (pixels outside the account as the
    service left them)."""
    result = service.compute(ctx)
    for code, params in overrides:
        mask = ctx.region_mask(code)
        if not service.declaration.whole_grid and not mask.any():
            continue
        regional = service.compute(replace(ctx, params=params))
        result = _merge(result, regional, mask)
    return result


def summarized_block(service: Service, ctx: ServiceContext, overrides: Overrides, tally: BlockTally) -> BlockOutcome:
    """The block computed as by :func:`compute_block`, as its sums and float32 maps
    (:func:`summarize_block`; the tally skips the pixels outside the account and the maps get NaN
    there, so the float64 arrays are not masked first); the float64 arrays are dropped here."""
    return summarize_block(_with_overrides(service, ctx, overrides), tally)


def _merge(base: ServiceResult, regional: ServiceResult, mask: np.ndarray) -> ServiceResult:
    components = tuple(
        replace(
            b, physical=np.where(mask, r.physical, b.physical), value_yuan=np.where(mask, r.value_yuan, b.value_yuan)
        )
        for b, r in zip(base.components, regional.components, strict=True)
    )
    return replace(
        base,
        physical=np.where(mask, regional.physical, base.physical),
        value_yuan=np.where(mask, regional.value_yuan, base.value_yuan),
        components=components,
    )


@njit(cache=True, nogil=True)
def _mask_into(values: np.ndarray, inside: np.ndarray, out: np.ndarray) -> None:
    rows, cols = out.shape
    for r in range(rows):
        for c in range(cols):
            out[r, c] = values[r, c] if inside[r, c] else np.nan


def _mask_outside(result: ServiceResult, inside: np.ndarray, inputs: Sequence[np.ndarray] = ()) -> ServiceResult:
    """``result`` with every array as a float64 array of the block's shape, NaN outside the account,
    in one pass per distinct array. An array the service made itself (float64, writeable, of the block's
    shape, sharing no memory with the ``inputs`` layers) is masked in place; any other is copied."""
    done: dict[int, np.ndarray] = {}

    def clean(a: np.ndarray) -> np.ndarray:
        if id(a) not in done:
            values = np.asarray(a)
            own = (
                values.dtype == np.float64
                and values.shape == inside.shape
                and values.flags.writeable
                and not any(np.may_share_memory(values, layer) for layer in inputs)
            )
            if own:
                out = values
            else:
                out = np.empty(inside.shape, dtype=np.float64)
                if values.dtype == np.bool_:
                    values = values.astype(np.float64)
                values = np.broadcast_to(values, inside.shape)
            _mask_into(values, inside, out)
            done[id(a)] = out
        return done[id(a)]

    components = tuple(
        replace(c, physical=clean(c.physical), value_yuan=clean(c.value_yuan)) for c in result.components
    )
    return replace(result, physical=clean(result.physical), value_yuan=clean(result.value_yuan), components=components)


class GridBuffers:
    """Full-grid arrays (of ``dtype``) of items already written, handed back by the writer and reused
    to assemble later items, so a run does not map (and have the kernel zero) a fresh array for each.

    Only arrays nobody else refers to are kept (checked with their reference count), at most
    ``capacity`` of them."""

    def __init__(self, shape: tuple[int, int], capacity: int = 8, dtype: type = np.float64):
        self.shape = tuple(shape)
        self.capacity = capacity
        self.dtype = np.dtype(dtype)
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self) -> np.ndarray:
        """An array of the grid's shape and the buffers' dtype with undefined contents."""
        with self._lock:
            if self._free:
                return self._free.pop()
        return np.empty(self.shape, dtype=self.dtype)

    def give(self, arrays: list[np.ndarray]) -> None:
        """Keep the arrays of ``arrays`` that are whole-grid arrays of the buffers' dtype owning their
        memory and held by nothing but this list; the list is emptied."""
        seen: set[int] = set()
        while arrays:
            array = arrays.pop()
            # references: the local name and getrefcount's argument
            unused = sys.getrefcount(array) <= 2 and id(array) not in seen
            seen.add(id(array))
            if (
                unused
                and isinstance(array, np.ndarray)
                and array.shape == self.shape
                and array.dtype == self.dtype
                and array.flags.owndata
                and array.flags.c_contiguous
                and array.flags.writeable
            ):
                with self._lock:
                    if len(self._free) < self.capacity:
                        self._free.append(array)
            del array


def assemble(
    plan: ItemPlan, parts: Sequence[ServiceResult], shape: tuple[int, int], buffers: GridBuffers | None = None
) -> ServiceResult:
    """The item's result on the whole grid from its blocks' results (in block order): arrays copied
    into place (into ``buffers``' arrays when given), notes of the blocks each once (in order), then
    one note per region override."""
    first = parts[0]
    if len(parts) == 1:
        return replace(first, notes=(*first.notes, *plan.override_notes))

    def stitch(pick: Callable[[ServiceResult], np.ndarray]) -> np.ndarray:
        out = buffers.take() if buffers is not None else np.empty(shape, dtype=np.float64)
        for rows, part in zip(plan.blocks, parts, strict=True):
            out[rows] = pick(part)
        return out

    components = tuple(
        Component(
            c.name,
            c.unit,
            stitch(lambda p, k=k: p.components[k].physical),
            stitch(lambda p, k=k: p.components[k].value_yuan),
            c.price_parameter,
        )
        for k, c in enumerate(first.components)
    )
    notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
    return replace(
        first,
        physical=stitch(lambda p: p.physical),
        value_yuan=stitch(lambda p: p.value_yuan),
        components=components,
        notes=(*notes, *plan.override_notes),
    )


# --------------------------------------------------------------------------------------------------
# The local backend
# --------------------------------------------------------------------------------------------------


class LocalBackend:
    """Blocks on a thread pool of ``workers`` threads (default: the CPU count); ``workers=1`` runs
    everything in the calling thread. The routing behind ``ls_factor`` runs in numba kernels that
    release the GIL, so on the pool it overlaps the items that do not need it."""

    def __init__(self, workers: int | None = None, lookahead: int = DEFAULT_LOOKAHEAD):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.lookahead = lookahead
        self._pool = (
            ThreadPoolExecutor(self.workers, thread_name_prefix="gep", initializer=adopt_retained_arrays)
            if self.workers > 1
            else None
        )
        self._derived: Future | None = None

    def derived(self, prepared: PreparedInputs, names: set[str]) -> None:
        if names:
            self._derived = self._run(derived_layers, prepared, names)

    def waiting(self, plan: ItemPlan) -> bool:
        """Whether ``plan``'s blocks wait for the derived layers, still being computed."""
        return bool(plan.service.declaration.derived_layers) and self._derived is not None and not self._derived.done()

    def submit(self, plan: ItemPlan, tally: Tally | None = None) -> list[BlockFuture]:
        if not plan.service.declaration.derived_layers:
            return self._blocks(plan, plan.ctx, tally)
        derived = self._derived
        if derived is None:  # pragma: no cover - plan and derived are built together
            raise RuntimeError("derived layers were not requested")
        if derived.done() or self._pool is None:
            return self._blocks(plan, replace(plan.ctx, layers={**plan.ctx.layers, **derived.result()}), tally)
        # the blocks are queued when the derived layers are ready; until then the caller goes on
        proxies: list[Future] = [Future() for _ in plan.blocks]

        def start(ready: Future) -> None:
            try:
                ctx = replace(plan.ctx, layers={**plan.ctx.layers, **ready.result()})
                futures = self._blocks(plan, ctx, tally)
            except BaseException as exc:  # noqa: BLE001 - handed to the blocks' futures
                for proxy in proxies:
                    proxy.set_exception(exc)
                return
            for future, proxy in zip(futures, proxies, strict=True):
                future.add_done_callback(lambda done, proxy=proxy: _pass_on(done, proxy))

        derived.add_done_callback(start)
        return proxies

    def _blocks(self, plan: ItemPlan, ctx: ServiceContext, tally: Tally | None) -> list[Future]:
        if tally is None:
            return [
                self._run(compute_block, plan.service, slice_context(ctx, rows), plan.overrides) for rows in plan.blocks
            ]
        return [
            self._run(summarized_block, plan.service, slice_context(ctx, rows), plan.overrides, tally.block(rows))
            for rows in plan.blocks
        ]

    def _run(self, fn, *args) -> Future:
        if self._pool is not None:
            return self._pool.submit(fn, *args)
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised by .result()
            future.set_exception(exc)
        return future

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _pass_on(done: Future, proxy: Future) -> None:
    """Give ``proxy`` the outcome of ``done``."""
    if done.cancelled():
        proxy.cancel()
    elif done.exception() is not None:
        proxy.set_exception(done.exception())
    else:
        proxy.set_result(done.result())


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


def iter_item_runs(
    prepared: PreparedInputs,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    buffers: GridBuffers | None = None,
) -> Iterator[ItemRun]:
    """Compute every computable item of ``prepared`` and yield the runs (full float64 results) in
    catalogue order, keeping at most the backend's ``lookahead`` items in flight beyond the one yielded.

    Args:
        prepared: checked inputs (:func:`gep.inputs.prepare.prepare_inputs`).
        progress: ``progress(step, fraction)`` callback.
        chunk_rows: rows per block of a per-pixel service.
        scheduler: address of a dask.distributed scheduler (``tcp://host:8786``); None runs locally.
        workers: threads of the local backend (default: CPU count); ignored with ``scheduler``.
        buffers: float64 arrays handed back by the consumer (:class:`GridBuffers`), used to assemble
            items computed in row blocks.
    """
    shape = prepared.grid.shape
    for plan, parts in _stream(prepared, progress, chunk_rows, scheduler, workers, None):
        run = ItemRun(plan.service, assemble(plan, parts, shape, buffers))
        parts.clear()  # the blocks' arrays go before the consumer gets the item
        yield run


def iter_item_outcomes(
    prepared: PreparedInputs,
    tally: Tally,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    buffers: GridBuffers | None = None,
) -> Iterator[ItemOutcome]:
    """Like :func:`iter_item_runs`, but yield what an account keeps of each item: its sums by
    ``tally`` and its physical and value maps as float32 (:mod:`gep.engine.summary`). Each block is
    summarized where it was computed; ``buffers`` (float32) are used to assemble the maps of items
    computed in row blocks."""
    shape = prepared.grid.shape
    take = buffers.take if buffers is not None else None
    for plan, parts in _stream(prepared, progress, chunk_rows, scheduler, workers, tally):
        outcome = assemble_outcome(plan.service, plan.blocks, parts, shape, plan.override_notes, take)
        parts.clear()
        yield outcome


def _stream(
    prepared: PreparedInputs,
    progress: Progress | None,
    chunk_rows: int,
    scheduler: str | None,
    workers: int | None,
    tally: Tally | None,
) -> Iterator[tuple[ItemPlan, list]]:
    """Each item's plan and the list of its blocks' results (or outcomes, with ``tally``), in catalogue
    order; the consumer may empty the list to drop the blocks."""
    report = progress or (lambda step, fraction: None)
    plans = plan_items(prepared, chunk_rows)
    if scheduler:
        from gep.engine.distributed import DistributedBackend

        backend: Backend = DistributedBackend(scheduler, prepared)
    else:
        backend = LocalBackend(workers)
    try:
        report("derived layers", 0.0)
        backend.derived(prepared, {d for plan in plans for d in plan.service.declaration.derived_layers})
        pending: deque[tuple[ItemPlan, list[BlockFuture]]] = deque()
        queue = deque(plans)
        done = 0
        while queue or pending:
            # items waiting for the derived layers do not count: the items after them compute meanwhile
            while queue and sum(not backend.waiting(p) for p, _ in pending) <= backend.lookahead:
                plan = queue.popleft()
                pending.append((plan, backend.submit(plan, tally)))
            plan, futures = pending.popleft()
            report(plan.service.item_id, (done + 0.5) / max(1, len(plans)))
            parts = [f.result() for f in futures]
            futures.clear()
            done += 1
            yield plan, parts
    finally:
        backend.close()
    report("done", 1.0)


def run_services(
    prepared: PreparedInputs,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> list[ItemRun]:
    """Compute every computable item of ``prepared``; returns runs in catalogue order.

    See :func:`iter_item_runs` for the arguments; this keeps every item's arrays in memory (about
    ``8 × (2 + 2 × components)`` bytes per pixel and item), use :func:`iter_item_runs` to stream."""
    return list(iter_item_runs(prepared, progress, chunk_rows, scheduler=scheduler, workers=workers))
