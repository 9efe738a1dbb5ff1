"""One account run: prepare inputs, compute the items, write the outputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gep.engine.array_pool import default_limit, retained_arrays
from gep.engine.compute import GridBuffers, ItemRun, iter_item_outcomes
from gep.engine.outputs import account_tally, check_output_dir, write_outputs
from gep.inputs.prepare import PreparedInputs, prepare_inputs
from gep.problems import GepInputError
from gep.spec import AccountSpec

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class AccountRun:
    prepared: PreparedInputs
    runs: tuple[ItemRun, ...]
    """The item runs without their per-pixel arrays (those are in ``out_dir/maps``)."""
    out_dir: Path


def run_account(
    spec: AccountSpec,
    out_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    extra_files: Mapping[str, str] | None = None,
    prepared: PreparedInputs | None = None,
    lang: str = "zh",
    reports: bool = True,
    scheduler: str | None = None,
) -> AccountRun:
    """Compute the account described by ``spec`` and write it to ``out_dir`` (default: the spec's
    ``output``). Raises :class:`GepInputError` listing every input error before computing anything.

    ``scheduler`` (default: the spec's ``account.scheduler``) is the address of a dask.distributed
    scheduler (``tcp://host:8786``) to compute the items on; None computes them locally. The results
    are the same either way.

    Freed full-grid arrays are kept and reused during the run (:mod:`gep.engine.array_pool`)."""
    with retained_arrays(default_limit()):
        return _run_account(spec, out_dir, progress, extra_files, prepared, lang, reports, scheduler)


def _run_account(
    spec: AccountSpec,
    out_dir: Path | None,
    progress: Progress | None,
    extra_files: Mapping[str, str] | None,
    prepared: PreparedInputs | None,
    lang: str,
    reports: bool,
    scheduler: str | None,
) -> AccountRun:
    report = progress or (lambda step, fraction: None)
    target = Path(out_dir) if out_dir is not None else spec.output_dir
    check_output_dir(target.resolve())
    if prepared is None:
        prepared = prepare_inputs(spec, lambda step, f: report(f"inputs: {step}", 0.3 * f))
    if not prepared.ok:
        raise GepInputError([p for p in prepared.problems if p.severity == "error"])
    address = scheduler if scheduler is not None else spec.account.scheduler
    # items stream from the engine into the writer one at a time, so only a few are in memory at once;
    # each block is summed and its maps rounded to float32 where it is computed
    runs: list[ItemRun] = []
    # the writer hands each written item's float32 maps back for assembling later items
    buffers = GridBuffers(prepared.grid.shape, dtype=np.float32)
    computed = iter_item_outcomes(
        prepared,
        account_tally(prepared),
        lambda step, f: report(step, 0.3 + 0.5 * f),
        scheduler=address,
        buffers=buffers,
    )
    written = write_outputs(
        prepared,
        _recording(computed, runs),
        target,
        extra_files=extra_files,
        progress=lambda step, f: report(step, 0.8 + 0.2 * f),
        lang=lang,
        reports=reports,
        buffers=buffers,
    )
    return AccountRun(prepared, tuple(runs), written)


def _recording(outcomes, into: list):
    """Pass ``outcomes`` through, remembering each as a run without arrays (method table, provenance)."""
    for outcome in outcomes:
        into.append(ItemRun(outcome.service, outcome.result))
        yield outcome
