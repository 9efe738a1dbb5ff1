"""Deterministic synthetic inputs for InVEST-compatible models (carbon, AWY, SDR, NDR), any grid size.

Writes into ``--out``:

* rasters (GeoTIFF, EPSG:4549, tiled 256x256, LZW): ``dem.tif`` (m, float32, mountain relief),
  ``lulc.tif`` / ``lulc_alt.tif`` (uint8 class codes, nodata 255, patchy), ``precipitation.tif``
  (mm/a, float32, on a grid twice as coarse), ``et0.tif`` (mm/a), ``depth_to_root.tif`` (mm),
  ``pawc.tif`` (fraction), ``erosivity.tif`` (MJ·mm/(ha·h·a)), ``erodibility.tif`` (t·ha·h/(ha·MJ·mm));
* vectors (GeoPackage): ``watersheds.gpkg`` (field ``ws_id``), ``subwatersheds.gpkg`` (``subws_id``);
* tables with InVEST's column names: ``carbon_pools.csv``, ``biophysical_awy.csv``, ``demand.csv``,
  ``valuation.csv``, ``biophysical_sdr.csv``, ``biophysical_ndr.csv``; the tables list two classes
  (10, 11) that never occur in the landscape;
* one InVEST datastack per model: ``carbon.json``, ``annual_water_yield.json``, ``sdr.json``, ``ndr.json``
  (paths relative to the JSON file, as InVEST writes them), plus two variants ``carbon_bas_only.json``
  (no alternate scenario) and ``annual_water_yield_basic.json`` (no sub-watersheds, demand or valuation,
  a results suffix).

The same ``--rows/--cols/--seed`` always give the same files. ``--holes`` punches nodata holes
(LULC and some continuous inputs) and a few zero-precipitation pixels, to exercise nodata rules.

Usage::

    python benchmarks/generate_inputs.py --rows 500 --cols 500 --out /tmp/bench500
    python benchmarks/generate_inputs.py --rows 40 --cols 50 --pixel 30 25 --holes --out tests/fixtures/invest
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

CRS = "EPSG:4549"
ORIGIN = (500_000.0, 3_150_000.0)  # top-left corner (x, y), metres, inside Zhejiang in EPSG:4549

# class, name, ecosystem share weights are applied in _lulc
CLASSES = {
    1: "forest",
    2: "shrub",
    3: "grassland",
    4: "paddy",
    5: "dryland",
    6: "wetland",
    7: "water",
    8: "urban",
    9: "bare",
    10: "orchard",  # in the tables, never in the landscape
    11: "glacier",  # in the tables, never in the landscape
}

# Carbon densities, Mg C/ha: above, below, soil, dead (synthetic, of the order of subtropical values)
CARBON = {
    1: (85.5, 21.3, 98.2, 6.1),
    2: (24.0, 9.8, 70.4, 2.2),
    3: (6.3, 10.1, 62.0, 1.1),
    4: (3.9, 1.2, 55.6, 0.0),
    5: (4.7, 1.4, 40.3, 0.0),
    6: (12.0, 5.0, 150.0, 3.0),
    7: (0.0, 0.0, 0.0, 0.0),
    8: (1.5, 0.3, 20.0, 0.0),
    9: (0.2, 0.1, 8.5, 0.0),
    10: (30.0, 8.0, 60.0, 1.0),
    11: (0.0, 0.0, 0.0, 0.0),
}

# AWY: lulc_veg, root_depth (mm), kc
AWY = {
    1: (1, 5000.0, 1.0),
    2: (1, 2500.0, 0.85),
    3: (1, 1800.0, 0.75),
    4: (1, 1000.0, 1.05),
    5: (1, 1200.0, 0.65),
    6: (0, 1.0, 1.2),
    7: (0, 1.0, 1.0),
    8: (0, 1.0, 0.3),
    9: (0, 1.0, 0.2),
    10: (1, 3000.0, 0.8),
    11: (0, 1.0, 0.1),
}

# consumptive water demand, m3/(a·pixel)
DEMAND = {1: 0.0, 2: 0.0, 3: 0.5, 4: 60.0, 5: 25.0, 6: 0.0, 7: 5.0, 8: 90.0, 9: 0.0, 10: 20.0, 11: 0.0}

# SDR: usle_c, usle_p
SDR = {
    1: (0.006, 1.0),
    2: (0.02, 1.0),
    3: (0.04, 1.0),
    4: (0.1, 0.35),
    5: (0.23, 0.5),
    6: (0.0, 1.0),
    7: (0.0, 1.0),
    8: (0.01, 1.0),
    9: (0.5, 1.0),
    10: (0.12, 0.6),
    11: (0.0, 1.0),
}

# NDR: load_n (kg/ha/a), eff_n, crit_len_n (m), proportion_subsurface_n, load_p, eff_p, crit_len_p
NDR = {
    1: (1.8, 0.8, 300.0, 0.2, 0.011, 0.8, 300.0),
    2: (2.0, 0.7, 150.0, 0.2, 0.05, 0.7, 150.0),
    3: (4.0, 0.6, 60.0, 0.2, 0.2, 0.5, 60.0),
    4: (28.0, 0.25, 30.0, 0.3, 3.0, 0.25, 30.0),
    5: (20.0, 0.25, 30.0, 0.3, 2.0, 0.25, 30.0),
    6: (2.0, 0.6, 150.0, 0.0, 0.1, 0.6, 150.0),
    7: (0.0, 0.05, 10.0, 0.0, 0.0, 0.05, 10.0),
    8: (11.0, 0.05, 10.0, 0.0, 1.3, 0.05, 10.0),
    9: (3.0, 0.1, 10.0, 0.0, 0.5, 0.1, 10.0),
    10: (15.0, 0.4, 60.0, 0.3, 1.5, 0.4, 60.0),
    11: (0.0, 0.05, 10.0, 0.0, 0.0, 0.05, 10.0),
}

VALUATION_COLUMNS = ("ws_id", "efficiency", "fraction", "height", "kw_price", "cost", "time_span", "discount")

LULC_NODATA = 255
FLOAT_NODATA = -9999.0


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scales: tuple[int, ...]) -> np.ndarray:
    """Sum of bilinearly upsampled uniform noise octaves, float64 in roughly [0, 1].

    ``scales`` are feature sizes in pixels; each octave has amplitude proportional to its scale.
    """
    rows, cols = shape
    total = np.zeros(shape, dtype=np.float64)
    weight = 0.0
    for scale in scales:
        coarse = rng.random((max(2, rows // scale + 2), max(2, cols // scale + 2)))
        y = np.linspace(0.0, coarse.shape[0] - 1.0, rows)
        x = np.linspace(0.0, coarse.shape[1] - 1.0, cols)
        # separable bilinear interpolation: first along columns, then along rows
        along_x = np.stack([np.interp(x, np.arange(coarse.shape[1]), r) for r in coarse])
        up = np.stack([np.interp(y, np.arange(coarse.shape[0]), c) for c in along_x.T], axis=1)
        total += scale * up
        weight += scale
    total /= weight
    lo, hi = total.min(), total.max()
    return (total - lo) / (hi - lo if hi > lo else 1.0)


def _profile(rows: int, cols: int, transform: Affine, dtype: str, nodata: float | int) -> dict:
    profile = {
        "driver": "GTiff",
        "crs": CRS,
        "transform": transform,
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "compress": "lzw",
    }
    if rows >= 256 and cols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    return profile


def _write(path: Path, array: np.ndarray, transform: Affine, dtype: str, nodata: float | int) -> None:
    rows, cols = array.shape
    with rasterio.open(path, "w", **_profile(rows, cols, transform, dtype, nodata)) as dst:
        dst.write(array.astype(dtype), 1)


def _lulc(rng: np.random.Generator, dem01: np.ndarray) -> np.ndarray:
    """Patchy land cover: water and paddy in valleys, urban near low ground, forest on slopes."""
    shape = dem01.shape
    patch = smooth_field(rng, shape, (max(2, shape[0] // 12), 6, 3))
    pick = rng.random(shape)
    lulc = np.full(shape, 1, dtype=np.uint8)  # forest
    low = dem01 < 0.22
    mid = (dem01 >= 0.22) & (dem01 < 0.45)
    lulc[mid & (patch < 0.35)] = 2  # shrub
    lulc[mid & (patch > 0.8)] = 3  # grassland
    lulc[low & (patch < 0.45)] = 4  # paddy
    lulc[low & (patch >= 0.45) & (patch < 0.6)] = 5  # dryland
    lulc[low & (patch >= 0.6) & (patch < 0.8)] = 8  # urban
    lulc[low & (patch >= 0.8)] = 6  # wetland
    lulc[dem01 < 0.06] = 7  # water
    lulc[(dem01 > 0.9) & (pick < 0.3)] = 9  # bare summits
    lulc[(pick < 0.02)] = 3  # scattered grass patches
    return lulc


def _alternate(rng: np.random.Generator, lulc: np.ndarray, dem01: np.ndarray) -> np.ndarray:
    """Alternate scenario: urban growth onto low cropland and forest, some forest to shrub."""
    alt = lulc.copy()
    pick = rng.random(lulc.shape)
    alt[(lulc == 4) & (pick < 0.3)] = 8
    alt[(lulc == 1) & (dem01 < 0.35) & (pick < 0.25)] = 5
    alt[(lulc == 1) & (pick > 0.97)] = 2
    return alt


def _holes(shape: tuple[int, int]) -> np.ndarray:
    """A deterministic blob of nodata pixels (an ellipse), about 3 % of the grid."""
    rows, cols = shape
    yy, xx = np.mgrid[0:rows, 0:cols]
    cy, cx = rows * 0.3, cols * 0.7
    return ((yy - cy) / max(1.0, rows * 0.1)) ** 2 + ((xx - cx) / max(1.0, cols * 0.08)) ** 2 <= 1.0


def _strip_polygons(bounds: tuple[float, float, float, float], n: int, rng: np.random.Generator, wiggle: int):
    """``n`` vertical strips covering ``bounds`` with zig-zag shared boundaries (shapely polygons)."""
    from shapely.geometry import Polygon

    minx, miny, maxx, maxy = bounds
    ys = np.linspace(maxy, miny, wiggle + 1)
    cuts = [np.full(wiggle + 1, minx)]
    width = (maxx - minx) / n
    for i in range(1, n):
        jitter = (rng.random(wiggle + 1) - 0.5) * width * 0.4
        cuts.append(minx + i * width + jitter)
    cuts.append(np.full(wiggle + 1, maxx))
    polys = []
    for left, right in zip(cuts[:-1], cuts[1:], strict=True):
        ring = list(zip(left, ys, strict=True)) + list(zip(right[::-1], ys[::-1], strict=True))
        polys.append(Polygon(ring))
    return polys


def _split_polygon(poly, n: int):
    """Split a polygon into ``n`` horizontal bands (by bounding box), dropping empty pieces."""
    from shapely.geometry import box

    minx, miny, maxx, maxy = poly.bounds
    edges = np.linspace(maxy, miny, n + 1)
    parts = []
    for top, bottom in zip(edges[:-1], edges[1:], strict=True):
        piece = poly.intersection(box(minx, bottom, maxx, top))
        if not piece.is_empty:
            parts.append(piece)
    return parts


def _write_vectors(out: Path, bounds: tuple[float, float, float, float], rng: np.random.Generator) -> None:
    import geopandas as gpd

    n_ws = 3
    watersheds = _strip_polygons(bounds, n_ws, rng, wiggle=8)
    ws_ids = [11, 12, 13]
    gpd.GeoDataFrame({"ws_id": ws_ids, "name": ["west", "middle", "east"]}, geometry=watersheds, crs=CRS).to_file(
        out / "watersheds.gpkg", driver="GPKG", layer="watersheds"
    )
    subs, sub_ids = [], []
    for ws_id, poly in zip(ws_ids, watersheds, strict=True):
        for k, part in enumerate(_split_polygon(poly, 2)):
            subs.append(part)
            sub_ids.append(ws_id * 10 + k + 1)
    gpd.GeoDataFrame({"subws_id": sub_ids}, geometry=subs, crs=CRS).to_file(
        out / "subwatersheds.gpkg", driver="GPKG", layer="subwatersheds"
    )


def _write_tables(out: Path) -> None:
    def write(name: str, header: str, rows: list[str]) -> None:
        (out / name).write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")

    write(
        "carbon_pools.csv",
        "lucode,LULC_Name,C_above,C_below,C_soil,C_dead",
        [f"{c},{CLASSES[c]},{a},{b},{s},{d}" for c, (a, b, s, d) in CARBON.items()],
    )
    write(
        "biophysical_awy.csv",
        "lucode,LULC_desc,LULC_veg,root_depth,Kc",
        [f"{c},{CLASSES[c]},{v},{r},{k}" for c, (v, r, k) in AWY.items()],
    )
    write("demand.csv", "lucode,demand", [f"{c},{d}" for c, d in DEMAND.items()])
    write(
        "valuation.csv",
        ",".join(VALUATION_COLUMNS),
        ["11,0.8,0.6,120.0,0.35,80000,50,5", "12,0.85,0.7,95.0,0.35,60000,40,4", "13,0.9,0.5,60.0,0.35,30000,30,0"],
    )
    write(
        "biophysical_sdr.csv",
        "lucode,LULC_desc,usle_c,usle_p",
        [f"{c},{CLASSES[c]},{uc},{up}" for c, (uc, up) in SDR.items()],
    )
    write(
        "biophysical_ndr.csv",
        "lucode,LULC_desc,load_type_n,load_n,eff_n,crit_len_n,proportion_subsurface_n,load_type_p,load_p,eff_p,crit_len_p",
        [
            f"{c},{CLASSES[c]},application-rate,{ln},{en},{cn},{ps},measured-runoff,{lp},{ep},{cp}"
            for c, (ln, en, cn, ps, lp, ep, cp) in NDR.items()
        ],
    )


def _write_datastacks(out: Path, with_valuation: bool) -> None:
    def dump(name: str, model_id: str, args: dict) -> None:
        data = {"invest_version": "3.20.2", "model_id": model_id, "args": args}
        (out / name).write_text(json.dumps(data, indent=4, sort_keys=True) + "\n", encoding="utf-8")

    dump(
        "carbon.json",
        "carbon",
        {
            "workspace_dir": "",
            "results_suffix": "",
            "n_workers": -1,
            "lulc_bas_path": "lulc.tif",
            "lulc_alt_path": "lulc_alt.tif",
            "carbon_pools_path": "carbon_pools.csv",
            "calc_sequestration": True,
            "do_valuation": True,
            "lulc_bas_year": 2020,
            "lulc_alt_year": 2035,
            "price_per_metric_ton_of_c": 43.0,
            "discount_rate": -7.0,
            "rate_change": 0.0,
        },
    )
    awy = {
        "workspace_dir": "",
        "results_suffix": "",
        "n_workers": -1,
        "lulc_path": "lulc.tif",
        "precipitation_path": "precipitation.tif",
        "eto_path": "et0.tif",
        "depth_to_root_rest_layer_path": "depth_to_root.tif",
        "pawc_path": "pawc.tif",
        "watersheds_path": "watersheds.gpkg",
        "sub_watersheds_path": "subwatersheds.gpkg",
        "biophysical_table_path": "biophysical_awy.csv",
        "seasonality_constant": 5.0,
        "demand_table_path": "demand.csv" if with_valuation else "",
        "valuation_table_path": "valuation.csv" if with_valuation else "",
    }
    dump("annual_water_yield.json", "annual_water_yield", awy)
    # variants: no alternate scenario; AWY without sub-watersheds, demand and valuation, with a suffix
    dump(
        "carbon_bas_only.json",
        "carbon",
        {"workspace_dir": "", "results_suffix": "bas", "lulc_bas_path": "lulc.tif",
         "carbon_pools_path": "carbon_pools.csv", "calc_sequestration": False, "do_valuation": False},
    )  # fmt: skip
    basic = {k: v for k, v in awy.items() if k not in ("sub_watersheds_path", "demand_table_path",
                                                        "valuation_table_path")}  # fmt: skip
    basic.update(results_suffix="basic", seasonality_constant=12.5)
    dump("annual_water_yield_basic.json", "annual_water_yield", basic)
    dump(
        "sdr.json",
        "sdr",
        {
            "workspace_dir": "",
            "results_suffix": "",
            "n_workers": -1,
            "dem_path": "dem.tif",
            "erosivity_path": "erosivity.tif",
            "erodibility_path": "erodibility.tif",
            "lulc_path": "lulc.tif",
            "watersheds_path": "watersheds.gpkg",
            "biophysical_table_path": "biophysical_sdr.csv",
            "threshold_flow_accumulation": 100,
            "k_param": 2.0,
            "sdr_max": 0.8,
            "ic_0_param": 0.5,
            "l_max": 122,
            "flow_dir_algorithm": "MFD",
        },
    )
    dump(
        "ndr.json",
        "ndr",
        {
            "workspace_dir": "",
            "results_suffix": "",
            "n_workers": -1,
            "dem_path": "dem.tif",
            "lulc_path": "lulc.tif",
            "runoff_proxy_path": "precipitation.tif",
            "watersheds_path": "watersheds.gpkg",
            "biophysical_table_path": "biophysical_ndr.csv",
            "calc_n": True,
            "calc_p": True,
            "threshold_flow_accumulation": 100,
            "k_param": 2.0,
            "subsurface_critical_length_n": 200.0,
            "subsurface_eff_n": 0.8,
            "flow_dir_algorithm": "MFD",
        },
    )


def generate(
    out: Path,
    rows: int,
    cols: int,
    pixel: tuple[float, float] = (30.0, 30.0),
    seed: int = 20200,
    holes: bool = False,
    valuation: bool = True,
) -> None:
    """Write the whole input set for a ``rows`` x ``cols`` grid of ``pixel`` (x, y) metres into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    px, py = pixel
    transform = Affine(px, 0.0, ORIGIN[0], 0.0, -py, ORIGIN[1])
    shape = (rows, cols)
    big = max(2, min(rows, cols) // 3)

    dem01 = smooth_field(rng, shape, (big, max(2, big // 3), max(2, big // 9), 2)) ** 1.4
    ridge = 1.0 - np.abs(2.0 * smooth_field(rng, shape, (max(2, big // 2),)) - 1.0)
    dem01 = np.clip(0.8 * dem01 + 0.2 * ridge * dem01, 0.0, 1.0)
    dem = (30.0 + 1800.0 * dem01).astype(np.float32)
    lulc = _lulc(rng, dem01)
    alt = _alternate(rng, lulc, dem01)

    wet = smooth_field(rng, shape, (big, max(2, big // 4)))
    et0 = (850.0 + 250.0 * (1.0 - dem01) + 60.0 * wet).astype(np.float32)
    depth = (300.0 + 2500.0 * smooth_field(rng, shape, (max(2, big // 2), 3)) * (1.1 - dem01)).astype(np.float32)
    pawc = (0.05 + 0.25 * smooth_field(rng, shape, (max(2, big // 2), 4))).astype(np.float32)
    erosivity = (3500.0 + 1500.0 * wet + 800.0 * dem01).astype(np.float32)
    erodibility = (0.015 + 0.03 * smooth_field(rng, shape, (max(2, big // 2), 5))).astype(np.float32)

    # precipitation on a grid twice as coarse (covering the same area plus a margin row/column)
    prow, pcol = rows // 2 + 1, cols // 2 + 1
    pwet = smooth_field(rng, (prow, pcol), (max(2, big // 2), 2))
    precip = (1350.0 + 700.0 * pwet).astype(np.float32)
    ptransform = Affine(2 * px, 0.0, ORIGIN[0], 0.0, -2 * py, ORIGIN[1])

    if holes:
        hole = _holes(shape)
        lulc[hole] = LULC_NODATA
        alt[hole] = LULC_NODATA
        # continuous inputs: a different small hole each, so some pixels have a valid LULC but no data
        depth[rows // 2 : rows // 2 + 2, cols // 4 : cols // 4 + 3] = FLOAT_NODATA
        pawc[rows - 3 :, 2:5] = FLOAT_NODATA
        et0[5, cols - 8 : cols - 4] = FLOAT_NODATA
        precip[1, 1] = 0.0  # zero precipitation: InVEST treats it as nodata in fractp
        precip[prow - 2, pcol // 2] = FLOAT_NODATA

    _write(out / "dem.tif", dem, transform, "float32", FLOAT_NODATA)
    _write(out / "lulc.tif", lulc, transform, "uint8", LULC_NODATA)
    _write(out / "lulc_alt.tif", alt, transform, "uint8", LULC_NODATA)
    _write(out / "et0.tif", et0, transform, "float32", FLOAT_NODATA)
    _write(out / "depth_to_root.tif", depth, transform, "float32", FLOAT_NODATA)
    _write(out / "pawc.tif", pawc, transform, "float32", FLOAT_NODATA)
    _write(out / "erosivity.tif", erosivity, transform, "float32", FLOAT_NODATA)
    _write(out / "erodibility.tif", erodibility, transform, "float32", FLOAT_NODATA)
    _write(out / "precipitation.tif", precip, ptransform, "float32", FLOAT_NODATA)

    left, top = ORIGIN
    right, bottom = left + cols * px, top - rows * py
    # watersheds cover the grid except a margin of 1.4 pixels on the west side, so that InVEST's
    # bounding-box intersection (snapped to the LULC grid) clips the rasters there
    _write_vectors(out, (left + 1.4 * px, bottom, right, top), rng)
    _write_tables(out)
    _write_datastacks(out, valuation)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--cols", type=int, required=True)
    parser.add_argument("--pixel", type=float, nargs=2, default=(30.0, 30.0), metavar=("X", "Y"))
    parser.add_argument("--seed", type=int, default=20200)
    parser.add_argument("--holes", action="store_true", help="add nodata holes and zero-precipitation pixels")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    generate(args.out, args.rows, args.cols, tuple(args.pixel), args.seed, args.holes)


if __name__ == "__main__":
    main()
