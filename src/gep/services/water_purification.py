"""Water purification (水质净化): COD, NH3-N and TP removed by ecosystems, valued at treatment cost.

Physical quantity (gep-methods §8): per pollutant, purified (t/a) = min(capacity, emitted load) in each
region of the ``pollutant_loads`` table, capacity = class purification rate (t/(hm²·a)) × area. The
min rule is the MEE guide's as recalled, tagged [U]. Value = Σ purified × treatment cost (yuan/t; Ganzi
2010 prices [V], from the 2003 discharge fee per pollutant equivalent, §17).
"""

from __future__ import annotations

from gep.services.base import LayerInput, ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.pollutant_caps import LOAD_COLUMNS, LOADS_TABLE, WATER_POLLUTANTS, compute_purification

DECLARATION = ServiceDeclaration(
    item_id="water_purification",
    unit="t",
    layers=(LayerInput("landcover"),),
    class_columns=tuple(f"{p}_capacity" for p in WATER_POLLUTANTS),
    tables=(TableInput(LOADS_TABLE, LOAD_COLUMNS, required=False),),
    parameters=tuple(f"{p}_treatment_cost" for p in WATER_POLLUTANTS),
    components=tuple((p, "t") for p in WATER_POLLUTANTS),
    whole_grid=True,
    valuation="prevention_cost",
    formula=(
        "Q_i = min(Σ_region capacity_i × A, load_i) per region [U: MEE rule, unverified], spread over pixels "
        "by capacity; V = Σ_i Q_i × c_i (i = COD, NH3-N, TP)"
    ),
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Purified COD, NH3-N and TP per pixel (t/a; main quantity = their sum) and value (yuan)."""
    return compute_purification(ctx, DECLARATION, WATER_POLLUTANTS)
