"""Regions on the grid: deepest-region rasterization, region sums and the children-sum identity."""

import numpy as np
from shapely.geometry import box

from gep.grid import AccountGrid
from gep.regions import Region, RegionSet, Zone
from gep.zonal import rasterize_regions


def regions_fixture() -> RegionSet:
    # a 400 m x 200 m city split into a western and an eastern county; the western county holds a
    # 100 m x 100 m township in its top-left corner
    city = Region("C", "city", "city", None, box(0, 0, 400, 200))
    west = Region("W", "west", "county", "C", box(0, 0, 200, 200))
    east = Region("E", "east", "county", "C", box(200, 0, 400, 200))
    town = Region("T", "town", "township", "W", box(0, 100, 100, 200))
    park = Zone("P", "park", "national_park", box(100, 0, 300, 100))
    return RegionSet("EPSG:4549", (city, west, east, town), (park,))


GRID = AccountGrid.from_bounds((0, 0, 400, 200), 100.0)  # 2 rows x 4 columns


def test_each_pixel_gets_the_deepest_region():
    index = rasterize_regions(regions_fixture(), GRID)
    names = np.array(index.codes)[index.unit_index]
    assert names.tolist() == [["T", "W", "E", "E"], ["W", "W", "E", "E"]]


def test_region_sums_and_children_identity():
    index = rasterize_regions(regions_fixture(), GRID)
    values = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, np.nan, 8.0]])
    sums = index.region_sums(values)
    # T = 1; W = 1 + 2 + 5 + 6 = 14; E = 3 + 4 + 8 = 15 (NaN counts 0); C = 14 + 15 = 29
    assert sums == {"C": 29.0, "W": 14.0, "E": 15.0, "T": 1.0}
    assert sums["C"] == sums["W"] + sums["E"]
    # the park covers the bottom-row pixels of columns 2 and 3: 6 + NaN -> 6
    assert index.zone_sums(values) == {"P": 6.0}
    assert index.pixel_counts() == {"C": 8, "W": 4, "E": 4, "T": 1}


def test_region_units_list_descendants():
    index = rasterize_regions(regions_fixture(), GRID)
    by_code = {code: {index.codes[i] for i in units} for code, units in index.region_units.items()}
    assert by_code == {"C": {"C", "W", "E", "T"}, "W": {"W", "T"}, "E": {"E"}, "T": {"T"}}
