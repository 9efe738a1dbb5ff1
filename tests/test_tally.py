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

