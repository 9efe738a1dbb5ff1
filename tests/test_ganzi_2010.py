"""Ganzi prefecture 2010 material products (白玛卓嘎 et al. 2017, table 3; gep-methods §3 and §20.1),
reproduced with the service functions on a one-pixel grid and the shipped default prices.

Published (亿元 = 1e8 yuan, 2 decimals):
- water supply: 1.36 / 150.17 / 17.31 亿m³ × 2.6 / 3.6 / 0.07 yuan/m³
  = 3.536 + 540.612 + 1.2117 = 545.3597 -> 545.36
- hydropower: 95.30 亿kWh × 0.53 yuan/kWh = 50.509 -> 50.51
- agriculture / forestry / animal husbandry / fishery net output: 12.29 / 2.38 / 22.08 / 0.04 (passed through)
The published provisioning total is 632.64; the rounded items above add to 632.66 (12.29 + 2.38 + 22.08 + 0.04
+ 545.36 + 50.51), a rounding difference in the paper, so the total is not asserted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gep.catalog import load_catalog
from gep.services import agriculture, animal_husbandry, eco_energy, fishery, forestry, water_supply
from gep.units import YI, yuan_to_yi
from service_fixtures import make_context

GANZI = "513300"  # 甘孜藏族自治州
CLASSES = pd.DataFrame({"class": [1, 2, 3, 4], "ecosystem": ["cropland", "forest", "grassland", "water"]})
STATISTICS = pd.DataFrame(
    {
        "region_code": [GANZI],
        "year": [2010],
        "agriculture_yuan": [12.29 * YI],
        "forestry_yuan": [2.38 * YI],
        "animal_husbandry_yuan": [22.08 * YI],
        "fishery_yuan": [0.04 * YI],
        "water_use_domestic_m3": [1.36 * YI],
        "water_use_industrial_m3": [150.17 * YI],
        "water_use_agricultural_m3": [17.31 * YI],
        "hydropower_kwh": [95.30 * YI],
    }
)


def one_pixel(landcover: int):
    """A 1-pixel grid of Ganzi with the rcees_ganzi profile options (net output, travel cost...)."""
    options = dict(load_catalog().profile("rcees_ganzi").options)
    return make_context(
        {"landcover": [[landcover]]}, CLASSES, tables={"statistics": STATISTICS}, unit_codes=(GANZI,), options=options
    )


def yi(array) -> float:
    return round(yuan_to_yi(float(np.nansum(array))), 2)


@pytest.mark.parametrize(
    ("module", "landcover", "published"),
    [(agriculture, 1, 12.29), (forestry, 2, 2.38), (animal_husbandry, 3, 22.08), (fishery, 4, 0.04)],
)
def test_sector_net_output_passed_through(module, landcover, published):
    result = module.compute(one_pixel(landcover))
    assert yi(result.value_yuan) == published
    assert yi(result.physical) == published  # the quantity is the same figure in yuan
    assert any("net_output" in note for note in result.notes)


def test_water_supply_545_36():
    result = water_supply.compute(one_pixel(4))
    assert yi(result.value_yuan) == 545.36
    # volume 1.36 + 150.17 + 17.31 = 168.84 亿m³
    assert round(float(np.nansum(result.physical)) / YI, 2) == 168.84
    by_name = {c.name: yuan_to_yi(float(np.nansum(c.value_yuan))) for c in result.components}
    assert by_name["domestic"] == pytest.approx(3.536)
    assert by_name["industrial"] == pytest.approx(540.612)
    assert by_name["agricultural"] == pytest.approx(1.2117)


def test_hydropower_50_51():
    result = eco_energy.compute(one_pixel(4))
    assert yi(result.value_yuan) == 50.51
    assert round(float(np.nansum(result.physical)) / YI, 2) == 95.30
