"""Shared helpers for the InVEST-compatibility tests: tiny rasters and comparisons with references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from affine import Affine

FIXTURES = Path(__file__).parent / "fixtures" / "invest"
REFERENCE = FIXTURES / "reference"
ROUTED_FIXTURES = FIXTURES / "sdr_ndr"
CRS = "EPSG:4549"


def write_raster(path: Path, array, nodata, dtype: str, pixel: float = 100.0, origin=(500_000.0, 3_000_000.0)):
    array = np.asarray(array)
    profile = {
        "driver": "GTiff", "width": array.shape[1], "height": array.shape[0], "count": 1, "dtype": dtype,
        "crs": CRS, "transform": Affine(pixel, 0, origin[0], 0, -pixel, origin[1]), "nodata": nodata,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype(dtype), 1)
    return path


def read(path: Path) -> tuple[np.ndarray, float | None, Affine]:
    with rasterio.open(path) as src:
        return src.read(1), src.nodata, src.transform


def assert_raster_matches(ours: Path, reference: Path, rtol: float) -> float:
    """Same grid, same nodata mask, values within ``rtol`` relative; returns the largest relative error."""
    a, nd_a, t_a = read(ours)
    b, nd_b, t_b = read(reference)
    assert a.shape == b.shape and t_a.almost_equals(t_b)
    assert nd_a == nd_b
    mask_a = np.isclose(a, nd_a)
    mask_b = np.isclose(b, nd_b)
    assert np.array_equal(mask_a, mask_b), f"{ours.name}: nodata masks differ at {np.argwhere(mask_a != mask_b)[:5]}"
    valid = ~mask_b
    assert valid.sum() > 0
    rel = np.abs(a[valid].astype(float) - b[valid]) / np.maximum(np.abs(b[valid].astype(float)), 1e-9)
    assert rel.max() <= rtol, f"{ours.name}: max relative difference {rel.max():.3g} > {rtol}"
    return float(rel.max())


def assert_table_matches(ours: Path, reference: Path, rtol: float) -> None:
    """Same columns in the same order, numeric cells within ``rtol`` (empty cells in the same places)."""
    a = pd.read_csv(ours)
    b = pd.read_csv(reference)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in b.columns:
        if pd.api.types.is_numeric_dtype(b[column]):
            x, y = a[column].to_numpy(float), b[column].to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), column
            ok = ~np.isnan(y)
            assert np.allclose(x[ok], y[ok], rtol=rtol, atol=1e-9), (column, x, y)
        else:
            assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column


def routed_args(case: str) -> dict:
    """The ``args`` of an SDR/NDR fixture datastack, with file names made absolute."""
    data = json.loads((ROUTED_FIXTURES / "inputs" / f"{case}.json").read_text())
    args = dict(data["args"])
    for key, value in args.items():
        if isinstance(value, str) and value.endswith((".tif", ".gpkg", ".csv")):
            args[key] = str(ROUTED_FIXTURES / "inputs" / value)
    return args


def read_nan(path: Path) -> np.ndarray:
    """Band 1 as float64 with the nodata value turned into NaN."""
    with rasterio.open(path) as src:
        arr = src.read(1).astype(np.float64)
        nodata = src.nodata
    if nodata is not None:
        arr[np.isclose(arr, nodata)] = np.nan
    return arr
