"""Shared logic of the statistics-based items (material products, recreation, landscape value).

These items start from figures per region (a statistics table row, a visitor survey, a list of
properties), not from rasters. This module reads and checks those tables and maps each region's figure
onto its pixels in proportion to a land-cover weight, so that the pixels of a region sum to its figure.

Allocation rule for region totals (:func:`allocate_totals`; the statistics table, the visitor table):

- Leaf-level rows win, parent rows fill regions without data. Each pixel takes its figure from the
  deepest region containing it that has a figure (its "owner").
- A region's figure is spread over the pixels it owns (its pixels minus those of its descendants that
  have figures of their own), in proportion to the pixel weight. What it spreads is its figure minus the
  figures of its nearest descendants with figures (parent − Σ children). When that difference is
  negative, nothing is spread and a note says so; when it is positive but the region owns no pixel, a
  note says it could not be placed.
- Regions without a figure of their own but with an ancestor that has one get a share of that ancestor's
  remainder: they are listed in ``allocated_regions`` and in a note.
- Where the owned pixels all have weight 0 (e.g. fishery output in a county without water pixels), the
  figure is spread evenly over them, with a note, so that the region total is kept.
- Pixels with no owner (no figure for their region or any ancestor) are NaN, with a note naming the
  regions; so are pixels without a land-cover class.

Additive tables (one row per property, :func:`spread_additive`) are different: each row adds to its
region, so every region's sum is spread over all of its pixels (descendants included).

Pixel weights are 0/1 (or any non-negative number) per ecosystem (class table column ``ecosystem``);
:data:`ALLOCATION_ECOSYSTEMS` holds the defaults, and the option ``allocation_weights`` (a mapping
item id -> {ecosystem: weight}) overrides them per item. Pixels all have the same area on the account
grid, so a weight per pixel is a weight per unit area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from gep.problems import Problem, error
from gep.services.base import ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.checks import (
    CLASS_TABLE,
    ECOSYSTEMS,
    check_option,
    landcover_ints,
    listed,
    present_classes,
    raise_problems,
    region_code_text,
)
from gep.services.classmap import map_classes
from gep.services.kernels import EVEN, NAN, SCALED, ZERO, fill_additive, fill_shares, nan_sum, unit_sums

STATISTICS = "statistics"
"""Name of the wide statistics table (one row per region and year)."""

"""Allowed values of the class table's ``ecosystem`` column (the shared vocabulary)."""

ALLOCATION_ECOSYSTEMS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "agriculture": MappingProxyType({"cropland": 1.0}),
        "forestry": MappingProxyType({"forest": 1.0, "shrub": 1.0}),
        "animal_husbandry": MappingProxyType({"grassland": 1.0, "cropland": 1.0}),
        "fishery": MappingProxyType({"water": 1.0, "wetland": 1.0}),
        "water_supply": MappingProxyType({"water": 1.0}),
        "eco_energy": MappingProxyType({"water": 1.0}),
        # natural scenery that draws visitors
        "recreation": MappingProxyType({"forest": 1.0, "water": 1.0, "wetland": 1.0, "grassland": 1.0}),
        # green and blue space that gives nearby properties their premium
        "landscape_value": MappingProxyType(
            {"forest": 1.0, "shrub": 1.0, "grassland": 1.0, "wetland": 1.0, "water": 1.0}
        ),
    }
)
"""Default pixel weight per ecosystem for each item (ecosystems not listed weigh 0). A pixel's share of
its region's figure is its weight over the sum of the weights of the region's pixels (equal pixel areas).
Overridden per item by the option ``allocation_weights`` = {item id: {ecosystem: weight}}."""

MATERIAL_BASES: tuple[str, ...] = ("gross_output", "value_added", "net_output")
"""Values of the profile option ``material_basis`` (what the sector output columns hold)."""



@dataclass(frozen=True)
class Allocation:
    """Figures mapped onto pixels.

    Attributes:
        values: per-pixel quantity (unit of the figures), NaN where no figure applies or no land cover.
        allocated_regions: codes of regions without a figure of their own whose pixels received a share
            of an ancestor's figure.
        notes: short English notes (allocated regions, negative remainders, regions without figures).
    """

    values: np.ndarray
    allocated_regions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------
# Small checks (candidates for gep/services/checks.py)
# --------------------------------------------------------------------------------------------------


def check_landcover(ctx: ServiceContext, item_id: str) -> list[Problem]:
    """Problems with the land cover used for allocation: no ``landcover`` layer, no ``ecosystem`` column,
    classes present inside the account without a row, or ecosystem names outside :data:`ECOSYSTEMS`."""
    if "landcover" not in ctx.layers:
        return [error("mat_layer_missing", source="landcover", layer="landcover", item=item_id)]
    if "ecosystem" not in ctx.classes.columns:
        return [
            error("column_missing", source=CLASS_TABLE, field="ecosystem", column="ecosystem", expected="ecosystem")
        ]
    present = sorted(present_classes(ctx))
    known = {int(c) for c in ctx.classes.index}
    missing = [c for c in present if c not in known]
    if missing:
        return [error("mat_class_missing", source=CLASS_TABLE, field="class", codes=listed(missing), item=item_id)]
    names = ctx.classes.loc[present, "ecosystem"]
    bad = names[~names.isin(ECOSYSTEMS)]
    if len(bad):
        return [
            error(
                "mat_ecosystem_invalid",
                source=CLASS_TABLE,
                field="ecosystem",
                codes=listed([int(c) for c in bad.index]),
                values=listed([repr(v) for v in bad]),
                expected=", ".join(ECOSYSTEMS),
            )
        ]
    return []


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------


def read_rows(
    ctx: ServiceContext,
    table_name: str,
    item_id: str,
    columns: Sequence[str],
    optional: Sequence[str] = (),
) -> pd.DataFrame:
    """The rows of table ``table_name`` with ``region_code`` as text and ``columns`` as float.

    ``columns`` must exist; ``optional`` columns may be absent (then all NaN). Blank cells stay NaN (no
    figure). The returned frame has a ``row`` column: the 1-based
    data row in the table as given. Raises :class:`GepInputError` naming every problem: missing table or
    column, region codes not in the account, values that are not numbers or are negative.
    """
    table = ctx.tables.get(table_name)
    if table is None:
        raise_problems([error("mat_table_missing", source=table_name, table=table_name, item=item_id)])
    wanted = ("region_code", *columns)
    raise_problems(
        [
            error("column_missing", source=table_name, field=c, column=c, expected=", ".join(wanted))
            for c in wanted
            if c not in table.columns
        ]
    )
    problems: list[Problem] = []
    out = pd.DataFrame({"row": np.arange(1, len(table) + 1)}, index=table.index)
    out["region_code"] = [region_code_text(v) for v in table["region_code"]]
    known = sorted(ctx.region_units)
    for row, code in zip(out["row"], out["region_code"], strict=True):
        if code not in ctx.region_units:
            problems.append(
                error(
                    "mat_region_unknown",
                    source=table_name,
                    field="region_code",
                    region=code,
                    row=int(row),
                    expected=listed(known),
                )
            )
    for column in (*columns, *optional):
        if column not in table.columns:
            out[column] = np.nan
            continue
        raw = table[column]
        numbers = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        for row, value, number, is_blank in zip(out["row"], raw, numbers, blank, strict=True):
            if is_blank:
                continue
            if pd.isna(number):
                problems.append(error("value_not_number", source=table_name, field=column, value=value, row=int(row)))
            elif number < 0:
                problems.append(
                    error(
                        "mat_value_negative",
                        source=table_name,
                        field=column,
                        value=float(number),
                        row=int(row),
                        expected=">= 0",
                    )
                )
        out[column] = numbers.astype(np.float64)
    raise_problems(problems)
    return out


def select_year(ctx: ServiceContext, table_name: str, rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Keep the rows of the accounting year.

    The year is ``ctx.options["year"]`` when set (rows of other years are dropped, with a note); without
    it the table must hold a single year. Tables without a ``year`` column are taken as they are.
    """
    table = ctx.tables[table_name]
    if "year" not in table.columns:
        return rows, []
    years = pd.to_numeric(table["year"], errors="coerce")
    bad = [
        error("value_not_number", source=table_name, field="year", value=v, row=int(r))
        for r, v, y in zip(rows["row"], table["year"], years, strict=True)
        if pd.isna(y)
    ]
    raise_problems(bad)
    present = sorted({int(y) for y in years})
    wanted = ctx.options.get("year")
    if wanted is None:
        if len(present) > 1:
            raise_problems([error("mat_years_several", source=table_name, field="year", years=listed(present))])
        return rows, []
    keep = (years == int(wanted)).to_numpy()
    if not keep.any():
        raise_problems(
            [error("mat_year_missing", source=table_name, field="year", year=int(wanted), years=listed(present))]
        )
    notes = [f"{table_name}: rows of year {int(wanted)} used"] if len(present) > 1 else []
    return rows[keep], notes


def statistics_figures(
    ctx: ServiceContext,
    item_id: str,
    columns: Sequence[str],
    optional: Sequence[str] = (),
    table_name: str = STATISTICS,
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Region figures of the statistics table: column -> {region code: value}, for the accounting year.

    A region must have at most one row (else :class:`GepInputError`). Blank cells give no figure for that
    region (a parent's figure may then be allocated to it); ``optional`` columns may be absent (no figures).
    """
    rows = read_rows(ctx, table_name, item_id, columns, optional)
    rows, notes = select_year(ctx, table_name, rows)
    duplicated = rows["region_code"][rows["region_code"].duplicated(keep=False)]
    problems = [
        error(
            "mat_region_duplicate",
            source=table_name,
            field="region_code",
            region=code,
            rows=", ".join(str(int(r)) for r in rows.loc[rows["region_code"] == code, "row"]),
        )
        for code in sorted(set(duplicated))
    ]
    raise_problems(problems)
    figures: dict[str, dict[str, float]] = {}
    for column in (*columns, *optional):
        given = rows[rows[column].notna()]
        figures[column] = {str(c): float(v) for c, v in zip(given["region_code"], given[column], strict=True)}
    return figures, notes


# --------------------------------------------------------------------------------------------------
# Weights and allocation
# --------------------------------------------------------------------------------------------------


def ecosystem_weights(ctx: ServiceContext, item_id: str) -> tuple[np.ndarray, str, list[str]]:
    """Pixel weights for ``item_id`` from the class table's ``ecosystem`` column.

    Returns (weights per pixel, NaN where there is no land-cover class; a description such as
    "cropland" or "forest ×1, water ×2"; notes). The option ``allocation_weights`` = {item id:
    {ecosystem: weight}} replaces :data:`ALLOCATION_ECOSYSTEMS` for the item.
    """
    chosen = ALLOCATION_ECOSYSTEMS[item_id]
    notes: list[str] = []
    override = ctx.options.get("allocation_weights")
    if isinstance(override, Mapping) and item_id in override:
        chosen = _checked_weights(item_id, override[item_id])
        notes.append(f"allocation weights set by the option allocation_weights: {_describe(chosen)}")
    per_class = ctx.classes["ecosystem"].map(lambda e: float(chosen.get(str(e), 0.0))).astype(np.float64)
    return map_classes(landcover_ints(ctx), per_class, np.nan), _describe(chosen), notes


def _checked_weights(item_id: str, raw: object) -> dict[str, float]:
    problem = error(
        "mat_weights_invalid",
        source="profile",
        field="allocation_weights",
        item=item_id,
        value=raw,
        expected=", ".join(ECOSYSTEMS),
    )
    if not isinstance(raw, Mapping) or not raw:
        raise_problems([problem])
    out: dict[str, float] = {}
    for name, weight in raw.items():
        if (
            name not in ECOSYSTEMS
            or isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not np.isfinite(weight)
            or weight < 0
        ):
            raise_problems([problem])
        out[str(name)] = float(weight)
    if not any(w > 0 for w in out.values()):
        raise_problems([problem])
    return out


def _describe(weights: Mapping[str, float]) -> str:
    positive = {k: v for k, v in weights.items() if v > 0}
    if all(v == 1.0 for v in positive.values()):
        return " + ".join(positive)
    return ", ".join(f"{k} ×{v:g}" for k, v in positive.items())


def allocate_totals(ctx: ServiceContext, totals: Mapping[str, float], weights: np.ndarray, what: str) -> Allocation:
    """Map region totals onto pixels by the module's allocation rule (leaf rows win; parents fill).

    Region sums come from one pass over the grid (weights and pixel counts per unit) and the pixels are
    filled in a second pass by their unit's share, so the cost does not grow with the number of regions.

    Args:
        ctx: the service context (regions, ``inside``).
        totals: region code -> figure (any unit; codes must be regions of the account).
        weights: per-pixel weight ≥ 0, NaN where there is no land-cover class.
        what: name of the figure (a column name), for the notes.
    """
    inside = np.asarray(ctx.inside, dtype=bool)
    unit_index = np.asarray(ctx.unit_index)
    n_units = len(ctx.unit_codes)
    sets = {code: frozenset(int(u) for u in units) for code, units in ctx.region_units.items()}
    given = list(totals)
    owner = np.full(max(1, n_units), -1, dtype=np.int64)
    for k in sorted(range(len(given)), key=lambda k: -len(sets[given[k]])):  # largest first: deeper win
        owner[sorted(sets[given[k]])] = k
    remainder = {code: float(totals[code]) for code in given}
    for code in given:
        parents = [d for d in given if sets[code] < sets[d]]
        if parents:
            remainder[min(parents, key=lambda d: len(sets[d]))] -= float(totals[code])
    sums = unit_sums(unit_index, inside, weights, n_units)
    owned = [np.flatnonzero(owner[:n_units] == k) for k in range(len(given))]  # units each figure owns
    mode = np.full(n_units + 1, NAN, dtype=np.int8)  # last entry: pixels of no unit
    mode[:n_units][owner[:n_units] >= 0] = ZERO
    amount = np.zeros(n_units + 1)
    denom = np.ones(n_units + 1)
    notes: list[str] = []
    for k, code in enumerate(given):
        amount_k = remainder[code]
        tolerance = 1e-9 * max(abs(float(totals[code])), 1.0)
        children = [c for c in given if sets[c] < sets[code]]
        if amount_k < -tolerance:
            notes.append(
                f"{what}: rows of regions inside {code} sum to {float(totals[code]) - amount_k:g}, more than its "
                f"own row {float(totals[code]):g}; its remainder {amount_k:g} is not allocated (0)"
            )
            continue
        if amount_k <= tolerance:
            continue
        units = owned[k]
        pixels = int(sums.valid[units].sum())
        if not pixels:
            kind = "parent − Σ children" if children else "its figure"
            notes.append(f"{what}: region {code} has no pixel of its own to take {kind} = {amount_k:g}; not placed")
            continue
        total_weight = float(sums.total[units].sum())
        amount[units] = amount_k
        if total_weight > 0:
            mode[units], denom[units] = SCALED, total_weight
        else:
            mode[units], denom[units] = EVEN, pixels
            notes.append(
                f"{what}: region {code} has no pixel of the allocation ecosystems; {amount_k:g} spread evenly "
                f"over its {pixels} pixels"
            )
    values = fill_shares(unit_index, inside, weights, mode, amount, denom)
    occupied = {int(u) for u in np.flatnonzero(sums.inside[:n_units])}
    allocated = tuple(
        sorted(
            code
            for code, units in sets.items()
            if code not in totals and units & occupied and any(units < sets[d] for d in given)
        )
    )
    if allocated:
        notes.append(
            f"{what}: no rows for regions {listed(list(allocated))}; their figures are allocated from the "
            "row of an enclosing region in proportion to the allocation weights"
        )
    orphans = sorted({ctx.unit_codes[u] for u in occupied if owner[u] < 0})
    if orphans:
        notes.append(f"{what}: no figure for regions {listed(orphans)} or any enclosing region; their pixels are NaN")
    notes.extend(_nodata_note(sums.nonfinite))
    return Allocation(values, allocated, tuple(notes))


def spread_additive(ctx: ServiceContext, amounts: Mapping[str, float], weights: np.ndarray, what: str) -> Allocation:
    """Spread additive region amounts (sums of rows such as single properties) over all pixels of each
    region, descendants included, in proportion to ``weights``; pixels of no listed region get 0.

    Where a region's pixels all weigh 0, its amount is spread evenly over them (with a note).
    """
    inside = np.asarray(ctx.inside, dtype=bool)
    unit_index = np.asarray(ctx.unit_index)
    n_units = len(ctx.unit_codes)
    sums = unit_sums(unit_index, inside, weights, n_units)
    listed_regions = list(amounts.items())
    mode = np.full(len(listed_regions), ZERO, dtype=np.int8)
    amount = np.zeros(len(listed_regions))
    denom = np.ones(len(listed_regions))
    unit_regions: list[list[int]] = [[] for _ in range(n_units)]
    notes: list[str] = []
    for r, (code, amount_r) in enumerate(listed_regions):
        if amount_r == 0:
            continue
        units = np.asarray(sorted(set(ctx.region_units[code])), dtype=np.int64)
        pixels = int(sums.valid[units].sum())
        if not pixels:
            notes.append(f"{what}: region {code} has no pixel with land cover; {amount_r:g} not placed")
            continue
        total_weight = float(sums.total[units].sum())
        amount[r] = amount_r
        if total_weight > 0:
            mode[r], denom[r] = SCALED, total_weight
        else:
            mode[r], denom[r] = EVEN, pixels
            notes.append(f"{what}: region {code} has no pixel of the allocation ecosystems; {amount_r:g} spread evenly")
        for u in units:
            unit_regions[int(u)].append(r)
    values = fill_additive(unit_index, inside, weights, unit_regions, mode, amount, denom)
    notes.extend(_nodata_note(sums.nonfinite))
    return Allocation(values, (), tuple(notes))


def _nodata_note(missing: int) -> list[str]:
    """The note on the ``missing`` pixels inside the account without a land-cover class (weight NaN)."""
    return [f"{missing} pixels inside the account lack a land-cover class; left NaN"] if missing else []


def nan_total(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Pixel-wise sum of ``arrays`` ignoring NaN, NaN only where every array is NaN (one pass per array,
    no stacked copy)."""
    return nan_sum(list(arrays))


def merged_regions(allocations: Sequence[Allocation]) -> tuple[str, ...]:
    """Union of the ``allocated_regions`` of ``allocations``, sorted."""
    return tuple(sorted({c for a in allocations for c in a.allocated_regions}))


def unique_notes(*groups: Sequence[str]) -> tuple[str, ...]:
    """Notes of ``groups`` in order, each once."""
    return tuple(dict.fromkeys(n for g in groups for n in g))


# --------------------------------------------------------------------------------------------------
# The four sector items (agriculture, forestry, animal husbandry, fishery)
# --------------------------------------------------------------------------------------------------


def sector_declaration(item_id: str, column: str, sector_zh: str) -> ServiceDeclaration:
    """Declaration of a sector item whose figure is the statistics column ``column`` (yuan)."""
    ecosystems = _describe(ALLOCATION_ECOSYSTEMS[item_id])
    return ServiceDeclaration(
        item_id=item_id,
        unit="yuan",
        tables=(TableInput(STATISTICS, ("region_code", "year", column)),),
        class_columns=("ecosystem",),
        whole_grid=True,
        valuation="market_value",
        formula=(
            f"V = {column} ({sector_zh}产值; gross output, value added or net output per the profile option "
            f"material_basis); physical quantity = the same figure in yuan; allocated to {ecosystems} pixels "
            "in proportion to their count; leaf-level rows win, parent rows fill regions without data"
        ),
    )


def compute_sector(ctx: ServiceContext, declaration: ServiceDeclaration) -> ServiceResult:
    """A sector item: the region's output value (yuan) as both physical quantity and value, per pixel."""
    item = declaration.item_id
    column = declaration.tables[0].columns[-1]
    raise_problems(check_landcover(ctx, item) + check_option(ctx, item, "material_basis", MATERIAL_BASES))
    basis = ctx.options.get("material_basis", MATERIAL_BASES[0])
    figures, table_notes = statistics_figures(ctx, item, [column])
    weights, described, weight_notes = ecosystem_weights(ctx, item)
    allocation = allocate_totals(ctx, figures[column], weights, column)
    notes = [
        f"{column} read as {basis} (profile option material_basis); physical quantity = the same figure in yuan",
        f"allocated to {described} pixels",
    ]
    return ServiceResult(
        item_id=item,
        unit="yuan",
        physical=allocation.values,
        value_yuan=allocation.values.copy(),
        notes=unique_notes(notes, weight_notes, table_notes, allocation.notes),
        extra={"allocated_regions": list(allocation.allocated_regions)},
    )
