"""`gep demo` end to end on a coarse grid: every county gets a non-zero quantity and value for each
item the demo's inputs support, and the output folder holds a reusable spec."""

import json
import tomllib

import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.cli import app

COUNTIES = {"331102", "331121", "331122", "331123", "331124", "331125", "331126", "331127", "331181"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    out = root / "out"
    args = ["demo", "--out", str(out), "--resolution", "1000", "--quiet", "--lang", "en"]
    result = CliRunner().invoke(app, [*args, "--cache", str(root / "cache")])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_every_county_has_every_supported_item(demo):
    out, _ = demo
    table = pd.read_csv(out / "account.csv", dtype={"region_code": str}, keep_default_na=False)
    main = table[(table["component"] == "") & (table["level"] == "county")]
    assert set(main["region_code"]) == COUNTIES
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    computed = summary["computed_items"]
    regulating = {"water_conservation", "soil_retention", "flood_regulation", "water_purification",
                  "air_purification", "carbon_sequestration", "oxygen_release", "climate_regulation",
                  "negative_air_ions"}
    assert regulating <= set(computed)
    for item in computed:
        rows = main[main["item"] == item]
        assert (rows["physical_quantity"] > 0).all(), (item, rows[["region_code", "physical_quantity"]])
        assert (rows["value_yuan"] > 0).all(), item


def test_outputs_are_labelled_synthetic_and_spec_is_reusable(demo):
    out, output = demo
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["synthetic"] is True
    spec = tomllib.loads((out / "spec.toml").read_text(encoding="utf-8"))
    assert spec["account"]["output"] == "."
    assert all(p.startswith("/") for p in [spec["regions"]["path"], *(v["path"] for v in spec["layers"].values())])
    assert "Lishui GEP demo account (synthetic data)" in output
    assert "丽水市" in output or "Lishui" in output


def test_validate_accepts_the_demo_spec(demo):
    out, _ = demo
    result = CliRunner().invoke(app, ["validate", str(out / "spec.toml"), "--quiet", "--lang", "en"])
    assert result.exit_code == 0, result.output
    # precipitation comes on a 0.01 degree WGS84 grid and must be aligned with a warning
    assert "[precipitation]: raster in EPSG:4326" in result.output
