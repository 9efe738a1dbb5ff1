"""gep invest carbon: InVEST 3.20 compatibility (committed InVEST outputs) and hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from typer.testing import CliRunner

from gep.invest import MODELS, run_datastack
from gep.invest.carbon import valuation_constant
from gep.invest.cli import app
from gep.invest.datastack import normalize_model_id, read_datastack
from gep.problems import GepInputError
from invest_helpers import FIXTURES, REFERENCE, assert_raster_matches, read, write_raster

RTOL = 1e-6


@pytest.mark.parametrize(
    ("stem", "files"),
    [
        ("carbon", ["c_storage_bas.tif", "c_storage_alt.tif", "c_change_bas_alt.tif", "npv_alt.tif"]),
        ("carbon_bas_only", ["c_storage_bas_bas.tif"]),
    ],
)
def test_matches_invest_reference(tmp_path, stem, files):
    # fixture: 40 x 50 pixels of 30 m x 25 m, a nodata hole, classes 10 and 11 only in the table
    assert run_datastack(FIXTURES / f"{stem}.json", tmp_path) == "carbon"
    for name in files:
        assert_raster_matches(tmp_path / name, REFERENCE / stem / name, RTOL)
    summary = "raster_values_summary.csv" if stem == "carbon" else "raster_values_summary_bas.csv"
    ours = pd.read_csv(tmp_path / summary)
    ref = pd.read_csv(REFERENCE / stem / summary)
    assert list(ours.columns) == list(ref.columns) == ["Raster", "Total", "Units", "Filename"]
    assert ours["Raster"].tolist() == ref["Raster"].tolist()
    assert ours["Units"].tolist() == ref["Units"].tolist()
    assert ours["Filename"].tolist() == ref["Filename"].tolist()
    assert np.allclose(ours["Total"], ref["Total"], rtol=1e-9)
    assert not (tmp_path / "c_storage_alt_bas.tif").exists() or stem == "carbon"


def _tiny_case(tmp_path, lulc_alt_values=None):
    # 2 x 3 pixels of 100 m x 100 m = 1 ha each; 255 = nodata
    write_raster(tmp_path / "bas.tif", [[1, 2, 255], [1, 1, 2]], 255, "uint8")
    write_raster(tmp_path / "alt.tif", lulc_alt_values or [[2, 2, 255], [1, 2, 2]], 255, "uint8")
    (tmp_path / "pools.csv").write_text(
        "LUCODE,C_Above,c_below,c_soil,c_dead\n1,10,5,20,1\n2,2,1,12,0\n3,99,99,99,99\n", encoding="utf-8"
    )


def test_hand_computed_storage_change_and_npv(tmp_path):
    _tiny_case(tmp_path)
    args = {
        "lulc_bas_path": str(tmp_path / "bas.tif"), "lulc_alt_path": str(tmp_path / "alt.tif"),
        "carbon_pools_path": str(tmp_path / "pools.csv"), "calc_sequestration": True, "do_valuation": True,
        "lulc_bas_year": 2020, "lulc_alt_year": 2022, "price_per_metric_ton_of_c": 10.0,
        "discount_rate": 10.0, "rate_change": 0.0,
    }  # fmt: skip
    MODELS["carbon"](args, tmp_path / "ws")
    bas, nodata, _ = read(tmp_path / "ws" / "c_storage_bas.tif")
    # class 1: 10 + 5 + 20 + 1 = 36 Mg C/ha; class 2: 2 + 1 + 12 + 0 = 15 Mg C/ha; nodata -> -1
    assert nodata == -1.0
    assert bas.tolist() == [[36, 15, -1], [36, 36, 15]]
    change, _, _ = read(tmp_path / "ws" / "c_change_bas_alt.tif")
    # alt - bas: [15-36, 15-15, nd], [36-36, 15-36, 15-15]
    assert change.tolist() == [[-21, 0, -1], [0, -21, 0]]
    npv, npv_nodata, _ = read(tmp_path / "ws" / "npv_alt.tif")
    # K = 10 / 2 x (1 + 1/1.1) = 5 x 1.9090909 = 9.5454545 per Mg C; -21 x K = -200.45454
    assert npv_nodata == pytest.approx(3.4028234663852886e38)
    assert npv[0, 0] == pytest.approx(-200.454545, rel=1e-6)
    assert npv[0, 2] == pytest.approx(3.4028234663852886e38)
    summary = pd.read_csv(tmp_path / "ws" / "raster_values_summary.csv").set_index("Raster")["Total"]
    # baseline: 36 + 15 + 36 + 36 + 15 = 138 Mg/ha x 1 ha; alternate 15 + 15 + 36 + 15 + 15 = 96; change -42
    assert summary["Baseline Carbon Storage"] == pytest.approx(138.0)
    assert summary["Alternate Carbon Storage"] == pytest.approx(96.0)
    assert summary["Change in Carbon Storage"] == pytest.approx(-42.0)
    assert summary["Net Present Value of Carbon Change"] == pytest.approx(-42.0 * 9.5454545, rel=1e-6)


def test_valuation_constant_by_hand():
    # no discounting: price 43 x n / n = 43
    assert valuation_constant(2020, 2030, 0.0, 0.0, 43.0) == pytest.approx(43.0)
    # r = 1/(1.05 x 1.0) ; K = 10/3 x (1 + r + r^2) = 3.3333 x 2.8594104 = 9.5313681
    assert valuation_constant(2020, 2023, 5.0, 0.0, 10.0) == pytest.approx(9.5313681, rel=1e-7)


def test_missing_lulc_code_is_a_clear_error(tmp_path):
    _tiny_case(tmp_path, lulc_alt_values=[[2, 7, 255], [1, 2, 2]])
    args = {
        "lulc_bas_path": str(tmp_path / "bas.tif"), "lulc_alt_path": str(tmp_path / "alt.tif"),
        "carbon_pools_path": str(tmp_path / "pools.csv"), "calc_sequestration": True,
    }  # fmt: skip
    with pytest.raises(GepInputError) as info:
        MODELS["carbon"](args, tmp_path / "ws")
    (problem,) = info.value.problems
    assert problem.code == "invest_codes_missing"
    assert "7" in problem.render("en") and "alt.tif" in problem.render("en")


def test_datastack_reading(tmp_path):
    stack = read_datastack(FIXTURES / "carbon.json")
    assert stack.model_id == "carbon"
    assert stack.args["lulc_bas_path"] == str((FIXTURES / "lulc.tif").resolve())
    assert stack.args["calc_sequestration"] is True
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"model_name": "natcap.invest.carbon", "args": {"flag": "False"}}), encoding="utf-8")
    assert read_datastack(old).model_id == "carbon" and read_datastack(old).args["flag"] is False
    assert normalize_model_id("natcap.invest.sdr.sdr") == "sdr"
    assert normalize_model_id("awy") == "annual_water_yield"


def test_cli(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["carbon", str(FIXTURES / "carbon_bas_only.json"), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    with rasterio.open(tmp_path / "c_storage_bas_bas.tif") as src:
        assert src.compression.name.lower() == "lzw" and src.block_shapes == [(256, 256)]
    zstd = tmp_path / "zstd"
    result = runner.invoke(app, ["carbon", str(FIXTURES / "carbon_bas_only.json"), "--out", str(zstd), "-q",
                                 "--compress", "zstd"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert_raster_matches(zstd / "c_storage_bas_bas.tif", REFERENCE / "carbon_bas_only" / "c_storage_bas_bas.tif", 0)
    result = runner.invoke(app, ["sdr", str(FIXTURES / "carbon.json"), "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 1
    assert "carbon" in result.output
