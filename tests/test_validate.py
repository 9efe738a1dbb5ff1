"""`gep validate`: each kind of bad input gives its own message (file, field, value, expected) and a
non-zero exit; a clean spec exits 0."""

import numpy as np
import pytest
from affine import Affine
from tests.account_fixture import COLS, ROWS, build, edit_spec, landcover, write_raster
from typer.testing import CliRunner

from gep.cli import app

runner = CliRunner()


def validate(spec, lang="en"):
    return runner.invoke(app, ["validate", str(spec), "--lang", lang, "--quiet"])


@pytest.fixture()
def spec(tmp_path):
    return build(tmp_path / "acc")


def test_clean_spec_passes(spec):
    result = validate(spec)
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_missing_raster_file(spec):
    edit_spec(spec, lambda raw: raw["layers"]["precipitation"].update(path="nowhere.tif"))
    result = validate(spec)
    assert result.exit_code == 1
    assert "nowhere.tif [precipitation]: file not found" in result.output


def test_negative_rainfall(spec):
    data = np.full((ROWS, COLS), 1500.0, dtype=np.float32)
    data[0, :3] = -5.0
    write_raster(spec.parent / "precipitation.tif", data)
    result = validate(spec)
    assert result.exit_code == 1
    assert "precipitation.tif [precipitation]: 3 pixels below the valid minimum 0" in result.output
    assert "lowest -5" in result.output
    zh = validate(spec, "zh")
    assert "3 个像元低于有效下限 0" in zh.output


def test_class_missing_from_table(spec):
    lc = landcover()
    lc[0, 0] = 7
    write_raster(spec.parent / "landcover.tif", lc, nodata=255)
    result = validate(spec)
    assert result.exit_code == 1
    assert "land-cover classes [7] occur in the land-cover layer but are missing from the class table" in result.output
    assert "landcover_params.csv [class]" in result.output


def test_unit_missing_and_wrong(spec):
    def change(raw):
        del raw["layers"]["evapotranspiration"]["unit"]
        raw["layers"]["precipitation"]["unit"] = "m/a"

    edit_spec(spec, change)
    result = validate(spec)
    assert result.exit_code == 1
    assert '[layers.evapotranspiration]: no unit declared; expected unit = "mm/a"' in result.output
    assert "[layers.precipitation]: unit 'm/a' does not match the unit this layer must have (mm/a)" in result.output


def test_raster_without_crs(spec):
    write_raster(spec.parent / "npp.tif", np.full((ROWS, COLS), 600.0, dtype=np.float32), crs=None)
    result = validate(spec)
    assert result.exit_code == 1
    assert "npp.tif [npp]: the raster has no coordinate reference system" in result.output


def test_region_not_covered_and_nodata_share(spec):
    data = np.full((ROWS, COLS), 200.0, dtype=np.float32)
    data[:, 10:] = np.nan  # county B entirely without data
    data[0, 0] = np.nan  # 1 of county A's 100 pixels: 1 %, under the 5 % warning limit
    write_raster(spec.parent / "nep.tif", data, nodata=float("nan"))
    result = validate(spec)
    assert result.exit_code == 1
    assert "nep.tif [nep]: layer has no data in region B 乙县" in result.output
    # the city is half covered: 50.5 % of its 200 pixels are nodata -> warning, not error
    assert "50.5% of region C 城市 is nodata in this layer" in result.output
    assert "region A" not in result.output


def test_raster_on_another_grid_is_aligned_with_a_warning(spec):
    # precipitation at 50 m instead of 100 m: same values, so alignment must not change them
    fine = np.full((2 * ROWS, 2 * COLS), 1500.0, dtype=np.float32)
    write_raster(spec.parent / "precipitation.tif", fine, transform=Affine(50.0, 0, 500000.0, 0, -50.0, 3100000.0))
    result = validate(spec)
    assert result.exit_code == 0, result.output
    assert (
        "precipitation.tif [precipitation]: raster in EPSG:4549 at 50 was aligned onto the account grid"
        in result.output
    )


def test_unknown_parameter_region_and_class_overrides(spec):
    def change(raw):
        raw["parameters"] = {
            "reservoir_cots": 8.0,
            "regions": {"Z": {"reservoir_cost": 8.0}},
            "classes": {"9": {"runoff_coefficient": 0.1}},
        }

    edit_spec(spec, change)
    result = validate(spec)
    assert result.exit_code == 1
    assert "[parameters.reservoir_cots]: unknown parameter 'reservoir_cots'" in result.output
    assert "[parameters.regions.Z]: region code 'Z' is not in the region file" in result.output
    assert "[parameters.classes.9]: class '9' in [parameters.classes] is not in the class table" in result.output


def test_unknown_profile_and_layer(spec):
    def change(raw):
        raw["account"]["profile"] = "nope"

    edit_spec(spec, change)
    result = validate(spec)
    assert result.exit_code == 1
    assert "unknown method profile 'nope'; expected one of" in result.output and "zj_db33_2274_2020" in result.output


def test_unknown_layer_name(spec):
    edit_spec(spec, lambda raw: raw["layers"].update(rainfal={"path": "precipitation.tif", "unit": "mm/a"}))
    result = validate(spec)
    assert result.exit_code == 1
    assert "[layers.rainfal]: unknown layer name 'rainfal'" in result.output


def test_toml_syntax_and_types(spec):
    spec.write_text("[account]\nyear = \n", encoding="utf-8")
    result = validate(spec)
    assert result.exit_code == 1 and "not valid TOML" in result.output
    spec.write_text('[account]\nyear = "soon"\n[regions]\npath = "regions.gpkg"\n', encoding="utf-8")
    result = validate(spec)
    assert result.exit_code == 1 and "[account.year]" in result.output and "'soon'" in result.output


def test_missing_spec_file(tmp_path):
    result = validate(tmp_path / "none.toml")
    assert (
        result.exit_code == 1 and "none.toml: file not found; expected an existing account spec (TOML)" in result.output
    )


def test_missing_table_column(spec):
    import pandas as pd

    frame = pd.read_csv(spec.parent / "landcover_params.csv").drop(columns=["runoff_coefficient"])
    frame.to_csv(spec.parent / "landcover_params.csv", index=False)
    result = validate(spec)
    assert result.exit_code == 1
    assert "landcover_params.csv [runoff_coefficient]: column 'runoff_coefficient' is missing" in result.output
