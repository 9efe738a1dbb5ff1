"""Turn item runs into tables and maps: region and zone sums, the long account table, the method
table, the summary, and one COG per item for the physical quantity and the value.

Everything is written into a staging folder next to the output folder and moved into place at the
end, so an interrupted run leaves no half-written account and an earlier account stays intact until
the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from gep import __version__
from gep.account import ACCOUNT_COLUMNS, Account
from gep.catalog import load_catalog
from gep.engine.array_pool import adopt_retained_arrays
from gep.engine.cog import CogWriter
from gep.engine.compute import GridBuffers, ItemRun
from gep.engine.provenance import build_provenance
from gep.engine.summary import ItemOutcome, ItemSums
from gep.engine.tally import Tally
from gep.inputs.prepare import PreparedInputs
from gep.reports import DensitySum, PreviewQueue, write_reports
from gep.seea import SupplyTables, ecosystem_index

Progress = Callable[[str, float], None]
FLOAT_FORMAT = "%.12g"
"""Number format of CSV outputs: 12 significant digits, the same bytes on every run."""
WRITER_THREADS = 2
"""Threads that write an item's maps and sum its arrays while the next items compute."""


def account_tally(prepared: PreparedInputs) -> Tally:
    """The tally of the account's grid: unit × ecosystem type (from the land-cover class table) and
    zones."""
    landcover = prepared.layers["landcover"].data if "landcover" in prepared.layers else None
    ecosystems, labels = ecosystem_index(landcover, prepared.classes, prepared.grid.shape)
    return Tally(prepared.index, ecosystems, len(labels))


def account_rows(prepared: PreparedInputs, summed: Iterable[ItemSums]) -> pd.DataFrame:
    """The long account table: one row per region or zone × item × component."""
    catalog = load_catalog()
    index = prepared.index
    regions = prepared.regions
    year = prepared.spec.account.year
    rows = []
    targets = [(r.code, r.name, r.level) for r in regions.regions] + [
        (z.code, z.name, "zone") for z in regions.zones if z.code in index.zone_masks
    ]
    for item_summed in summed:
        item = catalog.item(item_summed.item_id)
        for component, unit, physical, value in item_summed.parts:
            physical_sums = {**physical.regions(index), **physical.zones}
            value_sums = {**value.regions(index), **value.zones}
            for code, name, level in targets:
                rows.append(
                    {
                        "year": year,
                        "region_code": code,
                        "region_name": name,
                        "level": level,
                        "category": item.category,
                        "item": item.id,
                        "item_name_zh": item.name_zh,
                        "item_name_en": item.name_en,
                        "component": component,
                        "physical_quantity": physical_sums[code],
                        "physical_unit": unit,
                        "value_yuan": value_sums[code],
                        "method": item.valuation,
                        "profile": prepared.profile_id,
                    }
                )
    return pd.DataFrame(rows, columns=ACCOUNT_COLUMNS)


def method_rows(prepared: PreparedInputs, runs: list[ItemRun]) -> pd.DataFrame:
    """The method table: every item of the catalogue, computed or not, with formula, parameters
    (value, unit, source, tag) and notes."""
    catalog = load_catalog()
    by_item = {run.service.item_id: run for run in runs}
    rows = []
    for item in catalog.items:
        run = by_item.get(item.id)
        if run is None:
            reason = prepared.skipped_items.get(item.id, "not selected")
            rows.append(
                {
                    "item": item.id,
                    "name_zh": item.name_zh,
                    "name_en": item.name_en,
                    "category": item.category,
                    "status": "excluded" if "profile" in reason else "skipped",
                    "reason": reason,
                    "variant": "",
                    "formula": "",
                    "parameters": "",
                    "unverified": "",
                    "notes": "",
                }
            )
            continue
        declaration = run.service.declaration
        used = run.result.parameters_used
        params = [prepared.params[name] for name in used if name in prepared.params]
        unverified = [p.name for p in params if p.tag == "unverified"]
        rows.append(
            {
                "item": item.id,
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "category": item.category,
                "status": "computed",
                "reason": "",
                "variant": _variant_used(prepared, run),
                "formula": declaration.formula,
                "parameters": "; ".join(f"{p.name}={p.value:g} {p.unit} [{p.tag}] ({p.source})" for p in params),
                "unverified": ", ".join(unverified),
                "notes": " | ".join(run.result.notes),
            }
        )
    return pd.DataFrame(rows)


def _variant_used(prepared: PreparedInputs, run: ItemRun) -> str:
    """The formula variant a run used: what the service reports, else the profile's, else the default."""
    declaration = run.service.declaration
    reported = run.result.extra.get("variant")
    if reported:
        return str(reported)
    return prepared.variants.get(declaration.item_id) or (declaration.variants[0] if declaration.variants else "")


def region_records(prepared: PreparedInputs) -> list[dict]:
    """The region tree (code, name, name_en, level, parent, area) for readers of the account."""
    return [
        {
            "code": r.code,
            "name": r.name,
            "name_en": r.name_en,
            "level": r.level,
            "parent": r.parent,
            "area_km2": round(prepared.regions.area_km2(r.code), 6),
        }
        for r in prepared.regions.regions
    ]


def region_checks(prepared: PreparedInputs, account: pd.DataFrame) -> list[dict]:
    """For each region with children, the residual of (parent − own remainder − Σ children) per item
    value: zero to floating-point rounding."""
    checks = []
    index = prepared.index
    regions = prepared.regions
    main = account[(account["component"] == "") & (account["level"] != "zone")]
    unit_pixels = np.bincount(index.unit_index[index.unit_index >= 0], minlength=len(index.codes))
    for region in regions.regions:
        children = regions.children(region.code)
        if not children:
            continue
        child_codes = [c.code for c in children]
        for item, rows in main.groupby("item"):
            values = rows.set_index("region_code")["value_yuan"]
            parent = float(values[region.code])
            total_children = float(values[child_codes].sum())
            remainder = parent - total_children
            checks.append(
                {
                    "region_code": region.code,
                    "item": item,
                    "parent_yuan": parent,
                    "children_yuan": total_children,
                    "residual_yuan": remainder,
                    "own_pixels": int(unit_pixels[index.codes.index(region.code)]),
                }
            )
    return checks


def write_outputs(
    prepared: PreparedInputs,
    outcomes: Iterable[ItemOutcome],
    out_dir: Path,
    *,
    extra_files: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    lang: str = "zh",
    reports: bool = True,
    buffers: GridBuffers | None = None,
) -> Path:
    """Write the account into ``out_dir`` atomically; returns ``out_dir``. ``outcomes`` (items summed
    with :func:`account_tally`, see :func:`gep.engine.compute.iter_item_outcomes`) may be a generator:
    items' maps are written one at a time and their arrays dropped, or handed to ``buffers`` (the
    float32 :class:`GridBuffers` the generator assembles with) when nothing else holds them. With
    ``reports`` the density map, PNG previews, ``report.xlsx`` and ``report.html`` (in ``lang``) are
    written too."""
    report = progress or (lambda step, fraction: None)
    out_dir = out_dir.resolve()
    check_output_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        maps = staging / "maps"
        maps.mkdir()
        synthetic = bool(prepared.synthetic_inputs) or prepared.spec.account.synthetic
        boundaries = prepared.regions.to_crs(prepared.grid.crs).to_geodataframe() if reports else None
        # the item maps' previews are drawn on a thread as the maps are written
        with PreviewQueue(lang, boundaries) if reports else contextlib.nullcontext() as previews:
            kept, summed, density = _write_items(prepared, outcomes, maps, synthetic, report, buffers, previews)
            drawn = previews.finish() if previews is not None else []
        runs = kept
        report("tables", 0.9)
        account = account_rows(prepared, summed)
        account.to_csv(staging / "account.csv", index=False, float_format=FLOAT_FORMAT, encoding="utf-8-sig")
        method_rows(prepared, runs).to_csv(staging / "methods.csv", index=False, encoding="utf-8-sig")
        supply = SupplyTables()
        for item_summed in summed:
            main = item_summed.parts[0]
            supply.add(item_summed.item_id, main[1], main[2].ecosystems(), main[3].ecosystems())
        physical, monetary = supply.tables()
        physical.to_csv(
            staging / "seea_supply_physical.csv", index=False, float_format=FLOAT_FORMAT, encoding="utf-8-sig"
        )
        monetary.to_csv(
            staging / "seea_supply_monetary.csv", index=False, float_format=FLOAT_FORMAT, encoding="utf-8-sig"
        )
        checks = region_checks(prepared, account)
        summary = build_summary(prepared, account, checks, synthetic)
        (staging / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (staging / "regions.json").write_text(
            json.dumps(region_records(prepared), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (staging / "provenance.json").write_text(
            json.dumps(build_provenance(prepared, runs), ensure_ascii=False, indent=2, sort_keys=True, default=str)
            + "\n",
            encoding="utf-8",
        )
        for name, text in (extra_files or {}).items():
            (staging / name).write_text(text, encoding="utf-8")
        if reports:
            report("reports", 0.95)
            write_reports(Account.load(staging), lang=lang, boundaries=boundaries, density=density, drawn=drawn)
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report("done", 1.0)
    return out_dir


def _write_items(
    prepared: PreparedInputs,
    outcomes: Iterable[ItemOutcome],
    maps: Path,
    synthetic: bool,
    report: Progress,
    buffers: GridBuffers | None = None,
    previews: PreviewQueue | None = None,
) -> tuple[list[ItemRun], list[ItemSums], np.ndarray | None]:
    """Write each item's two maps on :data:`WRITER_THREADS` threads while the next items compute; at
    most two items are held here at a time. Returns the runs without their arrays, the items' sums
    (in order) and the GEP density (yuan/hm², NaN where no item has a value; None without items). Each
    item's maps go to ``previews`` once written."""
    grid = prepared.grid
    density = DensitySum(grid.shape)
    kept: list[ItemRun] = []
    summed: list[ItemSums] = []
    in_flight: deque[tuple[list[Future], list[np.ndarray], list[Path]]] = deque()
    writers = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="gep-write", initializer=adopt_retained_arrays)
    with writers as pool, CogWriter(grid) as cogs:
        for n, outcome in enumerate(outcomes):
            item_id = outcome.service.item_id
            report(f"maps {item_id}", n / max(1, len(prepared.computable_items)))
            tags = {
                "ITEM": item_id,
                "PROFILE": prepared.profile_id,
                "YEAR": str(prepared.spec.account.year),
                "GEP_VERSION": __version__,
                "SYNTHETIC": "yes" if synthetic else "no",
            }
            physical_tags = {**tags, "UNIT": f"{outcome.result.unit} per pixel"}
            value_tags = {**tags, "UNIT": "yuan per pixel"}
            item_maps = [maps / f"{item_id}_physical.tif", maps / f"{item_id}_value.tif"]
            futures = [
                pool.submit(cogs.write, item_maps[0], outcome.physical, physical_tags),
                pool.submit(cogs.write, item_maps[1], outcome.value_yuan, value_tags),
            ]
            in_flight.append((futures, [outcome.physical, outcome.value_yuan], item_maps))
            density.add(outcome.value_yuan)
            kept.append(ItemRun(outcome.service, outcome.result))
            summed.append(outcome.sums)
            del outcome
            while len(in_flight) > 1:  # the previous item must be written before the next is taken
                _finish(*in_flight.popleft(), buffers, previews)
        while in_flight:
            _finish(*in_flight.popleft(), buffers, previews)
    return kept, summed, density.density(grid.pixel_area_m2) if kept else None


def _finish(
    futures: list[Future],
    arrays: list[np.ndarray],
    item_maps: list[Path],
    buffers: GridBuffers | None,
    previews: PreviewQueue | None,
) -> None:
    """Wait for an item's writing and summing; then hand its arrays to ``buffers`` and its maps to
    ``previews``."""
    for future in futures:
        future.result()
    if buffers is not None:
        buffers.give(arrays)
    arrays.clear()
    if previews is not None:
        for path in item_maps:
            previews.add(path)


def build_summary(prepared: PreparedInputs, account: pd.DataFrame, checks: list[dict], synthetic: bool) -> dict:
    """Per region and zone: GEP and its three parts (yuan), area, GEP per km², and GEP/GDP and GEP per
    capita where the ``statistics`` table gives GDP and population for the account year."""
    main = account[account["component"] == ""]
    economy = _economy(prepared)
    regions = []
    for code, rows in main.groupby("region_code", sort=False):
        by_category = rows.groupby("category")["value_yuan"].sum()
        first = rows.iloc[0]
        zone = first["level"] == "zone"
        area = _zone_area_km2(prepared, code) if zone else prepared.regions.area_km2(code)
        parts = {f"{c}_yuan": float(by_category.get(c, 0.0)) for c in ("material", "regulating", "cultural")}
        gep = sum(parts.values())
        gdp, population = economy.get(code, (None, None))
        regions.append(
            {
                "region_code": code,
                "region_name": first["region_name"],
                "level": first["level"],
                "area_km2": area,
                "gep_yuan": gep,
                **parts,
                "gep_per_km2_yuan": gep / area if area else None,
                "gdp_yuan": gdp,
                "gep_to_gdp": gep / gdp if gdp else None,
                "population": population,
                "gep_per_capita_yuan": gep / population if population else None,
                "items_yuan": {r["item"]: float(r["value_yuan"]) for _, r in rows.iterrows()},
            }
        )
    worst = max((abs(c["residual_yuan"]) for c in checks if c["own_pixels"] == 0), default=0.0)
    return {
        "name": prepared.spec.account.name,
        "year": prepared.spec.account.year,
        "profile": prepared.profile_id,
        "synthetic": synthetic,
        "grid": {
            "crs": prepared.grid.crs,
            "resolution_m": prepared.grid.resolution,
            "width": prepared.grid.width,
            "height": prepared.grid.height,
        },
        "computed_items": list(prepared.computable_items),
        "skipped_items": dict(sorted(prepared.skipped_items.items())),
        "regions": regions,
        "checks": {"region_children_sum_max_residual_yuan": worst},
        "gep_version": __version__,
    }


def _economy(prepared: PreparedInputs) -> dict[str, tuple[float | None, float | None]]:
    """region code -> (GDP in yuan, population) for the account year, from the ``statistics`` table."""
    frame = prepared.tables.get("statistics")
    if frame is None or "region_code" not in frame.columns:
        return {}
    rows = frame
    if "year" in frame.columns:
        rows = frame[pd.to_numeric(frame["year"], errors="coerce") == prepared.spec.account.year]
    out = {}
    for _, row in rows.iterrows():
        gdp = _number(row.get("gdp_yuan"))
        population = _number(row.get("population"))
        out[str(row["region_code"])] = (gdp, population)
    return out


def _number(value) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if pd.isna(number) else float(number)


def _zone_area_km2(prepared: PreparedInputs, code: str) -> float:
    from gep.regions import geodesic_area_km2

    zone = next(z for z in prepared.regions.zones if z.code == code)
    lonlat = prepared.regions.with_zones([zone]).to_crs("EPSG:4326").zones[0]
    return geodesic_area_km2(lonlat.geometry)


def check_output_dir(out_dir: Path) -> None:
    """Refuse to replace a folder that is not empty and was not written by gep (no ``summary.json``
    with a ``gep_version``), so a mistyped ``--out`` cannot delete a user's files."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"{out_dir}: exists and is not a folder; expected a folder for the account outputs")
    if not any(out_dir.iterdir()):
        return
    summary = out_dir / "summary.json"
    try:
        ours = "gep_version" in json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise FileExistsError(
            f"{out_dir}: folder is not empty and holds no earlier gep account (no summary.json); "
            "expected an empty folder, a new path, or an earlier gep output folder to replace"
        )


def _replace_dir(staging: Path, out_dir: Path) -> None:
    """Move ``staging`` to ``out_dir``; an existing ``out_dir`` is removed only after the move works."""
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old")
        if old.exists():
            shutil.rmtree(old)
        out_dir.rename(old)
        staging.rename(out_dir)
        shutil.rmtree(old)
    else:
        staging.rename(out_dir)
