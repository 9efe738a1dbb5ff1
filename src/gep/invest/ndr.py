"""InVEST 3.20 Nutrient Delivery Ratio (NDR), reimplemented on in-memory arrays with numba routing.

Model (InVEST user's guide, "NDR: Nutrient Delivery Ratio"; Borselli et al. 2008):

* load per pixel from the LULC table (kg/(ha·a)): ``load`` for "measured-runoff" classes,
  ``load·(1 - eff)`` for "application-rate" classes; times the runoff proxy index RPI = proxy / mean proxy;
* nitrogen splits into surface ``(1 - proportion_subsurface_n)`` and subsurface ``proportion_subsurface_n``;
* connectivity IC = log10(D_up / D_dn), D_up = S̄·sqrt(A) (A = flow accumulation · cell area, m²),
  D_dn = flow-weighted downslope sum of 1/S, S = slope (m/m) clamped to [0.005, 1];
  IC0 = (min IC + max IC) / 2;
* NDR = (1 - effective retention) / (1 + exp((IC0 - IC)/k)), effective retention by InVEST 3.20's
  recursion (:func:`gep.routing.recursions.effective_retention`);
* subsurface NDR = 1 - eff_sub·(1 - exp(-5 l / crit_len_sub)) with l the downslope distance to the stream
  counted in pixels (as InVEST computes it) and crit_len_sub in metres;
* exports = loads × NDR; ``n_total_export`` = surface + subsurface (nodata where either is, as InVEST).

``run(args, workspace)`` takes an InVEST datastack's ``args`` and writes InVEST's output names;
:func:`routing` and :func:`nutrient_layer` are the array-level core. Per-nutrient layers are produced one at
a time by a fused numba kernel, so memory stays at a few float32 grids.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit, prange

from gep.invest import _routed as io
from gep.invest.io import STRIPE_ROWS, StripeWriter, suffixed
from gep.problems import GepInputError, error
from gep.routing import packed as pk
from gep.routing.distance import distance_to_channel
from gep.routing.recursions import effective_retention

MODEL_ID = "ndr"
LOAD_TYPES = ("application-rate", "measured-runoff")
LAYERS = (
    "load",
    "modified_load",
    "surface_load",
    "ndr",
    "surface_export",
    "subsurface_load",
    "sub_ndr",
    "subsurface_export",
    "total_export",
)
"""Per-nutrient layers :func:`nutrient_layer` can produce (kg/(ha·a), except the dimensionless NDRs)."""
_LAYER_CODE = {name: i for i, name in enumerate(LAYERS)}
WATERSHED_FIELDS = (
    "n_surface_load",
    "n_surface_export",
    "n_subsurface_export",
    "n_total_export",
    "n_subsurface_load",
    "p_surface_load",
    "p_surface_export",
)
"""Fields of ``watershed_results_ndr.gpkg`` (kg/a), in InVEST's order (nutrients not modelled are left out)."""


@dataclass(frozen=True)
class NdrParameters:
    """Model parameters (InVEST names).

    Attributes:
        threshold_flow_accumulation: pixels draining through a pixel to make it a stream.
        k_param: Borselli k. flow_dir_algorithm: "mfd" or "d8".
        subsurface_critical_length_n: m. subsurface_eff_n: 0-1.
        runoff_proxy_av: mean of the runoff proxy to normalise by (None = the raster's mean).
    """

    threshold_flow_accumulation: float
    k_param: float = 2.0
    flow_dir_algorithm: str = "mfd"
    subsurface_critical_length_n: float | None = None
    subsurface_eff_n: float | None = None
    runoff_proxy_av: float | None = None


@dataclass(frozen=True)
class NutrientTable:
    """One nutrient's columns of the biophysical table, sorted by LULC code.

    Attributes:
        codes: int64 LULC codes (sorted). load: load after the application-rate reduction (kg/(ha·a)).
        eff: maximum retention efficiency (0-1). crit_len: critical length (m).
        proportion_subsurface: subsurface share (nitrogen); zeros for phosphorus.
    """

    codes: np.ndarray
    load: np.ndarray
    eff: np.ndarray
    crit_len: np.ndarray
    proportion_subsurface: np.ndarray


@dataclass
class Routed:
    """Nutrient-independent results of :func:`routing`.

    Attributes:
        fd: packed flow directions; stream: uint8 (1 stream, 0 not, 255 nodata);
        ic: float32 connectivity index (NaN = nodata); ic_0: (min + max)/2 of ic;
        dist: float32 downslope distance to the stream in pixels (NaN = none);
        flow_accumulation: float64 (only when asked for).
    """

    fd: np.ndarray
    stream: np.ndarray
    ic: np.ndarray
    ic_0: float
    dist: np.ndarray
    flow_accumulation: np.ndarray | None = None


def routing(
    load_dem: Callable[[], tuple[np.ndarray, np.ndarray]],
    cell_size: float,
    params: NdrParameters,
    *,
    keep_accumulation: bool = False,
) -> Routed:
    """Fill, flow directions, streams, IC and distance to stream.

    Args:
        load_dem: returns (elevations in m, bool mask of DEM data); called here so that the DEM is freed
            as soon as it is filled.
        cell_size: pixel side (m). params: :class:`NdrParameters`.
        keep_accumulation: keep the flow accumulation in the result (for the intermediate output).
    """
    f32 = np.float32
    dem, valid = load_dem()
    ok = np.ascontiguousarray(valid, dtype=bool)
    del valid
    if not np.issubdtype(dem.dtype, np.floating):
        dem = dem.astype(np.float64)
    filled = pk.fill_pits(dem, ok)
    del dem
    slope = pk.slope_percent(filled, ok, float(cell_size))
    d8 = params.flow_dir_algorithm == "d8"
    fd = pk.flow_dir_d8(filled, ok, pk.BLOCK) if d8 else pk.flow_dir_mfd(filled, ok)
    del filled, ok
    order, acc = pk.order_and_accumulation(fd)
    thr = float(params.threshold_flow_accumulation)
    stream = pk.extract_streams_d8(acc, thr) if d8 else pk.extract_streams_mfd(acc, fd, thr, 1.0, pk.BLOCK)
    kept = acc if keep_accumulation else None
    acc = acc.astype(f32)  # enough for S̄ and sqrt(A) from here on
    s_thr = slope  # S = slope/100 clamped to [0.005, 1], in place
    del slope
    s_thr /= f32(100.0)
    np.clip(s_thr, f32(0.005), f32(1.0), out=s_thr)
    s_acc = pk.accumulate(fd, order, s_thr)  # S accumulation -> S̄ -> D_up, in place
    s_acc /= acc
    acc *= float(cell_size) ** 2
    np.sqrt(acc, out=acc)
    s_acc *= acc
    del acc
    d_up = s_acc.astype(f32)
    del s_acc
    np.divide(f32(1.0), s_thr, out=s_thr)  # now 1/S
    s_inv = s_thr
    del s_thr
    # the unweighted distance runs in a second thread (numba releases the GIL) while this one computes D_dn
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-ndr") as pool:
        dist_future = pool.submit(distance_to_channel, fd, order, stream, np.zeros((1, 1), dtype=f32), False, d8)
        d_dn = distance_to_channel(fd, order, stream, s_inv, True, d8)
        del s_inv
        dist = dist_future.result()
    del order
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = ~(np.isfinite(d_up) & np.isfinite(d_dn) & (d_up != 0) & (d_dn != 0))
        d_up /= d_dn
        del d_dn
        np.log10(d_up, out=d_up)
    ic = d_up
    del d_up
    ic[bad] = np.nan
    del bad
    finite = np.isfinite(ic)
    ic0 = float((np.min(ic[finite]) + np.max(ic[finite])) / 2.0) if finite.any() else float("nan")
    del finite
    return Routed(fd=fd, stream=stream, ic=ic, ic_0=ic0, dist=dist, flow_accumulation=kept)


@njit(cache=True, nogil=True, parallel=True)
def _classes(lulc, lulc_ok, lut, lo):
    """Table row of each pixel's LULC code (int16; -1 where the LULC is nodata)."""
    rows, cols = lulc.shape
    out = np.full((rows, cols), -1, dtype=np.int16)
    for r in prange(rows):
        for c in range(cols):
            if lulc_ok[r, c]:
                out[r, c] = lut[np.int64(lulc[r, c]) - lo]
    return out


@njit(cache=True, nogil=True, parallel=True)
def _layer(what, lulc, lulc_ok, lut, lo, load_tab, prop_tab, rpi, ret, ic, ic0, k, dist, eff_sub, crit_sub, r0, r1):
    """Rows r0..r1-1 of one per-nutrient layer (see :data:`LAYERS`), float32, NaN = nodata (nodata
    propagates as InVEST; intermediate values are rounded to float32 where InVEST stores a float32 raster)."""
    cols = lulc.shape[1]
    out = np.full((r1 - r0, cols), np.nan, dtype=np.float32)
    for rr in prange(r1 - r0):
        r = r0 + rr
        for c in range(cols):
            if not lulc_ok[r, c] and what != 3:  # only the NDR itself does not need the LULC
                continue
            load = np.nan
            prop = 0.0
            if lulc_ok[r, c]:
                j = lut[np.int64(lulc[r, c]) - lo]
                load = np.float64(np.float32(load_tab[j]))
                prop = prop_tab[j]
            if what == 0:
                out[rr, c] = load
                continue
            modified = np.float64(np.float32(load * np.float64(rpi[r, c])))
            if what == 1:
                out[rr, c] = modified
                continue
            surface = np.float64(np.float32(modified * (1.0 - prop)))
            if what == 2:
                out[rr, c] = surface
                continue
            denom = 1.0 + np.exp((ic0 - np.float64(ic[r, c])) / k)
            ndr = np.float64(np.float32((1.0 - np.float64(ret[r, c])) / denom))
            if what == 3:
                out[rr, c] = ndr
                continue
            surface_export = np.float32(surface * ndr)
            if what == 4:
                out[rr, c] = surface_export
                continue
            sub_load = np.float64(np.float32(modified * prop))
            if what == 5:
                out[rr, c] = sub_load
                continue
            sub_ndr = 1.0 - eff_sub * (1.0 - np.exp(-5.0 * np.float64(dist[r, c]) / crit_sub))
            if what == 6:
                out[rr, c] = sub_ndr
                continue
            sub_export = np.float32(sub_load * sub_ndr)
            if what == 7:
                out[rr, c] = sub_export
                continue
            out[rr, c] = np.float64(surface_export) + np.float64(sub_export)
    return out


def _target(name: str, n: str, keep: bool) -> str:
    """Output file of layer ``name`` of nutrient ``n`` ("" = not written)."""
    if name == "ndr":
        return f"intermediate_outputs/ndr_{n}.tif"
    if name == "surface_export":
        return f"{n}_surface_export.tif"
    if name in ("subsurface_export", "total_export"):
        return f"n_{name}.tif"
    if not keep:
        return ""
    return {
        "surface_load": f"intermediate_outputs/surface_load_{n}.tif",
        "subsurface_load": "intermediate_outputs/sub_load_n.tif",
        "sub_ndr": "intermediate_outputs/sub_ndr_n.tif",
        "load": f"intermediate_outputs/load_{n}.tif",
        "modified_load": f"intermediate_outputs/modified_load_{n}.tif",
    }[name]


def _lut(codes: np.ndarray, lulc: np.ndarray, lulc_ok: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense code -> table-row index for the LULC codes present (all of them are in ``codes``)."""
    present = io.present_codes(lulc, lulc_ok)
    lo = int(present[0]) if present.size else 0
    hi = int(present[-1]) if present.size else 0
    lut = np.zeros(hi - lo + 1, dtype=np.int64)
    inside = (codes >= lo) & (codes <= hi)
    lut[codes[inside] - lo] = np.nonzero(inside)[0]
    return lut, lo


def nutrient_retention(
    lulc: np.ndarray,
    lulc_ok: np.ndarray,
    table: NutrientTable,
    route: Routed,
    cell_size: float,
    lut: tuple[np.ndarray, int] | None = None,
) -> np.ndarray:
    """Effective retention of one nutrient (float32, 0-1, NaN = nodata). ``lut``: from :func:`_lut`, if known."""
    lut, lo = lut if lut is not None else _lut(table.codes, lulc, lulc_ok)
    cls = _classes(lulc, lulc_ok, lut, lo)
    return effective_retention(route.fd, route.stream, cls, table.eff, table.crit_len, float(cell_size), pk.BLOCK)


def nutrient_layer(
    name: str,
    lulc: np.ndarray,
    lulc_ok: np.ndarray,
    table: NutrientTable,
    rpi: np.ndarray,
    retention: np.ndarray,
    route: Routed,
    params: NdrParameters,
    lut: tuple[np.ndarray, int] | None = None,
    rows: tuple[int, int] | None = None,
) -> np.ndarray:
    """One layer of :data:`LAYERS` for one nutrient (float32, NaN = nodata), whole or only the ``rows``
    (start, stop). ``lut``: from :func:`_lut`."""
    eff_sub = float(params.subsurface_eff_n) if params.subsurface_eff_n is not None else 0.0
    crit_sub = float(params.subsurface_critical_length_n) if params.subsurface_critical_length_n else 1.0
    lut, lo = lut if lut is not None else _lut(table.codes, lulc, lulc_ok)
    return _layer(
        _LAYER_CODE[name],
        lulc,
        lulc_ok,
        lut,
        lo,
        table.load,
        table.proportion_subsurface,
        rpi,
        retention,
        route.ic,
        route.ic_0,
        float(params.k_param),
        route.dist,
        eff_sub,
        crit_sub,
        *(rows if rows is not None else (0, lulc.shape[0])),
    )


def runoff_proxy_index(proxy: np.ndarray, mean: float | None) -> np.ndarray:
    """RPI = proxy / mean, computed in place in the float32 ``proxy`` (mean of the valid pixels unless given;
    the proxy itself if the mean is 0)."""
    if mean is None:
        vals = proxy[np.isfinite(proxy)]
        mean = float(vals.sum(dtype=np.float64) / vals.size) if vals.size else 0.0
    if mean != 0:
        proxy /= np.float32(mean)
    return proxy


def nutrient_table(df: pd.DataFrame, n: str, table_path: str) -> NutrientTable:
    """Columns of nutrient ``n`` ("n" or "p") as sorted arrays; checks the load types."""
    bad = df.loc[~df[f"load_type_{n}"].isin(LOAD_TYPES), f"load_type_{n}"]
    if len(bad):
        code = int(bad.index[0])
        raise GepInputError([error("routed_load_type", table_path, f"load_type_{n}", lucode=code, value=bad.iloc[0])])
    if len(df) > np.iinfo(np.int16).max:
        raise ValueError(f"{table_path}: more than {np.iinfo(np.int16).max} land-cover classes")
    df = df.sort_index()
    load = df[f"load_{n}"].where(df[f"load_type_{n}"] == "measured-runoff", df[f"load_{n}"] * (1.0 - df[f"eff_{n}"]))
    prop = df["proportion_subsurface_n"] if n == "n" else pd.Series(0.0, index=df.index)
    return NutrientTable(
        codes=np.asarray(df.index, dtype=np.int64),
        load=load.to_numpy(np.float64),
        eff=df[f"eff_{n}"].to_numpy(np.float32),
        crit_len=df[f"crit_len_{n}"].to_numpy(np.float32),
        proportion_subsurface=prop.to_numpy(np.float32).astype(np.float64),
    )


def _check_codes(lulc: np.ndarray, ok: np.ndarray, codes: np.ndarray, table_path: str, lulc_path: str) -> None:
    missing = np.setdiff1d(io.present_codes(lulc, ok), codes)
    if missing.size:
        raise GepInputError(
            [
                error(
                    "routed_lulc_missing",
                    table_path,
                    "lucode",
                    codes=", ".join(str(int(m)) for m in missing[:20]),
                    raster=lulc_path,
                )
            ]
        )


def run(args: dict[str, Any], workspace: Path) -> None:
    """Run NDR from InVEST datastack ``args`` (paths absolute) and write InVEST 3.20's outputs.

    Writes into ``workspace`` (kg/(ha·a), float32, nodata -1): ``n_surface_export.tif``,
    ``n_subsurface_export.tif``, ``n_total_export.tif`` (if ``calc_n``), ``p_surface_export.tif`` (if
    ``calc_p``); ``stream.tif`` (uint8, nodata 255); ``intermediate_outputs/effective_retention_<n|p>.tif``,
    ``ndr_<n|p>.tif``, ``ic_factor.tif``; and ``watershed_results_ndr.gpkg`` with the fields of
    :data:`WATERSHED_FIELDS` (kg/a). ``args["write_intermediates"]`` (gep only) adds more intermediates.

    Raises:
        GepInputError: missing or unreadable inputs, bad parameters, LULC codes absent from the table.
    """
    nutrients = [n for n in ("n", "p") if io.as_bool(args.get(f"calc_{n}", False))]
    if not nutrients:
        raise GepInputError([error("routed_no_nutrient", "args", "calc_n")])
    params = NdrParameters(
        threshold_flow_accumulation=io.number(args, "threshold_flow_accumulation", "args"),  # type: ignore[arg-type]
        k_param=io.number(args, "k_param", "args"),  # type: ignore[arg-type]
        flow_dir_algorithm=io.flow_algorithm(args, "args"),
        subsurface_critical_length_n=io.number(args, "subsurface_critical_length_n", "args", required="n" in nutrients),
        subsurface_eff_n=io.number(args, "subsurface_eff_n", "args", required="n" in nutrients),
        runoff_proxy_av=io.number(args, "runoff_proxy_av", "args", required=False) or None,
    )
    for key in ("k_param", "subsurface_critical_length_n"):
        if getattr(params, key) == 0:
            raise GepInputError([error("routed_arg_number", "args", key, value=0)])
    suffix = str(args.get("results_suffix") or "")
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    table_path = str(args.get("biophysical_table_path") or "")
    required = []
    for n in nutrients:
        required += [f"load_type_{n}", f"load_{n}", f"eff_{n}", f"crit_len_{n}"]
    if "n" in nutrients:
        required.append("proportion_subsurface_n")
    df = io.read_table(table_path, "biophysical_table_path", required)
    tables = {n: nutrient_table(df, n, table_path) for n in nutrients}
    keep = io.as_bool(args.get("write_intermediates", False))

    keys = ["dem_path", "lulc_path", "runoff_proxy_path"]
    infos = [io.raster_info(args.get(k) or "", k) for k in keys]
    ws_path = args.get("watersheds_path") or ""
    ws_bounds = io.vector_bounds(ws_path, "watersheds_path")
    grid = io.target_grid(infos, [ws_bounds], abs(infos[0].transform.a))
    cell = grid.resolution
    mask = io.watershed_mask(ws_path, grid)

    def path(name: str) -> Path:
        return workspace / suffixed(name, suffix)

    with io.BackgroundWriter(max_pending=1) as writer:
        # routing first, holding only the DEM
        def load_dem() -> tuple[np.ndarray, np.ndarray]:
            dem, dem_ok = io.read_aligned(infos[0], grid, "near")
            dem_ok &= mask
            return dem, dem_ok

        route = routing(load_dem, cell, params, keep_accumulation=keep)
        writer.write(path("stream.tif"), route.stream, grid, dtype="uint8", nodata=255)
        writer.write(path("intermediate_outputs/ic_factor.tif"), route.ic, grid, nodata=float(np.finfo(np.float32).min))
        if keep:
            writer.write(
                path("intermediate_outputs/flow_accumulation.tif"), route.flow_accumulation, grid, dtype="float64"
            )
            writer.write(path("intermediate_outputs/dist_to_channel.tif"), route.dist, grid)
            writer.write(path("intermediate_outputs/flow_direction.tif"), route.fd, grid, dtype="int32", nodata=0)
            route.flow_accumulation = None

        lulc, lulc_ok = io.read_aligned(infos[1], grid, "near")
        lulc_ok &= mask
        for n in nutrients:
            _check_codes(lulc, lulc_ok, tables[n].codes, table_path, str(args["lulc_path"]))
        proxy, proxy_ok = io.read_aligned(infos[2], grid, "near")
        proxy_ok &= mask
        proxy = proxy.astype(np.float32, copy=False)
        proxy[~proxy_ok] = np.nan
        del proxy_ok
        mask = None
        rpi = runoff_proxy_index(proxy, params.runoff_proxy_av)
        del proxy
        if keep:
            writer.write(path("intermediate_outputs/runoff_proxy_index.tif"), rpi, grid)

        index = io.WatershedIndex(ws_path, grid)
        ha_per_px = grid.pixel_area_m2 / 10000.0
        sums: dict[str, list[float]] = {}
        for n in nutrients:
            table = tables[n]
            lut = _lut(table.codes, lulc, lulc_ok)
            ret = nutrient_retention(lulc, lulc_ok, table, route, cell, lut)
            if n == nutrients[-1]:  # directions and streams are not needed any more
                route.fd = route.stream = None  # type: ignore[assignment]
            wanted = ["ndr", "surface_load", "surface_export"]
            if n == "n":
                wanted += ["subsurface_export", "total_export", "subsurface_load"]
            if keep:
                wanted += ["load", "modified_load"] + (["sub_ndr"] if n == "n" else [])
            for name in wanted:
                field = ""
                if name in ("surface_load", "surface_export", "subsurface_export", "total_export", "subsurface_load"):
                    field = f"{n}_{name}" if name.startswith("surface") else f"n_{name}"
                target = _target(name, n, keep)
                totals = np.zeros(len(index.gdf))
                # stripe by stripe: a layer never exists whole; stripes are written from a background thread
                out = StripeWriter(path(target), grid, "float32", io.FLOAT_NODATA) if target else None
                try:
                    for row0 in range(0, grid.height, STRIPE_ROWS):
                        rows = (row0, min(grid.height, row0 + STRIPE_ROWS))
                        stripe = nutrient_layer(name, lulc, lulc_ok, table, rpi, ret, route, params, lut, rows)
                        if field:
                            totals += index.stripe_sums(stripe, row0)
                        if out is not None:
                            stripe[np.isnan(stripe)] = io.FLOAT_NODATA
                            out.write(stripe, row0)
                finally:
                    if out is not None:
                        out.close()
                if field:
                    sums[field] = list(totals * ha_per_px)
            io.write_raster(path(f"intermediate_outputs/effective_retention_{n}.tif"), ret, grid, owned=True)
            del ret
            if n == "n":  # only nitrogen's subsurface layers use the distance to the stream
                route.dist = np.zeros((1, 1), dtype=np.float32)
    ordered = {f: sums[f] for f in WATERSHED_FIELDS if f in sums}
    io.write_watershed_results(index.gdf, ordered, path("watershed_results_ndr.gpkg"), "GPKG")
