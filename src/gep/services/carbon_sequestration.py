"""Carbon sequestration (固碳): CO2 fixed by ecosystems in the year, valued at a carbon price.

Physical quantity (methods doc §10), per pixel, in t CO2/a:

- ``nep`` (default) [S: Bo et al. 2017; Ganzi 2017]: ``Q_CO2 = 44/12 × NEP × area``, NEP from the
  ``nep`` layer in g C/(m²·a): g C/m² × m² = g C; × 1e-6 = t C; × 44/12 = t CO2. Pixels with NEP < 0
  are carbon sources: they stay negative (an ecosystem that emits is not clipped to zero) and a note
  counts them.
- ``rate`` [U: MEE guide / 2022 规范 style]: ``Q_CO2 = 44/12 × carbon_rate × area``, carbon_rate from
  the class table in t C/(hm²·a) × pixel area in hm². The class rate stands for the whole ecosystem
  (vegetation and soil, i.e. the guide's FCSR × (1 + β), GSR, SCSR_i folded into one number per class).

Price basis. A carbon price is quoted either per t CO2 or per t C (× 44/12 = 3.667 apart), so the
basis is carried by the parameter's unit, never guessed:

- ``carbon_price`` (yuan/t CO2, default 380 [V: Ganzi 2017, applied to 0.31 亿t "固碳(CO2)"]);
- ``carbon_price_per_c`` (yuan/t C, default 0 = unset). When it is set > 0 it replaces
  ``carbon_price``: ``V = Q_C × carbon_price_per_c`` (e.g. 1320 yuan/t C, Baiyangdian [V]); a note says
  so. Both are never added.

The result's main quantity is t CO2, with one component ``carbon`` in t C carrying the same value.

The small input checks shared by this group of regulating services (variant, layers, land-cover
classes, parameters) live here too, at the end of the module, so that the six services raise the same
messages (``gep/messages/services_climate.toml``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from gep.problems import GepInputError, Problem, error
from gep.services.base import Component, LayerInput, ServiceContext, ServiceDeclaration, ServiceResult
from gep.units import CO2_PER_C, M2_PER_HA

T_PER_G = 1.0e-6
"""Tonnes per gram (NEP/NPP layers are in g C/m²)."""

DECLARATION = ServiceDeclaration(
    item_id="carbon_sequestration",
    unit="t CO2",
    layers=(LayerInput("nep", required=False), LayerInput("landcover", required=False)),
    class_columns=("carbon_rate",),
    parameters=("carbon_price", "carbon_price_per_c"),
    components=(("carbon", "t C"),),
    variants=("nep", "rate"),
    valuation="afforestation_cost",
    formula=(
        "Q_CO2 = 44/12 × NEP × area (nep) or 44/12 × carbon_rate × area (rate, [U]); "
        "V = Q_CO2 × carbon_price [yuan/t CO2], or Q_C × carbon_price_per_c [yuan/t C] when that is > 0"
    ),
)

_VARIANT_LAYERS = {"nep": ("nep",), "rate": ("landcover",)}


def carbon_tonnes(ctx: ServiceContext, variant: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Net carbon fixed per pixel in t C/a for ``variant`` ("nep" or "rate"), and notes.

    Raises GepInputError when a layer or a class value the variant needs is missing. Pixels outside
    ``ctx.inside`` are NaN.
    """
    item = DECLARATION.item_id
    problems = require_layers(ctx, item, _VARIANT_LAYERS[variant], variant)
    raise_problems(problems)
    if variant == "nep":
        nep = np.asarray(ctx.layers["nep"], dtype=np.float64)
        tonnes_c = nep * ctx.pixel_area_m2 * T_PER_G
    else:
        problems = missing_class_problems(ctx, item, ("carbon_rate",))
        problems += column_problems(ctx, item, "carbon_rate")
        raise_problems(problems)
        rate = ctx.class_values("carbon_rate")  # t C/(hm²·a)
        tonnes_c = rate * (ctx.pixel_area_m2 / M2_PER_HA)
    tonnes_c = inside_only(ctx, tonnes_c)
    return tonnes_c, _source_note(tonnes_c, variant)


def _source_note(tonnes_c: np.ndarray, variant: str) -> tuple[str, ...]:
    negative = tonnes_c < 0  # NaN compares False
    count = int(np.count_nonzero(negative))
    if count == 0:
        return ()
    what = "NEP < 0" if variant == "nep" else "carbon_rate < 0"
    total = float(tonnes_c[negative].sum() * CO2_PER_C)
    return (f"{what} in {count} pixels (carbon sources): kept negative, {total:.6g} t CO2 in total",)


def compute(ctx: ServiceContext) -> ServiceResult:
    """CO2 fixed (t CO2 per pixel) and its value (yuan per pixel); see the module docstring."""
    variant = pick_variant(ctx, DECLARATION)
    tonnes_c, notes = carbon_tonnes(ctx, variant)
    tonnes_co2 = tonnes_c * CO2_PER_C

    has_per_c = "carbon_price_per_c" in ctx.params
    per_c = ctx.params.value("carbon_price_per_c") if has_per_c else 0.0
    names = ["carbon_price_per_c"] if per_c > 0 else ["carbon_price"]
    checked = names + (["carbon_price_per_c"] if has_per_c and names[0] != "carbon_price_per_c" else [])
    raise_problems(parameter_problems(ctx, DECLARATION.item_id, checked))
    if per_c > 0:
        value = tonnes_c * per_c
        price_name = "carbon_price_per_c"
        notes += (f"valued per t C: carbon_price_per_c = {per_c:g} yuan/t C (carbon_price not used)",)
    else:
        value = tonnes_co2 * ctx.params.value("carbon_price")
        price_name = "carbon_price"
    component = Component("carbon", "t C", tonnes_c, value, price_name)
    return ServiceResult(
        item_id=DECLARATION.item_id,
        unit=DECLARATION.unit,
        physical=tonnes_co2,
        value_yuan=value,
        components=(component,),
        parameters_used=(price_name,),
        notes=(f"variant {variant}", *notes, *nodata_notes(ctx, tonnes_co2)),
    )


# --- input checks shared by carbon_sequestration, oxygen_release, climate_regulation,
# --- negative_air_ions, pest_control and sand_fixation --------------------------------------------

CLASS_TABLE = "landcover_params"
"""Name of the land-cover class table, used as the problem source."""

ECOSYSTEMS = ("forest", "shrub", "grassland", "wetland", "cropland", "water", "urban", "bare")


def raise_problems(problems: Sequence[Problem]) -> None:
    """Raise GepInputError carrying ``problems`` if there are any."""
    if problems:
        raise GepInputError(problems)


def pick_variant(ctx: ServiceContext, declaration: ServiceDeclaration) -> str | None:
    """The variant to compute: ``ctx.variant``, or the declaration's first one when None.

    Raises GepInputError naming the valid variants when ``ctx.variant`` is not one of them (an item
    without variants accepts only None).
    """
    valid = declaration.variants
    if ctx.variant is None:
        return valid[0] if valid else None
    if ctx.variant not in valid:
        raise_problems([unknown_choice(declaration.item_id, "variant", ctx.variant, valid)])
    return ctx.variant


def unknown_choice(item_id: str, what: str, value: object, valid: Sequence[str]) -> Problem:
    """Problem for an unknown variant or option value, naming the valid ones."""
    return error(
        "climate_svc_unknown_choice",
        "method profile",
        what,
        item=item_id,
        value=value,
        valid=", ".join(valid) if valid else "(none)",
    )


def require_layers(
    ctx: ServiceContext, item_id: str, names: Iterable[str], variant: str | None = None
) -> list[Problem]:
    """Problems for the layers of ``names`` absent from ``ctx.layers``."""
    return [
        error("climate_svc_layer_missing", "layers", name, item=item_id, variant=variant or "-")
        for name in names
        if name not in ctx.layers
    ]


def present_classes(ctx: ServiceContext) -> np.ndarray:
    """Sorted land-cover class codes found inside the account area (nodata excluded)."""
    codes = np.asarray(ctx.layers["landcover"])
    found = codes[np.asarray(ctx.inside, dtype=bool) & (codes >= 0)]
    return np.unique(found).astype(np.int64)


def landcover_nodata(ctx: ServiceContext) -> np.ndarray:
    """Boolean mask of the pixels whose land-cover code is nodata (negative or NaN)."""
    codes = np.asarray(ctx.layers["landcover"])
    return ~(codes >= 0)


def missing_class_problems(ctx: ServiceContext, item_id: str, columns: Sequence[str]) -> list[Problem]:
    """Problem for classes found in the landcover layer but absent from the class table."""
    present = present_classes(ctx)
    missing = sorted(set(present.tolist()) - {int(c) for c in ctx.classes.index})
    if not missing:
        return []
    codes = np.asarray(ctx.layers["landcover"])
    pixels = int(np.count_nonzero(np.isin(codes, missing) & np.asarray(ctx.inside, dtype=bool)))
    return [
        error(
            "climate_svc_class_missing",
            CLASS_TABLE,
            "class",
            item=item_id,
            codes=", ".join(str(c) for c in missing),
            pixels=pixels,
            columns=", ".join(columns),
        )
    ]


def column_problems(
    ctx: ServiceContext,
    item_id: str,
    column: str,
    codes: Iterable[int] | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> list[Problem]:
    """Problems with numeric column ``column`` for the classes ``codes`` (default: every class found
    inside the area and present in the table): column absent, NaN, or outside [low, high] (]low, high]
    with ``low_open``)."""
    table = ctx.classes
    if column not in table.columns:
        return [error("column_missing", CLASS_TABLE, column, column=column, expected=column)]
    wanted = present_classes(ctx) if codes is None else np.asarray(list(codes), dtype=np.int64)
    rows = pd.to_numeric(table.loc[table.index.isin(wanted), column], errors="coerce")
    empty = sorted(int(c) for c in rows.index[rows.isna()])
    if empty:
        return [
            error(
                "climate_svc_class_value_missing", CLASS_TABLE, column, item=item_id, codes=", ".join(map(str, empty))
            )
        ]
    bad = pd.Series(False, index=rows.index)
    if low is not None:
        bad |= rows <= low if low_open else rows < low
    if high is not None:
        bad |= rows > high
    if not bad.any():
        return []
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    expected = f"{'(' if low_open else '['}{lo}, {hi}]"
    found = ", ".join(f"{int(c)}: {v:g}" for c, v in rows[bad].items())
    return [error("climate_svc_class_value_invalid", CLASS_TABLE, column, item=item_id, found=found, expected=expected)]


def ecosystem_classes(ctx: ServiceContext, item_id: str, ecosystems: Sequence[str]) -> tuple[np.ndarray, list[Problem]]:
    """Codes of the table's classes whose ``ecosystem`` is one of ``ecosystems``, and problems with
    the ``ecosystem`` column for the classes found inside the area (absent, empty, unknown name)."""
    table = ctx.classes
    if "ecosystem" not in table.columns:
        problem = error("column_missing", CLASS_TABLE, "ecosystem", column="ecosystem", expected="ecosystem")
        return np.zeros(0, dtype=np.int64), [problem]
    present = table.loc[table.index.isin(present_classes(ctx)), "ecosystem"]
    bad = present[~present.isin(ECOSYSTEMS)]
    problems = []
    if len(bad):
        found = ", ".join(f"{int(c)}: {v!r}" for c, v in bad.items())
        problems.append(
            error(
                "climate_svc_class_value_invalid",
                CLASS_TABLE,
                "ecosystem",
                item=item_id,
                found=found,
                expected=", ".join(ECOSYSTEMS),
            )
        )
    codes = np.asarray([int(c) for c, e in table["ecosystem"].items() if e in ecosystems], dtype=np.int64)
    return codes, problems


def parameter_problems(
    ctx: ServiceContext, item_id: str, names: Iterable[str], low: float = 0.0, low_open: bool = False
) -> list[Problem]:
    """Problems for parameters below ``low`` (or not above it with ``low_open``)."""
    problems = []
    for name in names:
        parameter = ctx.params[name]
        value = float(parameter.value)
        if not np.isfinite(value) or (value <= low if low_open else value < low):
            problems.append(
                error(
                    "climate_svc_parameter_invalid",
                    "parameters",
                    name,
                    item=item_id,
                    value=value,
                    unit=parameter.unit,
                    expected=f"{'>' if low_open else '>='} {low:g}",
                )
            )
    return problems


def inside_only(ctx: ServiceContext, values: np.ndarray) -> np.ndarray:
    """``values`` inside the account area, NaN outside (no data there, not zero)."""
    return np.where(np.asarray(ctx.inside, dtype=bool), values, np.nan)


def nodata_notes(ctx: ServiceContext, values: np.ndarray) -> tuple[str, ...]:
    """A note counting the pixels inside the area whose result is NaN because an input has no data."""
    count = int(np.count_nonzero(np.isnan(values) & np.asarray(ctx.inside, dtype=bool)))
    return (f"{count} pixels inside the area have no data in an input (result NaN)",) if count else ()
