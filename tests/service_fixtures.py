"""Build a small :class:`ServiceContext` from numpy arrays, for service tests.

Usage::

    ctx = make_context({"landcover": [[1, 2]], "precipitation": [[1500.0, 1500.0]]}, classes)

The grid is north-up with square pixels of side sqrt(pixel_area_m2) and its top-left corner at
x = 0, y = rows × side (so pixel (row, col) has its centre at x = (col + 0.5) × side,
y = (rows − row − 0.5) × side); CRS EPSG:4549.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from affine import Affine

from gep.parameters import ParameterSet, default_parameters
from gep.services.base import ServiceContext


def make_context(
    layers: dict,
    classes: pd.DataFrame,
    tables: dict | None = None,
    params: ParameterSet | None = None,
    pixel_area_m2: float = 100.0 * 100.0,
    unit_index: np.ndarray | None = None,
    unit_codes: Sequence[str] = ("R1",),
    region_units: Mapping[str, Sequence[int]] | None = None,
    variant: str | None = None,
    options: Mapping[str, object] | None = None,
) -> ServiceContext:
    """A ServiceContext for a tiny grid.

    Args:
        layers: layer name -> 2-D array-like, all of one shape. ``landcover`` becomes int64 (-1 = nodata),
            the others float64 (NaN = nodata).
        classes: the class table, either indexed by class code or with a ``class`` column (made the index).
        tables: other tables by name (``reservoirs``, ``pollutant_loads``...); None = none.
        params: parameters; None = ``gep.parameters.default_parameters()`` (all shipped defaults).
        pixel_area_m2: area of one pixel in m² (default 1 hm², a 100 m × 100 m pixel).
        unit_index: index into ``unit_codes`` per pixel, -1 outside every region; None = every pixel in
            unit 0. ``inside`` is ``unit_index >= 0``.
        unit_codes: region codes, one per unit index.
        region_units: region code -> unit indices of the region and its descendants; None = each code
            owns only its own index (flat regions).
        variant: formula variant; options: profile switches.
    """
    arrays: dict[str, np.ndarray] = {}
    for name, data in layers.items():
        if name == "landcover":
            arrays[name] = np.asarray(data, dtype=np.int64)
        else:
            arrays[name] = np.asarray(data, dtype=np.float64)
    shape = next(iter(arrays.values())).shape
    if any(a.shape != shape for a in arrays.values()):
        raise ValueError(f"layers differ in shape: { {n: a.shape for n, a in arrays.items()} }")
    table = classes.set_index("class") if "class" in classes.columns else classes
    table.index = table.index.astype(np.int64)
    units = np.zeros(shape, dtype=np.int32) if unit_index is None else np.asarray(unit_index, dtype=np.int32)
    codes = tuple(str(c) for c in unit_codes)
    regions = (
        {code: (i,) for i, code in enumerate(codes)}
        if region_units is None
        else {str(k): tuple(int(i) for i in v) for k, v in region_units.items()}
    )
    side = math.sqrt(pixel_area_m2)
    return ServiceContext(
        layers=arrays,
        classes=table,
        tables=dict(tables or {}),
        params=default_parameters() if params is None else params,
        pixel_area_m2=float(pixel_area_m2),
        inside=units >= 0,
        unit_index=units,
        unit_codes=codes,
        region_units=regions,
        transform=Affine(side, 0.0, 0.0, 0.0, -side, shape[0] * side),
        crs="EPSG:4549",
        variant=variant,
        options=dict(options or {}),
    )
