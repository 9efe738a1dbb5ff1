"""Water and air purification: the min(capacity, load) rule per region on a 4×4 grid of 1-hm² pixels.

Regions: R1 = columns 0-1, R2 = columns 2-3; R is their parent (for the overlap error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.problems import GepInputError
from gep.services import air_purification, water_purification
from service_fixtures import make_context

# capacities in t/(hm²·a); 1 forest, 2 water, 3 urban
CLASSES = pd.DataFrame(
    {
        "class": [1, 2, 3],
        "cod_capacity": [0.5, 2.0, 0.0],
        "nh3n_capacity": [0.1, 0.4, 0.0],
        "tp_capacity": [0.01, 0.05, 0.0],
        "so2_capacity": [0.2, 0.0, 0.0],
        "nox_capacity": [0.0, 0.0, 0.0],
        "dust_capacity": [0.0, 0.0, 0.0],
    }
)
LANDCOVER = [[1, 1, 2, 2], [1, 2, 1, 1], [3, 3, 1, 1], [1, 1, 3, 3]]
# R1: 5 forest, 1 water, 2 urban; R2: 4 forest, 2 water, 2 urban
UNIT_INDEX = np.array([[0, 0, 1, 1]] * 4, dtype=np.int32)
REGIONS = {"R1": (0,), "R2": (1,), "R": (0, 1, 2)}
LOADS = pd.DataFrame(
    {
        "region_code": ["R1", "R2", "R1", "R2", "R1", "R2"],
        "pollutant": ["COD", "cod", "tp", "tp", "so2", "so2"],
        "load_t": [3.0, 10.0, 0.0, 0.05, 0.5, 100.0],
    }
)


def _ctx(loads=LOADS, **kwargs):
    tables = {} if loads is None else {"pollutant_loads": loads}
    return make_context(
        {"landcover": LANDCOVER},
        kwargs.pop("classes", CLASSES),
        tables,
        unit_index=UNIT_INDEX,
        unit_codes=("R1", "R2", "R"),
        region_units=REGIONS,
        **kwargs,
    )


def _component(result, name):
    return next(c for c in result.components if c.name == name)


R1 = UNIT_INDEX == 0
R2 = UNIT_INDEX == 1


def test_min_capacity_load_in_both_directions():
    result = water_purification.compute(_ctx())
    cod = _component(result, "cod").physical
    # R1 COD capacity 5 × 0.5 + 1 × 2.0 = 4.5 t > load 3 t -> purified 3 t (the load),
    # spread by capacity: forest 0.5 × 3/4.5 = 1/3 t, water 2.0 × 3/4.5 = 4/3 t
    assert cod[R1].sum() == pytest.approx(3.0)
    assert cod[0, 0] == pytest.approx(1.0 / 3.0) and cod[1, 1] == pytest.approx(4.0 / 3.0)
    # R2 capacity 4 × 0.5 + 2 × 2.0 = 6 t < load 10 t -> purified 6 t (the capacity), pixels keep capacity
    assert cod[R2].sum() == pytest.approx(6.0)
    assert cod[0, 2] == pytest.approx(2.0) and cod[1, 2] == pytest.approx(0.5)
    # COD 9 t × 700 = 6300 yuan
    assert _component(result, "cod").value_yuan.sum() == pytest.approx(6300.0)
    regions = result.extra["regions"].set_index(["region_code", "pollutant"])
    assert regions.loc[("R1", "cod"), "capacity_t"] == pytest.approx(4.5)
    assert regions.loc[("R2", "cod"), "purified_t"] == pytest.approx(6.0)


def test_no_load_uses_capacity_with_note_and_zero_load():
    result = water_purification.compute(_ctx())
    # NH3-N has no load rows: capacity R1 5 × 0.1 + 0.4 = 0.9 t, R2 4 × 0.1 + 2 × 0.4 = 1.2 t -> 2.1 t
    assert _component(result, "nh3n").physical.sum() == pytest.approx(2.1)
    assert any(n.startswith("nh3n: no load given for regions R1, R2; capacity used (2.1 t)") for n in result.notes)
    # TP: R1 load 0 -> 0; R2 capacity 4 × 0.01 + 2 × 0.05 = 0.14 t > load 0.05 -> 0.05 t
    tp = _component(result, "tp").physical
    assert tp[R1].sum() == 0.0 and tp[R2].sum() == pytest.approx(0.05)
    # total 9 + 2.1 + 0.05 = 11.15 t; value 6300 + 2.1 × 875 + 0.05 × 2800 = 6300 + 1837.5 + 140 = 8277.5 yuan
    assert result.physical.sum() == pytest.approx(11.15)
    assert result.value_yuan.sum() == pytest.approx(8277.5)


def test_basis_options():
    capacity = water_purification.compute(_ctx(options={"purification_basis": "capacity"}))
    # capacity only: COD 4.5 + 6 = 10.5 t
    assert _component(capacity, "cod").physical.sum() == pytest.approx(10.5)
    load = water_purification.compute(_ctx(options={"purification_basis": "load"}))
    # loads only: COD 3 + 10 = 13 t; R2 forest pixel 0.5 × 10/6 = 0.8333 t
    assert _component(load, "cod").physical.sum() == pytest.approx(13.0)
    assert _component(load, "cod").physical[1, 2] == pytest.approx(0.5 * 10.0 / 6.0)


def test_no_load_table_uses_capacity():
    result = water_purification.compute(_ctx(loads=None))
    # COD capacity 10.5 t + NH3-N 2.1 t + TP (R1 5 × 0.01 + 0.05 = 0.1, R2 0.14) 0.24 t = 12.84 t
    assert result.physical.sum() == pytest.approx(12.84)


def test_air_purification():
    result = air_purification.compute(_ctx())
    so2 = _component(result, "so2").physical
    # R1 SO2 capacity 5 × 0.2 = 1.0 t > load 0.5 -> 0.5; R2 capacity 4 × 0.2 = 0.8 t < load 100 -> 0.8
    assert so2[R1].sum() == pytest.approx(0.5) and so2[R2].sum() == pytest.approx(0.8)
    # 1.3 t × 1200 = 1560 yuan; NOx and dust have no capacity -> 0
    assert result.value_yuan.sum() == pytest.approx(1560.0)
    assert result.physical.sum() == pytest.approx(1.3)


def test_outside_pixels_are_nan_and_not_counted():
    unit_index = UNIT_INDEX.copy()
    unit_index[1, 1] = -1  # the R1 water pixel leaves the account
    ctx = make_context(
        {"landcover": LANDCOVER},
        CLASSES,
        {"pollutant_loads": LOADS},
        unit_index=unit_index,
        unit_codes=("R1", "R2", "R"),
        region_units=REGIONS,
    )
    cod = _component(water_purification.compute(ctx), "cod").physical
    # R1 capacity now 5 × 0.5 = 2.5 t < load 3 -> 2.5 t
    assert np.isnan(cod[1, 1]) and np.nansum(cod[R1]) == pytest.approx(2.5)


def _codes(excinfo) -> list[str]:
    excinfo.value.render("zh")  # every message renders in Chinese too
    return [p.code for p in excinfo.value.problems]


def test_load_table_errors():
    bad = pd.DataFrame(
        {
            "region_code": ["R9", "R1", "R1", 331102],
            "pollutant": ["cod", "pm25", "tp", "nh3n"],
            "load_t": [1.0, 1.0, -2.0, "n/a"],
        }
    )
    with pytest.raises(GepInputError) as excinfo:
        water_purification.compute(_ctx(loads=bad))
    assert _codes(excinfo) == [
        "svc_region_unknown",
        "svc_pollutant_unknown",
        "svc_value_negative",
        "svc_region_unknown",
        "value_not_number",
    ]
    assert excinfo.value.problems[0].params["region"] == "R9"
    assert excinfo.value.problems[3].params["region"] == "331102"
    assert "R9" in str(excinfo.value) and "R9" in excinfo.value.render("zh")

    overlap = pd.DataFrame({"region_code": ["R", "R1"], "pollutant": ["cod", "cod"], "load_t": [5.0, 1.0]})
    with pytest.raises(GepInputError) as excinfo:
        water_purification.compute(_ctx(loads=overlap))
    assert _codes(excinfo) == ["svc_load_regions_overlap"]

    with pytest.raises(GepInputError) as excinfo:
        water_purification.compute(_ctx(loads=LOADS.drop(columns="load_t")))
    assert _codes(excinfo) == ["column_missing"] and excinfo.value.problems[0].field == "load_t"


def test_class_and_option_errors():
    classes = CLASSES.copy()
    classes.loc[1, "tp_capacity"] = np.nan
    with pytest.raises(GepInputError) as excinfo:
        water_purification.compute(_ctx(classes=classes))
    assert _codes(excinfo) == ["svc_class_value_missing"] and excinfo.value.problems[0].field == "tp_capacity"

    with pytest.raises(GepInputError) as excinfo:
        air_purification.compute(_ctx(options={"purification_basis": "maximum"}))
    assert _codes(excinfo) == ["svc_choice_unknown"]


def test_duplicate_rows_are_summed_with_note():
    loads = pd.DataFrame({"region_code": ["R1", "R1"], "pollutant": ["cod", "cod"], "load_t": [1.0, 0.5]})
    result = water_purification.compute(_ctx(loads=loads))
    # R1 load 1 + 0.5 = 1.5 t < capacity 4.5 t -> 1.5 t
    assert _component(result, "cod").physical[R1].sum() == pytest.approx(1.5)
    assert "cod: several rows for region R1, loads summed" in result.notes


def test_declarations_name_shipped_parameters():
    from gep.parameters import default_parameters
    from gep.services import flood_regulation, soil_retention, water_conservation

    defaults = default_parameters()
    for module in (water_conservation, soil_retention, flood_regulation, water_purification, air_purification):
        for name in module.DECLARATION.parameters:
            parameter = defaults[name]
            assert parameter.source and parameter.name_zh and parameter.name_en
            assert parameter.base_year is not None or not parameter.unit.startswith("yuan")
