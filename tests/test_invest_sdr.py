"""gep.invest.sdr and its routing kernels: InVEST 3.20 reference outputs and hand-worked tiny grids.

The reference outputs under tests/fixtures/invest/sdr_ndr/reference/ were made by natcap.invest 3.20.2
(pygeoprocessing 2.4.11) with benchmarks/make_sdr_ndr_fixtures.py; InVEST is not needed to run these tests.
The fixture grid is 60 x 80 (rows != cols) with a DEM nodata hole, a separate LULC hole, pits, a flat, a
watershed layer that leaves a corner uncovered, and table classes (6, 9) absent from the landscape.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from gep.invest import sdr
from gep.problems import GepInputError
from gep.routing import packed as pk
from gep.routing.distance import distance_to_channel
from gep.routing.recursions import sediment_deposition
from invest_helpers import ROUTED_FIXTURES as FIX
from invest_helpers import read_nan as _read
from invest_helpers import routed_args as _args

E, SE, S = 0, 7, 6  # pygeoprocessing direction codes


def _packed(codes_to_q: dict[int, int]) -> int:
    return sum(q << (4 * k) for k, q in codes_to_q.items())


# --------------------------------------------------------------------------- agreement with InVEST 3.20
SDR_RASTERS = [
    "rkls.tif",
    "usle.tif",
    "sed_export.tif",
    "sed_deposition.tif",
    "avoided_erosion.tif",
    "avoided_export.tif",
    "stream.tif",
    "intermediate_outputs/sdr_factor.tif",
]


@pytest.mark.parametrize("case", ["sdr_mfd", "sdr_d8"])
def test_sdr_matches_invest_reference(case: str, tmp_path: Path) -> None:
    sdr.run(_args(case), tmp_path)
    ref = FIX / "reference" / case
    names = SDR_RASTERS + (["stream_and_drainage.tif"] if case == "sdr_d8" else [])
    for name in names:
        a, b = _read(ref / name), _read(tmp_path / name)
        assert a.shape == b.shape == (60, 80), name
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        ok = ~np.isnan(a)
        if np.ptp(a[ok]) > 0:
            assert np.corrcoef(a[ok], b[ok])[0, 1] >= 0.999, name
        # float32 outputs: agree to float32 rounding
        np.testing.assert_allclose(b[ok], a[ok], rtol=1e-4, atol=1e-3, err_msg=name)
    want = pyogrio.read_dataframe(ref / "watershed_results_sdr.shp")
    got = pyogrio.read_dataframe(tmp_path / "watershed_results_sdr.shp")
    assert list(got["ws_id"]) == list(want["ws_id"]) == [1, 2]
    for field in sdr.WATERSHED_FIELDS:
        np.testing.assert_allclose(got[field], want[field], rtol=0.005, err_msg=field)


def test_results_suffix_and_intermediates(tmp_path: Path) -> None:
    args = _args("sdr_mfd") | {"results_suffix": "v2", "write_intermediates": True}
    sdr.run(args, tmp_path)
    assert (tmp_path / "sed_export_v2.tif").exists()
    assert (tmp_path / "watershed_results_sdr_v2.shp").exists()
    assert (tmp_path / "intermediate_outputs" / "d_dn_v2.tif").exists()
    ls_ref = _read(FIX / "reference" / "sdr_mfd" / "intermediate_outputs" / "ls.tif")
    ls = _read(tmp_path / "intermediate_outputs" / "ls_v2.tif")
    np.testing.assert_allclose(ls, ls_ref, rtol=1e-5, equal_nan=True)


def test_lulc_code_missing_from_table_is_named(tmp_path: Path) -> None:
    table = tmp_path / "bio.csv"
    lines = (FIX / "inputs" / "biophysical_sdr.csv").read_text().splitlines()
    table.write_text("\n".join(line for line in lines if not line.startswith("8,")) + "\n")
    with pytest.raises(GepInputError) as info:
        sdr.run(_args("sdr_mfd") | {"biophysical_table_path": str(table)}, tmp_path / "ws")
    assert info.value.problems[0].code == "routed_lulc_missing"
    assert "8" in info.value.render("en")


def test_missing_input_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GepInputError) as info:
        sdr.run(_args("sdr_mfd") | {"erosivity_path": str(tmp_path / "nope.tif")}, tmp_path / "ws")
    assert info.value.problems[0].field == "erosivity_path"


# --------------------------------------------------------------------------- kernels on hand-worked grids
def test_fill_pits_raises_pit_to_its_spill_point() -> None:
    # 3 x 4 grid; the pit at (1, 1) (z = 1) is enclosed by 5s except (1, 2) = 4 whose lowest way out is
    # (1, 3) = 3 on the edge: the pit fills to 4, the spill pixel keeps 4, everything else is unchanged.
    dem = np.array([[5, 5, 5, 5], [5, 1, 4, 3], [5, 5, 5, 5]], dtype=np.float32)
    filled = pk.fill_pits(dem, np.ones(dem.shape, bool))
    expect = dem.copy()
    expect[1, 1] = 4
    np.testing.assert_array_equal(filled, expect)


def test_fill_pits_drains_into_nodata_hole() -> None:
    # same pit, but its neighbour (0, 1) is nodata: pixels next to nodata drain, so nothing is filled
    dem = np.array([[5, 5, 5, 5], [5, 1, 4, 3], [5, 5, 5, 5]], dtype=np.float32)
    valid = np.ones(dem.shape, bool)
    valid[0, 1] = False
    filled = pk.fill_pits(dem, valid)
    np.testing.assert_array_equal(filled[valid], dem[valid])


def test_slope_percent_of_a_plane_including_edges() -> None:
    # z = 2 m per column, 10 m pixels: dz/dx = 2 / 10 = 0.2 -> 20 % everywhere (edges use one-sided rows)
    dem = np.tile(np.arange(5, dtype=np.float32) * 2, (4, 1))
    slope = pk.slope_percent(dem, np.ones(dem.shape, bool), 10.0)
    np.testing.assert_allclose(slope, 20.0, rtol=1e-6)


def test_mfd_weights_are_slope_proportional_4bit() -> None:
    # centre 10; E neighbour 9 (drop 1), S neighbour 8 (drop 2), the rest 20:
    # weights 1 : 2 -> q_E = int(0.5 + 15·1/3) = 5, q_S = int(0.5 + 15·2/3) = 10
    dem = np.full((3, 3), 20.0, dtype=np.float32)
    dem[1, 1], dem[1, 2], dem[2, 1] = 10, 9, 8
    fd = pk.flow_dir_mfd(dem, np.ones(dem.shape, bool))
    assert fd[1, 1] == _packed({E: 5, S: 10})


def test_d8_flat_drains_toward_its_outlet() -> None:
    # a 1 x 4 flat at 5 m with a lower pixel (3 m) at its east end: every flat pixel points east
    dem = np.array([[5, 5, 5, 3]], dtype=np.float32)
    fd = pk.flow_dir_d8(dem, np.ones(dem.shape, bool), 256)
    assert list(fd[0, :3]) == [1 << (4 * E)] * 3


def test_topological_order_and_accumulation() -> None:
    # 1 x 3 strip flowing east: accumulation 1, 2, 3 (pixels including themselves); weights 2, 3, 4 give
    # 2, 2 + 3 = 5, 5 + 4 = 9
    fd = np.full((1, 3), 1 << (4 * E), dtype=np.int32)
    order = pk.topological_order(fd)
    assert list(order) == [0, 1, 2]
    np.testing.assert_array_equal(pk.accumulate_ones(fd, order), [[1, 2, 3]])
    w = np.array([[2, 3, 4]], dtype=np.float32)
    np.testing.assert_array_equal(pk.accumulate(fd, order, w), [[2, 5, 9]])


def test_d8_streams_use_strict_threshold() -> None:
    # InVEST's D8 streams are flow accumulation > threshold: 3 > 3 is not a stream
    acc = np.array([[1.0, 3.0, 4.0, np.nan]])
    np.testing.assert_array_equal(pk.extract_streams_d8(acc, 3.0), [[0, 0, 1, 255]])


def test_distance_to_channel_mfd_and_d8() -> None:
    # pixel (0, 0) sends q = 10 east to channel (0, 1) and q = 5 south-east to channel (1, 1).
    fd = np.zeros((2, 2), dtype=np.int32)
    fd[0, 0] = _packed({E: 10, SE: 5})
    fd[0, 1] = fd[1, 1] = _packed({E: 15})  # channels flow off the grid
    channel = np.array([[0, 1], [255, 1]], dtype=np.uint8)
    order = pk.topological_order(fd)
    none = np.zeros((1, 1), dtype=np.float32)
    # unweighted: (10·1 + 5·sqrt 2) / 15 = (10 + 7.0711) / 15 = 1.13807
    d = distance_to_channel(fd, order, channel, none, False, False)
    assert d[0, 0] == pytest.approx((10 + 5 * math.sqrt(2)) / 15)
    assert d[0, 1] == 0 and math.isnan(d[1, 0])
    # MFD weights taken at the downstream pixel: (10·(2 + 0) + 5·(4 + 0)) / 15 = 40 / 15 = 2.6667
    w = np.array([[3, 2], [0, 4]], dtype=np.float32)
    assert distance_to_channel(fd, order, channel, w, True, False)[0, 0] == pytest.approx(40 / 15)
    # D8 (pygeoprocessing's distance_to_channel_d8) takes the weight of the pixel itself: 3 + 0 = 3
    fd8 = fd.copy()
    fd8[0, 0] = _packed({E: 1})
    assert distance_to_channel(fd8, pk.topological_order(fd8), channel, w, True, True)[0, 0] == 3


def test_sediment_deposition_on_a_strip() -> None:
    # 1 x 4 strip flowing east into a stream pixel (SDR 1, E' 0); SDR 0.2, 0.3, 0.6; E' 8, 7, 2.
    # col 0: no inflow: t = 0, f = 8.
    # col 1: F = 8, downslope SDR 0.6: dt = (0.6 - 0.3)/(1 - 0.3) = 3/7; t = 24/7 = 3.428571,
    #        f = (4/7)·8 + 7 = 11.571429.
    # col 2: F = 11.571429, downslope SDR 1 -> dt = (1 - 0.6)/(1 - 0.6) = 1: t = 11.571429, f = 0 + 2 = 2.
    # col 3 (stream, SDR 1): dt = 1: t = 2, f = 0.
    fd = np.full((1, 4), 1 << (4 * E), dtype=np.int32)
    order = pk.topological_order(fd)
    sdr_ = np.array([[0.2, 0.3, 0.6, 1.0]])
    e_prime = np.array([[8.0, 7.0, 2.0, 0.0]])
    dep, flux = sediment_deposition(fd, order, e_prime, sdr_)
    np.testing.assert_allclose(dep, [[0, 24 / 7, 81 / 7, 2]], rtol=1e-6)
    np.testing.assert_allclose(flux, [[8, 81 / 7, 2, 0]], rtol=1e-6)
