"""The agreement measures of benchmarks/compare.py, on small rasters worked out by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

COMPARE = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"


@pytest.fixture(scope="module")
def compare():
    spec = importlib.util.spec_from_file_location("benchmark_compare", COMPARE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, values: np.ndarray, nodata: float = -1.0) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1, dtype="float32",
        crs="EPSG:4549", transform=from_origin(500000, 3100000, 30, 30), nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(values.astype(np.float32), 1)
    return path


def test_raster_agreement_reports_scale_relative_difference_and_correlation(compare, tmp_path):
    theirs = np.array([[100.0, 50.0], [0.0001, -1.0]])  # -1 = nodata
    ours = np.array([[101.0, 50.0], [0.0002, -1.0]])
    result = compare.raster_agreement(_write(tmp_path / "a.tif", ours), _write(tmp_path / "b.tif", theirs))
    assert result["masks_equal"] and result["valid_pixels"] == 3
    # per pixel: 1/100, 0, 0.0001/0.0001 = 1 (a residue near zero dominates the plain relative measure)
    assert result["max_rel"] == pytest.approx(1.0, rel=1e-3)
    # against the raster's scale: largest difference 1 over largest value 100
    assert result["max_rel_of_max"] == pytest.approx(0.01, rel=1e-4)
    assert result["max_abs"] == pytest.approx(1.0, rel=1e-4)
    # Pearson r of (101, 50, 2e-4) and (100, 50, 1e-4), worked out by hand: 0.99995...
    x, y = np.array([101.0, 50.0, 0.0002]), np.array([100.0, 50.0, 0.0001])
    dx, dy = x - x.mean(), y - y.mean()
    expected = (dx * dy).sum() / np.sqrt((dx**2).sum() * (dy**2).sum())
    assert 0.9999 < expected < 1.0
    assert result["r"] == pytest.approx(expected, abs=1e-7)


def test_raster_agreement_flags_different_nodata_masks(compare, tmp_path):
    theirs = np.array([[1.0, 2.0], [3.0, -1.0]])
    ours = np.array([[1.0, -1.0], [3.0, 4.0]])
    result = compare.raster_agreement(_write(tmp_path / "a.tif", ours), _write(tmp_path / "b.tif", theirs))
    assert not result["masks_equal"]
    assert result["valid_pixels"] == 2 and result["max_abs"] == 0.0 and result["r"] == pytest.approx(1.0)
