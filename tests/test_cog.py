"""COG writing: a reused in-memory dataset writes the same bytes as a fresh one."""

import numpy as np
import pytest
import rasterio

from gep.engine.cog import CogWriter, write_cog
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
