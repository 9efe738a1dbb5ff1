"""gep invest annual_water_yield: InVEST 3.20 compatibility (committed InVEST outputs) and hand-computed cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from gep.invest import MODELS, run_datastack
from gep.problems import GepInputError
from invest_helpers import CRS, FIXTURES, REFERENCE, assert_raster_matches, assert_table_matches, read, write_raster

RTOL = 1e-4


@pytest.mark.parametrize(
    ("stem", "suffix", "kinds"),
    [("annual_water_yield", "", ("watershed", "subwatershed")), ("annual_water_yield_basic", "_basic", ("watershed",))],
)
def test_matches_invest_reference(tmp_path, stem, suffix, kinds):
    # fixture: 40 x 50 pixels of 30 m x 25 m; precipitation on a 60 m x 50 m grid; watersheds starting 1.4
    # pixels inside the west edge (InVEST clips to 40 x 49); nodata holes; a zero-precipitation pixel
    assert run_datastack(FIXTURES / f"{stem}.json", tmp_path) == "annual_water_yield"
    worst = 0.0
    for name in ("fractp", "aet", "wyield"):
        rel = f"output/per_pixel/{name}{suffix}.tif"
        worst = max(worst, assert_raster_matches(tmp_path / rel, REFERENCE / stem / rel, RTOL))
    assert worst < 1e-5  # float32 rounding only
    for kind in kinds:
        rel = f"output/{kind}_results_wyield{suffix}.csv"
        assert_table_matches(tmp_path / rel, REFERENCE / stem / rel, RTOL)
        ours = gpd.read_file(tmp_path / f"output/{kind}_results_wyield{suffix}.shp")
        ref = gpd.read_file(REFERENCE / stem / f"output/{kind}_results_wyield{suffix}.shp")
        assert list(ours.columns) == list(ref.columns)
        assert np.allclose(ours["wyield_vol"], ref["wyield_vol"], rtol=RTOL)
    assert not (tmp_path / f"output/subwatershed_results_wyield{suffix}.csv").exists() or len(kinds) == 2


def _tiny_inputs(tmp_path, z=5.0, with_tables=True):
    # 2 x 3 pixels of 100 m; classes: 1 vegetated (root 1000 mm, Kc 0.5), 2 urban (Kc 1.2), 3 water (Kc 0.3)
    write_raster(tmp_path / "lulc.tif", [[1, 2, 3], [1, 1, 255]], 255, "uint8")
    write_raster(tmp_path / "precip.tif", [[1000, 1000, 1000], [0, 1000, 1000]], -1, "float32")
    write_raster(tmp_path / "eto.tif", [[1000, 1000, 1000], [1000, 1000, 1000]], -1, "float32")
    write_raster(tmp_path / "soil.tif", [[2000, 2000, 2000], [2000, 2000, 2000]], -1, "float32")
    write_raster(tmp_path / "pawc.tif", [[0.1, 0.1, 0.1], [0.1, 0.5, 0.1]], -1, "float32")
    (tmp_path / "bio.csv").write_text(
        "lucode,LULC_veg,root_depth,Kc\n1,1,1000,0.5\n2,0,1,1.2\n3,0,1,0.3\n9,1,500,0.9\n", encoding="utf-8"
    )
    (tmp_path / "demand.csv").write_text("lucode,demand\n1,0\n2,10\n3,4\n9,1\n", encoding="utf-8")
    # one watershed over the 2 x 2 western pixels (4 ha = 40000 m2), one over the eastern column
    x0, y0 = 500_000.0, 3_000_000.0
    gpd.GeoDataFrame(
        {"ws_id": [1, 2]}, geometry=[box(x0, y0 - 200, x0 + 200, y0), box(x0 + 200, y0 - 200, x0 + 300, y0)], crs=CRS
    ).to_file(tmp_path / "ws.gpkg")
    args = {
        "lulc_path": str(tmp_path / "lulc.tif"), "precipitation_path": str(tmp_path / "precip.tif"),
        "eto_path": str(tmp_path / "eto.tif"), "depth_to_root_rest_layer_path": str(tmp_path / "soil.tif"),
        "pawc_path": str(tmp_path / "pawc.tif"), "watersheds_path": str(tmp_path / "ws.gpkg"),
        "biophysical_table_path": str(tmp_path / "bio.csv"), "seasonality_constant": z,
    }  # fmt: skip
    if with_tables:
        args["demand_table_path"] = str(tmp_path / "demand.csv")
    return args


def test_hand_computed_budyko(tmp_path):
    MODELS["annual_water_yield"](_tiny_inputs(tmp_path), tmp_path / "ws")
    fractp, nodata, _ = read(tmp_path / "ws/output/per_pixel/fractp.tif")
    wyield, _, _ = read(tmp_path / "ws/output/per_pixel/wyield.tif")
    assert nodata == -1.0
    # (0,0) vegetated: PET = 0.5 x 1000 = 500; AWC = min(1000, 2000) x 0.1 = 100 mm; w = 100/1000 x 5 + 1.25 = 1.75
    #   fractp = 1 + 0.5 - (1 + 0.5^1.75)^(1/1.75) = 1.5 - 1.297302^0.571429 = 1.5 - 1.160366 = 0.339634
    assert fractp[0, 0] == pytest.approx(0.339634, abs=2e-6)
    assert wyield[0, 0] == pytest.approx(1000 * (1 - 0.339634), abs=2e-3)
    # (0,1) urban: PET = 1.2 x 1000 = 1200 > P = 1000 -> fractp = 1000/1000 = 1, wyield 0
    assert fractp[0, 1] == pytest.approx(1.0) and wyield[0, 1] == pytest.approx(0.0)
    # (0,2) water: PET = 300 -> fractp 0.3, wyield 700
    assert fractp[0, 2] == pytest.approx(0.3) and wyield[0, 2] == pytest.approx(700.0)
    # (1,0) P = 0 -> nodata (InVEST rule); (1,2) LULC nodata -> nodata
    assert fractp[1, 0] == -1.0 and fractp[1, 2] == -1.0 and wyield[1, 0] == -1.0
    # (1,1) AWC = 1000 x 0.5 = 500; w = 500/1000 x 5 + 1.25 = 3.75
    #   fractp = 1.5 - (1 + 0.5^3.75)^(1/3.75) = 1.5 - 1.074325^0.266667 = 1.5 - 1.019302 = 0.480698
    assert fractp[1, 1] == pytest.approx(0.480698, abs=2e-6)

    table = pd.read_csv(tmp_path / "ws/output/watershed_results_wyield.csv").set_index("ws_id")
    # watershed 1 = pixels (0,0) (0,1) (1,0) (1,1); precip valid on all four (0 is a value): mean 750
    assert table.at[1, "precip_mn"] == pytest.approx(750.0)
    # PET: 500, 1200, 500, 500 -> 675
    assert table.at[1, "PET_mn"] == pytest.approx(675.0)
    # wyield on the 3 valid pixels: 660.366 + 0 + 519.302 -> mean 393.2227; volume x 40000 m2 / 1000
    wy_mn = (1000 * (1 - 0.339634) + 0 + 1000 * (1 - 0.480698)) / 3
    assert table.at[1, "wyield_mn"] == pytest.approx(wy_mn, rel=1e-5)
    assert table.at[1, "wyield_vol"] == pytest.approx(wy_mn * 40.0, rel=1e-5)
    # demand (m3/pixel): 0 + 10 + 0 + 0 = 10 -> consum_vol 10, consum_mn 2.5
    assert table.at[1, "consum_vol"] == pytest.approx(10.0)
    assert table.at[1, "consum_mn"] == pytest.approx(2.5)
    assert table.at[1, "rsupply_vl"] == pytest.approx(wy_mn * 40.0 - 10.0, rel=1e-5)
    # watershed 2 = pixels (0,2) and (1,2, LULC nodata): wyield 700 only; area 2 ha = 20000 m2
    assert table.at[2, "wyield_mn"] == pytest.approx(700.0)
    assert table.at[2, "wyield_vol"] == pytest.approx(700.0 * 20.0)
    assert list(table.columns[:5]) == ["precip_mn", "PET_mn", "AET_mn", "wyield_mn", "wyield_vol"]


def test_climate_w_is_capped_at_5(tmp_path):
    args = _tiny_inputs(tmp_path, z=30.0, with_tables=False)
    MODELS["annual_water_yield"](args, tmp_path / "ws")
    fractp, _, _ = read(tmp_path / "ws/output/per_pixel/fractp.tif")
    # (0,0): w = 100/1000 x 30 + 1.25 = 4.25 (not capped): 1.5 - (1 + 0.5^4.25)^(1/4.25)
    #   0.5^4.25 = 0.052556; 1.052556^0.235294 = 1.012125 -> 0.487875
    assert fractp[0, 0] == pytest.approx(0.487875, abs=3e-6)
    # (1,1): w = 500/1000 x 30 + 1.25 = 16.25 -> 5: 1.5 - (1 + 0.03125)^0.2 = 1.5 - 1.006173 = 0.493827
    assert fractp[1, 1] == pytest.approx(0.493827, abs=3e-6)
    assert not (tmp_path / "ws/output/subwatershed_results_wyield.csv").exists()


def test_missing_code_in_demand_table(tmp_path):
    args = _tiny_inputs(tmp_path)
    (tmp_path / "demand.csv").write_text("lucode,demand\n1,0\n3,4\n", encoding="utf-8")
    with pytest.raises(GepInputError) as info:
        MODELS["annual_water_yield"](args, tmp_path / "ws")
    (problem,) = info.value.problems
    assert problem.code == "invest_codes_missing"
    assert problem.params["values"] == "2" and problem.params["table"] == "Demand"


def test_missing_column_names_the_column(tmp_path):
    args = _tiny_inputs(tmp_path)
    (tmp_path / "bio.csv").write_text("lucode,LULC_veg,Kc\n1,1,0.5\n2,0,1.2\n3,0,0.3\n", encoding="utf-8")
    with pytest.raises(GepInputError) as info:
        MODELS["annual_water_yield"](args, tmp_path / "ws")
    assert [p.field for p in info.value.problems] == ["root_depth"]
