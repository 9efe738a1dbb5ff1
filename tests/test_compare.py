"""Several years: comparable prices, change, and its quantity and price effects, by hand."""

import pandas as pd
import pytest
from tests.account_fixture import COLS, ROWS, build, edit_spec, write_raster
from typer.testing import CliRunner

from gep.account import Account
from gep.cli import app
from gep.compare import compare_accounts, gep_series, read_deflators
from gep.engine.run import run_account
from gep.spec import load_spec


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    import numpy as np

    root = tmp_path_factory.mktemp("years")
    dirs = []
    for year, rain, cost in ((2019, 1400.0, 7.06), (2020, 1500.0, 8.0)):
        spec = build(root / f"in{year}")
        write_raster(spec.parent / "precipitation.tif", np.full((ROWS, COLS), rain, dtype=np.float32))
        edit_spec(
            spec,
            lambda raw, y=year, c=cost: (raw["account"].update(year=y), raw.update(parameters={"reservoir_cost": c})),
        )
        parsed, _ = load_spec(spec)
        run_account(parsed, root / f"out{year}", reports=False)
        dirs.append(root / f"out{year}")
    return dirs


DEFLATORS = pd.DataFrame({"year": [2019, 2020], "index": [100.0, 102.0]})


def row(frame, item, region, year):
    hit = frame[(frame["item"] == item) & (frame["region_code"] == region) & (frame["year"] == year)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_quantity_and_price_effects_by_hand(two_years):
    accounts = [Account.load(d) for d in two_years]
    table = compare_accounts(accounts, read_deflators(DEFLATORS))
    r = row(table, "water_conservation", "A", 2020)
    # 2019: (1400 - 42 - 800) mm x 10 = 5580 m3 per pixel x 100 = 558,000 m3 x 7.06 = 3,939,480 yuan
    # 2020: 655,000 m3 x 8.0 = 5,240,000 yuan; change 1,300,520
    assert r["change_yuan"] == pytest.approx(1_300_520.0)
    # quantity effect (655,000 - 558,000) x 7.06 = 684,820; price effect 655,000 x (8 - 7.06) = 615,700
    assert r["quantity_effect_yuan"] == pytest.approx(684_820.0)
    assert r["price_effect_yuan"] == pytest.approx(615_700.0)
    # comparable (2019) prices: 5,240,000 x 100 / 102 = 5,137,254.90
    assert r["value_comparable_yuan"] == pytest.approx(5_240_000 * 100 / 102)
    assert r["change_comparable_yuan"] == pytest.approx(5_240_000 * 100 / 102 - 3_939_480)


def test_effects_add_up_for_every_item_and_gep_series(two_years):
    table = compare_accounts([Account.load(d) for d in two_years], read_deflators(DEFLATORS))
    later = table[table["year"] == 2020]
    total = later["quantity_effect_yuan"] + later["price_effect_yuan"]
    assert total.to_numpy() == pytest.approx(later["change_yuan"].to_numpy())
    series = gep_series(table).set_index(["region_code", "year"])
    assert series.loc[("C", 2020), "gep_yuan"] == pytest.approx(later[later["region_code"] == "C"]["value_yuan"].sum())


def test_deflator_errors():
    with pytest.raises(ValueError, match="columns \\['index'\\] are missing"):
        read_deflators(pd.DataFrame({"year": [2020]}))
    with pytest.raises(ValueError, match="must be positive"):
        read_deflators(pd.DataFrame({"year": [2020], "index": [0.0]}))


def test_compare_cli_writes_tables(two_years, tmp_path):
    deflators = tmp_path / "deflators.csv"
    DEFLATORS.to_csv(deflators, index=False)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        app, ["compare", *map(str, two_years), "--deflators", str(deflators), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out / "comparison.csv", dtype={"region_code": str})
    assert set(written["year"]) == {2019, 2020}
    assert (out / "gep_series.csv").is_file() and (out / "comparison.xlsx").is_file()
