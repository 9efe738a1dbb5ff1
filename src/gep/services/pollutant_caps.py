"""Capacity-versus-load rule of the purification services (water and air purification).

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

from gep.problems import Problem, error
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.checks import (
    NON_NEGATIVE,
    check_class_columns,
    check_option,
    check_region_code,
    check_table_columns,
    landcover_nodata,
    listed,
    nodata_note,
    raise_problems,
    read_number,
    region_code_text,
    require_layers,
)
from gep.services.kernels import EVEN, KEEP, SCALED, ZERO, fill_capped, unit_sums
from gep.units import M2_PER_HA

WATER_POLLUTANTS: tuple[str, ...] = ("cod", "nh3n", "tp")
AIR_POLLUTANTS: tuple[str, ...] = ("so2", "nox", "dust")
POLLUTANTS: tuple[str, ...] = WATER_POLLUTANTS + AIR_POLLUTANTS
"""Pollutant names allowed in the ``pollutant_loads`` table."""

LOADS_TABLE = "pollutant_loads"
LOAD_COLUMNS: tuple[str, ...] = ("region_code", "pollutant", "load_t")

BASES: tuple[str, ...] = ("min_capacity_load", "capacity", "load")
"""Values of the profile option ``purification_basis``; the first is the default."""


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
        problems += check_region_code(ctx, LOADS_TABLE, code, row)
        load, problem = read_number(load_raw, LOADS_TABLE, "load_t", row, non_negative=True, unit="t/a")
        if problem is not None:
            problems.append(problem)
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
    unit_index = np.asarray(ctx.unit_index)
    n_units = len(ctx.unit_codes)
    sums = unit_sums(unit_index, inside, capacity, n_units)  # capacity and pixels per unit, one pass
    mode = np.full(n_units + 1, KEEP, dtype=np.int8)  # last entry: pixels of no unit
    factor = np.zeros(n_units + 1)
    covered = np.zeros(n_units + 1, dtype=bool)
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for code, load in loads.items():
        units = np.asarray(sorted(set(ctx.region_units[code])), dtype=np.int64)
        covered[units] = True
        cap_total = float(sums.total[units].sum())
        if basis == "capacity":
            purified = cap_total
        elif basis == "load":
            purified = load
        else:
            purified = min(cap_total, load)
        if cap_total > 0:
            mode[units], factor[units] = SCALED, purified / cap_total
        else:
            mode[units] = ZERO
            spread = int(sums.valid[units].sum())
            if purified > 0 and spread:
                mode[units], factor[units] = EVEN, purified / spread
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
    uncovered = np.flatnonzero(~covered & (sums.inside > 0))
    if uncovered.size:
        names = [ctx.unit_codes[int(u)] for u in uncovered if u < n_units]
        notes.append(
            f"{pollutant}: no load given for regions {listed(names)}; capacity used "
            f"({float(sums.total[uncovered].sum()):g} t)"
        )
    out = fill_capped(unit_index, inside, capacity, mode, factor)
    return out, rows, notes


def purification_declaration(item_id: str, pollutants: Sequence[str], labels: str) -> ServiceDeclaration:
    """The declaration of a purification item removing ``pollutants`` (``labels``: their names for the
    formula, e.g. "COD, NH3-N, TP"): one ``<p>_capacity`` class column, ``<p>_treatment_cost`` parameter
    and component in t per pollutant, the optional ``pollutant_loads`` table."""
    return ServiceDeclaration(
        item_id=item_id,
        unit="t",
        layers=(LayerInput("landcover"),),
        class_columns=tuple(f"{p}_capacity" for p in pollutants),
        tables=(TableInput(LOADS_TABLE, LOAD_COLUMNS, required=False),),
        parameters=tuple(f"{p}_treatment_cost" for p in pollutants),
        components=tuple((p, "t") for p in pollutants),
        whole_grid=True,
        valuation="prevention_cost",
        formula=(
            "Q_i = min(Σ_region capacity_i × A, load_i) per region [U: MEE rule, unverified], spread over pixels "
            f"by capacity; V = Σ_i Q_i × c_i (i = {labels})"
        ),
    )


def compute_purification(
    ctx: ServiceContext, declaration: ServiceDeclaration, pollutants: Sequence[str]
) -> ServiceResult:
    """Purified amount (t/a per pixel) and value (yuan) of each pollutant, summed into one item.

    Capacity per pixel = class column ``<pollutant>_capacity`` (t/(hm²·a)) × pixel area (hm²). Each
    pollutant is valued at parameter ``<pollutant>_treatment_cost`` (yuan/t). ``extra["regions"]`` is a
    DataFrame with one row per region and pollutant: capacity_t, load_t, purified_t, basis.
    """
    item = declaration.item_id
    problems = require_layers(ctx, item, ["landcover"]) + check_option(ctx, item, "purification_basis", BASES)
    raise_problems(problems)
    raise_problems(check_class_columns(ctx, item, {f"{p}_capacity": NON_NEGATIVE for p in pollutants}))
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
        physical += purified
        value += worth
        rows.extend(region_rows)
        notes.extend(region_notes)
    valid = inside & ~landcover_nodata(ctx)
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
