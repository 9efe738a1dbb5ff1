"""InVEST 3.20 "Annual Water Yield" (Budyko curve, Fu/Zhang form with the Z parameter), fused.

Inputs are aligned as InVEST aligns them (bounding-box intersection of the five rasters and the
watersheds vector, snapped to the LULC grid, nearest-neighbour resampling). Per pixel, in float32 and
in InVEST's operation order so results match to float32 rounding:

* ``PET = Kc x ET0`` (mm);
* vegetated classes (``lulc_veg`` = 1): ``AWC = min(root_depth, soil depth) x PAWC`` (mm),
  ``w = AWC / P x Z + 1.25`` capped at 5, ``fractp = min(PET/P, 1 + PET/P - (1 + (PET/P)^w)^(1/w))``;
* other classes: ``fractp = min(PET, P) / P``;
* ``AET = fractp x P`` and ``wyield = (1 - fractp) x P`` (mm);
* a pixel is nodata (-1) where LULC, ET0, P, soil depth or PAWC is nodata, or P is 0.

Per watershed (and subwatershed), from one rasterization: means of ``P``, ``PET``, ``AET``, ``wyield``
over the pixels where each is valid; ``wyield_vol = wyield_mn x polygon area / 1000`` (m³); with a
demand table ``consum_vol`` (sum, m³/a), ``consum_mn`` (mean per pixel), ``rsupply_vl = wyield_vol -
consum_vol``, ``rsupply_mn = wyield_mn - consum_mn`` (InVEST mixes mm and m³/pixel here; kept as is);
with a valuation table ``hp_energy = efficiency x fraction x height x rsupply_vl x 0.00272`` (kWh) and
``hp_val = (kw_price x hp_energy - cost) x sum_{t=0}^{T-1} 1/(1+d)^t`` -- where, as in InVEST, the sum
is taken as 0 when the discount rate is 0.

Writes ``output/per_pixel/{fractp,aet,wyield}.tif``, ``output/watershed_results_wyield.{shp,csv}`` and,
with sub-watersheds, ``output/subwatershed_results_wyield.{shp,csv}``. Aligned copies of the inputs and
the other intermediate rasters are not written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from gep.invest import io
from gep.problems import GepInputError, error

MODEL_ID = "annual_water_yield"
OUT_NODATA = -1.0
N_STATS = 5  # precip, pet, aet, wyield, demand

RASTER_ARGS = ("eto_path", "precipitation_path", "depth_to_root_rest_layer_path", "pawc_path", "lulc_path")


@njit(cache=True, inline="always")
def _isclose(value, nodata):
    return abs(value - nodata) <= 1e-8 + 1e-5 * abs(nodata)


@njit(cache=True, parallel=True)
def _awy_kernel(lulc, eto, precip, soil, pawc, lut, known, offset,
                lulc_nd, has_lulc_nd, eto_nd, has_eto_nd, p_nd, has_p_nd, soil_nd, has_soil_nd, pawc_nd, has_pawc_nd,
                z, has_demand, zones, sums, counts, bad, fractp_out, aet_out, wyield_out):  # fmt: skip
    """One stripe. ``lut[k] = (kc, root_depth, veg, demand)`` float32 per class; ``zones`` (layers, rows,
    cols) global zone numbers or -1; ``sums/counts[chunk, zone, stat]`` accumulate zonal statistics,
    one accumulator per chunk of rows (``sums.shape[0]`` chunks run in parallel); ``bad[chunk]`` counts
    pixels whose code is missing from a table (left as nodata)."""
    rows, cols = lulc.shape
    n_layers = zones.shape[0]
    n_chunks = sums.shape[0]
    n_codes = lut.shape[0]
    one = np.float32(1.0)
    nd = np.float32(OUT_NODATA)
    for c in prange(n_chunks):
        for i in range(c * rows // n_chunks, (c + 1) * rows // n_chunks):
            for j in range(cols):
                code = np.int64(lulc[i, j])
                lulc_ok = not (has_lulc_nd and code == lulc_nd)
                kc = nd
                root = nd
                veg = nd
                demand = nd
                if lulc_ok:
                    k = code - offset
                    if 0 <= k < n_codes and known[k]:
                        kc = lut[k, 0]
                        root = lut[k, 1]
                        veg = lut[k, 2]
                        demand = lut[k, 3]
                    else:
                        bad[c] += 1
                e = eto[i, j]
                p = precip[i, j]
                s = soil[i, j]
                w_c = pawc[i, j]
                e_ok = not (has_eto_nd and _isclose(e, eto_nd))
                p_ok = not (has_p_nd and _isclose(p, p_nd))
                kc_ok = not _isclose(kc, OUT_NODATA)
                valid = (
                    kc_ok
                    and not _isclose(root, OUT_NODATA)
                    and not _isclose(veg, OUT_NODATA)
                    and not _isclose(p, 0.0)
                    and e_ok
                    and p_ok
                    and not (has_soil_nd and _isclose(s, soil_nd))
                    and not (has_pawc_nd and _isclose(w_c, pawc_nd))
                )
                fractp = nd
                if valid:
                    pet = kc * e
                    phi = pet / p
                    awc = (root if root < s else s) * w_c
                    climate_w = (awc / p) * z + np.float32(1.25)
                    if climate_w > np.float32(5.0):
                        climate_w = np.float32(5.0)
                    ratio = pet / p
                    # numba computes float32 ** float32 in float64: round each power to float32 (InVEST's
                    # numpy float32 power, a SIMD routine, differs from either by about one ulp)
                    t = np.float32(ratio**climate_w)
                    aet_p = (one + ratio) - np.float32((one + t) ** (one / climate_w))
                    if veg == one:
                        fractp = phi if phi < aet_p else aet_p
                    else:
                        nonveg = pet
                        if p < pet:
                            nonveg = p
                        fractp = nonveg / p
                fractp_out[i, j] = fractp
                # AET and wyield are nodata where fractp or precipitation is (raster_map semantics)
                f_ok = not _isclose(fractp, OUT_NODATA)
                aet = nd
                wy = nd
                if f_ok and p_ok:
                    aet = fractp * p
                    wy = (one - fractp) * p
                aet_out[i, j] = aet
                wyield_out[i, j] = wy
                pet_px = nd
                if e_ok and kc_ok:
                    pet_px = e * kc
                for layer in range(n_layers):
                    zone = zones[layer, i, j]
                    if zone < 0:
                        continue
                    if p_ok:
                        sums[c, zone, 0] += p
                        counts[c, zone, 0] += 1
                    if not _isclose(pet_px, OUT_NODATA):
                        sums[c, zone, 1] += pet_px
                        counts[c, zone, 1] += 1
                    if not _isclose(aet, OUT_NODATA):
                        sums[c, zone, 2] += aet
                        counts[c, zone, 2] += 1
                    if not _isclose(wy, OUT_NODATA):
                        sums[c, zone, 3] += wy
                        counts[c, zone, 3] += 1
                    if has_demand and not _isclose(demand, OUT_NODATA):
                        sums[c, zone, 4] += demand
                        counts[c, zone, 4] += 1


def _nodata_pair(info: io.RasterInfo) -> tuple[float, bool]:
    return (float(info.nodata), True) if info.nodata is not None else (0.0, False)


def _mean(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def execute(args: dict, workspace: Path) -> None:
    """Run Annual Water Yield with InVEST datastack ``args``, writing InVEST's outputs into ``workspace``.

    Raises :class:`gep.problems.GepInputError` for bad inputs (missing arguments or files, LULC codes
    missing from the biophysical or demand table, rasters in different CRSs, no overlap, watersheds
    missing from the valuation table).
    """
    source = "annual_water_yield"
    workspace = Path(workspace)
    suffix = str(args.get("results_suffix") or "")
    paths = {key: Path(io.require_arg(args, key, source)) for key in RASTER_ARGS}
    ws_path = Path(io.require_arg(args, "watersheds_path", source))
    sub_path = io.optional_path(args, "sub_watersheds_path")
    bio_path = Path(io.require_arg(args, "biophysical_table_path", source))
    z = io.number_arg(args, "seasonality_constant", source)
    if not z > 0:
        raise GepInputError([error("invest_arg_invalid", source, "seasonality_constant", value=z, expected="> 0")])
    demand_path = io.optional_path(args, "demand_table_path")
    valuation_path = io.optional_path(args, "valuation_table_path")
    if valuation_path is not None and demand_path is None:
        raise GepInputError([error("invest_arg_missing", source, "demand_table_path")])

    bio = io.read_lulc_table(bio_path, ("lulc_veg", "root_depth", "kc"), "Biophysical")
    bad_veg = bio.index[~bio["lulc_veg"].isin((0, 1))]
    if len(bad_veg):
        raise GepInputError(
            [
                error(
                    "invest_arg_invalid",
                    str(bio_path),
                    "lulc_veg",
                    value=bio.at[bad_veg[0], "lulc_veg"],
                    expected="0 or 1",
                )
            ]  # fmt: skip
        )
    demand = io.read_lulc_table(demand_path, ("demand",), "Demand") if demand_path else None
    valuation = None
    if valuation_path is not None:
        valuation = io.read_lulc_table(
            valuation_path,
            ("efficiency", "fraction", "height", "kw_price", "cost", "time_span", "discount"),
            "Hydropower valuation",
            index_col="ws_id",
        )

    infos = {key: io.raster_info(path, key) for key, path in paths.items()}
    io.check_same_crs(list(infos.values()), source)
    lulc_info = infos["lulc_path"]
    if not np.issubdtype(lulc_info.dtype, np.integer):
        raise GepInputError([error("invest_lulc_not_integer", str(lulc_info.path), dtype=str(lulc_info.dtype))])
    ws_layer = io.read_zones(ws_path, "ws_id", lulc_info.grid.crs)
    layers = [ws_layer]
    if sub_path is not None:
        layers.append(io.read_zones(sub_path, "subws_id", lulc_info.grid.crs))
    if valuation is not None:
        ids = ws_layer.frame[_field(ws_layer, "ws_id")].astype(int)
        missing = sorted(set(ids) - set(valuation.index))
        if missing:
            raise GepInputError(
                [error("invest_ws_missing", str(valuation_path), "ws_id", values=", ".join(map(str, missing)))]
            )

    grid = io.aligned_grid(
        [infos[k] for k in RASTER_ARGS], [io.vector_bounds(ws_path)], align_index=RASTER_ARGS.index("lulc_path")
    )
    readers = {key: io.GridReader(info, grid) for key, info in infos.items()}

    lo, hi = io.code_range(lulc_info.dtype, bio)
    kc = bio["kc"].to_numpy(dtype=np.float32)
    veg = bio["lulc_veg"].to_numpy(dtype=np.float32)
    # InVEST uses root depth 1 for non-vegetated classes (never used there)
    root = np.where(veg == 1, bio["root_depth"].to_numpy(dtype=np.float32), np.float32(1.0)).astype(np.float32)
    lookup = io.code_lookup(bio, [kc, root, veg, np.zeros(len(bio), np.float32)], lo, hi)
    if demand is not None:
        in_demand = np.zeros_like(lookup.known)
        for code, value in demand["demand"].items():
            if lo <= code <= hi:
                lookup.values[code - lo, 3] = np.float32(value)
                in_demand[code - lo] = True
        np.logical_and(lookup.known, in_demand, out=lookup.known)  # a code must be in both tables

    lulc_nd = lulc_info.nodata
    has_lulc_nd = lulc_nd is not None and float(lulc_nd).is_integer()
    nds = {key: _nodata_pair(infos[key]) for key in RASTER_ARGS if key != "lulc_path"}
    n_zones = sum(layer.n for layer in layers)
    zone_sums = np.zeros((n_zones, N_STATS), dtype=np.float64)
    zone_counts = np.zeros((n_zones, N_STATS), dtype=np.int64)

    out_dir = workspace / "output" / "per_pixel"
    names = {
        "fractp": out_dir / io.suffixed("fractp.tif", suffix),
        "aet": out_dir / io.suffixed("aet.tif", suffix),
        "wyield": out_dir / io.suffixed("wyield.tif", suffix),
    }
    writers = {key: io.StripeWriter(path, grid, "float32", OUT_NODATA) for key, path in names.items()}
    order = ("lulc_path", "eto_path", "precipitation_path", "depth_to_root_rest_layer_path", "pawc_path")
    missing: set[int] = set()  # LULC codes missing from a table
    known_codes = set(bio.index.tolist()) & (set(demand.index.tolist()) if demand is not None else set(bio.index))
    try:
        for row0, nrows in io.stripes(grid):
            futures = [readers[key].submit(row0, nrows) for key in order]
            if missing:  # a table lacks codes: only collect the remaining ones for the error message
                missing |= io.distinct_codes(futures[0].result(), lulc_info.nodata) - known_codes
                continue
            zones = io.rasterize_zones(layers, grid, row0, nrows)
            lulc, eto, precip, soil, pawc = (f.result() for f in futures)
            shape = lulc.shape
            fractp = np.empty(shape, np.float32)
            aet = np.empty(shape, np.float32)
            wyield = np.empty(shape, np.float32)
            n_chunks = min(nrows, 4 * numba.get_num_threads())
            sums = np.zeros((n_chunks, n_zones, N_STATS), np.float64)
            counts = np.zeros((n_chunks, n_zones, N_STATS), np.int64)
            bad = np.zeros(n_chunks, np.int64)
            _awy_kernel(
                lulc, eto, precip, soil, pawc, lookup.values, lookup.known, lookup.offset,
                int(lulc_nd) if has_lulc_nd else 0, has_lulc_nd,
                *nds["eto_path"], *nds["precipitation_path"], *nds["depth_to_root_rest_layer_path"],
                *nds["pawc_path"], np.float32(z), demand is not None, zones, sums, counts, bad, fractp, aet, wyield,
            )  # fmt: skip
            if bad.any():
                missing |= io.distinct_codes(lulc, lulc_info.nodata) - known_codes
                continue
            zone_sums += sums.sum(axis=0)
            zone_counts += counts.sum(axis=0)
            writers["fractp"].write(fractp, row0)
            writers["aet"].write(aet, row0)
            writers["wyield"].write(wyield, row0)
    finally:
        for reader in readers.values():
            reader.close()
        for writer in writers.values():
            if missing:
                writer.discard()
            else:
                writer.close()
    if missing:
        problems = io.check_codes_in_table(missing, bio, lulc_info.path, bio_path, "Biophysical")
        if demand is not None:
            problems += io.check_codes_in_table(missing, demand, lulc_info.path, demand_path, "Demand")
        raise GepInputError(problems)

    registry = {key: str(path) for key, path in names.items()}
    offset = 0
    for layer, (prefix, id_field) in zip(layers, (("watershed", "ws_id"), ("subwatershed", "subws_id")), strict=False):
        sl = slice(offset, offset + layer.n)
        offset += layer.n
        fields = _result_fields(layer, zone_sums[sl], zone_counts[sl], demand is not None)
        if valuation is not None and id_field == "ws_id":
            fields.update(_valuation_fields(layer, fields["rsupply_vl"], valuation))
        shp = workspace / "output" / io.suffixed(f"{prefix}_results_wyield.shp", suffix)
        csv_path = workspace / "output" / io.suffixed(f"{prefix}_results_wyield.csv", suffix)
        io.write_results_vector(layer, fields, shp, csv_path)
        registry[f"{prefix}_results_wyield"] = str(shp)
        registry[f"{prefix}_results_wyield_csv"] = str(csv_path)
    (workspace / io.suffixed("file_registry.json", suffix)).write_text(json.dumps(registry, indent=4), encoding="utf-8")


def _field(layer: io.ZoneLayer, name: str) -> str:
    return {c.lower(): c for c in layer.frame.columns}[name]


def _result_fields(layer: io.ZoneLayer, sums: np.ndarray, counts: np.ndarray, with_demand: bool) -> dict:
    """InVEST's per-(sub)watershed fields, in InVEST's order; NaN where a polygon has no valid pixel."""
    means = _mean(sums, counts)
    areas = np.array([g.area if g is not None else 0.0 for g in layer.frame.geometry.values])
    fields = {
        "precip_mn": means[:, 0],
        "PET_mn": means[:, 1],
        "AET_mn": means[:, 2],
        "wyield_mn": means[:, 3],
    }
    fields["wyield_vol"] = fields["wyield_mn"] * areas / 1000.0
    if with_demand:
        fields["consum_vol"] = np.where(counts[:, 4] > 0, sums[:, 4], np.nan)
        fields["consum_mn"] = means[:, 4]
        fields["rsupply_vl"] = fields["wyield_vol"] - fields["consum_vol"]
        fields["rsupply_mn"] = fields["wyield_mn"] - fields["consum_mn"]
    return fields


def _valuation_fields(layer: io.ZoneLayer, rsupply_vl: np.ndarray, valuation) -> dict:
    ids = layer.frame[_field(layer, "ws_id")].astype(int).to_numpy()
    energy = np.full(len(ids), np.nan)
    npv = np.full(len(ids), np.nan)
    for k, ws_id in enumerate(ids):
        if np.isnan(rsupply_vl[k]):
            continue
        row = valuation.loc[ws_id]
        energy[k] = row["efficiency"] * row["fraction"] * row["height"] * rsupply_vl[k] * 0.00272
        ratio = 1 / (1 + row["discount"] / 100)
        dsum = 0.0  # InVEST leaves the discount sum at 0 when the discount rate is 0
        if ratio != 1:
            dsum = (1 - math.pow(ratio, row["time_span"])) / (1 - ratio)
        npv[k] = (row["kw_price"] * energy[k] - row["cost"]) * dsum
    return {"hp_energy": energy, "hp_val": npv}
