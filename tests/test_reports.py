"""Reports of the two-county fixture account: workbook, HTML, GEP density COG and PNG previews.

Fixture (tests/account_fixture.py): 100 m pixels (1 ha each); county A = columns 0-9 (100 forest
pixels), county B = columns 10-19 (96 forest + 4 water pixels); city C = A + B. Water conservation
on a forest pixel: (P − P × α − ET) = 1500 − 1500 × 0.03 − 800 = 655 mm over 10,000 m² = 6,550 m³;
county A: 100 × 6,550 = 655,000 m³, × 7.06 yuan/m³ = 4,624,300 yuan = 462.43 万元.
"""

import base64
import json
import shutil

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from openpyxl import load_workbook
from tests.account_fixture import build

from gep.account import Account
from gep.engine.cog import write_cog
from gep.engine.run import run_account
from gep.reports import SHEETS, write_density_map, write_html_report, write_previews, write_reports, write_workbook
from gep.reports.maps import grid_from_cog
from gep.spec import load_spec

SECTION_IDS = ("totals", "composition", "ranking", "maps", "methods", "parameters", "sources")


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reports")
    spec_path = build(directory / "inputs")
    spec, problems = load_spec(spec_path)
    assert spec is not None, problems
    out = directory / "out"
    run_account(spec, out)
    boundaries = gpd.read_file(directory / "inputs" / "regions.gpkg")
    files = write_reports(out, "zh", boundaries=boundaries)
    return Account.load(out), files, boundaries


def sheet_rows(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def header_index(rows, first_header):
    for n, row in enumerate(rows):
        if row and row[0] == first_header:
            return n
    raise AssertionError(f"no header row starting with {first_header!r}")


def value_map_sum(account):
    """Σ over every <item>_value.tif of its finite pixels, yuan (float64), read independently."""
    total = 0.0
    for path in sorted((account.directory / "maps").glob("*_value.tif")):
        with rasterio.open(path) as src:
            total += float(np.nansum(src.read(1).astype(np.float64)))
    return total


def test_workbook_has_the_seven_sheets_and_the_city_gep(reported):
    account, files, _ = reported
    workbook = load_workbook(files.workbook)
    assert workbook.sheetnames == ["总表", "物质产品", "调节服务", "文化服务", "分区域", "参数表", "数据来源"]
    assert tuple(workbook.sheetnames) == SHEETS
    rows = sheet_rows(workbook["总表"])
    h = header_index(rows, "区域代码")
    header = rows[h]
    gep_col = header.index("GEP（亿元）")
    body = {row[0]: row for row in rows[h + 1 :] if row[0]}
    assert list(body) == ["C", "A", "B"]  # city first, then its counties in file order
    city_gep = account.region("C")["gep_yuan"]
    # The city's GEP is the sum of its item values in account.csv, in yuan; 亿元 = yuan / 1e8.
    items = account.items()
    assert city_gep == pytest.approx(items[items["region_code"] == "C"]["value_yuan"].sum(), rel=1e-9)
    assert body["C"][gep_col] == pytest.approx(city_gep / 1e8, rel=1e-12)
    assert round(body["C"][gep_col], 2) == round(city_gep / 1e8, 2)
    cell = workbook["总表"].cell(h + 2, gep_col + 1)
    assert cell.number_format == "#,##0.00"
    # Not synthetic: no warning at the top.
    assert not any("合成" in str(v) for row in rows[:h] for v in row if v)
    # Regulating share of the city = 100 % (no material or cultural item is computed in the fixture).
    assert body["C"][header.index("调节服务占比（%）")] == pytest.approx(100.0)


def test_workbook_item_rows_in_wan_yuan(reported):
    account, files, _ = reported
    rows = sheet_rows(load_workbook(files.workbook)["调节服务"])
    h = header_index(rows, "区域代码")
    header = rows[h]
    (row,) = [r for r in rows[h + 1 :] if r[0] == "A" and r[2] == "水源涵养"]
    # 655,000 m³ × 7.06 yuan/m³ = 4,624,300 yuan = 462.43 万元 (module docstring).
    assert row[header.index("功能量")] == pytest.approx(655_000.0)
    assert row[header.index("单位")] == "立方米"
    assert row[header.index("价值量（万元）")] == pytest.approx(462.43)
    # Soil retention components follow the item, indented.
    names = [r[2] for r in rows[h + 1 :] if r[0] == "A"]
    start = names.index("土壤保持")
    assert names[start + 1 : start + 4] == ["减少泥沙淤积", "氮", "磷"]


def test_ranking_sheet_ranks_counties_by_gep(reported):
    account, files, _ = reported
    rows = sheet_rows(load_workbook(files.workbook)["分区域"])
    h = header_index(rows, "排名")
    body = [r for r in rows[h + 1 :] if r[0] is not None]
    # B (the pond adds water-surface cooling) has more GEP than A, so B ranks first among counties.
    assert account.region("B")["gep_yuan"] > account.region("A")["gep_yuan"]
    assert [(r[0], r[1]) for r in body] == [(1, "C"), (1, "B"), (2, "A")]
    per_km2 = rows[h].index("单位面积 GEP（万元/km²）")
    # A is 1 km², so its GEP per km² in 万元 is its GEP / 1e4.
    (a_row,) = [r for r in body if r[1] == "A"]
    assert a_row[per_km2] == pytest.approx(account.region("A")["gep_yuan"] / 1e4, rel=1e-6)


def test_parameters_and_sources_sheets(reported):
    account, files, _ = reported
    workbook = load_workbook(files.workbook)
    params = sheet_rows(workbook["参数表"])
    names = {r[0] for r in params}
    assert set(account.provenance["parameters"]) <= names
    (reservoir,) = [r for r in params if r[0] == "reservoir_cost"]
    assert reservoir[3] == pytest.approx(7.06)
    sources = sheet_rows(workbook["数据来源"])
    hashes = {r[0]: r[2] for r in sources if r[0] and str(r[0]).startswith(("layers.", "tables.", "regions", "spec"))}
    assert hashes["layers.dem"] == account.provenance["inputs"]["layers.dem"]["sha256"]
    assert len(hashes) == len(account.provenance["inputs"])


def test_density_map_sums_to_the_item_value_maps(reported):
    account, files, _ = reported
    assert files.density == account.directory / "maps" / "gep_density.tif"
    with rasterio.open(files.density) as src:
        density = src.read(1).astype(np.float64)
        assert src.crs.to_epsg() == 4549
        assert src.profile["tiled"]
        assert src.tags()["UNIT"] == "yuan/hm2"
        pixel_ha = abs(src.transform.a * src.transform.e) / 1e4  # 100 m × 100 m = 1 ha
    assert pixel_ha == 1.0
    expected = value_map_sum(account)
    assert np.nansum(density) * pixel_ha == pytest.approx(expected, rel=1e-6)
    # County A = columns 0-9: its density summed over 100 ha is its GEP in yuan.
    assert np.nansum(density[:, :10]) * pixel_ha == pytest.approx(account.region("A")["gep_yuan"], rel=1e-6)


def test_density_is_nan_where_every_item_map_is(reported, tmp_path):
    account, _, _ = reported
    copy = tmp_path / "acc"
    shutil.copytree(account.directory, copy)
    copied = Account.load(copy)
    grid = grid_from_cog(copied.map_path("water_conservation"))
    for path in sorted((copy / "maps").glob("*_value.tif")):
        with rasterio.open(path) as src:
            data = src.read(1)
        data[:, 0] = np.nan  # column 0 outside every item map
        if path.name.startswith("water_conservation"):
            data[0, 1] = np.nan  # one item NaN, the others count
        write_cog(path, data, grid)
    with rasterio.open(write_density_map(copied)) as src:
        density = src.read(1)
    assert np.isnan(density[:, 0]).all()
    assert np.isfinite(density[:, 1:]).all()


def test_html_report_sections_and_language(reported, tmp_path):
    account, files, _ = reported
    text = files.html.read_text(encoding="utf-8")
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in text
    gep = account.region("C")["gep_yuan"]
    assert f"{gep / 1e8:,.2f}" in text  # GEP in 亿元, 2 decimals
    assert f"{gep / 1e4:,.2f}" in text  # and in 万元 (e.g. 2,723.75)
    assert '<html lang="zh-CN">' in text
    assert "生态系统生产总值" in text and "调节服务" in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<script" not in text
    assert "@media print" in text
    # Every map preview is embedded: the density map and one per item value map.
    n_values = len(list((account.directory / "maps").glob("*_value.tif")))
    assert text.count("data:image/png;base64,") == 1 + n_values
    # The unverified parameter ion_cost is highlighted.
    assert '<tr class="unverified"><td class="code">ion_cost</td>' in text

    english = write_html_report(account, tmp_path / "report_en.html", "en").read_text(encoding="utf-8")
    assert '<html lang="en">' in english
    assert "Gross Ecosystem Product" in english and "regulating services" in english.lower()
    for zh in ("调节服务", "核算总量", "空间分布图", "数据来源"):
        assert zh not in english
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in english


def test_synthetic_accounts_are_marked(reported, tmp_path):
    account, _, _ = reported
    copy = tmp_path / "synthetic"
    shutil.copytree(account.directory, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["synthetic"] = True
    (copy / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    synthetic = Account.load(copy)
    rows = sheet_rows(load_workbook(write_workbook(synthetic, copy / "r.xlsx", "en"))["总表"])
    assert "SYNTHETIC" in str(rows[1][0])
    assert rows[header_index(rows, "Region code")][4] == "GEP (100 million yuan)"
    html = write_html_report(synthetic, copy / "r.html", "zh").read_text(encoding="utf-8")
    assert 'class="synthetic"' in html and "合成数据" in html


def test_previews_exist_and_are_deterministic(reported):
    account, files, boundaries = reported
    cogs = sorted((account.directory / "maps").glob("*.tif"))
    assert len(files.previews) == len(cogs)
    for cog in cogs:
        png = cog.with_suffix(".png")
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Re-drawing gives the same bytes (a few maps, to keep the test fast).
    some = [account.map_path("gep_density"), account.map_path("soil_retention"), account.map_path("water_conservation")]
    before = {cog.with_suffix(".png"): cog.with_suffix(".png").read_bytes() for cog in some}
    again = write_previews(account, "zh", boundaries, cogs=some)
    assert {p: p.read_bytes() for p in again} == before


def test_density_given_by_the_caller_writes_the_same_file(reported, tmp_path):
    account, files, _ = reported
    from gep.reports.maps import density_array

    density, grid = density_array(account)
    assert density.dtype == np.float64 and density.shape == grid.shape
    given = write_density_map(account, tmp_path / "given.tif", density=density)
    assert given.read_bytes() == files.density.read_bytes()
    with pytest.raises(ValueError, match="grid"):
        write_density_map(account, tmp_path / "bad.tif", density=density[:, 1:])


def test_density_worked_by_hand(reported, tmp_path):
    account, _, _ = reported
    copy = tmp_path / "acc"
    shutil.copytree(account.directory, copy)
    copied = Account.load(copy)
    grid = grid_from_cog(copied.map_path("water_conservation"))
    values = sorted((copy / "maps").glob("*_value.tif"))
    first, second = np.full(grid.shape, np.nan), np.full(grid.shape, np.nan)
    first[0, :4] = [3.0, 1.5, np.nan, -1.0]
    second[0, :4] = [np.nan, 2.25, np.nan, 0.5]
    for n, path in enumerate(values):  # every other value map is NaN everywhere
        write_cog(path, first if n == 0 else second if n == 1 else np.full(grid.shape, np.nan), grid)
    with rasterio.open(write_density_map(copied)) as src:
        density = src.read(1)
    # 100 m pixels = 1 hm²: (0,0) 3 yuan; (0,1) 1.5 + 2.25 = 3.75; (0,2) NaN in both; (0,3) -1 + 0.5 = -0.5
    assert density[0, 0] == 3.0 and density[0, 1] == 3.75 and density[0, 3] == -0.5
    assert np.isnan(density[0, 2]) and np.isnan(density[1:, :]).all()


def test_write_reports_with_a_density_array(reported, tmp_path):
    account, files, boundaries = reported
    from gep.reports.maps import density_array

    copy = tmp_path / "acc"
    shutil.copytree(account.directory, copy)
    for png in (copy / "maps").glob("*.png"):
        png.unlink()
    (copy / "maps" / "gep_density.tif").unlink()
    again = write_reports(copy, "zh", boundaries=boundaries, density=density_array(account)[0])
    assert again.density.read_bytes() == files.density.read_bytes()
    assert [p.name for p in again.previews] == [p.name for p in files.previews]
    for png in again.previews:  # the density preview too, drawn after its COG was written
        assert png.read_bytes() == (account.directory / "maps" / png.name).read_bytes(), png.name


def test_previews_drawn_on_one_figure_match_fresh_figures(reported, tmp_path):
    account, _, boundaries = reported
    from gep.reports.maps import render_preview

    copy = tmp_path / "acc"
    shutil.copytree(account.directory, copy)
    grid = grid_from_cog(copy / "maps" / "gep_density.tif")
    signed = np.linspace(-50.0, 80.0, grid.width * grid.height).reshape(grid.shape)
    signed[0, 0] = np.nan
    write_cog(copy / "maps" / "nep_like_physical.tif", signed, grid, {"UNIT": "t C per pixel"})
    cogs = [
        copy / "maps" / "gep_density.tif",
        copy / "maps" / "nep_like_physical.tif",  # diverging colours around 0
        copy / "maps" / "soil_retention_physical.tif",
        copy / "maps" / "water_conservation_value.tif",
    ]
    shared = write_previews(copy, "zh", boundaries, cogs=cogs)
    for cog, png in zip(cogs, shared, strict=True):
        fresh = render_preview(cog, tmp_path / f"fresh_{cog.stem}.png", "zh", boundaries)
        assert png.read_bytes() == fresh.read_bytes(), cog.name


def test_density_sum_rounds_like_the_cogs():
    from gep.reports import DensitySum

    # 1 × 3 grid of 10 m pixels = 100 m² = 0.01 hm² each
    total = DensitySum((1, 3))
    total.add(np.array([[3.0, np.nan, 0.1]]))
    total.add(np.array([[1.5, np.nan, 0.2]]))
    density = total.density(100.0)
    # (3 + 1.5) / 0.01 = 450 yuan/hm²; the middle pixel has no value
    assert density[0, 0] == 450.0 and np.isnan(density[0, 1])
    # 0.1 and 0.2 are stored as float32 in the COGs, so they are summed as float32 values
    stored = float(np.float32(0.1)) + float(np.float32(0.2))
    assert density[0, 2] == stored / 0.01 and density[0, 2] != (0.1 + 0.2) / 0.01
    with pytest.raises(ValueError, match="grid"):
        DensitySum((2, 2)).add(np.zeros((1, 3)))


def test_density_sum_of_the_value_arrays_matches_the_cogs(reported):
    account, files, _ = reported
    from gep.reports import DensitySum
    from gep.reports.maps import density_array, value_map_paths

    grid = grid_from_cog(files.density)
    total = DensitySum(grid.shape)
    for path in value_map_paths(account):  # catalogue order, float64 arrays as the engine holds them
        with rasterio.open(path) as src:
            total.add(src.read(1).astype(np.float64))
    assert total.items == len(value_map_paths(account))
    expected, _ = density_array(account)
    assert np.array_equal(total.density(grid.pixel_area_m2), expected, equal_nan=True)


def test_preview_queue_draws_what_write_previews_draws(reported, tmp_path):
    """Previews drawn on the engine's background thread while the maps are written (PreviewQueue)
    are the bytes write_previews draws afterwards."""
    from gep.reports import PreviewQueue

    account, _, boundaries = reported
    queued, direct = tmp_path / "queued", tmp_path / "direct"
    for copy in (queued, direct):
        shutil.copytree(account.directory, copy)
        for png in (copy / "maps").glob("*.png"):
            png.unlink()
    names = ["soil_retention_physical.tif", "water_conservation_value.tif", "gep_density.tif"]
    with PreviewQueue("zh", boundaries) as queue:
        for name in names:
            queue.add(queued / "maps" / name)
        drawn = queue.finish()
    assert drawn == [queued / "maps" / name.replace(".tif", ".png") for name in names]
    expected = write_previews(direct, "zh", boundaries, cogs=[direct / "maps" / name for name in names])
    for png, reference in zip(drawn, expected, strict=True):
        assert png.read_bytes() == reference.read_bytes(), png.name


def test_account_run_draws_every_preview_and_lists_them(tmp_path):
    spec, problems = load_spec(build(tmp_path / "inputs"))
    assert spec is not None, problems
    out = tmp_path / "out"
    run_account(spec, out)
    cogs = sorted((out / "maps").glob("*.tif"))
    assert cogs and all(cog.with_suffix(".png").is_file() for cog in cogs)
    html = (out / "report.html").read_text(encoding="utf-8")
    for cog in (c for c in cogs if c.stem.endswith("_value") or c.stem == "gep_density"):
        # the value maps' and the density's previews are embedded in the HTML report
        assert base64.b64encode(cog.with_suffix(".png").read_bytes()).decode("ascii") in html, cog.name
