"""The shared input checks of the regulating services (gep.services.checks): each names in both
languages the layer, class, column, value or option at fault and what was expected."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gep.parameters import default_parameters
from gep.problems import GepInputError, Problem
from gep.services import checks
from gep.services.base import ServiceDeclaration
from service_fixtures import make_context

CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3],
        "ecosystem": ["forest", "water", "cropland"],
        "share": [0.5, np.nan, 1.5],
    }
)
# class 1: 3 pixels, class 2: 2, class 3: 1, class 9 (no row): 2, nodata: 1
LANDCOVER = [[1, 1, 2], [2, 3, 9], [9, 1, -1]]


def _ctx(**kwargs):
    layers = kwargs.pop("layers", {"landcover": LANDCOVER})
    return make_context(layers, kwargs.pop("classes", CLASSES), **kwargs)


def _both(problem: Problem) -> tuple[str, str]:
    return problem.render("en"), problem.render("zh")


def test_landcover_codes_nodata_and_present_classes():
    ctx = _ctx()
    # -1 stays nodata; counts over inside pixels: 1 ×3, 2 ×2, 3 ×1, 9 ×2
    assert checks.present_classes(ctx) == {1: 3, 2: 2, 3: 1, 9: 2}
    assert checks.landcover_nodata(ctx).sum() == 1
    float_ctx = replace(ctx, layers={"landcover": np.array([[1.0, np.nan]])})  # float layer, NaN = nodata
    assert checks.landcover_codes(float_ctx).tolist() == [[1, -1]]
    assert checks.ecosystem_codes(ctx, ("forest", "water")).tolist() == [1, 2]
    assert checks.ecosystem_codes(_ctx(classes=CLASSES.drop(columns="ecosystem")), ("forest",)).size == 0


def test_missing_class_names_codes_pixels_and_columns():
    (problem,) = checks.check_class_rows(_ctx(), "demo_item", ["share", "ecosystem"])
    assert problem.code == "svc_class_missing" and problem.params["pixels"] == 2  # two pixels of class 9
    en, zh = _both(problem)
    assert "classes 9 occur" in en and "share, ecosystem" in en and "demo_item" in en
    assert "9" in zh and "share, ecosystem" in zh and "2 个像元" in zh
    # restricted to codes: class 9 is not asked for
    assert checks.check_class_rows(_ctx(), "demo_item", ["share"], codes=[1, 2]) == []


def test_nan_and_out_of_range_class_values():
    problems = checks.check_class_values(_ctx(), "demo_item", {"share": checks.FRACTION})
    assert [p.code for p in problems] == ["svc_class_value_missing", "svc_class_value_invalid"]
    empty, invalid = problems
    en, zh = _both(empty)
    assert "'share' is empty (NaN) for classes 2" in en and "[0, 1]" in en
    assert "'share'" in zh and "2" in zh and "NaN" in zh
    en, zh = _both(invalid)
    assert "'share' has invalid values" in en and "3: 1.5; expected [0, 1]" in en
    assert "3: 1.5" in zh and "[0, 1]" in zh
    assert (invalid.params["codes"], invalid.params["values"]) == ("3", "1.5")
    # only the classes asked for; an open lower bound renders as "(0, inf]"
    (problem,) = checks.check_class_values(_ctx(), "demo_item", {"share": checks.POSITIVE}, codes=[2])
    assert problem.code == "svc_class_value_missing" and "(0, inf]" in problem.render("en")


def test_missing_class_column():
    problems = checks.check_class_columns(_ctx(classes=CLASSES.drop(columns="share")), "demo_item", {"share": None})
    assert [p.code for p in problems] == ["svc_class_missing", "column_missing"]
    en, zh = _both(problems[1])
    assert "column 'share' is missing" in en and "'share'" in zh and "landcover_params" in en


def test_bad_ecosystem_name():
    classes = CLASSES.assign(ecosystem=["forest", "lake", "cropland"])
    (problem,) = checks.check_ecosystem_column(_ctx(classes=classes), "demo_item")
    en, zh = _both(problem)
    assert "2: 'lake'" in en and "forest, shrub" in en
    assert "2: 'lake'" in zh and "forest, shrub" in zh


def test_missing_table_column_and_bad_numbers():
    table = pd.DataFrame({"name": ["A", "B", "C"], "volume": [1.0, "n/a", -2.0]})
    (problem,) = checks.check_table_columns(table, "reservoirs", ["name", "total_capacity_m3"])
    en, zh = _both(problem)
    assert "reservoirs [total_capacity_m3]" in en and "'total_capacity_m3'" in en and "name, total_capacity_m3" in en
    assert "'total_capacity_m3'" in zh
    problems = checks.check_table_numbers(table, "reservoirs", "volume", non_negative=True)
    assert [(p.code, p.params["row"]) for p in problems] == [("value_not_number", 2), ("svc_value_negative", 3)]
    assert "'n/a'" in problems[0].render("zh") and "-2.0" in problems[1].render("en")
    number, problem = checks.read_number("7.5", "t", "c", 1, non_negative=True, unit="t/a")
    assert (number, problem) == (7.5, None)
    _, problem = checks.read_number(-1, "t", "c", 4, non_negative=True, unit="t/a")
    assert ">= 0 t/a" in problem.render("en") and "第 4 行" in problem.render("zh")


def test_unknown_variant_names_the_valid_ones():
    declaration = ServiceDeclaration(item_id="demo_item", unit="t", variants=("nep", "rate"))
    assert checks.pick_variant(_ctx(), declaration) == "nep"
    assert checks.pick_variant(_ctx(variant="rate"), declaration) == "rate"
    with pytest.raises(GepInputError) as info:
        checks.pick_variant(_ctx(variant="npp"), declaration)
    assert "unknown variant 'npp' for item demo_item; valid: nep, rate" in str(info.value)
    assert "'npp'" in info.value.render("zh") and "nep, rate" in info.value.render("zh")
    with pytest.raises(GepInputError, match=r"valid: \(none\)"):
        checks.pick_variant(_ctx(variant="x"), ServiceDeclaration(item_id="demo_item", unit="t"))


def test_unknown_option_and_flag():
    assert checks.check_option(_ctx(), "demo_item", "basis", ("min", "max")) == []  # unset: the default
    (problem,) = checks.check_option(_ctx(options={"basis": "mean"}), "demo_item", "basis", ("min", "max"))
    en, zh = _both(problem)
    assert "basis 'mean'" in en and "valid: min, max" in en
    assert "basis 'mean'" in zh and "min, max" in zh
    assert checks.check_flag(_ctx(options={"humidify": False}), "demo_item", "humidify") == []
    (problem,) = checks.check_flag(_ctx(options={"humidify": "yes"}), "demo_item", "humidify")
    assert "humidify 'yes'" in problem.render("en") and "true, false" in problem.render("zh")


def test_missing_layer_names_layer_and_variant():
    (problem,) = checks.require_layers(_ctx(), "demo_item", ["landcover", "nep"], variant="nep")
    en, zh = _both(problem)
    assert "layer 'nep' is missing; item demo_item (variant nep) needs it" in en
    assert "'nep'" in zh and "公式变体 nep" in zh


def test_parameters():
    params = default_parameters().with_values({"carbon_price": -1.0, "oxygen_price": 0.0}, source="test")
    ctx = _ctx(params=params)
    (problem,) = checks.check_parameters(ctx, "demo_item", ["carbon_price", "oxygen_price"])
    assert problem.field == "carbon_price" and "carbon_price = -1" in problem.render("en")
    (problem,) = checks.check_parameters(ctx, "demo_item", ["oxygen_price"], positive=True)
    assert "expected > 0" in problem.render("en") and "oxygen_price = 0" in problem.render("zh")


def test_small_helpers():
    # 21 codes: 20 shown, 1 counted
    assert checks.listed(list(range(21))).endswith("19 … (+1)")
    assert [checks.region_code_text(v) for v in (331102.0, np.int64(7), " R1 ")] == ["331102", "7", "R1"]
    ctx = _ctx(unit_index=[[0, 0, 0], [0, 0, 0], [0, 0, -1]])
    values = checks.inside_only(ctx, np.ones((3, 3)))
    assert np.isnan(values[2, 2]) and np.nansum(values) == 8.0
    valid = np.ones((3, 3), dtype=bool)
    valid[0, 0] = valid[2, 2] = False  # (2, 2) is outside: not counted
    assert checks.nodata_note(ctx, valid, "rain") == ["1 pixels inside the account lack rain; left NaN (not counted)"]
    assert checks.nodata_note(ctx, valid) == ["1 pixels inside the area have no data in an input (result NaN)"]
    assert checks.nodata_note(ctx, np.ones((3, 3), dtype=bool)) == []
    with pytest.raises(GepInputError):
        checks.raise_problems(checks.check_class_rows(_ctx(), "demo_item", ["share"]))
    checks.raise_problems([])
