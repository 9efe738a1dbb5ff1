"""Map integer class codes to per-class values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gep.services.kernels import gather_classes


def class_lut(values: pd.Series) -> np.ndarray:
    """A float64 lookup table indexed by class code: ``values[code]`` at each code of ``values``' index,
    NaN elsewhere (a table of one NaN when ``values`` is empty)."""
    if len(values) == 0:
        return np.full(1, np.nan)
    index = np.asarray(values.index, dtype=np.int64)
    if index.min() < 0:
        raise ValueError("class codes must be non-negative integers")
    lut = np.full(int(index.max()) + 1, np.nan, dtype=np.float64)
    lut[index] = np.asarray(values, dtype=np.float64)
    return lut


def map_classes(codes: np.ndarray, values: pd.Series, nodata: float = np.nan) -> np.ndarray:
    """Return a float64 array with ``values[code]`` at each pixel and ``nodata`` where the code is
    negative (nodata), NaN, absent from ``values``' index, or its value is NaN.

    Uses a lookup table indexed by code, gathered in one pass (float codes are truncated to integers).
    """
    return gather_classes(codes, class_lut(values), nodata)
