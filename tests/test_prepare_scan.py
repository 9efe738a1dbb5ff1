"""The one-pass layer checks of gep.inputs.prepare: region pixel counts, nodata gaps per region,
range counts and extremes, land-cover classes present; and the order of problems when layers are
read on threads. Numbers are worked by hand on tiny grids."""

import numpy as np
from tests.account_fixture import COLS, ROWS, build, write_raster

from gep.inputs.prepare import (
    _present_classes,
    _RegionCoverage,
    _scan_categorical,
    _scan_continuous,
    prepare_inputs,
)
from gep.spec import load_spec
from gep.zonal import RegionIndex

# A 3 × 4 grid: city C (unit 0) with counties A (unit 1) and B (unit 2); -1 is outside.
#   row 0:  1  1  2  2
#   row 1:  1  0  2 -1
#   row 2: -1 -1  2  2
UNITS = np.array([[1, 1, 2, 2], [1, 0, 2, -1], [-1, -1, 2, 2]], dtype=np.int32)
CODES = ("C", "A", "B")
PARENTS = (None, "C", "C")


def coverage() -> _RegionCoverage:
    index = RegionIndex(UNITS, CODES, PARENTS, {"C": (0, 1, 2), "A": (1,), "B": (2,)}, {})
    return _RegionCoverage.of(index)


def test_region_pixel_counts_include_descendants():
    # own pixels: C 1, A 3, B 5; C with its counties: 1 + 3 + 5 = 9
    assert coverage().pixels == {"C": 9, "A": 3, "B": 5}


def test_continuous_scan_counts_inside_pixels_only():
    values = np.array(
        [
            [5.0, np.nan, -2.0, 7.0],
            [np.nan, 3.0, 12.0, -50.0],  # -50 lies outside every region: not counted
            [np.nan, np.nan, np.nan, 1.0],  # the first two are outside, the third is B's
        ]
    )
    missing, valid, below, above, lowest, highest = _scan_continuous(values.ravel(), UNITS.ravel(), 3, 0.0, 10.0)
    # NaN inside: A has (0,1) and (1,0) = 2; B has (2,2) = 1; C's own pixel is 3.0
    assert missing.tolist() == [0, 2, 1]
    # valid inside: 5, -2, 7, 3, 12, 1 = 6 pixels; below 0: -2 (1); above 10: 12 (1)
    assert (valid, below, above) == (6, 1, 1)
    assert (lowest, highest) == (-2.0, 12.0)
    # gaps per region: A 2, B 1, C 0 + 2 + 1 = 3 (of 9 pixels)
    assert coverage().region_totals(missing) == {"C": 3, "A": 2, "B": 1}


def test_continuous_scan_without_limits_or_values():
    values = np.full(UNITS.shape, np.nan)
    missing, valid, below, above, lowest, highest = _scan_continuous(
        values.ravel(), UNITS.ravel(), 3, -np.inf, np.inf
    )
    assert missing.tolist() == [1, 3, 5] and (valid, below, above) == (0, 0, 0)
    assert np.isnan(lowest) and np.isnan(highest)


def test_categorical_scan_and_present_classes():
    classes = np.array([[3, -1, 7, 7], [3, 250, -1, 9], [-1, 5, 3, -1]], dtype=np.int32)
    # codes < 0 inside: (0,1) A, (1,2) B, (2,3) B -> A 1, B 2; (2,0) is outside
    assert _scan_categorical(classes.ravel(), UNITS.ravel(), 3).tolist() == [0, 1, 2]
    # inside and >= 0: 3, 7, 7, 3, 250, 3 (9 at (1,3) and 5 at (2,1) are outside)
    assert _present_classes(classes, UNITS).tolist() == [3, 7, 250]
    assert _present_classes(np.full(UNITS.shape, -1, dtype=np.int32), UNITS).tolist() == []


def test_present_classes_match_unique_for_large_codes_and_uint8():
    rng = np.random.default_rng(1)
    units = rng.integers(-1, 3, size=(40, 50)).astype(np.int32)
    for codes in (
        rng.integers(-1, 30, size=(40, 50)).astype(np.int32),
        np.where(rng.random((40, 50)) < 0.5, 1 << 30, 4).astype(np.int32),  # over the histogram limit
        rng.integers(0, 256, size=(40, 50)).astype(np.uint8),
    ):
        expected = np.unique(codes[(units >= 0) & (codes >= 0)])
        assert _present_classes(codes, units).tolist() == expected.tolist()


def test_problems_keep_layer_order_with_threaded_reads(tmp_path):
    spec_path = build(tmp_path / "acc")
    npp = np.full((ROWS, COLS), 600.0, dtype=np.float32)
    npp[0, 0] = -1.0
    npp[:, 10:] = np.nan  # county B without data: error; city C 50 % nodata: warning
    write_raster(spec_path.parent / "npp.tif", npp, nodata=float("nan"))
    rain = np.full((ROWS, COLS), 1500.0, dtype=np.float32)
    rain[1, :2] = -3.0
    write_raster(spec_path.parent / "precipitation.tif", rain)
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    prepared = prepare_inputs(spec)
    found = [(p.code, p.field, dict(p.params)) for p in prepared.problems if p.severity in ("error", "warning")]
    npp_problems = [f for f in found if f[1] == "npp"]
    # npp: 1 pixel below 0 (lowest -1); then regions in tree order: city C 100 of 200 pixels
    # nodata = 50 % (warning), county B not covered (error)
    assert [f[0] for f in npp_problems] == ["raster_below_min", "region_nodata_share", "region_not_covered"]
    assert npp_problems[0][2]["count"] == 1 and npp_problems[0][2]["value"] == -1.0
    assert npp_problems[1][2]["region"] == "C" and npp_problems[1][2]["share"] == 0.5
    assert npp_problems[2][2]["region"] == "B"
    # layers are checked in name order: every npp problem comes before precipitation's
    codes = [f[1] for f in found if f[1] in ("npp", "precipitation")]
    assert codes == ["npp"] * 3 + ["precipitation"]
    rain_problem = next(f for f in found if f[1] == "precipitation")
    assert rain_problem[0] == "raster_below_min" and rain_problem[2]["count"] == 2
    assert rain_problem[2]["value"] == -3.0
