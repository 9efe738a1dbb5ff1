"""The one-pass pixel kernels of gep.services.kernels on 3×3 grids, numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.services import kernels
from gep.services.classmap import map_classes

NAN = np.nan

# 3×3 grid, two regions: unit 0 = region "A" (left column and centre), unit 1 = region "B";
# (2, 0) lies in no region (-1).
UNITS = np.array([[0, 1, 1], [0, 0, 1], [-1, 1, 1]], dtype=np.int32)
INSIDE = UNITS >= 0


def test_gather_classes_int_and_float_codes():
    # lut: class 1 -> 0.5, class 2 -> NaN (empty cell), class 3 -> 2.0; class 0 absent (NaN)
    lut = np.array([NAN, 0.5, NAN, 2.0])
    codes = np.array([[1, 3, -1], [2, 9, 0], [3, 3, 1]], dtype=np.int32)
    out = kernels.gather_classes(codes, lut, -7.0)
    # -1 nodata, 2 (NaN value), 9 (beyond the table), 0 (absent) all give the nodata value -7
    assert out.tolist() == [[0.5, 2.0, -7.0], [-7.0, -7.0, -7.0], [2.0, 2.0, 0.5]]
    # float codes: NaN -> nodata, 3.7 truncated to 3, -0.5 negative -> nodata
    fl = kernels.gather_classes(np.array([NAN, 3.7, -0.5, 1.0]), lut)
    assert np.isnan(fl[0]) and fl[1] == 2.0 and np.isnan(fl[2]) and fl[3] == 0.5


def test_map_classes_matches_the_table():
    values = pd.Series([10.0, 20.0], index=[2, 5])
    out = map_classes(np.array([[2, 5, 3], [-1, 5, 2]]), values, 0.0)
    # 3 and -1 have no value -> 0.0
    assert out.tolist() == [[10.0, 20.0, 0.0], [0.0, 20.0, 10.0]]
    assert np.isnan(map_classes(np.array([1, 2]), pd.Series(dtype=float))).all()
    with pytest.raises(ValueError):
        map_classes(np.array([1]), pd.Series([1.0], index=[-3]))


def test_class_member_is_isin():
    codes = np.array([[1, 4, -1], [7, 4, 2], [0, 1, 300]], dtype=np.int32)
    out = kernels.class_member(codes, np.array([4, 1], dtype=np.int64))
    assert out.tolist() == [[True, True, False], [False, True, False], [False, True, False]]
    assert not kernels.class_member(codes, np.array([], dtype=np.int64)).any()
    # float codes keep np.isin's own semantics (2.5 is no class)
    assert kernels.class_member(np.array([2.0, 2.5, NAN]), np.array([2])).tolist() == [True, False, False]


def test_class_counts_inside_only():
    codes = np.array([[3, 3, 1], [-1, 3, 1], [1, 500, 3]], dtype=np.int32)
    inside = np.array([[True, True, True], [True, True, False], [False, True, True]])
    # inside: 3,3,1 | (-1 nodata),3 | 500,3 -> class 1: 1, class 3: 4, class 500: 1 (table grows past 256)
    assert kernels.class_counts(codes, inside) == {1: 1, 3: 4, 500: 1}
    with pytest.raises(TypeError):
        kernels.class_counts(codes.astype(float), inside)


def test_unit_member_is_region_mask():
    assert kernels.unit_member(UNITS, (1,), 2).tolist() == [
        [False, True, True],
        [False, False, True],
        [False, True, True],
    ]
    assert kernels.unit_member(UNITS, (0, 1), 2).sum() == 8  # every pixel but (2, 0)


def test_unit_sums_one_pass():
    values = np.array([[1.0, 2.0, NAN], [4.0, 8.0, 16.0], [32.0, 64.0, 128.0]])
    inside = INSIDE.copy()
    inside[2, 2] = False  # 128 left out
    sums = kernels.unit_sums(UNITS, inside, values, 2)
    # unit 0: 1 + 4 + 8 = 13 (3 pixels); unit 1: 2 + 16 + 64 = 82 (NaN at (0,2) counted inside, not valid)
    # no unit: (2, 0) is not inside (UNITS < 0) -> nothing
    assert sums.total.tolist() == [13.0, 82.0, 0.0]
    assert sums.valid.tolist() == [3, 3, 0]
    assert sums.inside.tolist() == [3, 4, 0]
    assert sums.nonfinite == 1
    # pixels inside but of no unit go to the last slot
    sums = kernels.unit_sums(UNITS, np.ones((3, 3), bool), values, 2)
    assert sums.total[2] == 32.0 and sums.inside[2] == 1


def test_fill_shares_modes():
    weights = np.array([[1.0, 1.0, 0.0], [3.0, NAN, 2.0], [5.0, 1.0, 1.0]])
    # unit 0 (A): SCALED, amount 100 over weight 4 (1 + 3; NaN pixel stays NaN) -> 25, 75
    # unit 1 (B): EVEN, amount 30 over 5 pixels -> 6 each
    mode = np.array([kernels.SCALED, kernels.EVEN, kernels.NAN], dtype=np.int8)
    out = kernels.fill_shares(UNITS, INSIDE, weights, mode, np.array([100.0, 30.0, 0.0]), np.array([4.0, 5.0, 1.0]))
    assert np.array_equal(out, [[25.0, 6.0, 6.0], [75.0, NAN, 6.0], [NAN, 6.0, 6.0]], equal_nan=True)
    mode = np.array([kernels.ZERO, kernels.NAN, kernels.NAN], dtype=np.int8)
    out = kernels.fill_shares(UNITS, INSIDE, weights, mode, np.zeros(3), np.ones(3))
    assert np.array_equal(out, [[0.0, NAN, NAN], [0.0, NAN, NAN], [NAN, NAN, NAN]], equal_nan=True)


def test_fill_capped_modes():
    capacity = np.array([[2.0, 1.0, 1.0], [6.0, 0.0, NAN], [9.0, 4.0, 2.0]])
    # unit 0 scaled by 0.5; unit 1 even 3.0 per valid pixel; no-unit pixels keep their value
    mode = np.array([kernels.SCALED, kernels.EVEN, kernels.KEEP], dtype=np.int8)
    inside = np.ones((3, 3), bool)
    out = kernels.fill_capped(UNITS, inside, capacity, mode, np.array([0.5, 3.0, 0.0]))
    assert np.array_equal(out, [[1.0, 3.0, 3.0], [3.0, 0.0, NAN], [9.0, 3.0, 3.0]], equal_nan=True)
    mode = np.array([kernels.ZERO, kernels.KEEP, kernels.NAN], dtype=np.int8)
    out = kernels.fill_capped(UNITS, INSIDE, capacity, mode, np.zeros(3))
    assert np.array_equal(out, [[0.0, 1.0, 1.0], [0.0, 0.0, NAN], [NAN, 4.0, 2.0]], equal_nan=True)


def test_fill_additive_adds_regions_in_order():
    weights = np.array([[1.0, 2.0, 2.0], [1.0, 0.0, NAN], [1.0, 0.0, 0.0]])
    # region 0 covers units 0 and 1: 90 over weight (1 + 1 + 0) + (2 + 2 + 0 + 0) = 6 -> 15 per unit weight
    # region 1 covers unit 1 only, spread evenly: 10 over its 4 valid pixels would be 2.5; here denom 5 -> 2
    unit_regions = [[0], [0, 1]]
    mode = np.array([kernels.SCALED, kernels.EVEN], dtype=np.int8)
    amount, denom = np.array([90.0, 10.0]), np.array([6.0, 5.0])
    out = kernels.fill_additive(UNITS, INSIDE, weights, unit_regions, mode, amount, denom)
    # A pixels: 15 × w; B pixels: 15 × w + 2; (1,2) NaN weight; (2,0) outside
    assert np.array_equal(out, [[15.0, 32.0, 32.0], [15.0, 0.0, NAN], [NAN, 2.0, 2.0]], equal_nan=True)


def test_nan_sum_like_nansum():
    a = np.array([[1.0, NAN], [NAN, 4.0]])
    b = np.array([[2.0, NAN], [3.0, NAN]])
    c = np.array([[0.5, NAN], [NAN, 1.0]])
    # (1+2+0.5, all NaN), (3, 4+1)
    assert np.array_equal(kernels.nan_sum([a, b, c]), [[3.5, NAN], [3.0, 5.0]], equal_nan=True)
    with pytest.raises(ValueError):
        kernels.nan_sum([a, np.zeros(3)])
