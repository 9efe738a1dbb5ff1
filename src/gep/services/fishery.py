"""Fishery products (渔业产品): the statistical output value of the sector, market value method.

Value (gep-methods §3, Ganzi 2017 table 3 [V]): V = ``fishery_yuan`` of the ``statistics`` table, in yuan. The
profile option ``material_basis`` says whether the column holds gross output, value added or net output
(Ganzi used net output, 净产值); it is recorded in a note, the figure is used as given. The physical
quantity is the same figure in yuan (the catalogue unit of this item is ``yuan``).

Each region's figure is allocated to its water and wetland pixels (class table column ``ecosystem``) in
proportion to their count; see :mod:`gep.services.material` for the rule (leaf-level rows win, parent
rows fill regions without data; ``result.extra["allocated_regions"]`` lists the regions filled).
"""

from __future__ import annotations

from gep.services.base import ServiceContext, ServiceResult
from gep.services.material import compute_sector, sector_declaration

DECLARATION = sector_declaration("fishery", "fishery_yuan", "渔业")


def compute(ctx: ServiceContext) -> ServiceResult:
    """Fishery products per pixel: output value (yuan) as physical quantity and value."""
    return compute_sector(ctx, DECLARATION)
