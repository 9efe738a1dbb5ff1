"""Run the account's blocks on a dask.distributed cluster.

Given a scheduler address (``tcp://host:8786``; ``gep account SPEC --scheduler ...`` or
``scheduler = "..."`` in the spec's ``[account]``), :class:`DistributedBackend` ships the same blocks
the local run computes (:mod:`gep.engine.compute`) to the cluster's workers:

* the *small context* (class table, statistical tables, parameters, region tree, grid transform) is
  scattered once to every worker;
* per-pixel items: each row block of the layers they read (plus the ``inside`` mask and the region
  index) is scattered once and shared by every item's task on that block;
* whole-grid items (routing, regional caps) run as one task on one worker, on the full layers they
  read (scattered once);
* the derived ``ls_factor`` layer is computed by one task on a worker from the scattered DEM; blocks of
  it are cut on the worker and never pass through the client.

Every task runs :func:`gep.engine.compute.compute_block`, the block function of the local run, on the
same rows, so results are bitwise identical to the local run; the client gathers one item at a time
(in catalogue order) and assembles it as the local run does. For an account
(:func:`gep.engine.compute.iter_item_outcomes`) the task also sums the block and rounds its two maps to
float32 (:func:`gep.engine.summary.summarize_block`, with the block's keys scattered once), so a worker
sends back float32 maps and small tables, not every float64 array. Workers must run the same gep
version (same environment) as the client.

This module imports dask; :mod:`gep.engine.compute` imports it only when a scheduler is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
from distributed import Client, Future

from gep.engine.compute import (
    ItemPlan,
    Overrides,
    compute_block,
    item_layers,
    ls_factor_layer,
)
from gep.engine.summary import BlockOutcome, summarize_block
from gep.engine.tally import BlockTally, Tally
from gep.inputs.prepare import PreparedInputs
from gep.problems import GepInputError, Problem
from gep.services.base import Component, ServiceContext, ServiceResult
from gep.services.registry import services

_EMPTY_MASK = np.zeros((0, 0), dtype=bool)
_EMPTY_INDEX = np.zeros((0, 0), dtype=np.int32)


# --------------------------------------------------------------------------------------------------
# What travels: results and errors as plain picklable values
# --------------------------------------------------------------------------------------------------


def result_payload(result: ServiceResult) -> dict:
    """A :class:`ServiceResult` as a picklable dict (its ``extra`` is a read-only mapping proxy)."""
    return {
        "item_id": result.item_id,
        "unit": result.unit,
        "physical": result.physical,
        "value_yuan": result.value_yuan,
        "components": [asdict(c) for c in result.components],
        "parameters_used": result.parameters_used,
        "notes": result.notes,
        "extra": dict(result.extra),
    }


def result_from_payload(payload: Mapping) -> ServiceResult:
    """Inverse of :func:`result_payload`."""
    fields = dict(payload)
    fields["components"] = tuple(Component(**c) for c in fields["components"])
    return ServiceResult(**fields)


def _problem_payload(problem: Problem) -> tuple:
    return (problem.severity, problem.code, problem.source, problem.field, dict(problem.params))


# --------------------------------------------------------------------------------------------------
# Functions run on the workers
# --------------------------------------------------------------------------------------------------


def remote_block(
    item_id: str,
    template: ServiceContext,
    variant: str | None,
    options: Mapping[str, object],
    overrides: Overrides,
    block: Mapping[str, np.ndarray],
    derived: Mapping[str, np.ndarray],
    tally: BlockTally | None = None,
) -> tuple[str, object]:
    """Compute one block of ``item_id`` on a worker: ("ok", result payload) or ("error", problems);
    with the block's ``tally``, ("outcome", outcome payload) (:func:`summarize_block`).

    ``block`` holds the layers of the block's rows and its ``inside`` and ``unit_index`` arrays;
    ``derived`` the derived layers' rows."""
    layers = {k: v for k, v in block.items() if k not in ("inside", "unit_index")}
    layers.update(derived)
    ctx = replace(
        template,
        layers=layers,
        inside=block["inside"],
        unit_index=block["unit_index"],
        variant=variant,
        options=dict(options),
    )
    try:
        result = compute_block(services()[item_id], ctx, overrides)
    except GepInputError as exc:  # its Problems hold mapping proxies: send plain tuples
        return "error", [_problem_payload(p) for p in exc.problems]
    if tally is not None:
        outcome = summarize_block(result, tally)
        del result
        return "outcome", {
            "result": result_payload(outcome.result),
            "physical": outcome.physical,
            "value_yuan": outcome.value_yuan,
            "parts": outcome.parts,
        }
    return "ok", result_payload(result)


def rows_of(array: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of ``array`` (a copy, so the worker can drop the full array)."""
    return np.array(array[start:stop], copy=True)


# --------------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------------


@dataclass
class _RemoteBlock:
    """A block's future on the cluster; ``result()`` waits and turns the payload back into a result."""

    future: Future

    def result(self) -> ServiceResult | BlockOutcome:
        status, payload = self.future.result()
        self.future.release()
        if status == "error":
            raise GepInputError([Problem(*p) for p in payload])
        if status == "outcome":
            return BlockOutcome(
                result_from_payload(payload["result"]), payload["physical"], payload["value_yuan"], payload["parts"]
            )
        return result_from_payload(payload)


class DistributedBackend:
    """Blocks on the dask.distributed cluster at ``scheduler`` (see the module docstring)."""

    def __init__(self, scheduler: str, prepared: PreparedInputs, lookahead: int | None = None):
        self.client = Client(scheduler, set_as_default=False)
        self.prepared = prepared
        workers = max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))
        self.lookahead = lookahead if lookahead is not None else max(2, workers)
        self._available = tuple(prepared.layers)
        self._template: Future | None = None
        self._blocks: dict[tuple[int, int, bool], Future] = {}
        self._tallies: dict[tuple[int, int], Future] = {}
        self._derived_full: dict[str, Future] = {}
        self._derived_blocks: dict[tuple[str, int, int], Future] = {}
        self._layer_sets: dict[bool, tuple[str, ...]] = {}

    # --- inputs on the cluster -------------------------------------------------------------------
    def _scatter(self, value) -> Future:
        # a list of one element: scattering a dict itself would scatter each value under its key
        return self.client.scatter([value], hash=False)[0]

    def template(self, plan: ItemPlan) -> Future:
        if self._template is None:
            small = replace(plan.ctx, layers={}, inside=_EMPTY_MASK, unit_index=_EMPTY_INDEX, params=plan.ctx.params)
            self._template = self.client.scatter([small], broadcast=True, hash=False)[0]
        return self._template

    def _layers_for(self, whole: bool) -> tuple[str, ...]:
        if whole not in self._layer_sets:
            wanted: set[str] = set()
            for item_id in self.prepared.computable_items:
                service = services()[item_id]
                if service.declaration.whole_grid == whole:
                    wanted.update(item_layers(service, self._available))
            self._layer_sets[whole] = tuple(name for name in self._available if name in wanted)
        return self._layer_sets[whole]

    def block(self, rows: slice, whole: bool) -> Future:
        key = (rows.start, rows.stop, whole)
        if key not in self._blocks:
            prepared = self.prepared
            data = {name: prepared.layers[name].data[rows] for name in self._layers_for(whole)}
            data["inside"] = prepared.index.inside[rows]
            data["unit_index"] = prepared.index.unit_index[rows]
            self._blocks[key] = self._scatter(data)
        return self._blocks[key]

    def block_tally(self, tally: Tally, rows: slice) -> Future:
        key = (rows.start, rows.stop)
        if key not in self._tallies:
            self._tallies[key] = self._scatter(tally.block(rows))
        return self._tallies[key]

    def waiting(self, plan: ItemPlan) -> bool:
        """Never: the cluster runs the blocks after the derived layers without the client waiting."""
        return False

    def derived(self, prepared: PreparedInputs, names: set[str]) -> None:
        if "ls_factor" in names:
            dem = self._scatter(prepared.layers["dem"].data)
            inside = self._scatter(prepared.index.inside)
            method = str(prepared.options.get("ls_routing", "mfd"))
            self._derived_full["ls_factor"] = self.client.submit(
                ls_factor_layer, dem, inside, prepared.grid.resolution, method, pure=False
            )

    def _derived_rows(self, name: str, rows: slice, whole: bool) -> Future:
        if whole:
            return self._derived_full[name]
        key = (name, rows.start, rows.stop)
        if key not in self._derived_blocks:
            self._derived_blocks[key] = self.client.submit(
                rows_of, self._derived_full[name], rows.start, rows.stop, pure=False
            )
        return self._derived_blocks[key]

    # --- tasks -----------------------------------------------------------------------------------
    def submit(self, plan: ItemPlan, tally: Tally | None = None) -> list[_RemoteBlock]:
        whole = plan.service.declaration.whole_grid
        template = self.template(plan)
        futures = []
        for rows in plan.blocks:
            derived = {name: self._derived_rows(name, rows, whole) for name in plan.service.declaration.derived_layers}
            futures.append(
                _RemoteBlock(
                    self.client.submit(
                        remote_block,
                        plan.service.item_id,
                        template,
                        plan.ctx.variant,
                        dict(plan.ctx.options),
                        plan.overrides,
                        self.block(rows, whole),
                        derived,
                        self.block_tally(tally, rows) if tally is not None else None,
                        pure=False,
                    )
                )
            )
        return futures

    def close(self) -> None:
        try:
            everything = [
                *self._blocks.values(),
                *self._tallies.values(),
                *self._derived_full.values(),
                *self._derived_blocks.values(),
            ]
            if self._template is not None:
                everything.append(self._template)
            self.client.cancel(everything)
        finally:
            self.client.close()
