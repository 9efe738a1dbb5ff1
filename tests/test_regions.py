"""Region hierarchy reading and validation (gep.regions, gep.regions_check).

Test geometries are squares given in km and placed in EPSG:4549 (Gauss-Kruger, CM 120E) next to the
central meridian (easting 500 000 m), where the projection's scale factor is 1 to within ~1e-6, so a
square of side s km has a true area of s² km² to that precision.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from gep.i18n import message
from gep.problems import Problem
from gep.regions import Region, RegionSet, Zone, read_regions, read_zones, validate_regions

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_100_000.0  # about 120°E, 28°N
LISHUI = Path("/work/shared/data/lishui")


def sq(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Rectangle with corners given in km from (X0, Y0)."""
    return box(X0 + x0 * 1000, Y0 + y0 * 1000, X0 + x1 * 1000, Y0 + y1 * 1000)


def write(tmp_path: Path, name: str, rows: list[dict], crs: str | None = GK, driver: str = "GeoJSON") -> Path:
    path = tmp_path / name
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "geometry"} for r in rows],
        geometry=[r["geometry"] for r in rows],
        crs=crs,
    )
    frame.to_file(path, driver=driver, engine="pyogrio")
    return path


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def render_both(problems: list[Problem]) -> str:
    """Render every problem in both languages (fails on a missing key or placeholder)."""
    return "\n".join(p.render(lang) for p in problems for lang in ("en", "zh"))


def region_set(*specs: tuple[str, str | None, Polygon]) -> RegionSet:
    return RegionSet(GK, tuple(Region(c, f"name {c}", "x", p, g) for c, p, g in specs))


# --- real data -------------------------------------------------------------------------------------

# Geodesic areas (km²) from /work/shared/data/lishui/README.md, computed there independently.
README_AREAS = {
    "331102": 1495.1, "331121": 2478.6, "331122": 1491.4, "331123": 2536.2, "331124": 1400.9,
    "331125": 990.7, "331126": 1879.2, "331127": 1934.0, "331181": 3042.1,
}


@pytest.mark.skipif(not LISHUI.is_dir(), reason="shared Lishui boundaries not available")
def test_lishui_city_and_counties_as_two_level_hierarchy():
    regions, problems = read_regions(
        [LISHUI / "lishui_city.geojson", LISHUI / "lishui_counties.geojson"],
        code_field="adcode", parent_field="city_adcode", name_en_field="name_en",
    )
    assert problems == []
    assert regions is not None
    assert validate_regions(regions) == []
    assert [r.code for r in regions.roots()] == ["331100"]  # city file has no city_adcode: root
    assert [r.code for r in regions.children("331100")] == sorted(README_AREAS)
    assert regions.get("331102").name == "莲都区"
    assert regions.levels() == ("level0", "level1")
    for code, expected in README_AREAS.items():
        assert regions.area_km2(code) == pytest.approx(expected, rel=0.005)
    # 1495.1 + 2478.6 + 1491.4 + 2536.2 + 1400.9 + 990.7 + 1879.2 + 1934.0 + 3042.1 = 17248.2
    total = sum(regions.area_km2(r.code) for r in regions.children("331100"))
    assert total == pytest.approx(17248.2, rel=0.005)
    # same areas after reprojecting to the account grid CRS
    assert regions.to_crs(GK).area_km2("331102") == pytest.approx(1495.1, rel=0.005)


# --- reading ---------------------------------------------------------------------------------------


def test_numeric_codes_become_text_and_empty_parent_is_root(tmp_path):
    path = write(tmp_path, "r.geojson", [
        {"code": 331100, "name": "city", "level": "city", "parent": np.nan, "geometry": sq(0, 0, 10, 10)},
        {"code": 331102, "name": "a", "level": "county", "parent": 331100.0, "geometry": sq(0, 0, 5, 10)},
        {"code": 331121, "name": "b", "level": "county", "parent": 331100.0, "geometry": sq(5, 0, 10, 10)},
    ])
    regions, problems = read_regions(path)
    assert problems == []
    assert [r.code for r in regions.regions] == ["331100", "331102", "331121"]
    assert regions.get("331102").parent == "331100"
    assert regions.get(331100).parent is None
    assert regions.levels() == ("city", "county")
    assert validate_regions(regions) == []


def test_level_field_absent_is_named_from_depth_and_parent_field_absent_means_root(tmp_path):
    top = write(tmp_path, "top.geojson", [{"id": "P", "n": "province", "geometry": sq(0, 0, 10, 10)}])
    mid = write(tmp_path, "mid.geojson", [{"id": "C", "n": "city", "up": "P", "geometry": sq(0, 0, 10, 10)}])
    low = write(tmp_path, "low.geojson", [
        {"id": "K1", "n": "k1", "up": "C", "geometry": sq(0, 0, 4, 10)},
        {"id": "K2", "n": "k2", "up": "C", "geometry": sq(4, 0, 10, 10)},
    ])
    regions, problems = read_regions([low, top, mid], code_field="id", name_field="n", parent_field="up")
    assert problems == []
    assert [r.code for r in regions.regions] == ["P", "C", "K1", "K2"]  # parents before children
    assert regions.levels() == ("level0", "level1", "level2")
    assert regions.depth("K2") == 2
    assert [r.code for r in regions.ancestors("K2")] == ["C", "P"]
    assert [r.code for r in regions.descendants("P")] == ["C", "K1", "K2"]
    assert regions.children("K1") == ()
    # K1 is 4 km x 10 km = 40 km²
    assert regions.area_km2("K1") == pytest.approx(40.0, rel=1e-4)
    assert validate_regions(regions) == []


def test_files_in_other_crs_are_reprojected_to_the_first_files_crs(tmp_path):
    city = write(tmp_path, "city.geojson", [{"code": "C", "name": "c", "geometry": sq(0, 0, 10, 10)}])
    four326 = gpd.GeoSeries([sq(0, 0, 10, 10)], crs=GK).to_crs("EPSG:4326")[0]
    counties = write(tmp_path, "k.geojson", [{"code": "K", "name": "k", "parent": "C", "geometry": four326}],
                     crs="EPSG:4326")
    regions, problems = read_regions([city, counties])
    assert problems == []
    assert regions.crs == GK
    assert regions.get("K").geometry.bounds == pytest.approx(sq(0, 0, 10, 10).bounds, abs=0.01)
    assert validate_regions(regions) == []


def test_geopackage_layer_and_name_en(tmp_path):
    path = write(tmp_path, "r.gpkg", [{"code": "A", "name": "甲", "en": "Alpha", "geometry": sq(0, 0, 1, 1)}],
                 driver="GPKG")
    regions, problems = read_regions(path, layer="r", name_en_field="en")
    assert problems == []
    assert regions.get("A").name_en == "Alpha"
    frame = regions.to_geodataframe()
    assert list(frame.columns) == ["code", "name", "name_en", "level", "parent", "geometry"]
    assert frame.crs == GK


def test_missing_name_en_field_is_a_warning(tmp_path):
    path = write(tmp_path, "r.geojson", [{"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)}])
    regions, problems = read_regions(path, name_en_field="name_en")
    assert regions is not None
    assert codes(problems) == ["regions_name_en_missing"]
    assert problems[0].severity == "warning"


def test_missing_and_unreadable_files(tmp_path):
    regions, problems = read_regions(tmp_path / "nope.geojson")
    assert regions is None and codes(problems) == ["file_not_found"]
    bad = tmp_path / "bad.geojson"
    bad.write_text("this is not json", encoding="utf-8")
    regions, problems = read_regions(bad)
    assert regions is None and codes(problems) == ["file_unreadable"]
    assert str(bad) in render_both(problems)
    # one good file and one missing: no set, since the hierarchy would be incomplete
    good = write(tmp_path, "g.geojson", [{"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)}])
    regions, problems = read_regions([good, tmp_path / "nope.geojson"])
    assert regions is None and codes(problems) == ["file_not_found"]
    regions, problems = read_regions([])
    assert regions is None and codes(problems) == ["regions_no_files"]


def test_required_field_missing_lists_the_fields_present(tmp_path):
    path = write(tmp_path, "r.geojson", [{"adcode": "A", "label": "a", "geometry": sq(0, 0, 1, 1)}])
    regions, problems = read_regions(path)
    assert regions is None
    assert codes(problems) == ["regions_field_missing", "regions_field_missing"]
    assert [p.field for p in problems] == ["code", "name"]
    text = problems[0].render("en")
    assert "'code'" in text and "adcode, label" in text


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_crs_missing(tmp_path):
    path = write(tmp_path, "r.shp", [{"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)}],
                 crs=None, driver="ESRI Shapefile")
    regions, problems = read_regions(path)
    assert regions is None and codes(problems) == ["regions_crs_missing"]
    render_both(problems)


def test_empty_code_and_name(tmp_path):
    path = write(tmp_path, "r.geojson", [
        {"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)},
        {"code": None, "name": "b", "geometry": sq(1, 0, 2, 1)},
        {"code": "C", "name": "  ", "geometry": sq(2, 0, 3, 1)},
    ])
    regions, problems = read_regions(path)
    assert codes(problems) == ["regions_code_empty", "regions_name_empty"]
    assert problems[0].params["row"] == 2 and problems[1].params["row"] == 3
    assert [r.code for r in regions.regions] == ["A", "C"]  # the feature without a code is dropped
    render_both(problems)


def test_duplicate_codes_name_count_and_features(tmp_path):
    path = write(tmp_path, "r.geojson", [
        {"code": "A", "name": "a1", "geometry": sq(0, 0, 1, 1)},
        {"code": "B", "name": "b", "geometry": sq(1, 0, 2, 1)},
        {"code": "A", "name": "a2", "geometry": sq(2, 0, 3, 1)},
    ])
    regions, problems = read_regions(path)
    assert codes(problems) == ["regions_code_duplicate"]
    assert problems[0].params["count"] == 2 and problems[0].params["rows"] == "#1, #3"
    assert regions.get("A").name == "a1"  # the first is kept
    assert "occurs 2 times (features #1, #3)" in problems[0].render("en")


def test_duplicate_codes_across_files_name_the_files(tmp_path):
    one = write(tmp_path, "one.geojson", [{"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)}])
    two = write(tmp_path, "two.geojson", [{"code": "A", "name": "a", "geometry": sq(0, 0, 1, 1)}])
    _, problems = read_regions([one, two])
    assert problems[0].params["rows"] == "one.geojson #1, two.geojson #1"


# --- RegionSet -------------------------------------------------------------------------------------


def test_get_unknown_code_names_it_and_known_codes():
    regions = region_set(("A", None, sq(0, 0, 1, 1)), ("B", "A", sq(0, 0, 1, 1)))
    with pytest.raises(KeyError, match=r"'Z'.*known codes: A, B"):
        regions.get("Z")
    with pytest.raises(ValueError, match="duplicate region codes: A"):
        region_set(("A", None, sq(0, 0, 1, 1)), ("A", None, sq(0, 0, 1, 1)))


def test_area_is_geodesic_whatever_the_crs():
    # 10 km x 10 km = 100 km²; a hole of 2 km x 2 km = 4 km² leaves 96 km²
    holed = Polygon(sq(0, 0, 10, 10).exterior.coords, [sq(4, 4, 6, 6).exterior.coords[::-1]])
    regions = region_set(("A", None, sq(0, 0, 10, 10)), ("H", None, holed))
    assert regions.area_km2("A") == pytest.approx(100.0, rel=1e-4)
    assert regions.area_km2("H") == pytest.approx(96.0, rel=1e-4)
    in_degrees = regions.to_crs("EPSG:4326")
    assert in_degrees.crs == "EPSG:4326"
    assert in_degrees.get("A").geometry.bounds[0] == pytest.approx(120.0, abs=0.01)
    assert in_degrees.area_km2("A") == pytest.approx(100.0, rel=1e-4)
    # Web Mercator inflates planar area by 1/cos²(28°) ≈ 1.28; area_km2 must not
    assert regions.to_crs("EPSG:3857").area_km2("H") == pytest.approx(96.0, rel=1e-4)


def test_zones_read_attach_and_reproject(tmp_path):
    bowtie = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    path = write(tmp_path, "z.geojson", [
        {"code": 1, "name": "reserve", "kind": "nature_reserve", "geometry": sq(0, 0, 1, 1)},
        {"code": 2, "name": "park", "kind": "park", "geometry": bowtie},
        {"code": 1, "name": "again", "kind": "park", "geometry": sq(0, 0, 1, 1)},
    ])
    zones, problems = read_zones(path, crs="EPSG:4326")
    assert codes(problems) == ["zones_geometry_invalid", "zones_code_duplicate"]
    assert "Self-intersection" in problems[0].params["reason"]
    assert problems[1].params["rows"] == "#1, #3"
    render_both(problems)
    assert [(z.code, z.kind) for z in zones] == [("1", "nature_reserve"), ("2", "park")]
    assert zones[0].geometry.bounds[0] == pytest.approx(120.0, abs=0.01)  # reprojected to degrees
    regions = region_set(("A", None, sq(0, 0, 1, 1))).to_crs("EPSG:4326").with_zones(zones)
    back = regions.to_crs(GK)
    assert back.zones[0].geometry.bounds == pytest.approx(sq(0, 0, 1, 1).bounds, abs=0.01)
    assert isinstance(back.zones[0], Zone)


def test_zones_without_kind_field_and_missing_fields(tmp_path):
    path = write(tmp_path, "z.geojson", [{"code": "Z", "name": "z", "geometry": sq(0, 0, 1, 1)}])
    zones, problems = read_zones(path, kind_field=None)
    assert problems == [] and zones[0].kind == ""
    zones, problems = read_zones(path)
    assert zones == [] and codes(problems) == ["regions_field_missing"]


# --- validation of bad hierarchies -----------------------------------------------------------------


def test_unknown_parent():
    regions = region_set(("A", None, sq(0, 0, 1, 1)), ("B", "X", sq(0, 0, 1, 1)))
    problems = validate_regions(regions)
    assert codes(problems) == ["regions_parent_unknown"]
    assert problems[0].params["parent"] == "X"
    render_both(problems)


def test_cycle_in_parent_links_is_reported_once():
    regions = region_set(("R", None, sq(0, 0, 10, 10)), ("A", "B", sq(0, 0, 1, 1)),
                         ("B", "A", sq(0, 0, 1, 1)), ("S", "S", sq(5, 5, 6, 6)))
    problems = [p for p in validate_regions(regions) if p.code == "regions_parent_cycle"]
    assert sorted(p.params["cycle"] for p in problems) == ["A → B → A", "S → S"]
    assert regions.ancestors("A") == (regions.get("B"),)  # navigation does not loop
    render_both(problems)


def test_invalid_empty_and_non_polygon_geometries():
    bowtie = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    regions = region_set(("A", None, bowtie), ("B", None, Polygon()), ("C", None, sq(0, 0, 1, 1).exterior))
    problems = validate_regions(regions)
    assert codes(problems) == ["regions_geometry_invalid", "regions_geometry_empty", "regions_geometry_type"]
    assert "Self-intersection" in problems[0].render("en")
    render_both(problems)


def test_null_geometry_in_file_is_reported_as_empty(tmp_path):
    path = write(tmp_path, "r.geojson", [{"code": "A", "name": "a", "geometry": None}])
    regions, problems = read_regions(path)
    assert problems == []
    assert codes(validate_regions(regions)) == ["regions_geometry_empty"]


def test_child_outside_parent_reports_share():
    # child 2 x 2 km = 4 km², of which [10, 11] x [0, 2] = 2 km² lies outside the parent: share 0.5
    regions = region_set(("P", None, sq(0, 0, 10, 10)), ("K", "P", sq(9, 0, 11, 2)))
    problems = validate_regions(regions)
    assert codes(problems) == ["regions_outside_parent"]
    assert problems[0].params["share"] == pytest.approx(0.5, rel=1e-3)
    assert problems[0].params["outside_km2"] == pytest.approx(2.0, rel=1e-3)
    assert "50.00%" in problems[0].render("en") and "50.00%" in problems[0].render("zh")


def test_containment_tolerance():
    # child [0, 10.005] x [0, 10] km: 0.05 km² of 100.05 km² outside = share 0.0004998
    regions = region_set(("P", None, sq(0, 0, 10, 10)), ("K", "P", sq(0, 0, 10.005, 10)))
    assert validate_regions(regions) == []  # below the default 0.001
    problems = validate_regions(regions, containment_tolerance=0.0004)
    assert problems[0].params["share"] == pytest.approx(0.05 / 100.05, rel=1e-3)


def test_overlapping_siblings_report_both_codes_and_share():
    # A = [0,4]x[0,4] = 16 km², B = [3,9]x[0,6] = 36 km², overlap [3,4]x[0,4] = 4 km² -> 4/16 = 0.25
    # C touches B along x = 9 only: no overlap
    regions = region_set(("P", None, sq(0, 0, 10, 10)), ("A", "P", sq(0, 0, 4, 4)),
                         ("B", "P", sq(3, 0, 9, 6)), ("C", "P", sq(9, 0, 10, 6)))
    problems = validate_regions(regions)
    assert codes(problems) == ["regions_siblings_overlap"]
    assert (problems[0].params["region"], problems[0].params["other"]) == ("A", "B")
    assert problems[0].params["share"] == pytest.approx(0.25, rel=1e-3)
    assert problems[0].params["overlap_km2"] == pytest.approx(4.0, rel=1e-3)
    render_both(problems)


def test_overlap_shares_are_equal_area_in_geographic_crs():
    # Same layout as above, in degrees: a planar area in degrees² would still give 0.25 here, so also
    # check the km² figure, which only an equal-area measure gets right (4 km²).
    regions = region_set(("P", None, sq(0, 0, 10, 10)), ("A", "P", sq(0, 0, 4, 4)),
                         ("B", "P", sq(3, 0, 9, 6))).to_crs("EPSG:4326")
    problems = validate_regions(regions)
    assert problems[0].params["share"] == pytest.approx(0.25, rel=1e-3)
    assert problems[0].params["overlap_km2"] == pytest.approx(4.0, rel=1e-3)


def test_every_message_has_both_languages():
    text = resources.files("gep").joinpath("messages", "regions.toml").read_text(encoding="utf-8")
    for key, templates in tomllib.loads(text).items():
        assert set(templates) == {"en", "zh"}, key
    text = message("regions_geometry_invalid", "en", region="A", reason="Self-intersection")
    assert "region A has an invalid geometry: Self-intersection" in text
