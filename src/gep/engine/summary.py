"""What an account keeps of an item: its sums and its two maps, without full-grid float64 arrays.

An account writes two maps per item (the physical quantity and the value, as float32 COGs) and sums
every array of the item (the main quantity and each component, physical and value) by unit ×
ecosystem and by zone. Both are done on the block that computed them, on the thread or cluster
worker that computed it (:func:`summarize_block`): the block's float64 arrays are summed and the two
mapped ones rounded to float32 in the same pass, and then dropped. Only the float32 maps of the
blocks are assembled on the whole grid (:func:`assemble_outcome`), and the blocks' sums are added in
row order, so an item never holds its components or its float64 arrays on the whole grid, and a
cluster worker sends back float32 maps and small tables instead of every float64 array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from gep.engine.tally import ArraySums, BlockTally
from gep.services.base import ServiceResult
from gep.services.registry import Service

Part = tuple[str, str, ArraySums, ArraySums]
"""(component name, "" for the item's main quantity; physical unit; sums of physical; sums of value)."""


@dataclass(frozen=True)
class ItemSums:
    """An item's sums, without its per-pixel arrays: per part (the main quantity, component "", then
    each component) its name, physical unit, and the sums of its physical and value arrays."""

    item_id: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class BlockOutcome:
    """One block of an item, summarized: the result without arrays, the physical quantity and value
    rounded to float32 (the block's shape, NaN outside the account) and the sums of every array."""

    result: ServiceResult
    physical: np.ndarray
    value_yuan: np.ndarray
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class ItemOutcome:
    """An item on the whole grid as the account keeps it: the service, its result without arrays
    (parameters used, notes, extra), its two float32 maps and its sums."""

    service: Service
    result: ServiceResult
    physical: np.ndarray
    """float32 (grid shape): the main physical quantity per pixel, NaN outside the account."""
    value_yuan: np.ndarray
    """float32 (grid shape): yuan per pixel, NaN outside the account."""
    sums: ItemSums


def without_arrays(result: ServiceResult) -> ServiceResult:
    """``result`` with its per-pixel arrays dropped: what the method table and provenance need."""
    empty = np.empty(0)
    return replace(result, physical=empty, value_yuan=empty, components=())


def summarize_block(result: ServiceResult, tally: BlockTally) -> BlockOutcome:
    """Sum every array of ``result`` (a block computed by :func:`gep.engine.compute.compute_block`)
    with ``tally`` (the block's), one pass per distinct array; the physical and value arrays are
    rounded to float32 in the same pass."""
    sums: dict[int, ArraySums] = {}
    rounded: dict[int, np.ndarray] = {}

    def mapped(array: np.ndarray) -> np.ndarray:
        if id(array) not in rounded:
            sums[id(array)], rounded[id(array)] = tally.sums_and_float32(array)
        return rounded[id(array)]

    def summed(array: np.ndarray) -> ArraySums:
        if id(array) not in sums:
            sums[id(array)] = tally.sums(array)
        return sums[id(array)]

    physical = mapped(result.physical)
    value = mapped(result.value_yuan)
    parts = [("", result.unit, result.physical, result.value_yuan)] + [
        (c.name, c.unit, c.physical, c.value_yuan) for c in result.components
    ]
    return BlockOutcome(
        without_arrays(result),
        physical,
        value,
        tuple((name, unit, summed(p), summed(v)) for name, unit, p, v in parts),
    )


def assemble_outcome(
    service: Service,
    blocks: Sequence[slice],
    parts: Sequence[BlockOutcome],
    shape: tuple[int, int],
    extra_notes: tuple[str, ...] = (),
    take: Callable[[], np.ndarray] | None = None,
) -> ItemOutcome:
    """The item's outcome from its blocks' (in row order ``blocks``): float32 maps copied into place
    (into arrays from ``take`` when given, else new ones), sums added in row order, the notes of the
    blocks each once (in order) and then ``extra_notes``."""
    first = parts[0]
    notes = tuple(dict.fromkeys(n for p in parts for n in p.result.notes))
    result = replace(first.result, notes=(*notes, *extra_notes))
    if len(parts) == 1:
        physical, value = first.physical, first.value_yuan
    else:

        def stitch(pick: Callable[[BlockOutcome], np.ndarray]) -> np.ndarray:
            out = take() if take is not None else np.empty(shape, dtype=np.float32)
            for rows, part in zip(blocks, parts, strict=True):
                out[rows] = pick(part)
            return out

        physical = stitch(lambda p: p.physical)
        value = stitch(lambda p: p.value_yuan)
    sums = tuple(
        (
            name,
            unit,
            ArraySums.combine([p.parts[k][2] for p in parts]),
            ArraySums.combine([p.parts[k][3] for p in parts]),
        )
        for k, (name, unit, _, _) in enumerate(first.parts)
    )
    return ItemOutcome(service, result, physical, value, ItemSums(service.item_id, sums))
