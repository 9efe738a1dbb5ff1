"""Air purification (大气净化): SO2, NOx and dust removed by ecosystems, valued at treatment cost.

Physical quantity (gep-methods §9): per pollutant, purified (t/a) = min(capacity, emitted load) in each
region of the ``pollutant_loads`` table, capacity = class purification rate (t/(hm²·a)) × area. The
min rule is the one described for water purification (§8), tagged [U]. Value = Σ purified × treatment
cost (yuan/t; Ganzi 2010 prices [V], §17).
"""

from __future__ import annotations

from gep.services.base import LayerInput, ServiceContext, ServiceDeclaration, ServiceResult, TableInput
from gep.services.pollutant_caps import AIR_POLLUTANTS, LOAD_COLUMNS, LOADS_TABLE, compute_purification

DECLARATION = ServiceDeclaration(
    item_id="air_purification",
    unit="t",
    layers=(LayerInput("landcover"),),
    class_columns=tuple(f"{p}_capacity" for p in AIR_POLLUTANTS),
    tables=(TableInput(LOADS_TABLE, LOAD_COLUMNS, required=False),),
    parameters=tuple(f"{p}_treatment_cost" for p in AIR_POLLUTANTS),
    components=tuple((p, "t") for p in AIR_POLLUTANTS),
    whole_grid=True,
    valuation="prevention_cost",
    formula=(
        "Q_i = min(Σ_region capacity_i × A, load_i) per region [U: MEE rule, unverified], spread over pixels "
        "by capacity; V = Σ_i Q_i × c_i (i = SO2, NOx, dust)"
    ),
)


def compute(ctx: ServiceContext) -> ServiceResult:
    """Purified SO2, NOx and dust per pixel (t/a; main quantity = their sum) and value (yuan)."""
    return compute_purification(ctx, DECLARATION, AIR_POLLUTANTS)
