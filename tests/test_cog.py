"""COG writing: a reused in-memory dataset writes the same bytes as a fresh one."""

import numpy as np
import pytest
import rasterio

from gep.engine.cog import CogWriter, overview_shapes, write_cog
from gep.grid import AccountGrid

GRID = AccountGrid.from_bounds((0, 0, 600, 400), 100.0)  # 4 rows x 6 columns


def test_reused_dataset_writes_the_same_bytes_and_only_its_own_tags(tmp_path):
    first = np.arange(24, dtype=np.float64).reshape(4, 6)
    second = np.full((4, 6), np.nan)
    second[1, 2] = 7.5
    write_cog(tmp_path / "fresh.tif", second, GRID, {"ITEM": "b", "UNIT": "t"})
    with CogWriter(GRID) as writer:
        writer.write(tmp_path / "a.tif", first, {"ITEM": "a", "UNIT": "m3"})
        writer.write(tmp_path / "b.tif", second, {"ITEM": "b", "UNIT": "t"})  # same dataset, new data
        writer.write(tmp_path / "c.tif", first, {"ONLY": "x"})  # other tag names: another dataset
    assert (tmp_path / "b.tif").read_bytes() == (tmp_path / "fresh.tif").read_bytes()
    with rasterio.open(tmp_path / "b.tif") as src:
        data = src.read(1)
        assert src.tags()["ITEM"] == "b"
    assert np.isnan(data).sum() == 23 and data[1, 2] == 7.5
    with rasterio.open(tmp_path / "c.tif") as src:
        assert "ITEM" not in src.tags() and src.tags()["ONLY"] == "x"
        assert src.read(1)[3, 5] == 23.0


def test_writer_refuses_an_array_off_the_grid(tmp_path):
    with CogWriter(GRID) as writer, pytest.raises(ValueError, match="expected the grid"):
        writer.write(tmp_path / "x.tif", np.zeros((3, 3)))


def test_overview_levels_are_those_of_gdals_cog_driver():
    # GDAL 3.10's COG driver on the 30 m demo grid (5,640 x 5,681) made these five levels
    assert overview_shapes((5640, 5681)) == [(2820, 2840), (1410, 1420), (705, 710), (352, 355), (176, 177)]
    assert overview_shapes((4, 6)) == []
    assert overview_shapes((256, 256)) == []
    assert overview_shapes((257, 3)) == [(128, 1)]


def test_overviews_match_gdals_average_overviews(tmp_path):
    """Our COG against one GDAL builds itself (overview_resampling=average) from the same data:
    same full-resolution pixels, same levels, overviews within float32 rounding, same nodata."""
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as raster_copy

    grid = AccountGrid.from_bounds((0, 0, 30 * 701, 30 * 613), 30.0)  # 613 rows x 701 columns: odd sizes
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 500.0, size=grid.shape)
    values[rng.random(grid.shape) < 0.2] = np.nan
    values[100:300, 50:400] = np.nan  # a large hole: whole overview pixels without data
    write_cog(tmp_path / "ours.tif", values, grid)
    profile = grid.profile(dtype="float32", nodata=float("nan"))
    profile.update(driver="MEM")
    with MemoryFile() as memory, memory.open(**profile) as source:
        source.write(values.astype(np.float32), 1)
        raster_copy(
            source, tmp_path / "gdal.tif", driver="COG", compress="DEFLATE", blocksize="256",
            overview_resampling="average",
        )  # fmt: skip
    with rasterio.open(tmp_path / "ours.tif") as ours, rasterio.open(tmp_path / "gdal.tif") as gdal:
        assert ours.overviews(1) == gdal.overviews(1) == [2, 4]
        assert np.array_equal(ours.read(1), gdal.read(1), equal_nan=True)
        assert ours.profile["blockxsize"] == 256 and ours.crs == gdal.crs and ours.transform == gdal.transform
    for level in range(2):
        with rasterio.open(tmp_path / "ours.tif", overview_level=level) as a:
            x = a.read(1)
        with rasterio.open(tmp_path / "gdal.tif", overview_level=level) as b:
            y = b.read(1)
        assert x.shape == y.shape
        assert np.array_equal(np.isnan(x), np.isnan(y))
        assert np.isnan(x).any()
        np.testing.assert_allclose(x[~np.isnan(x)], y[~np.isnan(y)], rtol=3e-7)


def test_a_float32_map_writes_the_same_bytes_as_its_float64_source(tmp_path):
    # a C-contiguous float32 map is written from where it is (no copy into the writer's buffer)
    grid = AccountGrid.from_bounds((0, 0, 30 * 300, 30 * 270), 30.0)  # 270 x 300: one overview level
    values = np.random.default_rng(5).gamma(2.0, 700.0, size=grid.shape) * np.pi
    values[:20, :30] = np.nan
    rounded = values.astype(np.float32)
    with CogWriter(grid) as writer:
        writer.write(tmp_path / "f64.tif", values, {"ITEM": "x"})
        writer.write(tmp_path / "f32.tif", rounded, {"ITEM": "x"})
    assert (tmp_path / "f32.tif").read_bytes() == (tmp_path / "f64.tif").read_bytes()
    assert rounded.tobytes() == values.astype(np.float32).tobytes()  # the caller's map is left as it was
    with rasterio.open(tmp_path / "f32.tif") as src:
        assert src.overviews(1) == [2]
        assert src.read(1).tobytes() == rounded.tobytes()
