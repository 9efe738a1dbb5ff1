"""Tests for gep.routing: hand-worked tiny grids (arithmetic in the comments)."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from gep.routing import (
    D8_OFFSETS,
    D8_SINK,
    aspect_shape_factor,
    fill_depressions,
    flow_accumulation,
    flow_direction_d8,
    flow_direction_mfd,
    gradient,
    ls_factor,
    ls_from_slope_and_accumulation,
    m_exponent,
    mfd_proportions,
    route,
    s_factor,
    slope,
    slope_percent,
)

SQ2 = math.sqrt(2.0)


def _valley() -> np.ndarray:
    """4x5 V-shaped valley: z = 10 |c - 2| + (3 - r). Floor column 2 falls 1 m per row southward."""
    r, c = np.mgrid[0:4, 0:5]
    return (10.0 * np.abs(c - 2) + (3 - r)).astype(np.float64)


# --------------------------------------------------------------------------- slope
def test_slope_of_plane_including_edges():
    # z = 0.1 x on a 30 m grid: z[r, c] = 0.1 * 30 c = 3 c. Gradient 0.1 everywhere -> atan(0.1)
    # = 0.0996687 rad, 10 %. Edges use one-sided differences, which are exact on a plane.
    dem = np.tile(3.0 * np.arange(5), (5, 1))
    np.testing.assert_allclose(slope(dem, 30.0), math.atan(0.1), rtol=1e-12)
    np.testing.assert_allclose(slope_percent(dem, 30.0), 10.0, rtol=1e-12)


def test_slope_no_nan_bleed_from_hole():
    # z = 3 c (30 m cells, gradient 0.1 east) with holes at (2, 2) and (0, 4). Next to a hole, a stencil
    # row missing one end uses its middle pixel (exact on a plane), so the slope stays atan(0.1), except
    # where pygeoprocessing's rule leaves a row with only a corner, which it differences with the centre
    # times sqrt 2 at half weight (weights: full outer row 2, full centre row 4, one-sided row half):
    # (0, 3), z = 9: dz/dy columns c=2: 6 - 6 = 0 (w 1); c=3: 2 (9 - 9) = 0 (w 2); c=4: only the corner
    #   (1, 4) = 12: (9 - 12) sqrt2 = -4.242641 (w 1) -> dz/dy = -4.242641 / (4·30) = -0.0353553;
    #   dz/dx: row 0 one-sided 2 (9 - 6) = 6 (w 2), row 1 full 12 - 6 = 6 (w 2) -> 12/120 = 0.1;
    #   tan θ = sqrt(0.01 + 0.00125) = 0.1060660.
    # (1, 4), z = 12: dz/dx rows r=0: only the corner (0, 3) = 9: (12 - 9) sqrt2 = 4.242641 (w 1);
    #   r=1: 2 (12 - 9) = 6 (w 2); r=2: 12 - 9 = 3 (w 1) -> 13.242641 / 120 = 0.1103553; dz/dy 0.
    dem = np.tile(3.0 * np.arange(5), (5, 1))
    dem[2, 2] = np.nan
    dem[0, 4] = np.nan
    s = slope(dem, 30.0)
    assert np.isnan(s[2, 2]) and np.isnan(s[0, 4])
    assert math.tan(s[0, 3]) == pytest.approx(0.1060660, rel=1e-6)
    assert math.tan(s[1, 4]) == pytest.approx(0.1103553, rel=1e-6)
    plain = ~np.isnan(dem)
    plain[0, 3] = plain[1, 4] = False
    np.testing.assert_allclose(s[plain], math.atan(0.1), rtol=1e-12)
    # an explicit mask does the same on a DEM without NaN
    dem2 = np.tile(3.0 * np.arange(5), (5, 1))
    dem2[2, 2] = -9999.0
    s2 = slope(dem2, 30.0, valid=dem2 != -9999.0)
    assert np.isnan(s2[2, 2])
    np.testing.assert_allclose(s2[dem2 != -9999.0], math.atan(0.1), rtol=1e-12)


def test_gradient_directions():
    # z rises 1.5 m per row toward the north (row 0) with 30 m cells: dz/dy(north) = 1.5/30 = 0.05,
    # dz/dx = 0.
    r = np.arange(4)[:, None] * np.ones((1, 3))
    dem = -1.5 * r
    dzdx, dzdy = gradient(dem, 30.0)
    np.testing.assert_allclose(dzdx, 0.0, atol=1e-15)
    np.testing.assert_allclose(dzdy, 0.05, rtol=1e-12)
    # aspect due north: x = |sin 0| + |cos 0| = 1; a 45° aspect (dzdx = dzdy) gives sqrt 2
    np.testing.assert_allclose(aspect_shape_factor(dzdx, dzdy), 1.0)
    np.testing.assert_allclose(aspect_shape_factor(np.array([0.1]), np.array([0.1])), SQ2)


def test_horn_interior_matches_formula():
    # window a..i = [[1, 2, 4], [2, 5, 7], [3, 6, 11]], D = 10:
    # dz/dx = ((4 + 2*7 + 11) - (1 + 2*2 + 3)) / 80 = (29 - 8)/80 = 0.2625
    # dz/dy = ((1 + 2*2 + 4) - (3 + 2*6 + 11)) / 80 = (9 - 26)/80 = -0.2125
    dem = np.array([[1.0, 2, 4], [2, 5, 7], [3, 6, 11]])
    dzdx, dzdy = gradient(dem, 10.0)
    assert dzdx[1, 1] == pytest.approx(0.2625)
    assert dzdy[1, 1] == pytest.approx(-0.2125)
    assert slope(dem, 10.0)[1, 1] == pytest.approx(math.atan(math.hypot(0.2625, 0.2125)))


# --------------------------------------------------------------------------- fill
def test_fill_raises_pit_to_spill_level():
    # Outer ring 9 with an outlet of 3 at (0, 2); inner ring 5; centre pit 1. The centre's lowest way
    # out is over the inner ring at 5, so it fills to 5; nothing else changes.
    dem = np.full((5, 5), 9.0)
    dem[1:4, 1:4] = 5.0
    dem[2, 2] = 1.0
    dem[0, 2] = 3.0
    expected = dem.copy()
    expected[2, 2] = 5.0
    np.testing.assert_array_equal(fill_depressions(dem), expected)
    # epsilon: the centre ends a few ulps above 5 (strictly above, within 1e-9)
    eps = fill_depressions(dem, epsilon=True)
    assert 5.0 < eps[2, 2] < 5.0 + 1e-9
    assert np.all(eps >= dem)


def test_fill_leaves_depression_next_to_nodata():
    # the 1 m cell touches a nodata cell, so it can drain into it: not a pit
    dem = np.full((3, 4), 9.0)
    dem[1, 1] = 1.0
    dem[1, 2] = np.nan
    filled = fill_depressions(dem)
    assert filled[1, 1] == 1.0
    assert np.isnan(filled[1, 2])


def test_filled_bowl_drains_through_outlet():
    # after filling, every one of the 25 cells drains through the outlet (0, 2): D8 and MFD acc = 25
    dem = np.full((5, 5), 9.0)
    dem[1:4, 1:4] = 5.0
    dem[2, 2] = 1.0
    dem[0, 2] = 3.0
    for method in ("d8", "mfd"):
        r = route(dem, method=method)
        assert r.accumulation[0, 2] == pytest.approx(25.0)
    assert route(dem, method="d8").directions[0, 2] == 2  # flat outlet: first off-grid cardinal (N)


# --------------------------------------------------------------------------- D8
def test_d8_on_plane():
    # z = 3 c: steepest descent is W (drop 3 vs 3/sqrt2 on the diagonals) -> code 4 for cols 1..4.
    # Column 0 is an equal-height flat with no lower neighbour: each cell exits through its first
    # off-grid cardinal neighbour in the order E, N, W, S: N (code 2) for the corner (0, 0), W below.
    dem = np.tile(3.0 * np.arange(5), (4, 1))
    d = flow_direction_d8(dem)
    assert d.dtype == np.int8
    assert np.all(d[:, 1:] == 4)
    assert d[0, 0] == 2
    assert np.all(d[1:, 0] == 4)


def test_d8_on_v_valley_and_accumulation():
    # Side cells: e.g. (0, 0) z = 23 -> E (0,1) z = 13 drop 10 beats SE (1,1) z = 12 drop 11/sqrt2 = 7.8,
    # so both flanks flow sideways (E = 0 on the left, W = 4 on the right). The floor flows S (6), the
    # floor's bottom cell (z = 0) exits S off the grid (first off-grid cardinal of E, N, W, S).
    d = flow_direction_d8(_valley())
    np.testing.assert_array_equal(d, np.tile(np.array([0, 0, 6, 4, 4], dtype=np.int8), (4, 1)))
    # accumulation: flanks 1, 2 | 2, 1; floor row r gets 2 + 2 from the flanks + 1 + floor above:
    # 5, 10, 15, 20 (= all 20 cells at the outlet).
    acc = flow_accumulation(d)
    expected = np.array([[1, 2, 5, 2, 1], [1, 2, 10, 2, 1], [1, 2, 15, 2, 1], [1, 2, 20, 2, 1]], float)
    np.testing.assert_array_equal(acc, expected)


def test_accumulation_ramp_d8_and_mfd():
    # 1-row ramp 4, 3, 2, 1, 0 draining east: counts 1..5 (each cell plus all cells west of it)
    dem = np.array([[4.0, 3, 2, 1, 0]])
    np.testing.assert_array_equal(flow_accumulation(flow_direction_d8(dem)), [[1, 2, 3, 4, 5]])
    np.testing.assert_allclose(flow_accumulation(flow_direction_mfd(dem)), [[1, 2, 3, 4, 5]])
    # weighted: weights 1..5 -> running sums 1, 3, 6, 10, 15
    w = np.array([[1.0, 2, 3, 4, 5]])
    np.testing.assert_array_equal(flow_accumulation(flow_direction_d8(dem), w), [[1, 3, 6, 10, 15]])


def test_accumulation_rejects_cycle_and_bad_weights():
    with pytest.raises(ValueError, match="cycle"):
        flow_accumulation(np.array([[0, 4]], dtype=np.int8))  # E then W: a 2-cell loop
    with pytest.raises(ValueError, match="not finite"):
        flow_accumulation(np.array([[0, 0]], dtype=np.int8), np.array([[1.0, np.nan]]))


def test_d8_nodata_is_outlet():
    # ramp with a nodata cell in the middle: cells west of it drain into it (acc 1, 2), the rest restart
    dem = np.array([[5.0, 4, np.nan, 2, 1]])
    d = flow_direction_d8(dem)
    assert d[0, 2] == -1
    acc = flow_accumulation(d)
    np.testing.assert_array_equal(acc[0, [0, 1, 3, 4]], [1, 2, 1, 2])
    assert np.isnan(acc[0, 2])


def test_unfilled_pit_is_sink():
    dem = np.full((3, 3), 5.0)
    dem[1, 1] = 1.0
    assert flow_direction_d8(dem)[1, 1] == D8_SINK


# --------------------------------------------------------------------------- MFD
def test_mfd_symmetric_cone_peak_splits_equally():
    # cone z = 10 - distance (in cells): from the peak the cardinal drop is 1 (weight 1/1) and the
    # diagonal drop sqrt2 (weight sqrt2/sqrt2 = 1): eight equal shares of 1/8; in pygeoprocessing's 4-bit
    # weights q = floor(0.5 + 15/8) = 2 each, share 2/16 = 1/8.
    r, c = np.mgrid[0:5, 0:5]
    dem = 10.0 - np.hypot(r - 2, c - 2)
    fd = flow_direction_mfd(dem)
    assert fd.shape == (5, 5) and fd.dtype == np.int32
    assert fd[2, 2] == sum(2 << (4 * k) for k in range(8))
    p = mfd_proportions(fd)
    assert p.shape == (8, 5, 5) and p.dtype == np.float32
    np.testing.assert_allclose(p[:, 2, 2], 0.125, rtol=1e-6)
    # every pixel (none is a sink) sends out exactly all of its flow
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-6)
    # (2, 3), z = 9: E (2,4) z = 8, drop 1, w = 1; NE/SE z = 10 - sqrt5 = 7.763932, drop 1.236068,
    # w = 1.236068/sqrt2 = 0.874032; N/S z = 10 - sqrt2 = 8.585786, drop w = 0.414214; NW, SW, W not lower.
    # total = 1 + 2*0.874032 + 2*0.414214 = 3.576491 -> E 0.279604, NE 0.244383, N 0.115816;
    # 4 bits: q_E = floor(0.5 + 4.194) = 4, q_NE = floor(0.5 + 3.666) = 4, q_N = floor(0.5 + 1.737) = 2;
    # sum q = 4 + 2*4 + 2*2 = 16 -> E 0.25, NE 0.25, N 0.125
    np.testing.assert_allclose(p[[0, 1, 2, 6, 7], 2, 3], [0.25, 0.25, 0.125, 0.125, 0.25], rtol=1e-6)
    np.testing.assert_array_equal(p[[3, 4, 5], 2, 3], 0.0)


def test_mfd_plane_accumulation_4bit():
    # plane falling 0.8 m per row southward, 5 x 11 cells. Interior split: S w = 0.8, SW/SE
    # w = 0.8/sqrt2 -> exact shares p_S = 1/(1 + sqrt2) = 0.414214, p_SW = p_SE = 0.292893;
    # InVEST's 4 bits: round(15 * 0.414214) = 6, round(15 * 0.292893) = 4 -> 6/14, 4/14.
    r = np.arange(5)[:, None] * np.ones((1, 11))
    dem = -0.8 * r
    fd = flow_direction_mfd(dem)
    assert fd[1, 5] == (4 << 20) | (6 << 24) | (4 << 28)
    np.testing.assert_allclose(mfd_proportions(fd)[[5, 6, 7], 1, 5], [4 / 14, 6 / 14, 4 / 14], rtol=1e-6)
    acc = flow_accumulation(fd)
    # translation invariance: away from the side edges row r carries r + 1 cells (edge effects spread
    # one column per row, so column 5 is clean for rows 0..4); the bottom row passes all 55 cells out.
    np.testing.assert_allclose(acc[:, 5], [1, 2, 3, 4, 5], rtol=1e-6)
    assert acc[-1].sum() == pytest.approx(55.0)


def test_random_dem_every_pixel_drains_out():
    rng = np.random.default_rng(42)
    dem = rng.normal(100.0, 5.0, (30, 30))
    dem[10:13, 10:13] = np.nan
    ok = ~np.isnan(dem)
    n = int(ok.sum())
    filled = fill_depressions(dem)
    assert np.all(filled[ok] >= dem[ok])
    d8 = flow_direction_d8(filled)
    assert not np.any(d8 == D8_SINK)
    acc = flow_accumulation(d8)
    # conservation: the accumulations of the pixels whose D8 target is off-grid or nodata add up to n
    exits = 0.0
    for code, (dr, dc) in D8_OFFSETS.items():
        rows, cols = np.nonzero(d8 == code)
        tr, tc = rows + dr, cols + dc
        inside = (tr >= 0) & (tr < 30) & (tc >= 0) & (tc < 30)
        leaving = ~inside
        leaving[inside] = ~ok[tr[inside], tc[inside]]
        exits += acc[rows[leaving], cols[leaving]].sum()
    assert exits == pytest.approx(n)
    # MFD: shares sum to 1 on every valid pixel, and the flow leaving sums to n
    fd = flow_direction_mfd(filled)
    p = mfd_proportions(fd)
    np.testing.assert_allclose(p.sum(axis=0)[ok], 1.0, rtol=1e-5)
    acc_m = flow_accumulation(fd)
    out = 0.0
    pad = np.pad(ok, 1)
    for code, (dr, dc) in D8_OFFSETS.items():
        target_ok = pad[1 + dr : 31 + dr, 1 + dc : 31 + dc]
        out += np.nansum(np.where(ok & ~target_ok, p[code] * acc_m, 0.0))
    assert out == pytest.approx(n, rel=1e-5)


# --------------------------------------------------------------------------- LS
def test_s_factor_both_sides_of_9_percent():
    # 8 %: sin(atan 0.08) = 0.08/sqrt(1.0064) = 0.0797452; S = 10.8*0.0797452 + 0.03 = 0.891248
    # 10 %: sin(atan 0.1) = 0.1/sqrt(1.01) = 0.0995037; S = 16.8*0.0995037 - 0.5 = 1.171662
    np.testing.assert_allclose(s_factor(np.array([8.0, 10.0])), [0.891248, 1.171662], rtol=1e-6)
    assert float(s_factor(9.0)) == pytest.approx(16.8 * math.sin(math.atan(0.09)) - 0.5)


def test_m_exponent_table():
    # <=1 -> 0.2, <=3.5 -> 0.3, <=5 -> 0.4, <=9 -> 0.5; 10 %: sin = 0.0995037, sin^0.8 = 0.157860,
    # beta = (0.0995037/0.0896) / (3*0.157860 + 0.56) = 1.110532/1.033580 = 1.074453, m = beta/(1+beta)
    # = 0.517945
    got = m_exponent(np.array([0.5, 1.0, 2.0, 3.5, 4.0, 5.0, 8.0, 9.0, 10.0]))
    np.testing.assert_allclose(got, [0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5, 0.517945], rtol=1e-5)


def test_ls_single_cell_without_upstream_area():
    # 4 % slope, flow accumulation 1 (A = 0), D = 30 m: m = 0.4, theta = atan 0.04,
    # sin = 0.0399680, cos = 0.9992010.
    # L = (D^2)^(m+1) / (D^(m+2) x^m 22.13^m) = (D / (22.13 x))^m.
    # invest: x = sin + cos = 1.0391690 -> L = (30/22.99681)^0.4 = 1.3045288^0.4 = 1.1121963;
    #         S = 10.8*0.0399680 + 0.03 = 0.4616548; LS = 0.5134508
    # desmet_govers with aspect x = 1: L = (30/22.13)^0.4 = 1.1294212; LS = 0.5214027
    pct = np.array([[4.0]])
    acc = np.array([[1.0]])
    assert ls_from_slope_and_accumulation(pct, acc, 30.0)[0, 0] == pytest.approx(0.5134508, rel=1e-6)
    dg = ls_from_slope_and_accumulation(pct, acc, 30.0, variant="desmet_govers", aspect_factor=np.ones((1, 1)))
    assert dg[0, 0] == pytest.approx(0.5214027, rel=1e-6)


def test_ls_plane_of_known_slope():
    # plane falling 0.8 m per row southward, D = 10 m: slope 8 % everywhere (m = 0.5, S = 0.8912484),
    # D8 flows S, so row r has flow accumulation r + 1 (A counts r upstream cells).
    # invest: A = sqrt(100 r), x = sin + cos = 0.0797452 + 0.9968153 = 1.0765605;
    #   den = 10^2.5 * sqrt(22.13 x) = 316.2278 * 4.881059 = 1543.5117
    #   r = 0: L = 100^1.5 / den = 1000/1543.5117 = 0.6478733 -> LS = 0.5774160
    #   r = 3: A = 17.320508; (117.320508)^1.5 - 17.320508^1.5 = 1270.7523 - 72.0843 = 1198.6680
    #          L = 0.7765849 -> LS = 0.6921301
    # desmet_govers (aspect due south, x = 1): A = 100 r m², den = 10^2.5 sqrt(22.13) = 1487.6155
    #   r = 3: (400^1.5 - 300^1.5) = 8000 - 5196.1524 = 2803.8476 -> L = 1.8847931 -> LS = 1.6798189
    r = np.arange(5)[:, None] * np.ones((1, 3))
    dem = -0.8 * r
    ls = ls_factor(dem, 10.0, "d8")
    np.testing.assert_allclose(ls[0], 0.5774160, rtol=1e-6)
    np.testing.assert_allclose(ls[3], 0.6921301, rtol=1e-6)
    dg = ls_factor(dem, 10.0, "d8", variant="desmet_govers")
    np.testing.assert_allclose(dg[3], 1.6798189, rtol=1e-6)
    # MFD on a wide plane: the centre column carries r + 1 cells too, so its LS is the same
    wide = -0.8 * (np.arange(5)[:, None] * np.ones((1, 11)))
    np.testing.assert_allclose(ls_factor(wide, 10.0, "mfd")[3, 5], 0.6921301, rtol=1e-6)


def test_ls_l_max_cap_and_invest_fixture():
    # 15 %: sin = 0.15/sqrt(1.0225) = 0.1483405; S = 16.8*0.1483405 - 0.5 = 1.9921196; a huge
    # accumulation pushes L over l_max = 25, so LS = 25 * 1.9921196 = 49.80299.
    pct = np.array([[1.5, 4, 8, 10, 15, np.nan]])
    acc = np.array([[100, 100, 100, 100, 1e7, np.nan]])
    ls = ls_from_slope_and_accumulation(pct, acc, 30.0, l_max=25.0)
    assert ls[0, 4] == pytest.approx(49.80299, rel=1e-6)
    assert np.isnan(ls[0, 5])
    # cross-check against InVEST's own expected values for the same inputs
    # (natcap/invest tests/test_sdr.py::test_ls_factor, commit 54ff9ca, 30 m pixels, l_max 25)
    np.testing.assert_allclose(ls[0, :5], [0.253996, 0.657229, 1.345856, 1.776729, 49.802994], rtol=1e-6)


def test_ls_factor_nodata_and_args():
    dem = -0.8 * (np.arange(4)[:, None] * np.ones((1, 4)))
    dem[1, 1] = np.nan
    ls = ls_factor(dem, 10.0)
    assert np.isnan(ls[1, 1])
    assert np.isfinite(ls[~np.isnan(dem)]).all()
    with pytest.raises(ValueError, match="cell_size"):
        ls_factor(dem, 0.0)
    with pytest.raises(ValueError, match="method"):
        ls_factor(dem, 10.0, "dinf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2-D"):
        slope(np.zeros(5), 10.0)


@pytest.mark.skipif(not os.environ.get("GEP_SLOW_TESTS"), reason="set GEP_SLOW_TESTS=1 for the speed check")
def test_speed_sanity_2000x2000(capsys):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:2000, 0:2000] * 30.0
    dem = (200 * np.sin(x / 3000) * np.cos(y / 4000) + 0.02 * x + rng.normal(0, 2, x.shape)).astype(np.float32)
    ls_factor(dem[:20, :20], 30.0)  # compile
    for method in ("mfd", "d8"):
        t0 = time.perf_counter()
        ls = ls_factor(dem, 30.0, method)
        with capsys.disabled():
            print(f"\nls_factor {method} 2000x2000: {time.perf_counter() - t0:.2f} s")
        assert np.isfinite(ls).all()


def test_flat_routes_to_its_drain():
    # 3x3 flat at 5 with one lower cell (1, 2) = 4 on the east edge. Cells next to it have a downhill
    # neighbour; (0,0), (1,0), (2,0) are flat and step to the nearest drain: all three reach a drain
    # one cardinal step east (distance 1 < sqrt2), so E. (1, 2) has no lower neighbour and exits E.
    dem = np.full((3, 3), 5.0)
    dem[1, 2] = 4.0
    expected = np.array([[0, 7, 6], [0, 0, 0], [0, 1, 2]], dtype=np.int8)
    d = flow_direction_d8(dem)
    np.testing.assert_array_equal(d, expected)
    assert flow_accumulation(d)[1, 2] == 9.0
    # MFD: (1, 0) sends to its drain neighbours NE, E, SE with weights 1/sqrt2, 1, 1/sqrt2:
    # p_E = 1/(1 + sqrt2) = 0.414214, p_NE = p_SE = 0.292893 -> 4 bits 6/14, 4/14 (as the plane above)
    fd = flow_direction_mfd(dem)
    np.testing.assert_allclose(mfd_proportions(fd)[[1, 0, 7], 1, 0], [4 / 14, 6 / 14, 4 / 14], rtol=1e-6)
    assert flow_accumulation(fd)[1, 2] == pytest.approx(9.0)


def test_d8_flat_ties_follow_pygeoprocessing():
    # filled DEM [[1, 2, 2], [0, 0, 0], [0, 1, 2]]: the flat at 0 is (1,0), (1,1), (1,2), (2,0); none has a
    # lower neighbour, so it drains off the grid from its edge pixels (first off-grid cardinal neighbour in
    # code order): (1,0) W, (1,2) E, (2,0) W. The interior (1,1) is one step from two outlets, W (1,0) and
    # E (1,2). pygeoprocessing's breadth-first search starts from the outlets in the order they were found
    # from the flat's first pixel in scan order, (1,0), so (1,1) points W (4), not to the lower code E.
    # Off the flat, steepest descent: row 0 falls S (drop 1 or 2 vs 1/sqrt2 or 2/sqrt2 on the
    # diagonals); (2,1) = 1 drops 1 both N and W: tie -> lowest code N (2); (2,2) = 2: N drop 2 -> N.
    dem = np.array([[1.0, 2, 2], [0, 0, 0], [0, 1, 2]])
    expected = np.array([[6, 6, 6], [4, 4, 0], [4, 2, 2]], dtype=np.int8)
    np.testing.assert_array_equal(flow_direction_d8(dem), expected)


def test_unfilled_pit_collects_its_neighbours():
    # 3x3 of 5 m with a 1 m centre, not filled: each of the 8 border cells has the centre as its only
    # lower neighbour, so D8 and MFD both send all their flow there; the sink keeps it: 1 + 8 = 9.
    dem = np.full((3, 3), 5.0)
    dem[1, 1] = 1.0
    for method in ("d8", "mfd"):
        r = route(dem, method=method, fill=False)
        assert r.accumulation[1, 1] == 9.0
        np.testing.assert_array_equal(np.delete(r.accumulation.ravel(), 4), 1.0)
    assert flow_accumulation(flow_direction_d8(dem))[1, 1] == 9.0  # code 8 is a valid sink by default
    with pytest.raises(ValueError, match="int8 D8 codes"):
        flow_accumulation(np.zeros((2, 2), dtype=np.int64))


def test_ls_factor_reproduces_invest_ls_raster():
    # InVEST 3.20.2's own intermediate_outputs/ls.tif for the SDR fixture (60 x 80, 30 m, l_max 122; see
    # tests/test_invest_sdr.py), with InVEST's mutual nodata mask as ``valid``: float32 agreement.
    fix = Path(__file__).parent / "fixtures" / "invest" / "sdr_ndr"
    with rasterio.open(fix / "inputs" / "dem.tif") as src:
        dem = src.read(1).astype(np.float64)
    for case, method in (("sdr_mfd", "mfd"), ("sdr_d8", "d8")):
        with rasterio.open(fix / "reference" / case / "intermediate_outputs" / "ls.tif") as src:
            ref = src.read(1)
            ref[ref == src.nodata] = np.nan
        ls = ls_factor(dem, 30.0, method, l_max=122.0, valid=np.isfinite(ref))
        np.testing.assert_allclose(ls, ref, rtol=1e-5, equal_nan=True, err_msg=case)


def test_heap_pops_in_key_then_item_order():
    """The 4-ary heap of the depression filling: pops ascending by key, ties by item, however pushed."""
    from numba import njit

    from gep.routing.packed import _hpop, _hpush, grow

    @njit
    def push_all_pop_all(keys, items):
        heap = np.empty(8, dtype=np.float64)
        size = 0
        for n in range(keys.size):
            if 2 * size == heap.shape[0]:
                heap = grow(heap, 2 * size)
            _hpush(heap, size, keys[n], items[n])
            size += 1
        out = np.empty(size, dtype=np.int64)
        for n in range(out.size):
            out[n], size = _hpop(heap, size)
        return out

    rng = np.random.default_rng(11)
    keys = rng.integers(0, 50, size=3000).astype(np.float64) / 4  # many ties
    items = rng.permutation(3000).astype(np.int64)
    expected = items[np.lexsort((items, keys))]
    assert np.array_equal(push_all_pop_all(keys, items), expected)
