"""InVEST 3.20 "Carbon Storage and Sequestration", computed in one fused pass.

Per pixel (units as InVEST 3.20 writes them; carbon densities in Mg C/ha, not per pixel):

* ``c_storage_bas = c_above + c_below + c_soil + c_dead`` of the pixel's LULC class (Mg C/ha), float32,
  summed in float32 in that order as InVEST does; nodata -1 where the LULC is nodata.
* ``c_storage_alt`` the same for the alternate LULC; ``c_change_bas_alt = c_storage_alt - c_storage_bas``.
* ``npv_alt = c_change_bas_alt x K`` (currency/ha) with the valuation constant
  ``K = price / n x sum_{k=0}^{n-1} r^k``, ``r = 1 / ((1 + discount/100)(1 + rate_change/100))``,
  ``n = alt_year - bas_year``; nodata is the float32 maximum (pygeoprocessing's choice).
* ``raster_values_summary.csv``: the sum of each raster's valid pixels x pixel area (m²) / 10 000,
  i.e. Mg C (or currency) over the landscape.

The per-pool intermediate rasters (``intermediate_outputs/c_above_bas.tif`` ...) are not written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from numba import njit, prange

from gep.invest import io
from gep.problems import GepInputError, error

MODEL_ID = "carbon"
CARBON_NODATA = -1.0
NPV_NODATA = float(np.finfo(np.float32).max)
POOLS = ("c_above", "c_below", "c_soil", "c_dead")


def valuation_constant(
    bas_year: float, alt_year: float, discount_rate: float, rate_change: float, price: float
) -> float:
    """Currency per Mg C of change: ``price / n x (1 - r^n) / (1 - r)`` (``price`` if r == 1), r as above."""
    n_years = alt_year - bas_year
    ratio = 1 / ((1 + discount_rate / 100) * (1 + rate_change / 100))
    constant = price / n_years
    if ratio == 1:
        return constant * n_years
    return constant * (1 - ratio**n_years) / (1 - ratio)


@njit(cache=True, inline="always")
def _is_nodata(value, nodata):
    return abs(value - nodata) <= 1e-8 + 1e-5 * abs(nodata)


@njit(cache=True, parallel=True)
def _carbon_kernel(bas, alt, has_alt, totals, known, offset, lulc_nodata, has_nodata, alt_nodata, alt_has_nodata,
                   npv_const, do_npv, out_bas, out_alt, out_change, out_npv, sums, bad):  # fmt: skip
    """Fill the output stripes; ``sums[row, k]`` gets the float64 row sums of valid pixels of output k;
    ``bad[row]`` counts pixels whose code is not in the table (they are left as nodata)."""
    rows, cols = bas.shape
    n_codes = totals.shape[0]
    nd = np.float32(CARBON_NODATA)
    npv_nd = np.float32(NPV_NODATA)
    for i in prange(rows):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        n_bad = 0
        for j in range(cols):
            code = bas[i, j]
            vb = nd
            if not (has_nodata and code == lulc_nodata):
                k = np.int64(code) - offset
                if 0 <= k < n_codes and known[k]:
                    vb = totals[k]
                else:
                    n_bad += 1
            out_bas[i, j] = vb
            bas_ok = not _is_nodata(vb, CARBON_NODATA)
            if bas_ok:
                s0 += vb
            if has_alt:
                code = alt[i, j]
                va = nd
                if not (alt_has_nodata and code == alt_nodata):
                    k = np.int64(code) - offset
                    if 0 <= k < n_codes and known[k]:
                        va = totals[k]
                    else:
                        n_bad += 1
                out_alt[i, j] = va
                alt_ok = not _is_nodata(va, CARBON_NODATA)
                if alt_ok:
                    s1 += va
                change = nd
                if bas_ok and alt_ok:
                    change = va - vb
                out_change[i, j] = change
                change_ok = not _is_nodata(change, CARBON_NODATA)
                if change_ok:
                    s2 += change
                if do_npv:
                    if change_ok:
                        npv = change * npv_const
                        out_npv[i, j] = npv
                        if not _is_nodata(npv, NPV_NODATA):
                            s3 += npv
                    else:
                        out_npv[i, j] = npv_nd
        sums[i, 0] = s0
        sums[i, 1] = s1
        sums[i, 2] = s2
        sums[i, 3] = s3
        bad[i] = n_bad


def _flag(args: dict, key: str) -> bool:
    value = args.get(key, False)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def execute(args: dict, workspace: Path) -> None:
    """Run the carbon model with InVEST datastack ``args``, writing InVEST's outputs into ``workspace``.

    Raises :class:`gep.problems.GepInputError` for bad inputs (missing arguments, rasters of different
    size, LULC codes missing from the carbon pools table, years out of order).
    """
    source = "carbon"
    workspace = Path(workspace)
    suffix = str(args.get("results_suffix") or "")
    bas_path = Path(io.require_arg(args, "lulc_bas_path", source))
    table_path = Path(io.require_arg(args, "carbon_pools_path", source))
    calc_seq = _flag(args, "calc_sequestration")
    alt_path = Path(io.require_arg(args, "lulc_alt_path", source)) if calc_seq else None
    do_valuation = calc_seq and _flag(args, "do_valuation")

    npv_const = 0.0
    if do_valuation:
        bas_year = io.number_arg(args, "lulc_bas_year", source)
        alt_year = io.number_arg(args, "lulc_alt_year", source)
        if bas_year >= alt_year:
            raise GepInputError([error("invest_years_order", source, "lulc_alt_year", bas=bas_year, alt=alt_year)])
        npv_const = valuation_constant(
            bas_year,
            alt_year,
            io.number_arg(args, "discount_rate", source),
            io.number_arg(args, "rate_change", source),
            io.number_arg(args, "price_per_metric_ton_of_c", source),
        )

    table = io.read_lulc_table(table_path, POOLS, "Carbon Pools")
    bas = io.raster_info(bas_path, "lulc_bas_path")
    infos = [bas]
    if alt_path is not None:
        alt = io.raster_info(alt_path, "lulc_alt_path")
        pixel = lambda g: (g.transform.a, g.transform.e)  # noqa: E731
        if pixel(alt.grid) != pixel(bas.grid) or alt.grid.shape != bas.grid.shape:
            raise GepInputError(
                [
                    error(
                        "invest_raster_mismatch",
                        str(alt_path),
                        other=str(bas_path),
                        found=f"{alt.grid.shape} px of {pixel(alt.grid)}",
                        expected=f"{bas.grid.shape} px of {pixel(bas.grid)}",
                    )
                ]  # fmt: skip
            )
        infos.append(alt)
    for info in infos:
        if not np.issubdtype(info.dtype, np.integer):
            raise GepInputError([error("invest_lulc_not_integer", str(info.path), dtype=str(info.dtype))])

    # per-class total in float32, pool by pool, as InVEST's sum of four float32 rasters
    pools = [table[p].to_numpy(dtype=np.float32) for p in POOLS]
    total = ((pools[0] + pools[1]) + pools[2]) + pools[3]
    ranges = [io.code_range(info.dtype, table) for info in infos]
    lookup = io.code_lookup(table, [total], min(r[0] for r in ranges), max(r[1] for r in ranges))
    totals = lookup.values[:, 0].copy()

    def int_nodata(info: io.RasterInfo) -> tuple[bool, int]:
        has = info.nodata is not None and float(info.nodata).is_integer()
        return has, int(info.nodata) if has else 0

    has_nodata, lulc_nodata = int_nodata(bas)
    alt_has_nodata, alt_nodata = int_nodata(infos[-1])
    grid = bas.grid
    names = {
        "c_storage_bas": io.suffixed("c_storage_bas.tif", suffix),
        "c_storage_alt": io.suffixed("c_storage_alt.tif", suffix),
        "c_change_bas_alt": io.suffixed("c_change_bas_alt.tif", suffix),
        "npv_alt": io.suffixed("npv_alt.tif", suffix),
    }
    workspace.mkdir(parents=True, exist_ok=True)
    writers = {"c_storage_bas": io.StripeWriter(workspace / names["c_storage_bas"], grid, "float32", CARBON_NODATA)}
    if alt_path is not None:
        for key in ("c_storage_alt", "c_change_bas_alt"):
            writers[key] = io.StripeWriter(workspace / names[key], grid, "float32", CARBON_NODATA)
    if do_valuation:
        writers["npv_alt"] = io.StripeWriter(workspace / names["npv_alt"], grid, "float32", NPV_NODATA)

    readers = [io.GridReader(info, info.grid) for info in infos]
    totals_sum = np.zeros(4, dtype=np.float64)
    empty = np.zeros((1, 1), dtype=np.float32)
    missing: list[set[int]] = [set() for _ in infos]  # codes not in the table, per LULC raster
    failed = False
    try:
        for row0, nrows in io.stripes(grid):
            blocks = [f.result() for f in [r.submit(row0, nrows) for r in readers]]
            if failed:  # only collect the remaining unknown codes for the error message
                for k, (info, block) in enumerate(zip(infos, blocks, strict=True)):
                    missing[k] |= io.distinct_codes(block, info.nodata) - set(table.index.tolist())
                continue
            bas_block = blocks[0]
            alt_block = blocks[1] if len(blocks) > 1 else bas_block
            shape = bas_block.shape
            out_bas = np.empty(shape, dtype=np.float32)
            out_alt = np.empty(shape, dtype=np.float32) if alt_path is not None else empty
            out_change = np.empty(shape, dtype=np.float32) if alt_path is not None else empty
            out_npv = np.empty(shape, dtype=np.float32) if do_valuation else empty
            sums = np.zeros((nrows, 4), dtype=np.float64)
            bad = np.zeros(nrows, dtype=np.int64)
            _carbon_kernel(
                bas_block, alt_block, alt_path is not None, totals, lookup.known, lookup.offset, lulc_nodata,
                has_nodata, alt_nodata, alt_has_nodata, np.float32(npv_const), do_valuation, out_bas, out_alt,
                out_change, out_npv, sums, bad,
            )  # fmt: skip
            if bad.any():
                failed = True
                for k, (info, block) in enumerate(zip(infos, blocks, strict=True)):
                    missing[k] |= io.distinct_codes(block, info.nodata) - set(table.index.tolist())
                continue
            totals_sum += sums.sum(axis=0)
            writers["c_storage_bas"].write(out_bas, row0)
            if alt_path is not None:
                writers["c_storage_alt"].write(out_alt, row0)
                writers["c_change_bas_alt"].write(out_change, row0)
            if do_valuation:
                writers["npv_alt"].write(out_npv, row0)
    finally:
        for reader in readers:
            reader.close()
        for writer in writers.values():
            if failed:
                writer.discard()
            else:
                writer.close()
    if failed:
        problems = []
        for info, codes in zip(infos, missing, strict=True):
            problems += io.check_codes_in_table(codes, table, info.path, table_path, "Carbon Pools")
        raise GepInputError(problems)

    area_ha = grid.pixel_area / 10000.0
    rows = [("Baseline Carbon Storage", totals_sum[0] * area_ha, "metric_ton", names["c_storage_bas"])]
    if alt_path is not None:
        rows.append(("Alternate Carbon Storage", totals_sum[1] * area_ha, "metric_ton", names["c_storage_alt"]))
        rows.append(("Change in Carbon Storage", totals_sum[2] * area_ha, "metric_ton", names["c_change_bas_alt"]))
    if do_valuation:
        rows.append(("Net Present Value of Carbon Change", totals_sum[3] * area_ha, "currency", names["npv_alt"]))
    summary = workspace / io.suffixed("raster_values_summary.csv", suffix)
    with open(summary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Raster", "Total", "Units", "Filename"])
        for label, value, unit, filename in rows:
            writer.writerow([label, repr(float(value)), unit, filename])
    registry = {key: str(workspace / name) for key, name in names.items() if key in writers}
    registry["summary_csv"] = str(summary)
    (workspace / io.suffixed("file_registry.json", suffix)).write_text(json.dumps(registry, indent=4), encoding="utf-8")
