"""Recreation and tourism (休闲旅游 / 景观游憩), travel cost method or tourism revenue.

Travel cost (gep-methods §15, Ganzi 2017 §2.5 [V]; exact form [U]):

    V = Σ_j N_j × (T_j × W_j + C_j)          yuan/a

N_j visits from origin zone j, T_j travel and visit time (days), W_j value of time (yuan/day), C_j the
spending per visit (transport, food and lodging, tickets). With the optional ``visitors`` table (one row
per destination region and origin zone: ``region_code``, ``origin_zone``, ``visits``,
``travel_cost_yuan`` per visit, ``days`` per visit, ``time_value_yuan_per_day``, optional
``onsite_spending_yuan`` per visit) C_j = travel_cost_yuan + onsite_spending_yuan and the rows are summed
per region. Without it one zone is assumed: N = ``tourism_visits`` of the statistics table and T, W, C
are the parameters ``visit_days``, ``time_value_per_day`` and ``travel_cost_per_visit`` (all [U]).

Tourism revenue (simplified Zhejiang county practice [U]): V = ``tourism_revenue_yuan``.

Tourism revenue and travel cost measure overlapping spending; a profile counts one of them, never both.
The method is the variant if the profile sets one, else the option ``recreation_method``
(``travel_cost`` by default). The physical quantity is visits. Region figures are allocated to natural
scenery pixels (forest, water, wetland, grassland) by the rule of :mod:`gep.services.material`.
"""

from __future__ import annotations

import numpy as np

from gep.problems import error
from gep.services.base import Component, ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.checks import unknown_choice
from gep.services.material import (
    STATISTICS,
    allocate_totals,
    check_landcover,
    check_option,
    ecosystem_weights,
    merged_regions,
    raise_problems,
    read_rows,
    select_year,
    statistics_figures,
    unique_notes,
)

METHODS: tuple[str, ...] = ("travel_cost", "tourism_revenue")
VISITORS = "visitors"
VISITOR_COLUMNS: tuple[str, ...] = ("visits", "travel_cost_yuan", "days", "time_value_yuan_per_day")
PARAMETERS: tuple[str, ...] = ("travel_cost_per_visit", "visit_days", "time_value_per_day")

DECLARATION = ServiceDeclaration(
    item_id="recreation",
    unit="visits",
    tables=(
        TableInput(STATISTICS, ("region_code", "year", "tourism_visits", "tourism_revenue_yuan")),
        TableInput(VISITORS, ("region_code", "origin_zone", *VISITOR_COLUMNS, "onsite_spending_yuan"), required=False),
    ),
    class_columns=("ecosystem",),
    parameters=PARAMETERS,
    components=(("expenditure", "visits"), ("time_cost", "visit_days")),
    variants=METHODS,
    whole_grid=True,
    valuation="travel_cost",
    formula=(
        "travel_cost: V = Σ_j N_j × (T_j × W_j + C_j) (visitors table, or N = tourism_visits with "
        "travel_cost_per_visit, visit_days, time_value_per_day [U]); tourism_revenue: V = tourism_revenue_yuan; "
        "the two overlap, count one; physical = visits; allocated to forest + water + wetland + grassland pixels"
    ),
)

ITEM = DECLARATION.item_id


def method(ctx: ServiceContext) -> str:
    """The valuation method: the profile's variant, else the option ``recreation_method``."""
    if ctx.variant:
        if ctx.variant not in METHODS:
            raise_problems([unknown_choice(ITEM, "variant", ctx.variant, METHODS)])
        return ctx.variant
    raise_problems(check_option(ctx, ITEM, "recreation_method", METHODS))
    return str(ctx.options.get("recreation_method", METHODS[0]))


def compute(ctx: ServiceContext) -> ServiceResult:
    """Visits per pixel and their recreation value (yuan)."""
    raise_problems(check_landcover(ctx, ITEM))
    chosen = method(ctx)
    weights, described, weight_notes = ecosystem_weights(ctx, ITEM)
    notes = [f"method {chosen}; allocated to {described} pixels (natural scenery)"]
    if chosen == "tourism_revenue":
        return _tourism_revenue(ctx, weights, notes + weight_notes)
    if VISITORS in ctx.tables:
        return _travel_cost_survey(ctx, weights, notes + weight_notes)
    return _travel_cost_statistics(ctx, weights, notes + weight_notes)


def _tourism_revenue(ctx: ServiceContext, weights: np.ndarray, notes: list[str]) -> ServiceResult:
    figures, table_notes = statistics_figures(ctx, ITEM, ["tourism_visits", "tourism_revenue_yuan"])
    visits = allocate_totals(ctx, figures["tourism_visits"], weights, "tourism_visits")
    revenue = allocate_totals(ctx, figures["tourism_revenue_yuan"], weights, "tourism_revenue_yuan")
    return ServiceResult(
        item_id=ITEM,
        unit="visits",
        physical=visits.values,
        value_yuan=revenue.values,
        parameters_used=(),
        notes=unique_notes(notes, table_notes, visits.notes, revenue.notes),
        extra={"allocated_regions": list(merged_regions([visits, revenue])), "variant": "tourism_revenue"},
    )


def _travel_cost_statistics(ctx: ServiceContext, weights: np.ndarray, notes: list[str]) -> ServiceResult:
    figures, table_notes = statistics_figures(ctx, ITEM, ["tourism_visits"])
    visits = allocate_totals(ctx, figures["tourism_visits"], weights, "tourism_visits")
    spending = ctx.params.value("travel_cost_per_visit")
    days = ctx.params.value("visit_days")
    time_value = ctx.params.value("time_value_per_day")
    components = (
        Component("expenditure", "visits", visits.values, visits.values * spending, "travel_cost_per_visit"),
        Component("time_cost", "visit_days", visits.values * days, visits.values * days * time_value),
    )
    notes.append(
        f"travel cost per visit = {spending:g} + {days:g} d × {time_value:g} yuan/d = "
        f"{spending + days * time_value:g} yuan (parameters; no visitors table)"
    )
    return ServiceResult(
        item_id=ITEM,
        unit="visits",
        physical=visits.values,
        value_yuan=components[0].value_yuan + components[1].value_yuan,
        components=components,
        parameters_used=PARAMETERS,
        notes=unique_notes(notes, table_notes, visits.notes),
        extra={"allocated_regions": list(visits.allocated_regions), "variant": "travel_cost"},
    )


def _travel_cost_survey(ctx: ServiceContext, weights: np.ndarray, notes: list[str]) -> ServiceResult:
    rows = read_rows(ctx, VISITORS, ITEM, VISITOR_COLUMNS, optional=("onsite_spending_yuan",))
    rows, year_notes = select_year(ctx, VISITORS, rows)
    raise_problems(
        [
            error("mat_value_missing", source=VISITORS, field=column, row=int(row), item=ITEM)
            for column in VISITOR_COLUMNS
            for row in rows.loc[rows[column].isna(), "row"]
        ]
    )
    n = rows["visits"]
    per_row = {
        "visits": n,
        "visit_days": n * rows["days"],
        "time_yuan": n * rows["days"] * rows["time_value_yuan_per_day"],
        "expenditure_yuan": n * (rows["travel_cost_yuan"] + rows["onsite_spending_yuan"].fillna(0.0)),
    }
    allocations = {}
    for name, series in per_row.items():
        totals = series.groupby(rows["region_code"]).sum()
        allocations[name] = allocate_totals(ctx, {str(c): float(v) for c, v in totals.items()}, weights, name)
    a = allocations
    components = (
        Component("expenditure", "visits", a["visits"].values, a["expenditure_yuan"].values),
        Component("time_cost", "visit_days", a["visit_days"].values, a["time_yuan"].values),
    )
    notes.append(f"travel cost from the {VISITORS} table ({len(rows)} rows, summed per region)")
    return ServiceResult(
        item_id=ITEM,
        unit="visits",
        physical=a["visits"].values,
        value_yuan=components[0].value_yuan + components[1].value_yuan,
        components=components,
        parameters_used=(),
        notes=unique_notes(notes, year_notes, a["visits"].notes, a["expenditure_yuan"].notes),
        extra={"allocated_regions": list(merged_regions(list(a.values()))), "variant": "travel_cost"},
    )
