"""Turn item runs into tables and maps: region and zone sums, the long account table, the method
table, the summary, and one COG per item for the physical quantity and the value.

Everything is written into a staging folder next to the output folder and moved into place at the
end, so an interrupted run leaves no half-written account and an earlier account stays intact until
the new one is complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from gep import __version__
from gep.account import Account
from gep.catalog import load_catalog
from gep.engine.cog import write_cog
from gep.engine.compute import ItemRun
from gep.engine.provenance import build_provenance
from gep.inputs.prepare import PreparedInputs
from gep.reports import write_reports
from gep.seea import SupplyTables

Progress = Callable[[str, float], None]
FLOAT_FORMAT = "%.12g"
"""Number format of CSV outputs: 12 significant digits, the same bytes on every run."""


def account_rows(prepared: PreparedInputs, runs: list[ItemRun]) -> pd.DataFrame:
    """The long account table: one row per region or zone × item × component."""
    catalog = load_catalog()
    index = prepared.index
    regions = prepared.regions
    year = prepared.spec.account.year
    rows = []
    targets = [(r.code, r.name, r.level) for r in regions.regions] + [
        (z.code, z.name, "zone") for z in regions.zones if z.code in index.zone_masks
    ]
    for run in runs:
        item = catalog.item(run.service.item_id)
        parts = [("", run.result.unit, run.result.physical, run.result.value_yuan)] + [
            (c.name, c.unit, c.physical, c.value_yuan) for c in run.result.components
        ]
        for component, unit, physical, value in parts:
            physical_sums = {**index.region_sums(physical), **index.zone_sums(physical)}
            value_sums = {**index.region_sums(value), **index.zone_sums(value)}
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
    return pd.DataFrame(rows)


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
                    "own_pixels": int((index.unit_index == index.codes.index(region.code)).sum()),
                }
            )
    return checks


def without_arrays(run: ItemRun) -> ItemRun:
    """The run with its per-pixel arrays dropped: what the method table and provenance need."""
    empty = np.empty(0)
    return replace(run, result=replace(run.result, physical=empty, value_yuan=empty, components=()))


def write_outputs(
    prepared: PreparedInputs,
    runs: Iterable[ItemRun],
    out_dir: Path,
    *,
    extra_files: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    lang: str = "zh",
    reports: bool = True,
) -> Path:
    """Write the account into ``out_dir`` atomically; returns ``out_dir``. ``runs`` may be a generator:
    items are written and summed one at a time and their arrays dropped. With ``reports`` the
    density map, PNG previews, ``report.xlsx`` and ``report.html`` (in ``lang``) are written too."""
    report = progress or (lambda step, fraction: None)
    out_dir = out_dir.resolve()
    check_output_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        maps = staging / "maps"
        maps.mkdir()
        grid = prepared.grid
        synthetic = bool(prepared.synthetic_inputs) or prepared.spec.account.synthetic
        supply = SupplyTables(
            prepared.layers["landcover"].data if "landcover" in prepared.layers else None,
            prepared.classes,
            prepared.index.inside,
        )
        tables, kept = [], []
        for n, run in enumerate(runs):
            # one item at a time: maps, sums and supply rows, then its arrays are dropped
            report(f"maps {run.service.item_id}", n / max(1, len(prepared.computable_items)))
            tags = {
                "ITEM": run.service.item_id,
                "PROFILE": prepared.profile_id,
                "YEAR": str(prepared.spec.account.year),
                "GEP_VERSION": __version__,
                "SYNTHETIC": "yes" if synthetic else "no",
            }
            write_cog(
                maps / f"{run.service.item_id}_physical.tif",
                run.result.physical,
                grid,
                {**tags, "UNIT": f"{run.result.unit} per pixel"},
            )
            write_cog(
                maps / f"{run.service.item_id}_value.tif",
                run.result.value_yuan,
                grid,
                {**tags, "UNIT": "yuan per pixel"},
            )
            tables.append(account_rows(prepared, [run]))
            supply.add(run)
            kept.append(without_arrays(run))
        runs = kept
        report("tables", 0.9)
        account = pd.concat(tables, ignore_index=True) if tables else account_rows(prepared, [])
        account.to_csv(staging / "account.csv", index=False, float_format=FLOAT_FORMAT, encoding="utf-8-sig")
        method_rows(prepared, runs).to_csv(staging / "methods.csv", index=False, encoding="utf-8-sig")
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
            boundaries = prepared.regions.to_crs(grid.crs).to_geodataframe()
            write_reports(Account.load(staging), lang=lang, boundaries=boundaries)
        _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report("done", 1.0)
    return out_dir


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
