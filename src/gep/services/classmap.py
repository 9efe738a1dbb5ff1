"""Map integer class codes to per-class values."""

from __future__ import annotations

import numpy as np
import pandas as pd


def map_classes(codes: np.ndarray, values: pd.Series, nodata: float = np.nan) -> np.ndarray:
    """Return a float64 array with ``values[code]`` at each pixel and ``nodata`` where the code is
    negative (nodata) or absent from ``values``' index.

    Uses a lookup table indexed by code, so it is one vectorised gather, not a loop over classes.
    """
    codes = np.asarray(codes)
    out = np.full(codes.shape, nodata, dtype=np.float64)
    if len(values) == 0:
        return out
    index = np.asarray(values.index, dtype=np.int64)
    if index.min() < 0:
        raise ValueError("class codes must be non-negative integers")
    lut = np.full(int(index.max()) + 1, np.nan, dtype=np.float64)
    lut[index] = np.asarray(values, dtype=np.float64)
    valid = (codes >= 0) & (codes < lut.size)
    out[valid] = lut[codes[valid].astype(np.int64)]
    out[np.isnan(out)] = nodata
    return out
