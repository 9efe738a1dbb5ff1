"""Capacity-versus-load rule of the purification services, and the input checks shared by the
regulating water and soil services (water conservation, soil retention, flood regulation, water and air
purification).

Purification rule (MEE guide as recalled in gep-methods §8, tagged [U]): in each region the ecosystem
removes at most what is emitted and at most what it can absorb, ``purified = min(capacity, load)``, where
``capacity`` (t/a) is the sum over the region's pixels of a per-class purification rate (t/(hm²·a)) × pixel
area (hm²) and ``load`` (t/a) the emission given in the ``pollutant_loads`` table. The region's purified
amount is mapped back onto its pixels in proportion to their capacity, so each map sums to the region figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gep.problems import GepInputError, Problem, error
from gep.services.base import Component, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import M2_PER_HA

CLASS_TABLE = "landcover_params"
"""Name of the land-cover class table, used as the ``source`` of class-table problems."""

ECOSYSTEMS: tuple[str, ...] = (
    "forest",
    "shrub",
    "grassland",
    "wetland",
    "cropland",
    "water",
    "urban",
    "bare",
)
"""Allowed values of the class table's ``ecosystem`` column."""

WATER_POLLUTANTS: tuple[str, ...] = ("cod", "nh3n", "tp")
AIR_POLLUTANTS: tuple[str, ...] = ("so2", "nox", "dust")
POLLUTANTS: tuple[str, ...] = WATER_POLLUTANTS + AIR_POLLUTANTS
"""Pollutant names allowed in the ``pollutant_loads`` table."""

LOADS_TABLE = "pollutant_loads"
LOAD_COLUMNS: tuple[str, ...] = ("region_code", "pollutant", "load_t")

BASES: tuple[str, ...] = ("min_capacity_load", "capacity", "load")
"""Values of the profile option ``purification_basis``; the first is the default."""

_MAX_LISTED = 20


# --------------------------------------------------------------------------------------------------
# Input checks shared by the regulating water and soil services
# --------------------------------------------------------------------------------------------------


def landcover_codes(ctx: ServiceContext) -> np.ndarray:
    """The ``landcover`` layer as int64 class codes, -1 where there is no data (negative or NaN)."""
    raw = np.asarray(ctx.layers["landcover"])
    codes = (np.where(np.isfinite(raw), raw, -1) if raw.dtype.kind == "f" else raw).astype(np.int64)
    return np.where(codes < 0, -1, codes)


def present_classes(ctx: ServiceContext) -> dict[int, int]:
    """Class code -> number of pixels, over the pixels inside the account with a land-cover class."""
    codes = landcover_codes(ctx)[np.asarray(ctx.inside, dtype=bool)]
    values, counts = np.unique(codes[codes >= 0], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _listed(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_MAX_LISTED])
    return shown + (f" … (+{len(values) - _MAX_LISTED})" if len(values) > _MAX_LISTED else "")


def check_layers(ctx: ServiceContext, names: Sequence[str], item_id: str) -> list[Problem]:
    """A problem for each layer of ``names`` missing from ``ctx.layers``."""
    return [
        error("svc_layer_missing", source=name, field=None, layer=name, item=item_id)
        for name in names
        if name not in ctx.layers
    ]


def check_class_columns(
    ctx: ServiceContext,
    item_id: str,
    columns: Mapping[str, tuple[float, float] | None],
    codes: Sequence[int] | None = None,
) -> list[Problem]:
    """Check the class table for the classes present in the landcover layer.

    Args:
        ctx: the service context (its ``classes`` table and ``landcover`` layer are read).
        item_id: the item asking, named in the messages.
        columns: column name -> inclusive (low, high) bounds of its values, or None for no bounds.
        codes: check only these class codes (of those present); None checks every present class.

    Returns:
        Problems: a column missing from the table; classes present in the layer without a row (codes and
        the columns needed); empty (NaN) values; values outside the bounds.
    """
    problems: list[Problem] = []
    table = ctx.classes
    present = present_classes(ctx)
    wanted = sorted(present if codes is None else set(present) & {int(c) for c in codes})
    for column in columns:
        if column not in table.columns:
            problems.append(
                error(
                    "column_missing",
                    source=CLASS_TABLE,
                    field=column,
                    column=column,
                    expected=", ".join(columns),
                )
            )
    index = {int(c) for c in table.index}
    missing_rows = [c for c in wanted if c not in index]
    if missing_rows:
        problems.append(
            error(
                "svc_class_missing",
                source=CLASS_TABLE,
                field="class",
                codes=_listed(missing_rows),
                pixels=sum(present[c] for c in missing_rows),
                item=item_id,
                columns=", ".join(columns),
            )
        )
    rows = [c for c in wanted if c in index]
    for column, bounds in columns.items():
        if column not in table.columns or not rows:
            continue
        values = pd.to_numeric(table.loc[rows, column], errors="coerce")
        low, high = (-np.inf, np.inf) if bounds is None else bounds
        expected = f"[{low:g}, {high:g}]"
        empty = [int(c) for c in values.index[values.isna()]]
        if empty:
            problems.append(
                error(
                    "svc_class_value_missing",
                    source=CLASS_TABLE,
                    field=column,
                    column=column,
                    codes=_listed(empty),
                    item=item_id,
                    expected=expected,
                )
            )
        if bounds is not None:
            bad = values[values.notna() & ((values < bounds[0]) | (values > bounds[1]))]
            if len(bad):
                problems.append(
                    error(
                        "svc_class_value_out_of_range",
                        source=CLASS_TABLE,
                        field=column,
                        column=column,
                        codes=_listed([int(c) for c in bad.index]),
                        values=_listed([f"{v:g}" for v in bad]),
                        expected=expected,
                    )
                )
    return problems


def check_ecosystem_column(ctx: ServiceContext, item_id: str) -> list[Problem]:
    """Problems with the ``ecosystem`` column for the classes present (missing column or rows, bad names)."""
    table = ctx.classes
    present = present_classes(ctx)
    if "ecosystem" not in table.columns:
        return [
            error(
                "column_missing",
                source=CLASS_TABLE,
                field="ecosystem",
                column="ecosystem",
                expected="ecosystem",
            )
        ]
    missing_rows = [c for c in sorted(present) if c not in {int(i) for i in table.index}]
    if missing_rows:
        return [
            error(
                "svc_class_missing",
                source=CLASS_TABLE,
                field="class",
                codes=_listed(missing_rows),
                pixels=sum(present[c] for c in missing_rows),
                item=item_id,
                columns="ecosystem",
            )
        ]
    names = table.loc[sorted(present), "ecosystem"]
    bad = names[~names.isin(ECOSYSTEMS)]
    if not len(bad):
        return []
    return [
        error(
            "svc_class_ecosystem_invalid",
            source=CLASS_TABLE,
            field="ecosystem",
            codes=_listed([int(c) for c in bad.index]),
            values=_listed([repr(v) for v in bad]),
            expected=", ".join(ECOSYSTEMS),
        )
    ]


def check_table_columns(table: pd.DataFrame, name: str, columns: Sequence[str]) -> list[Problem]:
    """A problem for each column of ``columns`` missing from ``table`` (named ``name``)."""
    return [
        error("column_missing", source=name, field=column, column=column, expected=", ".join(columns))
        for column in columns
        if column not in table.columns
    ]


def check_option(ctx: ServiceContext, option: str, allowed: Sequence[str]) -> list[Problem]:
    """A problem if profile option ``option`` is set to a value outside ``allowed``."""
    value = ctx.options.get(option, allowed[0])
    if value in allowed:
        return []
    return [
        error(
            "svc_option_invalid",
            source="profile",
            field=option,
            option=option,
            value=value,
            expected=", ".join(allowed),
        )
    ]


def raise_problems(problems: Sequence[Problem]) -> None:
    """Raise :class:`GepInputError` with ``problems`` if there are any."""
    if problems:
        raise GepInputError(problems)


def region_code_text(value: object) -> str:
    """A region code read from a table as text: integers (also 331102.0) without a decimal part."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.integer | int):
        return str(int(value))
    return str(value).strip()


def nodata_note(ctx: ServiceContext, valid: np.ndarray, what: str) -> list[str]:
    """A note counting the pixels inside the account left NaN because an input has no data there."""
    missing = int(np.count_nonzero(np.asarray(ctx.inside, dtype=bool) & ~valid))
    return [f"{missing} pixels inside the account lack {what}; left NaN (not counted)"] if missing else []


def operating_cost_per_m3(ctx: ServiceContext) -> tuple[float, tuple[str, ...], list[str]]:
    """Reservoir cost per m³ (yuan): ``reservoir_cost``, plus ``reservoir_operating_cost`` when the profile
    option ``include_reservoir_operating_cost`` is true. Returns (price, parameters used, notes)."""
    price = ctx.params.value("reservoir_cost")
    if not ctx.options.get("include_reservoir_operating_cost", False):
        return price, ("reservoir_cost",), []
    operating = ctx.params.value("reservoir_operating_cost")
    notes = [
        f"reservoir operating cost {operating:g} yuan/m3 added to the construction cost {price:g} yuan/m3"
    ]
    if operating == 0:
        notes.append("include_reservoir_operating_cost is set but reservoir_operating_cost is 0")
    return price + operating, ("reservoir_cost", "reservoir_operating_cost"), notes


# --------------------------------------------------------------------------------------------------
# Pollutant loads and the capacity-versus-load rule
# --------------------------------------------------------------------------------------------------


def normalise_pollutant(name: object) -> str:
    """``"NH3-N"`` -> ``"nh3n"``, ``" COD "`` -> ``"cod"``: lower case without spaces, '-' or '_'."""
    text = str(name).strip().lower()
    for char in (" ", "-", "_"):
        text = text.replace(char, "")
    return text


def read_loads(
    ctx: ServiceContext, pollutants: Sequence[str]
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Emitted loads (t/a) by pollutant and region code from ``ctx.tables["pollutant_loads"]``.

    Only rows of ``pollutants`` are kept; rows naming a pollutant outside :data:`POLLUTANTS`, a region code
    not in the account, a load that is not a number or negative, and loads given for overlapping regions
    (a region and one inside it) raise :class:`GepInputError`. Several rows for the same region and
    pollutant are summed (with a note).
    """
    loads: dict[str, dict[str, float]] = {p: {} for p in pollutants}
    table = ctx.tables.get(LOADS_TABLE)
    if table is None:
        return loads, [f"no {LOADS_TABLE} table"]
    raise_problems(check_table_columns(table, LOADS_TABLE, LOAD_COLUMNS))
    problems: list[Problem] = []
    notes: list[str] = []
    known = sorted(ctx.region_units)
    for row, (code_raw, pollutant_raw, load_raw) in enumerate(
        zip(table["region_code"], table["pollutant"], table["load_t"], strict=True), start=1
    ):
        pollutant = normalise_pollutant(pollutant_raw)
        if pollutant not in POLLUTANTS:
            problems.append(
                error(
                    "svc_pollutant_unknown",
                    source=LOADS_TABLE,
                    field="pollutant",
                    value=pollutant_raw,
                    row=row,
                    expected=", ".join(POLLUTANTS),
                )
            )
            continue
        if pollutant not in loads:
            continue
        code = region_code_text(code_raw)
        if code not in ctx.region_units:
            problems.append(
                error(
                    "svc_region_unknown",
                    source=LOADS_TABLE,
                    field="region_code",
                    region=code,
                    row=row,
                    expected=_listed(known),
                )
            )
        load = pd.to_numeric(pd.Series([load_raw]), errors="coerce").iloc[0]
        if pd.isna(load):
            problems.append(
                error("value_not_number", source=LOADS_TABLE, field="load_t", value=load_raw, row=row)
            )
            continue
        if load < 0:
            problems.append(
                error(
                    "svc_value_negative",
                    source=LOADS_TABLE,
                    field="load_t",
                    value=float(load),
                    row=row,
                    expected=">= 0 t/a",
                )
            )
            continue
        if code in loads[pollutant]:
            notes.append(f"{pollutant}: several rows for region {code}, loads summed")
        loads[pollutant][code] = loads[pollutant].get(code, 0.0) + float(load)
    for pollutant, by_region in loads.items():
        codes = [c for c in by_region if c in ctx.region_units]
        for outer in codes:
            outer_units = set(ctx.region_units[outer])
            for inner in codes:
                if inner != outer and set(ctx.region_units[inner]) <= outer_units:
                    problems.append(
                        error(
                            "svc_load_regions_overlap",
                            source=LOADS_TABLE,
                            field="region_code",
                            pollutant=pollutant,
                            outer=outer,
                            inner=inner,
                        )
                    )
    raise_problems(problems)
    return loads, notes


def allocate(
    ctx: ServiceContext, capacity: np.ndarray, loads: Mapping[str, float], basis: str, pollutant: str
) -> tuple[np.ndarray, list[dict[str, object]], list[str]]:
    """Apply the capacity-versus-load rule region by region and map the result onto pixels.

    Args:
        ctx: the service context (regions, ``inside``).
        capacity: purification capacity per pixel (t/a), NaN where there is no data.
        loads: region code -> emitted load (t/a) for this pollutant; regions must not overlap.
        basis: ``min_capacity_load`` (purified = min(capacity, load)), ``capacity`` or ``load``.
        pollutant: its name, for the notes.

    Returns:
        (purified t/a per pixel, one summary row per region, notes). Pixels inside the account that belong
        to no region of ``loads`` keep their capacity (no load known), with a note naming their regions.
        The purified amount of a region is spread over its pixels in proportion to capacity (evenly over its
        pixels with data when its capacity is 0 and the basis is ``load``).
    """
    inside = np.asarray(ctx.inside, dtype=bool)
    valid = inside & np.isfinite(capacity)
    filled = np.where(valid, capacity, 0.0)
    out = filled.copy()
    covered = np.zeros(inside.shape, dtype=bool)
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for code, load in loads.items():
        mask = ctx.region_mask(code) & inside
        covered |= mask
        cap_total = float(filled[mask].sum())
        if basis == "capacity":
            purified = cap_total
        elif basis == "load":
            purified = load
        else:
            purified = min(cap_total, load)
        if cap_total > 0:
            out[mask] = filled[mask] * (purified / cap_total)
        else:
            spread = mask & valid
            out[mask] = 0.0
            if purified > 0 and spread.any():
                out[spread] = purified / np.count_nonzero(spread)
                notes.append(
                    f"{pollutant}: region {code} has no capacity; its load is spread evenly over its pixels"
                )
            elif purified > 0:
                notes.append(f"{pollutant}: region {code} has no pixels with data; {purified:g} t not mapped")
        rows.append(
            {
                "region_code": code,
                "pollutant": pollutant,
                "capacity_t": cap_total,
                "load_t": load,
                "purified_t": purified,
                "basis": basis,
            }
        )
    uncovered = inside & ~covered
    if uncovered.any():
        units = np.unique(np.asarray(ctx.unit_index)[uncovered])
        names = [ctx.unit_codes[int(u)] for u in units if u >= 0]
        notes.append(
            f"{pollutant}: no load given for regions {_listed(names)}; capacity used "
            f"({float(filled[uncovered].sum()):g} t)"
        )
    out[~valid] = np.nan
    return out, rows, notes


def compute_purification(
    ctx: ServiceContext, declaration: ServiceDeclaration, pollutants: Sequence[str]
) -> ServiceResult:
    """Purified amount (t/a per pixel) and value (yuan) of each pollutant, summed into one item.

    Capacity per pixel = class column ``<pollutant>_capacity`` (t/(hm²·a)) × pixel area (hm²). Each
    pollutant is valued at parameter ``<pollutant>_treatment_cost`` (yuan/t). ``extra["regions"]`` is a
    DataFrame with one row per region and pollutant: capacity_t, load_t, purified_t, basis.
    """
    item = declaration.item_id
    problems = check_layers(ctx, ["landcover"], item) + check_option(ctx, "purification_basis", BASES)
    raise_problems(problems)
    raise_problems(check_class_columns(ctx, item, {f"{p}_capacity": (0.0, np.inf) for p in pollutants}))
    basis = str(ctx.options.get("purification_basis", BASES[0]))
    loads, notes = read_loads(ctx, pollutants)
    area_hm2 = ctx.pixel_area_m2 / M2_PER_HA
    inside = np.asarray(ctx.inside, dtype=bool)
    components: list[Component] = []
    rows: list[dict[str, object]] = []
    physical = np.zeros(inside.shape)
    value = np.zeros(inside.shape)
    for pollutant in pollutants:
        capacity = ctx.class_values(f"{pollutant}_capacity") * area_hm2
        purified, region_rows, region_notes = allocate(ctx, capacity, loads[pollutant], basis, pollutant)
        price_name = f"{pollutant}_treatment_cost"
        worth = purified * ctx.params.value(price_name)
        components.append(Component(pollutant, "t", purified, worth, price_name))
        physical = physical + purified
        value = value + worth
        rows.extend(region_rows)
        notes.extend(region_notes)
    valid = inside & (landcover_codes(ctx) >= 0)
    notes.extend(nodata_note(ctx, valid, "a land-cover class"))
    notes.append(f"basis {basis}; min(capacity, load) per region is the MEE guide rule as recalled [U]")
    columns = ["region_code", "pollutant", "capacity_t", "load_t", "purified_t", "basis"]
    return ServiceResult(
        item_id=item,
        unit="t",
        physical=physical,
        value_yuan=value,
        components=tuple(components),
        parameters_used=tuple(f"{p}_treatment_cost" for p in pollutants),
        notes=tuple(notes),
        extra={"regions": pd.DataFrame(rows, columns=columns)},
    )
