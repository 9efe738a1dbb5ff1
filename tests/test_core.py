"""Grid snapping, unit spelling, parameter overrides and bilingual problems."""

import pytest

from gep.grid import AccountGrid
from gep.inputs.units import same_unit
from gep.parameters import Parameter, ParameterSet
from gep.problems import GepInputError, error


def test_grid_snaps_outward_to_the_resolution():
    grid = AccountGrid.from_bounds((1030.0, 2010.0, 1290.0, 2250.0), 100.0)
    # left 1030 -> 1000, right 1290 -> 1300: 3 columns; bottom 2010 -> 2000, top 2250 -> 2300: 3 rows
    assert grid.shape == (3, 3)
    assert grid.bounds == (1000.0, 2000.0, 1300.0, 2300.0)
    assert grid.pixel_area_m2 == 10000.0


@pytest.mark.parametrize(("a", "b"), [("mm/a", "mm/yr"), ("mm a-1", "mm/a"), ("t/(hm2·a)", "t/(ha·a)"),
                                      ("m", "metres"), ("g C/(m²·a)", "gC/(m2*a)"),
                                      ("MJ·mm/(hm²·h·a)", "MJ*mm/(hm2*h*a)")])
def test_unit_spellings(a, b):
    assert same_unit(a, b)


def test_unit_mismatch():
    assert not same_unit("mm/a", "m/a")


def test_parameter_override_keeps_unit_and_records_source():
    params = ParameterSet({"p": Parameter("p", 7.06, "yuan/m3", "Ganzi 2017", "verified", 2010)})
    changed = params.with_values({"p": 8.0}, source="spec.toml")
    assert changed["p"].unit == "yuan/m3" and changed["p"].tag == "user" and changed["p"].source == "spec.toml"
    assert params.value("p") == 7.06
    with pytest.raises(KeyError, match="known parameters: p"):
        params.with_values({"q": 1.0}, source="spec.toml")


def test_problem_renders_in_both_languages():
    problem = error("file_not_found", "data/dem.tif", "dem", what="raster (GeoTIFF)")
    assert problem.render("en") == "error: data/dem.tif [dem]: file not found; expected an existing raster (GeoTIFF)"
    assert problem.render("zh").startswith("错误: data/dem.tif [dem]: 文件不存在")
    exc = GepInputError([problem])
    assert "data/dem.tif" in str(exc)
