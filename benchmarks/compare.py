"""Run InVEST 3.20 and gep on the same inputs; check agreement; report wall time and peak memory.

    python benchmarks/generate_inputs.py --rows 500 --cols 500 --out /tmp/b500
    python benchmarks/compare.py --invest-venv /work/invest-venv --inputs /tmp/b500 \\
        --models carbon,annual_water_yield --work /tmp/b500-runs

For each model, ``<inputs>/<model>.json`` is run

* by InVEST, in a subprocess of the InVEST venv that calls ``MODEL_SPEC.execute(args)`` without log file,
  metadata or HTML report (InVEST's model work only; ``--invest-cli`` uses ``invest run --no-report``);
* by gep, in a subprocess ``python -c "from gep.invest.cli import app; app()" MODEL DS --out WS``, or
  in-process with ``--gep-inprocess`` (then no peak memory is measured).

Each workspace is deleted before its run (InVEST's task graph would otherwise skip work) and dirty pages
are flushed to disk before each timed run. Wall time is measured around the subprocess (best of
``--repeat``); peak memory is the maximum resident set size
reported by ``/usr/bin/time -v``. Agreement (:func:`raster_agreement`): per output raster listed in
:data:`OUTPUTS`, over pixels valid in both, the largest per-pixel relative difference, the largest
difference relative to the raster's largest value, the largest absolute difference and the correlation,
and whether the nodata masks are identical; for the output tables, the largest relative difference of
the numeric columns.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

OUTPUTS: dict[str, tuple[list[str], list[str]]] = {
    "carbon": (
        ["c_storage_bas.tif", "c_storage_alt.tif", "c_change_bas_alt.tif", "npv_alt.tif"],
        ["raster_values_summary.csv"],
    ),
    "annual_water_yield": (
        ["output/per_pixel/fractp.tif", "output/per_pixel/aet.tif", "output/per_pixel/wyield.tif"],
        ["output/watershed_results_wyield.csv", "output/subwatershed_results_wyield.csv"],
    ),
    "sdr": (
        ["sed_export.tif", "sed_deposition.tif", "usle.tif", "rkls.tif", "avoided_erosion.tif", "avoided_export.tif"],
        [],
    ),
    "ndr": (["n_total_export.tif", "p_surface_export.tif", "n_surface_export.tif", "n_subsurface_export.tif"], []),
}

INVEST_DRIVER = """
import importlib, sys
from natcap.invest import datastack, models
ds = datastack.extract_parameter_set(sys.argv[1])
ds.args['workspace_dir'] = sys.argv[2]
module = importlib.import_module(models.model_id_to_pyname[ds.model_id])
module.MODEL_SPEC.execute(ds.args, create_logfile=False, generate_metadata=False, save_file_registry=True,
                          check_outputs=False, generate_report=False)
"""

GEP_DRIVER = "from gep.invest.cli import app; app()"


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` under ``/usr/bin/time -v``; return (wall seconds, peak RSS MB, combined output).

    Dirty pages are flushed first (``os.sync``), so that a run does not pay for writing back the files
    of the run before it (InVEST's SDR workspace holds gigabytes of intermediate rasters)."""
    os.sync()
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stdout)
    peak = int(match.group(1)) / 1024 if match else float("nan")
    return wall, peak, proc.stdout


def run_invest(venv: Path, model: str, datastack: Path, workspace: Path, cli: bool) -> tuple[float, float]:
    if cli:
        cmd = [str(venv / "bin" / "invest"), "run", model, "--datastack", str(datastack), "--workspace",
               str(workspace), "--no-report"]  # fmt: skip
    else:
        cmd = [str(venv / "bin" / "python"), "-c", INVEST_DRIVER, str(datastack), str(workspace)]
    wall, peak, _ = timed(cmd)
    return wall, peak


def run_gep(model: str, datastack: Path, workspace: Path, inprocess: bool) -> tuple[float, float]:
    if inprocess:
        from gep.invest import run_datastack

        start = time.perf_counter()
        run_datastack(datastack, workspace, model)
        return time.perf_counter() - start, float("nan")
    wall, peak, _ = timed([sys.executable, "-c", GEP_DRIVER, model, str(datastack), "--out", str(workspace), "-q"])
    return wall, peak


def raster_agreement(ours: Path, theirs: Path) -> dict:
    """Per-pixel agreement over the pixels valid in both rasters.

    ``max_rel``: largest |ours - theirs| / |theirs| (|theirs| floored at 1e-9), strict but misleading
    where values are rounding residues near zero; ``max_rel_of_max``: largest |ours - theirs| over the
    largest |theirs| of the raster (the difference relative to the raster's scale); ``max_abs``: largest
    |ours - theirs|; ``r``: Pearson correlation; ``masks_equal``: identical nodata masks."""
    with rasterio.open(ours) as a, rasterio.open(theirs) as b:
        if a.shape != b.shape:
            return {"file": ours.name, "error": f"shape {a.shape} vs {b.shape}"}
        x = a.read(1).astype(np.float64)
        y = b.read(1).astype(np.float64)
        mx = np.isclose(x, a.nodata) if a.nodata is not None else np.zeros(x.shape, bool)
        my = np.isclose(y, b.nodata) if b.nodata is not None else np.zeros(y.shape, bool)
    mx |= np.isnan(x)
    my |= np.isnan(y)
    valid = ~mx & ~my
    result = {"file": str(ours.name), "masks_equal": bool(np.array_equal(mx, my)), "valid_pixels": int(valid.sum())}
    if not valid.any():
        return {**result, "max_rel": 0.0, "max_rel_of_max": 0.0, "max_abs": 0.0, "r": float("nan")}
    xv, yv = x[valid], y[valid]
    diff = np.abs(xv - yv)
    scale = float(np.abs(yv).max())
    constant = float(xv.std()) == 0.0 or float(yv.std()) == 0.0
    return {
        **result,
        "max_rel": float((diff / np.maximum(np.abs(yv), 1e-9)).max()),
        "max_rel_of_max": float(diff.max() / scale) if scale > 0 else float(diff.max()),
        "max_abs": float(diff.max()),
        "r": 1.0 if constant and np.array_equal(xv, yv) else float(np.corrcoef(xv, yv)[0, 1]),
    }


def table_agreement(ours: Path, theirs: Path) -> dict:
    a, b = pd.read_csv(ours), pd.read_csv(theirs)
    worst = 0.0
    for column in b.columns:
        if column in a.columns and pd.api.types.is_numeric_dtype(b[column]):
            x, y = a[column].to_numpy(float), b[column].to_numpy(float)
            ok = ~np.isnan(x) & ~np.isnan(y)
            if ok.any():
                worst = max(worst, float((np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-9)).max()))
    same_columns = list(a.columns) == list(b.columns)
    return {"file": ours.name, "max_rel": worst, "same_columns": same_columns, "rows": len(b)}


def compare_model(args: argparse.Namespace, model: str) -> dict:
    datastack = args.inputs / f"{model}.json"
    inv_ws, gep_ws = args.work / f"invest-{model}", args.work / f"gep-{model}"
    best_inv = (float("inf"), float("nan"))
    best_gep = (float("inf"), float("nan"))
    for _ in range(args.repeat):
        shutil.rmtree(inv_ws, ignore_errors=True)
        if not args.skip_invest:
            result = run_invest(args.invest_venv, model, datastack, inv_ws, args.invest_cli)
            best_inv = min(best_inv, result)
        shutil.rmtree(gep_ws, ignore_errors=True)
        best_gep = min(best_gep, run_gep(model, datastack, gep_ws, args.gep_inprocess))
    rasters, tables = OUTPUTS.get(model, ([], []))
    agreement = []
    if not args.skip_invest:
        agreement = [raster_agreement(gep_ws / r, inv_ws / r) for r in rasters if (inv_ws / r).exists()]
        agreement += [table_agreement(gep_ws / t, inv_ws / t) for t in tables if (inv_ws / t).exists()]
    with rasterio.open(next(iter(sorted(args.inputs.glob("lulc.tif"))))) as src:
        shape = src.shape
    return {
        "model": model, "grid": f"{shape[0]}x{shape[1]}", "invest_s": best_inv[0], "invest_mb": best_inv[1],
        "gep_s": best_gep[0], "gep_mb": best_gep[1], "speedup": best_inv[0] / best_gep[0],
        "memory_ratio": best_gep[1] / best_inv[1], "agreement": agreement,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invest-venv", type=Path, required=True)
    parser.add_argument("--inputs", type=Path, required=True, help="folder written by generate_inputs.py")
    parser.add_argument("--models", default="carbon,annual_water_yield")
    parser.add_argument("--work", type=Path, default=None, help="workspaces (default: <inputs>/runs)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--gep-inprocess", action="store_true")
    parser.add_argument("--invest-cli", action="store_true", help="time `invest run --no-report` instead")
    parser.add_argument("--skip-invest", action="store_true", help="time gep only")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    args.work = args.work or args.inputs / "runs"
    args.work.mkdir(parents=True, exist_ok=True)
    results = [compare_model(args, m.strip()) for m in args.models.split(",") if m.strip()]
    print("| model | grid | InVEST s | InVEST peak MB | gep s | gep peak MB | speed-up | memory gep/InVEST |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['model']} | {r['grid']} | {r['invest_s']:.2f} | {r['invest_mb']:.0f} | {r['gep_s']:.2f} | "
              f"{r['gep_mb']:.0f} | {r['speedup']:.1f}x | {r['memory_ratio']:.2f} |")  # fmt: skip
    for r in results:
        for a in r["agreement"]:
            print(f"  {r['model']}: {json.dumps(a)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
