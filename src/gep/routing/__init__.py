"""Hydrological routing and terrain on in-memory arrays (numba kernels): depression filling, slope,
D8/MFD flow direction, flow accumulation and the RUSLE LS factor, as InVEST 3.20 / pygeoprocessing 2.4.

The array API is :mod:`gep.routing.terrain` (re-exported here); its kernels are the ones InVEST SDR/NDR
use: :mod:`gep.routing.packed` (fill, slope, packed flow directions, accumulation, streams),
:mod:`gep.routing.rusle` (LS), :mod:`gep.routing.distance` and :mod:`gep.routing.recursions` (flow-path
recursions of SDR and NDR)."""

from gep.routing.terrain import (
    D8_NODATA,
    D8_OFFSETS,
    D8_SINK,
    DEFAULT_L_MAX,
    Routing,
    aspect_shape_factor,
    fill_depressions,
    flow_accumulation,
    flow_direction_d8,
    flow_direction_mfd,
    gradient,
    ls_factor,
    ls_from_slope_and_accumulation,
    m_exponent,
    mfd_proportions,
    percent_to_radians,
    radians_to_percent,
    route,
    s_factor,
    slope,
    slope_percent,
)

__all__ = [
    "D8_NODATA",
    "D8_OFFSETS",
    "D8_SINK",
    "DEFAULT_L_MAX",
    "Routing",
    "aspect_shape_factor",
    "fill_depressions",
    "flow_accumulation",
    "flow_direction_d8",
    "flow_direction_mfd",
    "gradient",
    "ls_factor",
    "ls_from_slope_and_accumulation",
    "m_exponent",
    "mfd_proportions",
    "percent_to_radians",
    "radians_to_percent",
    "route",
    "s_factor",
    "slope",
    "slope_percent",
]
