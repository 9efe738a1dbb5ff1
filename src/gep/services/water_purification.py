"""Water purification (水质净化): COD, NH3-N and TP removed by ecosystems, valued at treatment cost.

Physical quantity (gep-methods §8): per pollutant, purified (t/a) = min(capacity, emitted load) in each
region of the ``pollutant_loads`` table, capacity = class purification rate (t/(hm²·a)) × area. The
min rule is the MEE guide's as recalled, tagged [U]. Value = Σ purified × treatment cost (yuan/t; Ganzi
2010 prices [V], from the 2003 discharge fee per pollutant equivalent, §17).
"""

from __future__ import annotations

from gep.services.base import ServiceContext, ServiceResult
from gep.services.pollutant_caps import WATER_POLLUTANTS, compute_purification, purification_declaration

DECLARATION = purification_declaration("water_purification", WATER_POLLUTANTS, "COD, NH3-N, TP")


def compute(ctx: ServiceContext) -> ServiceResult:
    """Purified COD, NH3-N and TP per pixel (t/a; main quantity = their sum) and value (yuan)."""
    return compute_purification(ctx, DECLARATION, WATER_POLLUTANTS)
