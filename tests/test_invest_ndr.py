"""gep.invest.ndr and the effective-retention recursion: InVEST 3.20 references and hand-worked strips.

References: tests/fixtures/invest/sdr_ndr/reference/ndr_*/ from natcap.invest 3.20.2 (see
benchmarks/make_sdr_ndr_fixtures.py). The runoff proxy of the fixture lies on a 60 m grid and is resampled
onto the 30 m DEM grid, as InVEST does.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from gep.invest import ndr
from gep.problems import GepInputError
from gep.routing.recursions import effective_retention
from invest_helpers import ROUTED_FIXTURES as FIX
from invest_helpers import read_nan as _read
from invest_helpers import routed_args as _args

EAST, WEST = 1 << 0, 1 << 16  # packed single-direction flow (code 0 = E, code 4 = W)
CLASS0 = np.zeros((1, 3), dtype=np.int32)  # every pixel of the strips is class 0 of the tables below
EFF = np.array([0.8], dtype=np.float32)  # retention efficiency of class 0
CRIT = np.array([30.0], dtype=np.float32)  # critical length of class 0 (m)


NDR_RASTERS = [
    "n_surface_export.tif",
    "n_subsurface_export.tif",
    "n_total_export.tif",
    "p_surface_export.tif",
    "stream.tif",
    "intermediate_outputs/effective_retention_n.tif",
    "intermediate_outputs/effective_retention_p.tif",
    "intermediate_outputs/ndr_n.tif",
    "intermediate_outputs/ndr_p.tif",
    "intermediate_outputs/ic_factor.tif",
]


@pytest.mark.parametrize("case", ["ndr_mfd", "ndr_d8"])
def test_ndr_matches_invest_reference(case: str, tmp_path: Path) -> None:
    ndr.run(_args(case), tmp_path)
    ref = FIX / "reference" / case
    for name in NDR_RASTERS:
        a, b = _read(ref / name), _read(tmp_path / name)
        assert a.shape == b.shape == (60, 80), name
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        ok = ~np.isnan(a)
        if np.ptp(a[ok]) > 0:
            assert np.corrcoef(a[ok], b[ok])[0, 1] >= 0.999, name
        np.testing.assert_allclose(b[ok], a[ok], rtol=1e-4, atol=1e-5, err_msg=name)
    want = pyogrio.read_dataframe(ref / "watershed_results_ndr.gpkg")
    got = pyogrio.read_dataframe(tmp_path / "watershed_results_ndr.gpkg")
    fields = [c for c in got.columns if c in ndr.WATERSHED_FIELDS]
    assert fields == list(ndr.WATERSHED_FIELDS)
    assert [c for c in want.columns if c in ndr.WATERSHED_FIELDS] == fields
    for field in fields:
        np.testing.assert_allclose(got[field], want[field], rtol=0.005, err_msg=field)


def test_phosphorus_only(tmp_path: Path) -> None:
    ndr.run(_args("ndr_mfd") | {"calc_n": False}, tmp_path)
    assert (tmp_path / "p_surface_export.tif").exists()
    assert not (tmp_path / "n_total_export.tif").exists()
    got = pyogrio.read_dataframe(tmp_path / "watershed_results_ndr.gpkg")
    assert [c for c in got.columns if c.startswith(("n_", "p_"))] == ["p_surface_load", "p_surface_export"]


def test_no_nutrient_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GepInputError) as info:
        ndr.run(_args("ndr_mfd") | {"calc_n": False, "calc_p": False}, tmp_path)
    assert info.value.problems[0].code == "routed_no_nutrient"


def test_bad_load_type_is_named(tmp_path: Path) -> None:
    table = tmp_path / "bio.csv"
    text = (FIX / "inputs" / "biophysical_ndr.csv").read_text().replace("measured-runoff,11.0", "measured,11.0")
    table.write_text(text)
    with pytest.raises(GepInputError) as info:
        ndr.run(_args("ndr_mfd") | {"biophysical_table_path": str(table)}, tmp_path / "ws")
    problem = info.value.problems[0]
    assert problem.code == "routed_load_type" and problem.params["lucode"] == 5


# --------------------------------------------------------------------------- formulas on hand-worked values
def test_nutrient_table_applies_application_rate() -> None:
    # application-rate: load·(1 - eff) = 10·(1 - 0.8) = 2; measured-runoff: load as is = 3
    df = pd.DataFrame(
        {
            "load_type_n": ["application-rate", "measured-runoff"],
            "load_n": [10.0, 3.0],
            "eff_n": [0.8, 0.5],
            "crit_len_n": [30.0, 60.0],
            "proportion_subsurface_n": [0.25, 0.0],
        },
        index=pd.Index([7, 2], name="lucode"),
    )
    table = ndr.nutrient_table(df, "n", "bio.csv")
    assert list(table.codes) == [2, 7]
    np.testing.assert_allclose(table.load, [3.0, 2.0])
    np.testing.assert_allclose(table.proportion_subsurface, [0.0, 0.25])


def test_runoff_proxy_index_divides_by_the_mean() -> None:
    # mean of 1, 2, 3 = 2 -> 0.5, 1, 1.5; nodata stays nodata; a given mean (4) is used as is
    proxy = np.array([[1.0, 2.0, 3.0, np.nan]], dtype=np.float32)
    np.testing.assert_allclose(ndr.runoff_proxy_index(proxy.copy(), None), [[0.5, 1.0, 1.5, np.nan]])
    np.testing.assert_allclose(ndr.runoff_proxy_index(proxy.copy(), 4.0), [[0.25, 0.5, 0.75, np.nan]])


def test_effective_retention_toward_a_stream() -> None:
    # 1 x 3 strip flowing east into a stream pixel; eff 0.8, crit_len 30 m, 30 m pixels:
    # s = exp(-5·30/30) = exp(-5).
    # R2 = 0 (stream); R1 = 0.8·(1 - s) (downslope pixel retains 0);
    # R0 = R1·s + 0.8·(1 - s) = 0.8·(1 - s)(1 + s) = 0.8·(1 - exp(-10)) = 0.7999637
    fd = np.full((1, 3), EAST, dtype=np.int32)
    stream = np.array([[0, 0, 1]], dtype=np.uint8)
    ret = effective_retention(fd, stream, CLASS0, EFF, CRIT, 30.0, 256)
    s = math.exp(-5.0)
    np.testing.assert_allclose(ret, [[0.8 * (1 - s * s), 0.8 * (1 - s), 0.0]], rtol=1e-6)


def test_effective_retention_reproduces_invest_edge_order() -> None:
    # No stream; flow leaves the grid. Flowing east, the east pixel is the only seed: R2 = 0 (all its flow
    # leaves), then R1 = 0.8(1 - s), R0 = 0.8(1 - s²) as above. Flowing west, InVEST scans west to east and
    # seeds every pixel whose downslope neighbour was already seeded in the tile, then processes the seeds
    # last-in first-out: each one's downslope retention is still undefined, so all three get 0.
    no_stream = np.zeros((1, 3), dtype=np.uint8)
    s = math.exp(-5.0)
    east = effective_retention(np.full((1, 3), EAST, dtype=np.int32), no_stream, CLASS0, EFF, CRIT, 30.0, 256)
    np.testing.assert_allclose(east, [[0.8 * (1 - s * s), 0.8 * (1 - s), 0.0]], rtol=1e-6)
    west = effective_retention(np.full((1, 3), WEST, dtype=np.int32), no_stream, CLASS0, EFF, CRIT, 30.0, 256)
    np.testing.assert_array_equal(west, [[0.0, 0.0, 0.0]])
