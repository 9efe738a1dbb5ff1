"""InVEST 3.20 Sediment Delivery Ratio (SDR), reimplemented on in-memory arrays with numba routing.

Model (InVEST user's guide, "SDR: Sediment Delivery Ratio"; Borselli et al. 2008; Cavalli et al. 2013;
Desmet & Govers 1996; Renard et al. 1997 RUSLE):

* RKLS = R·K·LS and USLE = RKLS·C·P (t/(ha·a)), both nodata on stream pixels;
* LS from the filled DEM (percent slope, MFD or D8 flow accumulation), see
  :func:`gep.routing.rusle.ls_factor_invest` (the formula of :func:`gep.routing.ls_from_slope_and_accumulation`,
  variant "invest");
* streams: flow accumulation >= threshold (MFD, traced upstream with 0.7 of it) or > threshold (D8),
  united with the optional drainage raster;
* connectivity IC = log10(D_up / D_dn), D_up = W̄·S̄·sqrt(A) (A = accumulation · cell area, m²),
  D_dn = flow-weighted downslope sum of 1/(W·S) to the stream, W = max(C, 0.001),
  S = slope (m/m) clamped to [0.005, 1];
* SDR = SDR_max / (1 + exp((IC0 - IC)/k)), 1 on streams; sediment export = USLE·SDR;
* deposition by InVEST 3.20's recursion (:func:`gep.routing.recursions.sediment_deposition`);
* avoided erosion = RKLS - USLE, avoided export = avoided erosion·SDR + deposition.

``run(args, workspace)`` takes an InVEST datastack's ``args`` and writes InVEST's output names.
:func:`compute` is the array-level core.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gep.invest import _routed as io
from gep.invest.io import suffixed
from gep.problems import GepInputError, error
from gep.routing import packed as pk
from gep.routing.distance import distance_to_channel
from gep.routing.recursions import sediment_deposition
from gep.routing.rusle import ls_factor_invest

MODEL_ID = "sdr"
WATERSHED_FIELDS = ("usle_tot", "sed_export", "sed_dep", "avoid_exp", "avoid_eros")
"""Fields added to ``watershed_results_sdr.shp`` (t/a), in InVEST's order."""


@dataclass(frozen=True)
class SdrParameters:
    """Model parameters (InVEST names).

    Attributes:
        threshold_flow_accumulation: pixels draining through a pixel to make it a stream.
        k_param: Borselli k (dimensionless). ic_0_param: Borselli IC0. sdr_max: maximum SDR (0-1).
        l_max: cap on the slope-length factor L. flow_dir_algorithm: "mfd" or "d8".
    """

    threshold_flow_accumulation: float
    k_param: float = 2.0
    sdr_max: float = 0.8
    ic_0_param: float = 0.5
    l_max: float = 122.0
    flow_dir_algorithm: str = "mfd"


def compute(
    dem: np.ndarray,
    valid: np.ndarray,
    usle_c: np.ndarray,
    usle_cp: np.ndarray,
    erosivity: np.ndarray,
    erodibility: np.ndarray,
    cell_size: float,
    params: SdrParameters,
    drainage: np.ndarray | None = None,
    *,
    keep: bool = False,
    emit: Callable[[str, np.ndarray], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run SDR on aligned arrays.

    Args:
        dem: elevations (m). valid: bool mask of pixels where every input has data (InVEST's mutual mask).
        usle_c: C per pixel; usle_cp: C·P per pixel (dimensionless).
        erosivity: R (MJ·mm/(ha·h·a)); erodibility: K (t·ha·h/(ha·MJ·mm)).
        cell_size: square pixel side (m). params: :class:`SdrParameters`.
        drainage: optional array, 1 = artificial drainage (treated as stream).
        keep: also return the intermediates (ls, slope, flow accumulation, d_up, d_dn, ic, w_bar, s_bar...).
        emit: called as ``emit(name, array)`` as soon as each returned output is final (e.g. to write it
            while the rest is computed); the array must not be modified.

    Returns:
        float arrays (NaN = nodata): rkls, usle, sed_export, sed_deposition, avoided_erosion,
        avoided_export, sdr_factor (t/(ha·a) except sdr_factor, dimensionless) and uint8 ``stream``
        (1 stream, 0 not, 255 nodata; streams and drainage united; the streams alone are then in
        ``stream_only``).
    """
    out: dict[str, np.ndarray] = {}

    def done(name: str, array: np.ndarray) -> None:
        out[name] = array
        if emit is not None:
            emit(name, array)

    f32 = np.float32
    ok = np.ascontiguousarray(valid, dtype=bool)
    z = np.ascontiguousarray(dem if np.issubdtype(np.asarray(dem).dtype, np.floating) else dem.astype(np.float64))
    filled = pk.fill_pits(z, ok)
    slope = pk.slope_percent(filled, ok, float(cell_size))
    fd = pk.flow_dir_d8(filled, ok, pk.BLOCK) if params.flow_dir_algorithm == "d8" else pk.flow_dir_mfd(filled, ok)
    if keep:
        out["pit_filled_dem"] = np.where(ok, filled, np.nan)
        out["flow_direction"] = fd
    del filled
    order, acc = pk.order_and_accumulation(fd)
    thr = float(params.threshold_flow_accumulation)
    if params.flow_dir_algorithm == "d8":
        stream = pk.extract_streams_d8(acc, thr)
    else:
        stream = pk.extract_streams_mfd(acc, fd, thr, 0.7, pk.BLOCK)
    if drainage is not None:
        done("stream_only", stream)
        stream = np.where((stream != 255) & (np.asarray(drainage) == 1), np.uint8(1), stream)
    done("stream", stream)
    channel = stream == 1
    if keep:
        out["flow_accumulation"] = acc
    acc = acc.astype(f32)  # enough for LS, W̄, S̄ and sqrt(A) from here on

    w_thr = np.maximum(np.asarray(usle_c, dtype=f32), f32(0.001))
    w_thr[~ok] = np.nan
    s_thr = np.clip(slope / f32(100.0), f32(0.005), f32(1.0))
    # the two weighted accumulations run in a second thread (numba releases the GIL) while this one
    # computes LS, RKLS, USLE and D_dn
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gep-sdr") as pool:
        w_future = pool.submit(pk.accumulate, fd, order, w_thr)
        s_future = pool.submit(pk.accumulate, fd, order, s_thr)
        ls = ls_factor_invest(slope, acc, float(cell_size), float(params.l_max))
        rkls = ls * np.asarray(erosivity, dtype=f32) * np.asarray(erodibility, dtype=f32)
        rkls[~ok | channel] = np.nan
        if keep:
            out["ls"] = ls
            out["slope"] = slope
        del ls, slope
        usle = rkls * np.asarray(usle_cp, dtype=f32)
        done("rkls", rkls)
        done("usle", usle)
        avoided_erosion = rkls - usle
        done("avoided_erosion", avoided_erosion)
        ws_inv = f32(1.0) / (w_thr * s_thr)
        d_dn = distance_to_channel(fd, order, stream, ws_inv, True, params.flow_dir_algorithm == "d8")
        del ws_inv
        d_up = w_future.result()  # W accumulation, then W̄, then D_up, in place
        s_bar = s_future.result()
    del w_thr, s_thr
    d_up /= acc
    if keep:
        out["w_bar"] = d_up.copy()
    s_bar /= acc
    if keep:
        out["s_bar"] = s_bar
    d_up *= s_bar
    del s_bar
    acc *= float(cell_size) ** 2
    np.sqrt(acc, out=acc)
    d_up *= acc
    del acc
    if keep:
        out["d_up"] = d_up.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        d_up /= d_dn
        ic_bad = ~np.isfinite(d_up) | (d_up == 0)
        np.log10(d_up, out=d_up)
    d_up[ic_bad] = np.nan
    ic = d_up
    del d_up, ic_bad
    if keep:
        out["d_dn"], out["ic"] = d_dn, ic
    del d_dn
    with np.errstate(over="ignore"):
        ic -= params.ic_0_param
        ic /= -params.k_param
        np.exp(ic, out=ic)
        ic += 1.0
        sdr = (params.sdr_max / ic).astype(f32)
    del ic
    sdr[channel] = 1.0
    done("sdr_factor", sdr)
    done("sed_export", usle * sdr)

    e_prime = usle * (f32(1.0) - sdr)
    e_prime[channel] = 0.0
    dep, flux = sediment_deposition(fd, order, e_prime, sdr)
    dep = dep.astype(f32)
    if keep:
        out["e_prime"], out["f"] = e_prime, flux
    del e_prime, flux, fd, order

    done("sed_deposition", dep)
    done("avoided_export", avoided_erosion * sdr + dep)
    return out


def run(args: dict[str, Any], workspace: Path) -> None:
    """Run SDR from InVEST datastack ``args`` (paths absolute) and write InVEST 3.20's outputs.

    Writes into ``workspace``: ``rkls.tif``, ``usle.tif``, ``sed_export.tif``, ``sed_deposition.tif``,
    ``avoided_erosion.tif``, ``avoided_export.tif`` (t/(ha·a), float32, nodata -1),
    ``stream.tif`` (uint8, 1 stream, nodata 255), ``stream_and_drainage.tif`` (with a drainage raster),
    ``intermediate_outputs/sdr_factor.tif`` and ``watershed_results_sdr.shp`` with the fields
    :data:`WATERSHED_FIELDS` (t/a). ``args["write_intermediates"]`` (gep only) adds the other
    intermediates under ``intermediate_outputs/``.

    Raises:
        GepInputError: missing or unreadable inputs, bad parameters, LULC codes absent from the table.
    """
    source = str(args.get("biophysical_table_path", "datastack"))
    params = SdrParameters(
        threshold_flow_accumulation=io.number(args, "threshold_flow_accumulation", "args"),  # type: ignore[arg-type]
        k_param=io.number(args, "k_param", "args"),  # type: ignore[arg-type]
        sdr_max=io.number(args, "sdr_max", "args"),  # type: ignore[arg-type]
        ic_0_param=io.number(args, "ic_0_param", "args"),  # type: ignore[arg-type]
        l_max=io.number(args, "l_max", "args"),  # type: ignore[arg-type]
        flow_dir_algorithm=io.flow_algorithm(args, "args"),
    )
    if params.k_param == 0:
        raise GepInputError([error("routed_arg_number", "args", "k_param", value=params.k_param)])
    suffix = str(args.get("results_suffix") or "")
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)

    keys = ["dem_path", "lulc_path", "erosivity_path", "erodibility_path"]
    methods = ["bilinear", "mode", "bilinear", "bilinear"]
    if args.get("drainage_path"):
        keys.append("drainage_path")
        methods.append("near")
    infos = [io.raster_info(args[k] if args.get(k) else "", k) for k in keys]
    ws_path = args.get("watersheds_path") or ""
    ws_bounds = io.vector_bounds(ws_path, "watersheds_path")
    pixel = min(abs(infos[0].transform.a), abs(infos[0].transform.e))
    grid = io.target_grid(infos, [ws_bounds], pixel)
    table = io.read_table(args.get("biophysical_table_path") or "", "biophysical_table_path", ["usle_c", "usle_p"])

    valid = io.watershed_mask(ws_path, grid)
    arrays = {}
    for key, info, method in zip(keys, infos, methods, strict=True):
        arr, ok = io.read_aligned(info, grid, method)
        valid &= ok
        arrays[key] = arr
    lulc = arrays.pop("lulc_path")
    c = io.lookup(lulc, valid, table["usle_c"], source, args["lulc_path"])
    cp = io.lookup(lulc, valid, table["usle_c"] * table["usle_p"], source, args["lulc_path"])
    del lulc
    dem = arrays.pop("dem_path")
    if not np.issubdtype(dem.dtype, np.floating):
        dem = dem.astype(np.float64)
    erosivity = np.where(valid, arrays.pop("erosivity_path"), np.nan)
    erodibility = np.where(valid, arrays.pop("erodibility_path"), np.nan)
    drainage = arrays.pop("drainage_path", None)

    keep = io.as_bool(args.get("write_intermediates", False))

    def path(name: str) -> Path:
        return workspace / suffixed(name, suffix)

    outputs = {
        "rkls": "rkls.tif",
        "usle": "usle.tif",
        "sed_export": "sed_export.tif",
        "sed_deposition": "sed_deposition.tif",
        "avoided_erosion": "avoided_erosion.tif",
        "avoided_export": "avoided_export.tif",
        "sdr_factor": "intermediate_outputs/sdr_factor.tif",
        "stream_only": "stream.tif",
        "stream": "stream_and_drainage.tif" if drainage is not None else "stream.tif",
    }
    with io.BackgroundWriter() as writer:

        def emit(name: str, array: np.ndarray) -> None:
            if name.startswith("stream"):
                writer.write(path(outputs[name]), array, grid, dtype="uint8", nodata=255)
            else:
                writer.write(path(outputs[name]), array, grid)

        res = compute(
            dem, valid, c, cp, erosivity, erodibility, grid.resolution, params, drainage, keep=keep, emit=emit
        )
        del dem, erosivity, erodibility, c
        if keep:
            writer.write(path("intermediate_outputs/cp.tif"), np.where(valid, cp, np.nan), grid)
            for name in (
                "ls",
                "slope",
                "flow_accumulation",
                "w_bar",
                "s_bar",
                "d_up",
                "d_dn",
                "ic",
                "e_prime",
                "f",
                "pit_filled_dem",
            ):
                dtype = "float64" if name == "flow_accumulation" else "float32"
                writer.write(path(f"intermediate_outputs/{name}.tif"), res[name], grid, dtype=dtype)
            writer.write(
                path("intermediate_outputs/flow_direction.tif"), res["flow_direction"], grid, dtype="int32", nodata=0
            )

        ha_per_px = grid.pixel_area_m2 / 10000.0
        index = io.WatershedIndex(ws_path, grid)
        sums = {
            field: index.sums(res[name], ha_per_px)
            for field, name in (
                ("usle_tot", "usle"),
                ("sed_export", "sed_export"),
                ("sed_dep", "sed_deposition"),
                ("avoid_exp", "avoided_export"),
                ("avoid_eros", "avoided_erosion"),
            )
        }
    io.write_watershed_results(index.gdf, sums, path("watershed_results_sdr.shp"), "ESRI Shapefile")
