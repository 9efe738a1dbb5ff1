"""Air purification (大气净化): SO2, NOx and dust removed by ecosystems, valued at treatment cost.

Physical quantity (gep-methods §9): per pollutant, purified (t/a) = min(capacity, emitted load) in each
region of the ``pollutant_loads`` table, capacity = class purification rate (t/(hm²·a)) × area. The
min rule is the one described for water purification (§8), tagged [U]. Value = Σ purified × treatment
cost (yuan/t; Ganzi 2010 prices [V], §17).
"""

from __future__ import annotations

from gep.services.base import ServiceContext, ServiceResult
from gep.services.pollutant_caps import AIR_POLLUTANTS, compute_purification, purification_declaration

DECLARATION = purification_declaration("air_purification", AIR_POLLUTANTS, "SO2, NOx, dust")


def compute(ctx: ServiceContext) -> ServiceResult:
    """Purified SO2, NOx and dust per pixel (t/a; main quantity = their sum) and value (yuan)."""
    return compute_purification(ctx, DECLARATION, AIR_POLLUTANTS)
