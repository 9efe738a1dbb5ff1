"""The lishui-demo input generator: completeness, determinism and plausibility of what it writes.

Built once at a coarse 2,000 m resolution (about 86 x 86 pixels) so the module runs in about a second.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from pyproj import Geod
from shapely.geometry import Point, shape

from gep.demo import tables as T
from gep.demo.build import build_demo_inputs

RES = 2000.0
COUNTY_CODES = {"331102", "331121", "331122", "331123", "331124", "331125", "331126", "331127", "331181"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    calls: list[tuple[str, float]] = []
    folder = tmp_path_factory.mktemp("demo-a")
    inputs = build_demo_inputs(folder, RES, year=2020, progress=lambda s, f: calls.append((s, f)))
    return inputs, calls


def _read(path: Path) -> tuple[np.ndarray, rasterio.DatasetReader]:
    with rasterio.open(path) as src:
        return src.read(1), src


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"region_code": str})


def test_folder_contains_everything_the_spec_names(built):
    inputs, _ = built
    spec = tomllib.loads(inputs.spec_path.read_text(encoding="utf-8"))
    account = spec["account"]
    assert account["crs"] == "EPSG:4549"
    assert account["resolution"] == RES
    assert account["profile"] == "zj_db33_2274_2020"
    assert account["synthetic"] is True
    assert account["year"] == 2020
    base = inputs.spec_path.parent
    assert (base / spec["regions"]["path"]).is_file()
    assert all((base / z["path"]).is_file() for z in spec["zones"])
    expected_layers = {
        "dem",
        "landcover",
        "precipitation",
        "evapotranspiration",
        "rainfall_erosivity",
        "soil_erodibility",
        "npp",
        "nep",
        "storm_rainfall",
        "water_evaporation",
        "hot_days",
        "negative_ions",
    }
    assert set(spec["layers"]) == expected_layers
    for layer in spec["layers"].values():
        assert (base / layer["path"]).is_file()
        assert layer["unit"]
    assert set(spec["tables"]) == {"landcover_params", "reservoirs", "lakes", "pollutant_loads", "statistics"}
    for table in spec["tables"].values():
        assert (base / table["path"]).is_file()
    # the returned paths agree with the spec
    assert {k: p.name for k, p in inputs.layers.items()} == {k: v["path"] for k, v in spec["layers"].items()}
    # no temporary files left behind
    assert not [p for p in base.iterdir() if p.name.endswith(".tmp")]
    meta = json.loads((base / "metadata.json").read_text(encoding="utf-8"))["files"]
    for p in base.iterdir():
        if p.name != "metadata.json":
            assert p.name in meta
            assert isinstance(meta[p.name]["synthetic"], bool)
    assert meta["regions.geojson"]["synthetic"] is False
    assert meta["dem.tif"]["synthetic"] is True


def test_progress_called_per_file(built):
    _, calls = built
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    names = [s for s, _ in calls]
    assert "dem.tif" in names and "spec.toml" in names and "precipitation.tif" in names


def test_build_is_deterministic(built, tmp_path):
    inputs, _ = built
    again = build_demo_inputs(tmp_path / "b", RES, year=2020)
    first = sorted(p.name for p in inputs.directory.iterdir())
    assert first == sorted(p.name for p in again.directory.iterdir())
    for name in first:
        assert (inputs.directory / name).read_bytes() == (again.directory / name).read_bytes(), name


def test_rasters_are_tagged_tiled_and_on_the_right_grids(built):
    inputs, _ = built
    for name, path in inputs.layers.items():
        with rasterio.open(path) as src:
            tags = src.tags()
            assert tags["SYNTHETIC"] == "yes", name
            assert tags["SOURCE"].startswith("gep lishui-demo generator v")
            assert tags["UNIT"] and tags["DESCRIPTION"]
            assert src.compression.value.lower() == "deflate"
            assert src.profile["tiled"]
            if name == "precipitation":
                assert src.crs.to_epsg() == 4326
                assert src.res == pytest.approx((0.01, 0.01))
            else:
                assert src.crs.to_epsg() == 4549
                assert src.res == (RES, RES)
            if name == "landcover":
                assert src.dtypes[0] == "uint8" and src.nodata == 255
            else:
                assert src.dtypes[0] == "float32" and math.isnan(src.nodata)


def test_precipitation_grid_covers_the_city_with_margin(built):
    inputs, _ = built
    with rasterio.open(inputs.layers["precipitation"]) as src:
        left, bottom, right, top = src.bounds
        values = src.read(1)
    # city bbox 118.696-120.433 E, 27.425-28.953 N (boundary README) plus 0.1 degree
    assert left <= 118.596 and right >= 120.533 and bottom <= 27.325 and top >= 29.053
    assert np.isfinite(values).all()
    assert values.min() >= 1400.0 and values.max() <= 2100.0


def test_valid_pixels_match_the_city_area(built):
    inputs, _ = built
    lc, _ = _read(inputs.layers["landcover"])
    # 17,248 km² of counties / 4 km² per 2,000 m pixel = 4,312 pixels; allow 3 % for edge pixels
    valid = int((lc != 255).sum())
    assert abs(valid - 4312) < 0.03 * 4312
    dem, _ = _read(inputs.layers["dem"])
    assert np.array_equal(np.isfinite(dem), lc != 255)


def test_landcover_shares_and_table(built):
    inputs, _ = built
    lc, _ = _read(inputs.layers["landcover"])
    valid = lc[lc != 255]
    forest = np.isin(valid, T.FOREST_CLASSES).mean()
    assert 0.70 <= forest <= 0.90
    cropland = np.isin(valid, (T.PADDY, T.DRYLAND)).mean()
    assert 0.03 <= cropland <= 0.20
    params = _csv(inputs.tables["landcover_params"])
    assert list(params.columns) == [*T.LANDCOVER_COLUMNS, "source"]
    assert set(np.unique(valid)) <= set(params["class"])
    assert set(params["ecosystem"]) <= {"forest", "shrub", "grassland", "wetland", "cropland", "water", "urban", "bare"}
    assert (params["source"].str.len() > 0).all()


def test_dem_range(built):
    inputs, _ = built
    dem, _ = _read(inputs.layers["dem"])
    assert np.nanmin(dem) >= 0.0
    assert np.nanmax(dem) <= 2000.0
    assert np.nanmax(dem) > 1500.0


def test_other_layers_are_plausible(built):
    inputs, _ = built
    et, _ = _read(inputs.layers["evapotranspiration"])
    assert 700.0 <= np.nanmean(et) <= 900.0
    r, _ = _read(inputs.layers["rainfall_erosivity"])
    assert 4000.0 <= np.nanmean(r) <= 8000.0
    ions, _ = _read(inputs.layers["negative_ions"])
    assert np.nanmin(ions) >= 500.0 and np.nanmax(ions) <= 5000.0
    hot, _ = _read(inputs.layers["hot_days"])
    assert np.nanmin(hot) >= 0.0 and np.nanmax(hot) <= 366.0


def test_reservoirs_in_every_county_and_inside_it(built):
    inputs, _ = built
    res = _csv(inputs.tables["reservoirs"])
    assert set(res["region_code"]) == COUNTY_CODES
    regions = json.loads(inputs.regions_path.read_text(encoding="utf-8"))
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in regions["features"]}
    for row in res.itertuples():
        assert shapes[row.region_code].contains(Point(row.lon, row.lat)), row.name
    big = res.set_index("name")["total_capacity_m3"]
    # 13.93 亿m³ and 41.9 亿m³ (1 亿 = 1e8)
    assert big["紧水滩水库"] == pytest.approx(1.393e9)
    assert big["滩坑水库"] == pytest.approx(4.19e9)
    assert res.set_index("name").loc["紧水滩水库", "source"].startswith("unverified")
    lakes = _csv(inputs.tables["lakes"])
    assert len(lakes) == 0 and "area_km2" in lakes.columns


def test_county_statistics_sum_to_city(built):
    inputs, _ = built
    stats = _csv(inputs.tables["statistics"]).set_index("region_code")
    assert set(stats.index) == COUNTY_CODES | {"331100"}
    value_columns = [c for c in stats.columns if c not in ("year", "source")]
    counties = stats.loc[sorted(COUNTY_CODES), value_columns].sum()
    assert (counties == stats.loc["331100", value_columns]).all()
    assert stats.loc["331100", "gdp_yuan"] == 154_000_000_000  # 1,540 亿元 illustrative total
    assert (stats["year"] == 2020).all()
    assert stats["source"].str.contains("synthetic").all()


def test_pollutant_loads_cover_every_county_and_pollutant(built):
    inputs, _ = built
    loads = _csv(inputs.tables["pollutant_loads"])
    assert len(loads) == 9 * 6
    assert set(loads["pollutant"]) == {"cod", "nh3n", "tp", "so2", "nox", "dust"}
    assert (loads["load_t"] > 0).all()


def test_csv_files_start_with_bom(built):
    inputs, _ = built
    for path in inputs.tables.values():
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf", path.name


def test_regions_and_zones(built):
    inputs, _ = built
    regions = json.loads(inputs.regions_path.read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in regions]
    assert props[0] == {"code": "331100", "name": "丽水市", "name_en": "Lishui", "level": "city", "parent": ""}
    counties = props[1:]
    assert {p["code"] for p in counties} == COUNTY_CODES
    assert all(p["level"] == "county" and p["parent"] == "331100" for p in counties)
    zones = json.loads(inputs.zones_path.read_text(encoding="utf-8"))["features"]
    assert sorted(z["properties"]["kind"] for z in zones) == ["national_park", "water_source"]
    assert all("synthetic" in z["properties"]["note"] for z in zones)
    park = next(z for z in zones if z["properties"]["kind"] == "national_park")
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(shape(park["geometry"]))[0]) / 1e6
    assert 400.0 < area_km2 < 600.0  # brief: about 500 km²


def test_split_is_exact():
    # 10 into three equal parts: 3.33 each, one leftover unit goes to the first -> 4, 3, 3
    assert T._split(10, [1, 1, 1]) == [4, 3, 3]
    # 100 in ratio 1:3 -> 25, 75
    assert T._split(100, [1, 3]) == [25, 75]


def test_rejects_bad_resolution(tmp_path):
    with pytest.raises(ValueError):
        build_demo_inputs(tmp_path, 0.0)
