"""Unit conversions used across gep. Every conversion factor lives here, once.

Money is yuan internally; 万元 (1e4 yuan) and 亿元 (1e8 yuan) are display units only.
"""

WAN = 1.0e4
"""万 (ten thousand)."""
YI = 1.0e8
"""亿 (one hundred million)."""

M2_PER_KM2 = 1.0e6
M2_PER_HA = 1.0e4
"""1 hm² (公顷) = 10,000 m²."""
HA_PER_KM2 = 100.0
MM_TO_M = 1.0e-3
"""Depth in mm × area in m² × MM_TO_M gives a volume in m³."""

CO2_PER_C = 44.0 / 12.0
"""Mass of CO2 per mass of carbon (t CO2 / t C)."""
O2_PER_CO2 = 32.0 / 44.0
"""Mass of O2 released per mass of CO2 fixed by photosynthesis (t O2 / t CO2)."""

O2_PER_C = CO2_PER_C * O2_PER_CO2
"""Mass of O2 released per mass of carbon fixed (32/12 t O2 / t C: one mole of O2 per mole of C)."""

T_PER_G = 1.0e-6
CM3_PER_M3 = 1.0e6
MIN_PER_YEAR = 365 * 24 * 60
"""Minutes in a 365-day year (525,600)."""

J_PER_KWH = 3.6e6
KJ_PER_KWH = 3600.0

WATER_DENSITY_G_PER_M3 = 1.0e6
"""Density of water, g per m³ (1 t/m³)."""


def yuan_to_wan(value_yuan: float) -> float:
    """Convert yuan to 万元."""
    return value_yuan / WAN


def yuan_to_yi(value_yuan: float) -> float:
    """Convert yuan to 亿元."""
    return value_yuan / YI
