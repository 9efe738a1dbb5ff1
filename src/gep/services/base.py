"""What every service module receives and returns.

A service is a pure function ``compute(ctx: ServiceContext) -> ServiceResult``: it reads arrays and
tables from the context, never opens a file, reads a setting or prints. The engine builds the context
(aligned layers, class table, statistical tables, parameters with provenance, region index) and does
all IO.

Arrays are 2-D on the account grid, float64, NaN where there is no data; ``ctx.inside`` marks the pixels
inside the account's regions. Per-pixel results are quantities per pixel (not per m²), so that summing
pixels gives region totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from gep.parameters import ParameterSet


@dataclass(frozen=True)
class LayerInput:
    """A raster layer a service reads, by its name in the layer vocabulary (``catalog/layers.toml``)."""

    name: str
    required: bool = True


@dataclass(frozen=True)
class TableInput:
    """A table a service reads (``reservoirs``, ``pollutant_loads``...) and the columns it needs."""

    name: str
    columns: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True)
class ServiceDeclaration:
    """What a service needs and produces, declared once and read by validation, the catalogue, the
    engine and the report's method table.

    Attributes:
        item_id: catalogue id of the item (``water_conservation``...).
        unit: unit of the main physical quantity per pixel (``m3``, ``t``, ``kWh``...).
        layers: raster layers read. Derived layers (``ls_factor``) are computed by the engine from
            their sources and listed in ``derived_layers`` instead.
        class_columns: columns of the ``landcover_params`` class table read.
        tables: other tables read.
        parameters: names of parameters read (from ``gep/data/parameters/*.toml``).
        components: (name, unit) of each sub-quantity reported beside the main quantity.
        variants: formula variants supported; the first is the default. A profile picks one.
        derived_layers: layers the engine derives before calling (e.g. ``ls_factor`` from ``dem``).
        whole_grid: True when the computation needs the whole grid at once (routing, regional caps);
            False when it is per pixel and may run in chunks.
        valuation: valuation method id (``shadow_engineering``, ``replacement_cost``...).
        formula: the formula in one line, for the report's method table.
    """

    item_id: str
    unit: str
    layers: tuple[LayerInput, ...] = ()
    class_columns: tuple[str, ...] = ()
    tables: tuple[TableInput, ...] = ()
    parameters: tuple[str, ...] = ()
    components: tuple[tuple[str, str], ...] = ()
    variants: tuple[str, ...] = ()
    derived_layers: tuple[str, ...] = ()
    whole_grid: bool = False
    valuation: str = ""
    formula: str = ""


@dataclass(frozen=True)
class ServiceContext:
    """Everything a service may read.

    Attributes:
        layers: layer name -> 2-D array on the account grid (NaN = nodata). Categorical layers
            (``landcover``) are integer class codes with -1 for nodata.
        classes: the land-cover class parameter table, indexed by integer class code (see
            ``landcover_params`` in the catalogue), one row per class.
        tables: other tables by name (``reservoirs``, ``pollutant_loads``...), as DataFrames.
        params: parameters with provenance (defaults, then profile, then spec overrides applied).
        pixel_area_m2: area of one pixel in m².
        inside: boolean mask of the pixels inside the account area.
        unit_index: int32 array; for each pixel the index into ``unit_codes`` of the deepest region
            containing it, -1 outside every region.
        unit_codes: region codes, one per index of ``unit_index``.
        region_units: region code -> indices (into ``unit_codes``) of that region and all its
            descendants, so ``np.isin(unit_index, region_units[code])`` is the region's mask.
        transform: affine transform of the grid (for placing point features such as reservoirs),
            and ``crs`` its CRS string; point tables carry ``x``/``y`` already projected to it.
        variant: formula variant chosen by the method profile for this item (e.g. ``"nep"`` or
            ``"rate"`` for carbon), or None for the item's default.
        options: profile switches (e.g. ``{"include_reservoir_operating_cost": True}``).
    """

    layers: Mapping[str, np.ndarray]
    classes: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    params: ParameterSet
    pixel_area_m2: float
    inside: np.ndarray
    unit_index: np.ndarray
    unit_codes: tuple[str, ...]
    region_units: Mapping[str, tuple[int, ...]]
    transform: object = None
    crs: str = ""
    variant: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)

    def class_values(self, column: str, nodata: float = np.nan) -> np.ndarray:
        """Map the ``landcover`` layer through column ``column`` of the class table (float64 array)."""
        from gep.services.classmap import map_classes  # local import keeps base free of numba

        return map_classes(self.layers["landcover"], self.classes[column], nodata)

    def region_mask(self, code: str) -> np.ndarray:
        """Boolean mask of the pixels of region ``code`` (itself and its descendants), in one pass."""
        from gep.services.kernels import unit_member  # local import keeps base free of numba

        return unit_member(self.unit_index, self.region_units[code], len(self.unit_codes))


@dataclass(frozen=True)
class Component:
    """One physical sub-quantity of an item and its value, both per pixel.

    ``physical`` is in ``unit`` per pixel, ``value_yuan`` in yuan per pixel; either may be all zeros
    where it does not apply. ``price_parameter`` names the parameter that values it (for the report's
    method table), or is empty when the value comes from a formula of several parameters.
    """

    name: str
    unit: str
    physical: np.ndarray
    value_yuan: np.ndarray
    price_parameter: str = ""


@dataclass(frozen=True)
class ServiceResult:
    """What a service returns.

    Attributes:
        item_id: catalogue id of the item.
        unit: unit of ``physical`` (the item's main physical quantity), per pixel.
        physical: main physical quantity per pixel (e.g. m³ of water conserved). May be negative
            where the method allows it (water balance); services never clip silently.
        value_yuan: value per pixel in yuan.
        components: sub-quantities (e.g. sediment, N, P for soil retention) in their own units.
        parameters_used: names of the parameters the computation read (for provenance).
        notes: short English notes for the method table (e.g. "negative balance in 12 pixels").
    """

    item_id: str
    unit: str
    physical: np.ndarray
    value_yuan: np.ndarray
    components: tuple[Component, ...] = ()
    parameters_used: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
