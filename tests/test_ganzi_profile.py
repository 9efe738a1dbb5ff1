"""The Ganzi prefecture 2010 table (白玛卓嘎 et al., 生态学报 2017, table 3; gep-methods.md §20.1) run
through the ``rcees_ganzi`` profile: its published physical quantities valued with the prices the
profile resolves to reproduce every published value.

Published quantities are rounded (e.g. 0.31 亿t of CO2), so each check allows the value change that
half a unit of the last published digit of each quantity can cause, plus half a unit of the value's
last digit. Items whose engine code path is exercised on Ganzi numbers are also tested in the
service tests; this test checks the profile's price set against the whole table.
"""

import pytest

from gep.catalog import load_catalog
from gep.inputs.prepare import profile_parameters
from gep.units import WAN, YI


@pytest.fixture(scope="module")
def params():
    return profile_parameters(load_catalog().profile("rcees_ganzi"))


# (row, [(quantity, half-unit of its rounding, price parameter)], published value 亿元)
def rows(p):
    wan_t, yi_m3, yi_t, yi_kwh, wan_ha = WAN, YI, YI, YI, WAN
    sand_per_t = 1.0 / (p.value("sand_bulk_density") * p.value("sand_cover_thickness"))  # m2 per t
    return [
        ("water conservation", [(321.49 * yi_m3, 0.005 * yi_m3, "reservoir_cost")], 2269.71),
        ("soil: sediment", [(10.03 * yi_m3, 0.005 * yi_m3, "dredging_cost")], 156.26),
        ("soil: N", [(1437.94 * wan_t, 0.005 * wan_t, "n_price")], 125.82),
        ("soil: P", [(419.72 * wan_t, 0.005 * wan_t, "p_price")], 117.52),
        ("sand fixation", [(779.42 * wan_t * sand_per_t, 0.005 * wan_t * sand_per_t, "sand_control_cost")], 2.28),
        ("flood", [(q * yi_m3, 0.005 * yi_m3, "reservoir_cost") for q in (2.43, 0.01, 6.00)], 59.56),
        (
            "air",
            [(1137, 0.5, "so2_treatment_cost"), (2772, 0.5, "nox_treatment_cost"), (941, 0.5, "dust_treatment_cost")],
            0.03,
        ),
        ("water purification", [(5424, 0.5, "cod_treatment_cost"), (625, 0.5, "nh3n_treatment_cost")], 0.04),
        ("carbon", [(0.31 * yi_t, 0.005 * yi_t, "carbon_price")], 117.35),
        ("oxygen", [(2.51 * yi_t, 0.005 * yi_t, "oxygen_price")], 1821.92),
        ("climate: vegetation", [(2799.10 * yi_kwh, 0.005 * yi_kwh, "electricity_price")], 1483.52),
        ("climate: water", [(1272.35 * yi_kwh, 0.005 * yi_kwh, "electricity_price")], 674.34),
        ("pest: forest", [(158 * wan_ha, 0.5 * wan_ha, "pest_cost_forest")], 5.93),
        ("pest: grassland", [(711.13 * wan_ha, 0.005 * wan_ha, "pest_cost_grassland")], 8.00),
        (
            "water supply",
            [
                (1.36 * yi_m3, 0.005 * yi_m3, "water_price_domestic"),
                (150.17 * yi_m3, 0.005 * yi_m3, "water_price_industrial"),
                (17.31 * yi_m3, 0.005 * yi_m3, "water_price_agricultural"),
            ],
            545.36,
        ),
        ("hydropower", [(95.30 * yi_kwh, 0.005 * yi_kwh, "hydropower_price")], 50.51),
    ]


def test_every_row_of_the_table(params):
    for name, parts, published in rows(params):
        value = sum(q * params.value(price) for q, _, price in parts) / YI
        allowed = sum(half * params.value(price) for _, half, price in parts) / YI + 0.005
        assert value == pytest.approx(published, abs=allowed), name


def test_sediment_volume_follows_from_soil_retained(params):
    # 38.86 亿t x 0.24 / 0.93 t/m3 = 10.028 亿m3, published 10.03
    volume = 38.86 * params.value("sediment_deposition_coef") / params.value("soil_bulk_density")
    assert volume == pytest.approx(10.03, abs=0.005 * 0.24 / 0.93 + 0.005)


def test_regulating_subtotals_add_up_to_the_published_category():
    # regulating items as published: water 2269.71, soil 399.60, sand 2.28, flood 59.56, air 0.03,
    # water purification 0.04, carbon + O2 1939.27, climate 2157.86, pest 5.93 + 8.00
    regulating = 2269.71 + 399.60 + 2.28 + 59.56 + 0.03 + 0.04 + 1939.27 + 2157.86 + 5.93 + 8.00
    assert regulating == pytest.approx(6842.28, abs=0.005)
    assert pytest.approx(7545.59, abs=0.005) == 632.64 + 6842.28 + 70.67


def test_profile_prices_carry_the_case_study_as_source(params):
    price = params["oxygen_price"]
    assert price.value == 727.0 and price.tag == "verified" and "rcees_ganzi" in price.source
