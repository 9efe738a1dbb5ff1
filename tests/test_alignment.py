"""Alignment of rasters onto the account grid, worked out by hand on tiny grids."""

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from gep.grid import AccountGrid
from gep.inputs.rasters import read_aligned


def write(path: Path, data: np.ndarray, transform: Affine, crs: str = "EPSG:4549", nodata=None) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": str(data.dtype), "crs": crs, "transform": transform, "nodata": nodata}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


GRID = AccountGrid("EPSG:4549", Affine(100.0, 0, 500000.0, 0, -100.0, 3100000.0), 2, 2)


def test_same_grid_is_read_without_resampling(tmp_path):
    data = np.array([[1.0, 2.0], [3.0, -9999.0]], dtype=np.float32)
    path = write(tmp_path / "a.tif", data, GRID.transform, nodata=-9999.0)
    layer, problems = read_aligned("precipitation", path, GRID, categorical=False)
    assert problems == []
    assert not layer.resampled
    assert layer.data[0, 1] == 2.0 and np.isnan(layer.data[1, 1])


def test_finer_continuous_raster_is_averaged_with_a_warning(tmp_path):
    # 50 m pixels, 4 per account pixel; the top-left account pixel covers 1, 2, 3, 6 -> mean 3.0
    fine = np.array(
        [[1, 2, 10, 10], [3, 6, 10, 10], [0, 0, 4, 4], [0, 0, 4, 8]], dtype=np.float32
    )
    path = write(tmp_path / "fine.tif", fine, Affine(50.0, 0, 500000.0, 0, -50.0, 3100000.0))
    layer, problems = read_aligned("precipitation", path, GRID, categorical=False)
    assert [p.code for p in problems] == ["raster_aligned"]
    assert problems[0].severity == "warning"
    assert layer.resampled
    np.testing.assert_allclose(layer.data, [[3.0, 10.0], [0.0, 5.0]])


def test_categorical_raster_uses_nearest_never_averages(tmp_path):
    # 50 m classes; nearest picks one of the source codes, never a mean such as 2.5
    fine = np.array([[1, 1, 4, 4], [1, 1, 4, 4], [2, 2, 3, 3], [2, 2, 3, 3]], dtype=np.uint8)
    path = write(tmp_path / "lc.tif", fine, Affine(50.0, 0, 500000.0, 0, -50.0, 3100000.0), nodata=255)
    layer, _ = read_aligned("landcover", path, GRID, categorical=True)
    np.testing.assert_array_equal(layer.data, [[1, 4], [2, 3]])


def test_lonlat_raster_is_reprojected(tmp_path):
    # a constant field in EPSG:4326 covering the grid reprojects to the same constant
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(500100.0, 3099900.0)
    data = np.full((20, 20), 1500.0, dtype=np.float32)
    transform = Affine(0.001, 0, lon - 0.01, 0, -0.001, lat + 0.01)
    path = write(tmp_path / "ll.tif", data, transform, crs="EPSG:4326")
    layer, problems = read_aligned("precipitation", path, GRID, categorical=False)
    assert problems[0].code == "raster_aligned"
    np.testing.assert_allclose(layer.data, 1500.0)


def test_errors_name_the_file(tmp_path):
    layer, problems = read_aligned("dem", tmp_path / "missing.tif", GRID, categorical=False)
    assert layer is None and problems[0].code == "file_not_found"
    assert "missing.tif" in problems[0].render("en") and "不存在" in problems[0].render("zh")

    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
                       transform=GRID.transform) as dst:
        dst.write(np.zeros((2, 2), dtype=np.float32), 1)
    layer, problems = read_aligned("dem", nocrs, GRID, categorical=False)
    assert layer is None and problems[0].code == "raster_no_crs"

    far = write(tmp_path / "far.tif", np.zeros((2, 2), dtype=np.float32),
                Affine(100.0, 0, 900000.0, 0, -100.0, 100000.0))
    layer, problems = read_aligned("dem", far, GRID, categorical=False)
    assert layer is None and problems[0].code == "raster_no_overlap"
