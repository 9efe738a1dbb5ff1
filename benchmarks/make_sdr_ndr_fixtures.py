"""Deterministic SDR/NDR test fixtures and their InVEST 3.20 reference outputs.

Writes ``tests/fixtures/invest/sdr_ndr/`` (default ``--out``):

* ``inputs/``: a 60 x 80 (rows x cols) 30 m grid in EPSG:4549 - ``dem.tif`` (float32, nodata -9999, a
  nodata hole, filled-flat pits, a flat plateau, values rounded to 0.1 m so that ties occur),
  ``lulc.tif`` (int16, nodata -1, its own hole), ``erosivity.tif``, ``erodibility.tif`` (float32),
  ``runoff_proxy.tif`` (float32 on a 60 m grid, resampled by the models), ``drainage.tif`` (uint8 0/1),
  ``watersheds.gpkg`` (two polygons, a corner left uncovered), ``biophysical_sdr.csv`` and
  ``biophysical_ndr.csv`` (classes 6 and 9 absent from the landscape);
* one InVEST datastack per case: ``sdr_mfd.json``, ``sdr_d8.json`` (with the drainage raster),
  ``ndr_mfd.json``, ``ndr_d8.json`` (paths relative to the JSON file);
* with ``--invest PYTHON`` (a Python that has natcap.invest 3.20, e.g. /work/invest-venv/bin/python):
  ``reference/<case>/`` with InVEST's outputs needed by the tests (compressed GeoTIFFs and the watershed
  results), small enough to commit.

Usage::

    python benchmarks/make_sdr_ndr_fixtures.py                    # inputs and datastacks only
    python benchmarks/make_sdr_ndr_fixtures.py --invest /work/invest-venv/bin/python
    python benchmarks/make_sdr_ndr_fixtures.py --compare INVEST_WORKSPACE GEP_WORKSPACE
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

ROWS, COLS, PIXEL = 60, 80, 30.0
ORIGIN = (500_000.0, 3_150_000.0)
CRS = "EPSG:4549"
SEED = 3202

CASES = {
    "sdr_mfd": ("sdr", "MFD", False),
    "sdr_d8": ("sdr", "D8", True),
    "ndr_mfd": ("ndr", "MFD", False),
    "ndr_d8": ("ndr", "D8", False),
}

REFERENCE_FILES = {
    "sdr": [
        "avoided_erosion.tif",
        "avoided_export.tif",
        "rkls.tif",
        "sed_deposition.tif",
        "sed_export.tif",
        "usle.tif",
        "stream.tif",
        "stream_and_drainage.tif",
        "intermediate_outputs/sdr_factor.tif",
        "intermediate_outputs/flow_accumulation.tif",
        "intermediate_outputs/d_dn.tif",
        "intermediate_outputs/ls.tif",
        "watershed_results_sdr.shp",
        "watershed_results_sdr.shx",
        "watershed_results_sdr.dbf",
        "watershed_results_sdr.prj",
    ],
    "ndr": [
        "n_surface_export.tif",
        "n_subsurface_export.tif",
        "n_total_export.tif",
        "p_surface_export.tif",
        "stream.tif",
        "intermediate_outputs/effective_retention_n.tif",
        "intermediate_outputs/effective_retention_p.tif",
        "intermediate_outputs/ndr_n.tif",
        "intermediate_outputs/ndr_p.tif",
        "intermediate_outputs/ic_factor.tif",
        "intermediate_outputs/flow_accumulation.tif",
        "watershed_results_ndr.gpkg",
    ],
}


def _write(path: Path, arr: np.ndarray, transform: Affine, dtype: str, nodata: float | int | None) -> None:
    profile = {
        "driver": "GTiff",
        "width": arr.shape[1],
        "height": arr.shape[0],
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "crs": CRS,
        "transform": transform,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr.astype(dtype), 1)


def make_inputs(out: Path) -> None:
    """Write the input rasters, vector and tables into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    r, c = np.mgrid[0:ROWS, 0:COLS].astype(np.float64)
    # two valleys draining south, a ridge between them, hills, noise
    dem = (
        60.0
        + 1.2 * (ROWS - 1 - r)
        + 0.9 * np.abs(c - 40.0)
        + 6.0 * np.sin(c / 7.0) * np.cos(r / 9.0)
        + rng.normal(0.0, 0.6, (ROWS, COLS))
    )
    dem[14:17, 20:23] -= 6.0  # a pit, filled by the models
    dem[44:46, 60:63] -= 4.0  # another pit
    dem[6:11, 62:71] = np.round(dem[6:11, 62:71].min(), 1)  # a flat plateau next to the uncovered corner
    dem = np.round(dem, 1)
    dem[25:31, 50:57] = -9999.0  # nodata hole
    transform = Affine(PIXEL, 0.0, ORIGIN[0], 0.0, -PIXEL, ORIGIN[1])
    _write(out / "dem.tif", dem, transform, "float32", -9999.0)

    lulc = np.full((ROWS, COLS), 1, dtype=np.int16)
    lulc[:, 30:50] = 2
    lulc[35:, 10:40] = 4
    lulc[20:35, 55:] = 3
    lulc[45:, 50:] = 5
    noise = rng.random((ROWS, COLS))
    lulc[noise < 0.05] = 8
    lulc[40:44, 10:15] = -1  # LULC hole
    _write(out / "lulc.tif", lulc, transform, "int16", -1)

    erosivity = 3000.0 + 15.0 * c + 8.0 * r
    _write(out / "erosivity.tif", erosivity, transform, "float32", -1.0)
    erodibility = 0.02 + 0.015 * np.sin(r / 6.0) ** 2 + 0.005 * (c / COLS)
    _write(out / "erodibility.tif", erodibility, transform, "float32", -1.0)

    pr, pc = np.mgrid[0 : ROWS // 2, 0 : COLS // 2].astype(np.float64)
    runoff = 1200.0 + 10.0 * pr + 4.0 * pc
    _write(
        out / "runoff_proxy.tif", runoff, Affine(2 * PIXEL, 0.0, ORIGIN[0], 0.0, -2 * PIXEL, ORIGIN[1]), "float32", -1.0
    )

    drainage = np.zeros((ROWS, COLS), dtype=np.uint8)
    drainage[12, 4:26] = 1
    _write(out / "drainage.tif", drainage, transform, "uint8", 255)

    import geopandas as gpd
    from shapely.geometry import Polygon

    x0, y1 = ORIGIN
    x1, y0 = x0 + COLS * PIXEL, y1 - ROWS * PIXEL
    xm = x0 + 40 * PIXEL
    a = Polygon([(x0, y0), (xm, y0), (xm, y1), (x0, y1)])
    b = Polygon(
        [(xm, y0), (x1, y0), (x1, y1 - 5 * PIXEL), (x0 + 60 * PIXEL, y1 - 5 * PIXEL), (x0 + 60 * PIXEL, y1), (xm, y1)]
    )
    gdf = gpd.GeoDataFrame({"ws_id": [1, 2], "name": ["west", "east"]}, geometry=[a, b], crs=CRS)
    path = out / "watersheds.gpkg"
    if path.exists():
        path.unlink()
    gdf.to_file(path, driver="GPKG", layer="watersheds")

    (out / "biophysical_sdr.csv").write_text(
        "lucode,description,usle_c,usle_p\n"
        "1,forest,0.006,1.0\n2,shrub,0.02,1.0\n3,grass,0.04,1.0\n4,crop,0.23,0.5\n5,urban,0.01,1.0\n"
        "6,wetland,0.0,1.0\n8,bare,0.5,1.0\n9,orchard,0.12,0.6\n",
        encoding="utf-8",
    )
    (out / "biophysical_ndr.csv").write_text(
        "lucode,description,load_type_n,load_n,eff_n,crit_len_n,proportion_subsurface_n,"
        "load_type_p,load_p,eff_p,crit_len_p\n"
        "1,forest,application-rate,1.8,0.8,300.0,0.2,measured-runoff,0.011,0.8,300.0\n"
        "2,shrub,measured-runoff,2.0,0.7,150.0,0.2,measured-runoff,0.05,0.7,150.0\n"
        "3,grass,application-rate,4.0,0.6,60.0,0.2,application-rate,0.2,0.5,60.0\n"
        "4,crop,application-rate,28.0,0.25,30.0,0.3,measured-runoff,3.0,0.25,30.0\n"
        "5,urban,measured-runoff,11.0,0.05,10.0,0.0,measured-runoff,1.3,0.05,10.0\n"
        "6,wetland,application-rate,2.0,0.6,150.0,0.0,measured-runoff,0.1,0.6,150.0\n"
        "8,bare,application-rate,3.0,0.1,10.0,0.0,measured-runoff,0.5,0.1,10.0\n"
        "9,orchard,application-rate,15.0,0.4,60.0,0.3,measured-runoff,1.5,0.4,60.0\n",
        encoding="utf-8",
    )


def datastack(case: str) -> dict:
    """The InVEST datastack of ``case`` (paths relative to the inputs folder)."""
    model, algo, drainage = CASES[case]
    if model == "sdr":
        args = {
            "dem_path": "dem.tif",
            "erosivity_path": "erosivity.tif",
            "erodibility_path": "erodibility.tif",
            "lulc_path": "lulc.tif",
            "watersheds_path": "watersheds.gpkg",
            "biophysical_table_path": "biophysical_sdr.csv",
            "drainage_path": "drainage.tif" if drainage else "",
            "threshold_flow_accumulation": 150,
            "k_param": 2.0,
            "sdr_max": 0.8,
            "ic_0_param": 0.5,
            "l_max": 122,
            "flow_dir_algorithm": algo,
        }
    else:
        args = {
            "dem_path": "dem.tif",
            "lulc_path": "lulc.tif",
            "runoff_proxy_path": "runoff_proxy.tif",
            "watersheds_path": "watersheds.gpkg",
            "biophysical_table_path": "biophysical_ndr.csv",
            "calc_n": True,
            "calc_p": True,
            "threshold_flow_accumulation": 150,
            "k_param": 2.0,
            "subsurface_critical_length_n": 150.0,
            "subsurface_eff_n": 0.5,
            "flow_dir_algorithm": algo,
        }
    args.update(workspace_dir="", results_suffix="", n_workers=-1)
    return {"model_id": model, "invest_version": "3.20.2", "args": args}


_RUNNER = """
import json, sys, os, importlib
ds = json.load(open(sys.argv[1]))
base = os.path.dirname(os.path.abspath(sys.argv[1]))
args = dict(ds["args"])
for k, v in list(args.items()):
    if isinstance(v, str) and v.endswith((".tif", ".gpkg", ".csv", ".shp")):
        args[k] = os.path.join(base, v)
args["workspace_dir"] = sys.argv[2]
mod = {"sdr": "natcap.invest.sdr.sdr", "ndr": "natcap.invest.ndr.ndr"}[ds["model_id"]]
importlib.import_module(mod).execute(args)
"""


_TRANSLATE = """
import sys
from osgeo import gdal
predictor = "2" if gdal.Open(sys.argv[1]).GetRasterBand(1).DataType < 6 else "3"
gdal.Translate(sys.argv[2], sys.argv[1], creationOptions=["COMPRESS=DEFLATE", "PREDICTOR=" + predictor])
"""


def run_invest(python: str, inputs: Path, reference: Path) -> None:
    """Run InVEST on every case and copy the reference outputs."""
    for case in CASES:
        model = CASES[case][0]
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            subprocess.run([python, "-c", _RUNNER, str(inputs / f"{case}.json"), str(ws)], check=True)
            target = reference / case
            if target.exists():
                shutil.rmtree(target)
            for rel in REFERENCE_FILES[model]:
                src = ws / rel
                if not src.exists():
                    continue
                dst = target / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.suffix == ".tif":
                    subprocess.run([python, "-c", _TRANSLATE, str(src), str(dst)], check=True)
                else:
                    shutil.copy(src, dst)


def compare_workspaces(ref: Path, ours: Path) -> None:
    """Print, for every GeoTIFF of ``ours`` also in ``ref``: nodata mismatches, Pearson r, largest absolute
    difference and relative difference of the sums; and the largest relative difference of each numeric field
    of the watershed results."""
    import pyogrio

    def read(path: Path) -> np.ndarray:
        with rasterio.open(path) as src:
            arr = src.read(1).astype(np.float64)
            nodata = src.nodata
        if nodata is not None:
            arr[np.isclose(arr, nodata)] = np.nan
        return arr

    for path in sorted(ours.rglob("*.tif")):
        rel = path.relative_to(ours)
        if not (ref / rel).exists():
            continue
        a, b = read(ref / rel), read(path)
        both = ~np.isnan(a) & ~np.isnan(b)
        diff = np.abs(a - b)[both]
        r = np.corrcoef(a[both], b[both])[0, 1] if both.sum() > 2 and np.ptp(a[both]) > 0 else float("nan")
        total = np.nansum(a)
        rel_sum = (np.nansum(b) - total) / total if total else 0.0
        print(
            f"{rel!s:48s} nodata mismatches {int((np.isnan(a) != np.isnan(b)).sum()):6d}  r {r:.7f}  "
            f"max |diff| {diff.max() if diff.size else 0:.3g}  sum rel diff {rel_sum:.2e}"
        )
    for vec in list(ours.glob("*.shp")) + list(ours.glob("*.gpkg")):
        a, b = pyogrio.read_dataframe(ref / vec.name), pyogrio.read_dataframe(vec)
        for col in a.columns:
            if col in b.columns and a[col].dtype.kind == "f":
                worst = np.max(np.abs(b[col] - a[col]) / np.maximum(np.abs(a[col]), 1e-12))
                print(f"{vec.name} {col:22s} max rel diff {worst:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path(__file__).resolve().parents[1] / "tests/fixtures/invest/sdr_ndr"
    parser.add_argument("--out", type=Path, default=default)
    parser.add_argument("--invest", help="a Python with natcap.invest 3.20 to make the reference outputs")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("INVEST_WS", "GEP_WS"), help="only compare two workspaces"
    )
    ns = parser.parse_args()
    if ns.compare:
        compare_workspaces(*ns.compare)
        return
    inputs = ns.out / "inputs"
    make_inputs(inputs)
    for case in CASES:
        (inputs / f"{case}.json").write_text(json.dumps(datastack(case), indent=4) + "\n", encoding="utf-8")
    if ns.invest:
        run_invest(ns.invest, inputs, ns.out / "reference")


if __name__ == "__main__":
    main()
