"""Input checks shared by the regulating services.

Each check returns a list of :class:`~gep.problems.Problem` (so a service can collect every problem
before it stops) and :func:`raise_problems` raises them together. Messages are the ``svc_*`` keys of
``gep/messages/services.toml`` (plus ``column_missing`` and ``value_not_number`` of ``common.toml``);
each names the table, column, class, layer, parameter or option and what was expected.

What is checked, and by which helper:

- layers present: :func:`require_layers`;
- formula variant and profile options: :func:`pick_variant`, :func:`check_option`, :func:`check_flag`,
  :func:`unknown_choice`;
- land-cover class table: classes found in the area without a row (:func:`check_class_rows`), columns
  absent, empty (NaN) or outside a :class:`Range` (:func:`check_class_values`, both at once with
  :func:`check_class_columns`), ``ecosystem`` names (:func:`check_ecosystem_column`);
- other tables: columns (:func:`check_table_columns`), numbers (:func:`read_number`,
  :func:`check_table_numbers`), region codes (:func:`check_region_code`);
- parameters: :func:`check_parameters`.

It also holds the small helpers the checks and services share: land-cover codes and nodata
(:func:`landcover_codes`, :func:`landcover_ints`, :func:`landcover_nodata`, :func:`class_mask`,
:func:`present_classes`, :func:`ecosystem_codes`),
:func:`inside_only`, :func:`nodata_note`, :func:`missing_note`, :func:`region_code_text` and :func:`listed`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from gep.i18n import Text
from gep.problems import GepInputError, Problem, error
from gep.services.base import ServiceContext, ServiceDeclaration
from gep.services.kernels import class_counts, class_member

CLASS_TABLE = "landcover_params"
"""Name of the land-cover class table, used as the ``source`` of class-table problems."""

PROFILE = "method profile"
"""``source`` of variant and option problems (they come from the method profile or the spec)."""

LAYERS = "layers"
"""``source`` of missing-layer problems (the layer is the ``field``)."""

PARAMETERS = "parameters"
"""``source`` of parameter problems (the parameter is the ``field``)."""

ECOSYSTEMS: tuple[str, ...] = ("forest", "shrub", "grassland", "wetland", "cropland", "water", "urban", "bare")
"""Allowed values of the class table's ``ecosystem`` column."""

MAX_LISTED = 20
"""At most this many codes or values are spelled out in one message; the rest are counted."""


class Range(NamedTuple):
    """Allowed values of a number: ``[low, high]``, or ``(low, high]`` with ``low_open``."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False

    def outside(self, values: pd.Series) -> pd.Series:
        """True where a (non-NaN) value lies outside the range; NaN gives False."""
        below = values <= self.low if self.low_open else values < self.low
        return below | (values > self.high)

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"


FRACTION = Range(0.0, 1.0)
"""A share or coefficient, 0 to 1."""
NON_NEGATIVE = Range(0.0)
"""A number >= 0."""
POSITIVE = Range(0.0, low_open=True)
"""A number > 0."""


# --- general -----------------------------------------------------------------------------------


def raise_problems(problems: Sequence[Problem]) -> None:
    """Raise :class:`GepInputError` carrying ``problems`` if there are any."""
    if problems:
        raise GepInputError(problems)


def listed(values: Sequence[object]) -> str:
    """``values`` joined by ", ", at most :data:`MAX_LISTED` of them and then "… (+N)"."""
    shown = ", ".join(str(v) for v in values[:MAX_LISTED])
    return shown + (f" … (+{len(values) - MAX_LISTED})" if len(values) > MAX_LISTED else "")


def region_code_text(value: object) -> str:
    """A region code read from a table as text: integers (also 331102.0) without a decimal part."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.integer | int):
        return str(int(value))
    return str(value).strip()


def inside_only(ctx: ServiceContext, values: np.ndarray) -> np.ndarray:
    """``values`` inside the account area, NaN outside (no data there, not zero)."""
    return np.where(np.asarray(ctx.inside, dtype=bool), values, np.nan)


def nodata_note(ctx: ServiceContext, valid: np.ndarray, what: str | None = None) -> list[str]:
    """A note counting the pixels inside the account where the boolean mask ``valid`` is False (a result
    left NaN because an input has no data there).

    ``what`` names the inputs that may lack data (e.g. "precipitation or a land-cover class"); without it
    the note speaks of "an input".
    """
    missing = int(np.count_nonzero(np.asarray(ctx.inside, dtype=bool) & ~np.asarray(valid, dtype=bool)))
    return missing_note(missing, what)


def missing_note(missing: int, what: str | None = None) -> list[str]:
    """:func:`nodata_note` from the count of ``missing`` pixels (for services that count them in a kernel)."""
    if not missing:
        return []
    if what is None:  # the wording the air and climate services have always used
        return [f"{missing} pixels inside the area have no data in an input (result NaN)"]
    return [f"{missing} pixels inside the account lack {what}; left NaN (not counted)"]


# --- layers ------------------------------------------------------------------------------------


def require_layers(
    ctx: ServiceContext, item_id: str, names: Iterable[str], variant: str | None = None
) -> list[Problem]:
    """A problem for each layer of ``names`` absent from ``ctx.layers`` (naming the variant needing it)."""
    needed_by: str | Text = item_id
    if variant is not None:
        needed_by = Text(zh=f"{item_id}（公式变体 {variant}）", en=f"{item_id} (variant {variant})")
    return [
        error("svc_layer_missing", LAYERS, name, layer=name, item=needed_by) for name in names if name not in ctx.layers
    ]


def landcover_codes(ctx: ServiceContext) -> np.ndarray:
    """The ``landcover`` layer as int64 class codes, -1 where there is no data (negative or NaN).

    A new array; :func:`landcover_ints` avoids the copy when the layer is already integer."""
    raw = np.asarray(ctx.layers["landcover"])
    if raw.dtype.kind in "iu":
        codes = raw.astype(np.int64)
        return np.maximum(codes, -1, out=codes)
    codes = np.where(np.isfinite(raw), raw, -1).astype(np.int64)
    return np.where(codes < 0, -1, codes)


def landcover_ints(ctx: ServiceContext) -> np.ndarray:
    """The ``landcover`` layer as integer class codes, any negative value meaning nodata: the layer itself
    (no copy) when it is integer (the engine's int32), else :func:`landcover_codes`."""
    raw = np.asarray(ctx.layers["landcover"])
    return raw if raw.dtype.kind in "iu" else landcover_codes(ctx)


def landcover_nodata(ctx: ServiceContext) -> np.ndarray:
    """Boolean mask of the pixels whose land-cover code is nodata (negative or NaN)."""
    return landcover_ints(ctx) < 0


def class_mask(ctx: ServiceContext, codes: Iterable[int] | np.ndarray) -> np.ndarray:
    """Boolean mask of the pixels whose land-cover class is one of ``codes`` (one lookup pass;
    nodata pixels are never in it)."""
    return class_member(landcover_ints(ctx), np.asarray(list(codes) if not isinstance(codes, np.ndarray) else codes))


def present_classes(ctx: ServiceContext) -> dict[int, int]:
    """Class code -> number of pixels, over the pixels inside the account with a land-cover class
    (ascending codes)."""
    return class_counts(landcover_ints(ctx), np.asarray(ctx.inside, dtype=bool))


def ecosystem_codes(ctx: ServiceContext, ecosystems: Iterable[str]) -> np.ndarray:
    """Codes (int64) of the class table's classes whose ``ecosystem`` is one of ``ecosystems``; empty
    when the table has no ``ecosystem`` column (:func:`check_ecosystem_column` reports that)."""
    table = ctx.classes
    if "ecosystem" not in table.columns:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(table.index[table["ecosystem"].isin(list(ecosystems))], dtype=np.int64)


# --- variants and options ----------------------------------------------------------------------


def unknown_choice(item_id: str, what: str, value: object, valid: Sequence[object]) -> Problem:
    """Problem for a variant or option value that is not one of ``valid``, naming the valid ones."""
    return error(
        "svc_choice_unknown",
        PROFILE,
        what,
        item=item_id,
        value=value,
        valid=", ".join(str(v) for v in valid) if valid else "(none)",
    )


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


def check_option(ctx: ServiceContext, item_id: str, option: str, allowed: Sequence[str]) -> list[Problem]:
    """A problem if profile option ``option`` is set to a value outside ``allowed`` (unset means
    ``allowed[0]``, the default)."""
    value = ctx.options.get(option, allowed[0])
    return [] if value in allowed else [unknown_choice(item_id, option, value, allowed)]


def check_flag(ctx: ServiceContext, item_id: str, option: str) -> list[Problem]:
    """A problem if profile option ``option`` is set to anything but true or false (unset is fine)."""
    value = ctx.options.get(option, False)
    return [] if isinstance(value, bool) else [unknown_choice(item_id, option, value, ("true", "false"))]


# --- the land-cover class table ----------------------------------------------------------------


def _wanted(ctx: ServiceContext, codes: Iterable[int] | None) -> tuple[dict[int, int], list[int]]:
    """Pixel counts of the classes present, and the sorted present codes (of ``codes`` when given)."""
    present = present_classes(ctx)
    wanted = present if codes is None else set(present) & {int(c) for c in codes}
    return present, sorted(wanted)


def check_class_rows(
    ctx: ServiceContext, item_id: str, columns: Sequence[str], codes: Iterable[int] | None = None
) -> list[Problem]:
    """A problem naming the classes present in the area (of ``codes`` when given) that have no row in
    the class table, their pixel count and the ``columns`` the item needs for them."""
    present, wanted = _wanted(ctx, codes)
    index = {int(c) for c in ctx.classes.index}
    missing = [c for c in wanted if c not in index]
    if not missing:
        return []
    return [
        error(
            "svc_class_missing",
            CLASS_TABLE,
            "class",
            codes=listed(missing),
            pixels=sum(present[c] for c in missing),
            item=item_id,
            columns=", ".join(columns),
        )
    ]


def check_class_values(
    ctx: ServiceContext,
    item_id: str,
    columns: Mapping[str, Range | None],
    codes: Iterable[int] | None = None,
) -> list[Problem]:
    """Problems with numeric class-table columns, for the classes present in the area that have a row
    (only those of ``codes`` when given).

    Args:
        ctx: the service context (its ``classes`` table and ``landcover`` layer are read).
        item_id: the item asking, named in the messages.
        columns: column name -> allowed :class:`Range` of its values, or None for any number.
        codes: check only these class codes (of those present); None checks every present class.

    Returns:
        For each column: absent from the table; empty (NaN, or not a number) for some classes; values
        outside the range (named as class: value).
    """
    table = ctx.classes
    problems = check_table_columns(table, CLASS_TABLE, list(columns))
    _, wanted = _wanted(ctx, codes)
    index = {int(c) for c in table.index}
    rows = [c for c in wanted if c in index]
    for column, allowed in columns.items():
        if column not in table.columns or not rows:
            continue
        values = pd.to_numeric(table.loc[rows, column], errors="coerce")
        expected = allowed or Range()
        empty = [int(c) for c in values.index[values.isna()]]
        if empty:
            problems.append(
                error(
                    "svc_class_value_missing",
                    CLASS_TABLE,
                    column,
                    column=column,
                    codes=listed(empty),
                    item=item_id,
                    expected=str(expected),
                )
            )
        bad = values[expected.outside(values)]
        if len(bad):
            bad_codes = [int(c) for c in bad.index]
            problems.append(
                error(
                    "svc_class_value_invalid",
                    CLASS_TABLE,
                    column,
                    column=column,
                    item=item_id,
                    codes=listed(bad_codes),
                    values=listed([f"{v:g}" for v in bad]),
                    found=listed([f"{c}: {v:g}" for c, v in zip(bad_codes, bad, strict=True)]),
                    expected=str(expected),
                )
            )
    return problems


def check_class_columns(
    ctx: ServiceContext,
    item_id: str,
    columns: Mapping[str, Range | None],
    codes: Iterable[int] | None = None,
) -> list[Problem]:
    """:func:`check_class_rows` then :func:`check_class_values` for ``columns``."""
    return check_class_rows(ctx, item_id, list(columns), codes) + check_class_values(ctx, item_id, columns, codes)


def check_ecosystem_column(ctx: ServiceContext, item_id: str) -> list[Problem]:
    """Problems with the ``ecosystem`` column for the classes present in the area that have a row:
    column absent, or a name (empty included) that is not one of :data:`ECOSYSTEMS`. Missing rows are
    :func:`check_class_rows`' job."""
    table = ctx.classes
    if "ecosystem" not in table.columns:
        return check_table_columns(table, CLASS_TABLE, ["ecosystem"])
    names = table.loc[table.index.isin(list(present_classes(ctx))), "ecosystem"].sort_index()
    bad = names[~names.isin(ECOSYSTEMS)]
    if not len(bad):
        return []
    bad_codes = [int(c) for c in bad.index]
    return [
        error(
            "svc_class_ecosystem_invalid",
            CLASS_TABLE,
            "ecosystem",
            item=item_id,
            codes=listed(bad_codes),
            values=listed([repr(v) for v in bad]),
            found=listed([f"{c}: {v!r}" for c, v in zip(bad_codes, bad, strict=True)]),
            expected=", ".join(ECOSYSTEMS),
        )
    ]


# --- other tables ------------------------------------------------------------------------------


def check_table_columns(table: pd.DataFrame, name: str, columns: Sequence[str]) -> list[Problem]:
    """A ``column_missing`` problem for each of ``columns`` absent from ``table`` (named ``name``)."""
    return [
        error("column_missing", name, column, column=column, expected=", ".join(columns))
        for column in columns
        if column not in table.columns
    ]


def check_region_code(ctx: ServiceContext, source: str, code: str, row: int) -> list[Problem]:
    """A problem if region ``code`` (read with :func:`region_code_text`) in 1-based ``row`` of table
    ``source`` is not a region of the account, listing the known codes."""
    if code in ctx.region_units:
        return []
    known = listed(sorted(ctx.region_units))
    return [error("svc_region_unknown", source, "region_code", region=code, row=row, expected=known)]


def read_number(
    raw: object, source: str, column: str, row: int, non_negative: bool = False, unit: str = ""
) -> tuple[float, Problem | None]:
    """One table cell as a float, and a problem if it is not a number (NaN returned) or, with
    ``non_negative``, below 0 (``unit`` is named in the expectation). ``row`` is 1-based."""
    number = pd.to_numeric(pd.Series([raw]), errors="coerce").iloc[0]
    if pd.isna(number):
        return math.nan, error("value_not_number", source, column, value=raw, row=row)
    if non_negative and number < 0:
        expected = f">= 0 {unit}".rstrip()
        problem = error("svc_value_negative", source, column, value=float(number), row=row, expected=expected)
        return float(number), problem
    return float(number), None


def check_table_numbers(table: pd.DataFrame, name: str, column: str, non_negative: bool = False) -> list[Problem]:
    """A problem for each row of ``table[column]`` that is not a number (or is negative, with
    ``non_negative``)."""
    found = (read_number(raw, name, column, row, non_negative)[1] for row, raw in enumerate(table[column], start=1))
    return [p for p in found if p is not None]


# --- parameters --------------------------------------------------------------------------------


def check_parameters(ctx: ServiceContext, item_id: str, names: Iterable[str], positive: bool = False) -> list[Problem]:
    """A problem for each parameter of ``names`` that is not a finite number >= 0 (> 0 with
    ``positive``), naming its value and unit."""
    problems = []
    for name in names:
        parameter = ctx.params[name]
        value = float(parameter.value)
        if not np.isfinite(value) or (value <= 0 if positive else value < 0):
            problems.append(
                error(
                    "svc_parameter_invalid",
                    PARAMETERS,
                    name,
                    item=item_id,
                    value=value,
                    unit=parameter.unit,
                    expected="> 0" if positive else ">= 0",
                )
            )
    return problems
