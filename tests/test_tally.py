"""One-pass sums of per-pixel arrays by unit × ecosystem and zone."""

import numpy as np
import pytest

from gep.engine.tally import Tally
from gep.zonal import rasterize_regions
from test_zonal import GRID, regions_fixture

# units on the 2 x 4 grid (see test_zonal): [[T, W, E, E], [W, W, E, E]]; ecosystems 0 (forest),
# 1 (water), -1 (no land-cover class)
ECOSYSTEMS = np.array([[0, 1, 0, -1], [1, 0, 0, 1]])
VALUES = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, np.nan, 8.0]])


def test_sums_by_region_ecosystem_and_zone():
    index = rasterize_regions(regions_fixture(), GRID)
    sums = Tally(index, ECOSYSTEMS, 2).sums(VALUES)
    # regions as in test_zonal: T = 1; W = 1 + 2 + 5 + 6 = 14; E = 3 + 4 + 8 = 15; C = 29
    assert sums.regions(index) == {"C": 29.0, "W": 14.0, "E": 15.0, "T": 1.0}
    # forest: 1 + 3 + 6 (+ NaN) = 10; water: 2 + 5 + 8 = 15; the pixel without a class (4) is in no
    # ecosystem but in its region
    assert sums.ecosystems().tolist() == [10.0, 15.0]
    # unit E's row: forest 3 (NaN skipped), water 8, no class 4
    e = index.codes.index("E")
    assert sums.by_unit_ecosystem[e].tolist() == [3.0, 8.0, 4.0]
    assert sums.zones == {"P": 6.0}


def test_sums_refuse_an_array_off_the_grid():
    index = rasterize_regions(regions_fixture(), GRID)
    with pytest.raises(ValueError, match="expected 8"):
        Tally(index, ECOSYSTEMS, 2).sums(np.ones((3, 3)))



def test_keyed_sums_add_in_pixel_order_like_bincount():
    """Runs of equal keys are summed in a register; the result must be bit for bit the per-pixel
    sequential sum (np.bincount adds weights in pixel order), NaN and negative keys skipped."""
    from gep.engine.tally import _keyed_sums

    rng = np.random.default_rng(7)
    keys = np.repeat(rng.integers(-1, 6, size=400), rng.integers(1, 30, size=400)).astype(np.int32)
    values = rng.normal(0, 1e6, size=keys.size) * 10.0 ** rng.integers(-8, 8, size=keys.size)
    values[rng.random(keys.size) < 0.1] = np.nan
    take = (keys >= 0) & ~np.isnan(values)
    expected = np.bincount(keys[take], weights=values[take], minlength=6)
    assert np.array_equal(_keyed_sums(values, keys, 6, np.empty(0, dtype=np.float32)), expected)
