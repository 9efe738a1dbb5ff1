"""Project impact assessment (生态占补平衡): GEP lost when a project changes the land cover.

The plan (丽水 十四五, 支持性机制) asks for "基于生态产品价值核算的生态占补平衡机制": a development
project's ecological externality enters its cost. Here:

1. The account inputs are prepared once (:func:`gep.inputs.prepare.prepare_inputs`).
2. The project footprint (polygons, any CRS) is rasterized on the account grid (pixel centres, or
   every touched pixel) and the land cover inside it is set to the scenario class: one ``to_class``
   for the whole footprint, or a class per feature from ``class_field``; ``from_classes`` limits the
   change to those classes. Nodata land cover stays nodata.
3. Every item that reads the land cover (a ``landcover`` layer or class-table columns) is computed on
   the grid before and after (:func:`gep.engine.compute.run_services`), whole-grid items included,
   so off-site effects (regional caps, routing) show in the region totals.
4. Loss = before − after, physical and in yuan, for the footprint, the whole account area, every
   region and zone. Positive = lost.
5. Compensation: annual = ratio × Σ loss over the account area (``net_gains``: gains of one item offset
   losses of another; otherwise only losses count), never below 0; over N years at discount rate r the
   present value is ``annual × Σ_{t=1..N} (1+r)^-t`` (payments at the end of each year).

Nothing here changes the engine: the scenario is a copy of the prepared inputs with a new landcover
array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from rasterio.features import rasterize

from gep.engine.compute import ItemRun, run_services
from gep.inputs.prepare import CLASS_TABLE, TEXT_CLASS_COLUMNS, PreparedInputs
from gep.problems import GepInputError, Problem, error, warning
from gep.services.registry import services

Progress = Callable[[str, float], None]
FOOTPRINT_SCOPE = "footprint"
ACCOUNT_SCOPE = "account"


@dataclass(frozen=True)
class Scenario:
    """The land-cover change inside the footprint.

    Attributes:
        to_class: class code every footprint pixel becomes (one of ``to_class`` / ``class_field``).
        class_field: footprint attribute with each feature's new class code.
        from_classes: when not empty, only pixels of these classes change.
        all_touched: burn every pixel the footprint touches, not only pixels whose centre is inside.
        layer_values: continuous layers set to a value on the changed pixels (e.g. ``{"nep": 0.0}``),
            in the layer's unit. Without it, observed fields (NPP, NEP, ET...) stay as they are and
            the items computed from them do not see the change.
    """

    to_class: int | None = None
    class_field: str | None = None
    from_classes: tuple[int, ...] = ()
    all_touched: bool = False
    layer_values: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CompensationTerms:
    """How the loss is turned into a compensation.

    Attributes:
        ratio: compensation ratio (yuan of compensation per yuan of annual GEP lost), ≥ 0.
        years: number of years the loss lasts (≥ 1).
        discount_rate: annual discount rate for the present value (0.03 = 3 %), > -1.
        net_gains: gains of some items offset losses of others (True) or only losses count (False).
    """

    ratio: float = 1.0
    years: int = 1
    discount_rate: float = 0.0
    net_gains: bool = True


@dataclass(frozen=True)
class ImpactResult:
    """The assessment.

    Attributes:
        items: one row per scope × item × component (component "" = the item's main quantity):
            scope (footprint, account, region, zone), region_code, region_name, level, item, item_name_zh,
            item_name_en, category, component, physical_unit, physical_before, physical_after,
            physical_loss, value_before_yuan, value_after_yuan, value_loss_yuan.
        compensation: per item (main rows): footprint and account-area loss in yuan, off-site loss,
            ratio, annual compensation; plus a total row (item "total").
        schedule: year, annual_compensation_yuan, discount_factor, present_value_yuan.
        summary: footprint pixels/area, changed pixels by class change, totals, terms.
        changed: boolean mask of the pixels whose class changed.
        problems: warnings.
    """

    items: pd.DataFrame
    compensation: pd.DataFrame
    schedule: pd.DataFrame
    summary: dict
    changed: np.ndarray
    problems: tuple[Problem, ...] = ()


def read_footprint(path: str | Path, layer: str | None = None):
    """Read footprint polygons (GeoJSON, GeoPackage, Shapefile...) as a GeoDataFrame; raises
    :class:`GepInputError` for a missing or unreadable file, no CRS, or no polygon."""
    import geopandas as gpd

    from gep.i18n import Text

    path = Path(path)
    what = Text("项目红线范围（矢量文件）", "project footprint (vector file)")
    if not path.exists():
        raise GepInputError([error("file_not_found", str(path), what=what)])
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for broken files; report them the same way
        raise GepInputError([error("file_unreadable", str(path), what=what, reason=str(exc))]) from None
    if frame.crs is None:
        raise GepInputError([error("realization_footprint_no_crs", str(path))])
    polygons = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    polygons = polygons[polygons.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise GepInputError([error("realization_footprint_empty", str(path))])
    return polygons


def footprint_classes(prepared: PreparedInputs, footprint, scenario: Scenario, source: str) -> np.ndarray:
    """The scenario class of each grid pixel inside the footprint, -1 elsewhere (int32 on the grid).

    ``footprint`` is a GeoDataFrame with a CRS. Raises :class:`GepInputError` for a bad scenario."""
    if (scenario.to_class is None) == (scenario.class_field is None):
        raise GepInputError([error("realization_scenario_choice", source, "to_class")])
    grid = prepared.grid
    projected = footprint.to_crs(grid.crs)
    if scenario.class_field is not None:
        if scenario.class_field not in projected.columns:
            raise GepInputError(
                [
                    error(
                        "column_missing",
                        source,
                        scenario.class_field,
                        column=scenario.class_field,
                        expected=", ".join(c for c in projected.columns if c != "geometry"),
                    )
                ]
            )
        codes = pd.to_numeric(projected[scenario.class_field], errors="coerce")
        bad = [v for v, c in zip(projected[scenario.class_field], codes, strict=True) if pd.isna(c) or c != int(c)]
        if bad:
            raise GepInputError([error("realization_bad_class", source, scenario.class_field, value=bad[:5])])
        shapes = [(g, int(c)) for g, c in zip(projected.geometry, codes, strict=True)]
    else:
        shapes = [(g, int(scenario.to_class)) for g in projected.geometry]  # type: ignore[arg-type]
    return rasterize(
        shapes,
        out_shape=grid.shape,
        transform=grid.transform,
        fill=-1,
        dtype="int32",
        all_touched=scenario.all_touched,
    )


def affected_items(prepared: PreparedInputs, changed_layers: Iterable[str] = ()) -> tuple[str, ...]:
    """The computable items that read the land cover (its layer or class-table columns) or one of
    ``changed_layers``."""
    registry = services()
    layers = {"landcover", *changed_layers}
    out = []
    for item_id in prepared.computable_items:
        declaration = registry[item_id].declaration
        if declaration.class_columns or any(layer.name in layers for layer in declaration.layers):
            out.append(item_id)
    return tuple(out)


def apply_scenario(
    prepared: PreparedInputs,
    target: np.ndarray,
    from_classes: Iterable[int] = (),
    layer_values: Mapping[str, float] | None = None,
) -> PreparedInputs:
    """A copy of ``prepared`` whose landcover is ``target`` where ``target >= 0`` (inside the account,
    land cover not nodata and, if given, of one of ``from_classes``), and whose ``layer_values`` layers
    take the given values on those pixels. The original is not changed."""
    layer = prepared.layers["landcover"]
    current = layer.data
    changed = changed_mask(prepared, target, from_classes)
    layers = dict(prepared.layers)
    layers["landcover"] = replace(layer, data=np.where(changed, target, current).astype(current.dtype))
    for name, value in (layer_values or {}).items():
        data = layers[name].data.copy()
        data[changed] = float(value)
        layers[name] = replace(layers[name], data=data)
    return replace(prepared, layers=layers)


def changed_mask(prepared: PreparedInputs, target: np.ndarray, from_classes: Iterable[int] = ()) -> np.ndarray:
    """Pixels whose class the scenario changes."""
    current = prepared.layers["landcover"].data
    mask = (target >= 0) & prepared.index.inside & (current >= 0) & (target != current)
    wanted = tuple(int(c) for c in from_classes)
    if wanted:
        mask &= np.isin(current, np.asarray(wanted, dtype=current.dtype))
    return mask


def assess_impact(
    prepared: PreparedInputs,
    footprint,
    scenario: Scenario,
    terms: CompensationTerms | None = None,
    *,
    source: str = "footprint",
    progress: Progress | None = None,
) -> ImpactResult:
    """Assess the GEP loss of a land-cover change inside ``footprint`` (GeoDataFrame with a CRS).

    ``prepared`` must be free of errors. Raises :class:`GepInputError` for a scenario class missing
    from the class table (or without values the items need), a footprint with no pixel in the
    account, or bad compensation terms. Physical quantities are in each item's unit per year, values
    in yuan per year."""
    terms = terms or CompensationTerms()
    report = progress or (lambda step, fraction: None)
    if not prepared.ok:
        raise GepInputError([p for p in prepared.problems if p.severity == "error"])
    if "landcover" not in prepared.layers:
        raise GepInputError([error("realization_no_landcover", str(prepared.spec.source), "layers.landcover")])
    _check_terms(terms, source)
    _check_layer_values(prepared, scenario, source)
    items = affected_items(prepared, scenario.layer_values)
    target = footprint_classes(prepared, footprint, scenario, source)
    _check_classes(prepared, target, items, scenario, source)
    in_footprint = (target >= 0) & prepared.index.inside
    if not in_footprint.any():
        raise GepInputError([error("realization_footprint_no_pixels", source, resolution=prepared.grid.resolution)])
    changed = changed_mask(prepared, target, scenario.from_classes)
    problems: list[Problem] = []
    if not changed.any():
        problems.append(warning("realization_nothing_changes", source))
    before_inputs = replace(prepared, computable_items=items)
    scenario_inputs = apply_scenario(prepared, target, scenario.from_classes, scenario.layer_values)
    after_inputs = replace(scenario_inputs, computable_items=items)
    report("before", 0.0)
    before = run_services(before_inputs, lambda step, f: report(f"before: {step}", 0.5 * f))
    after = run_services(after_inputs, lambda step, f: report(f"after: {step}", 0.5 + 0.5 * f))
    report("done", 1.0)
    table = _item_table(prepared, before, after, in_footprint)
    compensation = _compensation_table(table, terms)
    total = float(compensation.loc[compensation["item"] == "total", "annual_compensation_yuan"].iloc[0])
    schedule = compensation_schedule(total, terms)
    summary = _summary(prepared, target, in_footprint, changed, compensation, schedule, terms, scenario, source)
    return ImpactResult(table, compensation, schedule, summary, changed, tuple(problems))


def compensation_schedule(annual_yuan: float, terms: CompensationTerms) -> pd.DataFrame:
    """Year t = 1..N: the annual compensation, discount factor (1+r)^-t and present value (yuan)."""
    years = np.arange(1, terms.years + 1)
    factor = (1.0 + terms.discount_rate) ** -years.astype(float)
    return pd.DataFrame(
        {
            "year": years,
            "annual_compensation_yuan": annual_yuan,
            "discount_factor": factor,
            "present_value_yuan": annual_yuan * factor,
        }
    )


def _check_terms(terms: CompensationTerms, source: str) -> None:
    problems = []
    if not terms.ratio >= 0:
        problems.append(error("realization_bad_term", source, "compensation_ratio", value=terms.ratio, expected="≥ 0"))
    if terms.years < 1:
        problems.append(error("realization_bad_term", source, "years", value=terms.years, expected="≥ 1"))
    if not terms.discount_rate > -1:
        problems.append(
            error("realization_bad_term", source, "discount_rate", value=terms.discount_rate, expected="> -1")
        )
    if problems:
        raise GepInputError(problems)


def _check_layer_values(prepared: PreparedInputs, scenario: Scenario, source: str) -> None:
    known = sorted(n for n in prepared.layers if n != "landcover")
    problems = []
    for name, value in scenario.layer_values.items():
        if name not in known:
            problems.append(
                error("realization_layer_unknown", source, "layer_values", value=name, known=", ".join(known))
            )
        elif not np.isfinite(float(value)):
            problems.append(error("realization_bad_term", source, name, value=value, expected="a finite number"))
    if problems:
        raise GepInputError(problems)


def _check_classes(
    prepared: PreparedInputs, target: np.ndarray, items: tuple[str, ...], scenario: Scenario, source: str
) -> None:
    spec = prepared.spec
    table_source = str(spec.resolve(spec.tables[CLASS_TABLE].path)) if CLASS_TABLE in spec.tables else source
    classes = prepared.classes
    wanted = sorted(int(c) for c in np.unique(target[target >= 0]))
    if scenario.to_class is not None:
        wanted = sorted(set(wanted) | {int(scenario.to_class)})
    known = set() if classes is None else {int(c) for c in classes.index}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise GepInputError(
            [error("realization_class_unknown", table_source, "class", value=unknown, known=sorted(known))]
        )
    registry = services()
    columns = sorted({c for i in items for c in registry[i].declaration.class_columns} - TEXT_CLASS_COLUMNS)
    problems = []
    for column in columns:
        values = pd.to_numeric(classes.loc[wanted, column], errors="coerce")  # type: ignore[union-attr]
        empty = [int(c) for c in values.index[values.isna()]]
        if empty:
            problems.append(error("class_value_missing", table_source, column, value=empty))
    if "ecosystem" in {c for i in items for c in registry[i].declaration.class_columns}:
        empty = [int(c) for c in wanted if pd.isna(classes.loc[c, "ecosystem"])]  # type: ignore[union-attr]
        if empty:
            problems.append(error("class_value_missing", table_source, "ecosystem", value=empty))
    if problems:
        raise GepInputError(problems)


def _scopes(prepared: PreparedInputs, in_footprint: np.ndarray) -> list[tuple[str, str, str, str, object]]:
    """(scope, code, name, level, how to sum) for the footprint, the account area, regions and zones."""
    index = prepared.index
    scopes: list[tuple[str, str, str, str, object]] = [
        (FOOTPRINT_SCOPE, FOOTPRINT_SCOPE, "", "", in_footprint),
        (ACCOUNT_SCOPE, ACCOUNT_SCOPE, "", "", index.inside),
    ]
    for region in prepared.regions.regions:
        scopes.append(("region", region.code, region.name, region.level, None))
    for zone in prepared.regions.zones:
        if zone.code in index.zone_masks:
            scopes.append(("zone", zone.code, zone.name, "zone", index.zone_masks[zone.code] & index.inside))
    return scopes


def _sums(prepared: PreparedInputs, scopes, values: np.ndarray) -> list[float]:
    clean = np.where(np.isnan(values), 0.0, values).astype(np.float64)
    regional = prepared.index.region_sums(clean)
    return [
        regional[code] if kind == "region" else float(clean[mask].sum(dtype=np.float64))
        for kind, code, _, _, mask in scopes
    ]


def _item_table(prepared: PreparedInputs, before: list[ItemRun], after: list[ItemRun], in_footprint) -> pd.DataFrame:
    from gep.catalog import load_catalog

    catalog = load_catalog()
    scopes = _scopes(prepared, in_footprint)
    rows = []
    for run_before, run_after in zip(before, after, strict=True):
        item = catalog.item(run_before.service.item_id)
        b, a = run_before.result, run_after.result
        quantities = [("", b.unit, b.physical, a.physical, b.value_yuan, a.value_yuan)] + [
            (cb.name, cb.unit, cb.physical, ca.physical, cb.value_yuan, ca.value_yuan)
            for cb, ca in zip(b.components, a.components, strict=True)
        ]
        for component, unit, pb, pa, vb, va in quantities:
            sums = [_sums(prepared, scopes, array) for array in (pb, pa, vb, va)]
            for n, (kind, code, name, level, _) in enumerate(scopes):
                rows.append(
                    {
                        "scope": kind,
                        "region_code": code,
                        "region_name": name,
                        "level": level,
                        "item": item.id,
                        "item_name_zh": item.name_zh,
                        "item_name_en": item.name_en,
                        "category": item.category,
                        "component": component,
                        "physical_unit": unit,
                        "physical_before": sums[0][n],
                        "physical_after": sums[1][n],
                        "physical_loss": sums[0][n] - sums[1][n],
                        "value_before_yuan": sums[2][n],
                        "value_after_yuan": sums[3][n],
                        "value_loss_yuan": sums[2][n] - sums[3][n],
                    }
                )
    return pd.DataFrame(rows)


def _compensation_table(table: pd.DataFrame, terms: CompensationTerms) -> pd.DataFrame:
    main = table[table["component"] == ""]
    rows = []
    for item, group in main.groupby("item", sort=False):
        by_scope = group.set_index("scope")
        account = float(by_scope.loc[ACCOUNT_SCOPE, "value_loss_yuan"])
        on_site = float(by_scope.loc[FOOTPRINT_SCOPE, "value_loss_yuan"])
        counted = account if terms.net_gains else max(account, 0.0)
        rows.append(
            {
                "item": item,
                "item_name_zh": group["item_name_zh"].iloc[0],
                "item_name_en": group["item_name_en"].iloc[0],
                "physical_unit": group["physical_unit"].iloc[0],
                "physical_loss": float(by_scope.loc[ACCOUNT_SCOPE, "physical_loss"]),
                "footprint_loss_yuan": on_site,
                "offsite_loss_yuan": account - on_site,
                "value_loss_yuan": account,
                "counted_loss_yuan": counted,
                "compensation_ratio": terms.ratio,
                "annual_compensation_yuan": counted * terms.ratio,
            }
        )
    frame = pd.DataFrame(rows)
    counted_total = float(frame["counted_loss_yuan"].sum()) if rows else 0.0
    total = {
        "item": "total",
        "item_name_zh": "合计",
        "item_name_en": "total",
        "physical_unit": "",
        "physical_loss": float("nan"),
        "footprint_loss_yuan": float(frame["footprint_loss_yuan"].sum()) if rows else 0.0,
        "offsite_loss_yuan": float(frame["offsite_loss_yuan"].sum()) if rows else 0.0,
        "value_loss_yuan": float(frame["value_loss_yuan"].sum()) if rows else 0.0,
        "counted_loss_yuan": counted_total,
        "compensation_ratio": terms.ratio,
        "annual_compensation_yuan": max(counted_total, 0.0) * terms.ratio,
    }
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def _summary(prepared, target, in_footprint, changed, compensation, schedule, terms, scenario, source) -> dict:
    current = prepared.layers["landcover"].data
    transitions = (
        pd.DataFrame({"from": current[changed], "to": target[changed]}).value_counts().sort_index().reset_index()
    )
    pixel_area = prepared.grid.pixel_area_m2
    total = compensation[compensation["item"] == "total"].iloc[0]
    return {
        "footprint": source,
        "spec": str(prepared.spec.source),
        "year": prepared.spec.account.year,
        "profile": prepared.profile_id,
        "scenario": {
            "to_class": scenario.to_class,
            "class_field": scenario.class_field,
            "from_classes": list(scenario.from_classes),
            "all_touched": scenario.all_touched,
            "layer_values": dict(scenario.layer_values),
        },
        "footprint_pixels": int(in_footprint.sum()),
        "footprint_area_m2": float(in_footprint.sum()) * pixel_area,
        "changed_pixels": int(changed.sum()),
        "changed_area_m2": float(changed.sum()) * pixel_area,
        "transitions": [
            {"from_class": int(r["from"]), "to_class": int(r["to"]), "pixels": int(r["count"])}
            for _, r in transitions.iterrows()
        ],
        "value_loss_yuan": float(total["value_loss_yuan"]),
        "footprint_loss_yuan": float(total["footprint_loss_yuan"]),
        "annual_compensation_yuan": float(total["annual_compensation_yuan"]),
        "present_value_yuan": float(schedule["present_value_yuan"].sum()),
        "terms": {
            "compensation_ratio": terms.ratio,
            "years": terms.years,
            "discount_rate": terms.discount_rate,
            "net_gains": terms.net_gains,
        },
    }


def impact_from_files(
    spec_path: str | Path,
    footprint_path: str | Path,
    scenario: Scenario,
    terms: CompensationTerms | None = None,
    *,
    layer: str | None = None,
    progress: Progress | None = None,
) -> tuple[ImpactResult, list[Problem]]:
    """Load an account spec and a footprint file and assess the impact. Returns (result, warnings of
    the input preparation); raises :class:`GepInputError` for any input error."""
    from gep.inputs.prepare import prepare_inputs
    from gep.spec import load_spec

    spec, problems = load_spec(spec_path)
    if spec is None:
        raise GepInputError(problems)
    footprint = read_footprint(footprint_path, layer)
    prepared = prepare_inputs(spec)
    result = assess_impact(prepared, footprint, scenario, terms, source=str(footprint_path), progress=progress)
    return result, [p for p in prepared.problems if p.severity == "warning"]
