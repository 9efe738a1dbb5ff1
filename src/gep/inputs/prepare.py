"""Read, align and check every input an account spec names, collecting all problems.

:func:`prepare_inputs` is the one pass shared by ``gep validate`` and ``gep account``: it opens the
regions, builds the account grid, aligns each raster onto it, reads the tables, applies parameter
overrides and checks everything against what the selected items declare. Problems are collected,
not raised, so a user sees all of them at once.

Layers are read on READ_THREADS threads (GDAL decodes without the GIL) and each is checked in one
numba pass over the pixels inside the regions (nodata per region, values out of range, extremes);
the region pixel counts are made once per run. Problems keep the order of a sequential run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit
from pyproj import Transformer

from gep.catalog import load_catalog
from gep.engine.array_pool import adopt_retained_arrays
from gep.grid import AccountGrid
from gep.inputs.rasters import AlignedLayer, read_aligned
from gep.inputs.tables import check_columns, check_numeric, read_table
from gep.inputs.units import same_unit
from gep.parameters import TAGS, ParameterSet, default_parameters
from gep.problems import Problem, error, has_errors, warning
from gep.regions import RegionSet, read_regions, read_zones, validate_regions
from gep.services.registry import services
from gep.spec import AccountSpec
from gep.zonal import RegionIndex, grid_for_regions, rasterize_regions

CLASS_TABLE = "landcover_params"
TEXT_CLASS_COLUMNS = frozenset({"name_zh", "name_en", "ecosystem"})
ECOSYSTEMS = ("forest", "shrub", "grassland", "wetland", "cropland", "water", "urban", "bare")
POINT_TABLES = ("reservoirs", "lakes")
NODATA_WARN_SHARE = 0.05
"""A region with more than this share of nodata pixels in a layer gets a warning."""
READ_THREADS = 2
"""Layers read (decoded, aligned and scanned) at the same time. GDAL and the numba scan release the
GIL, so reading the next layer overlaps checking the previous one; problems keep the layer order."""
MAX_CLASS_CODE_COUNT = 1 << 24
"""Largest land-cover code counted with a histogram; larger codes fall back to ``np.unique``."""

Progress = Callable[[str, float], None]


@dataclass
class PreparedInputs:
    """Everything an account run needs, aligned and checked."""

    spec: AccountSpec
    profile_id: str
    selected_items: tuple[str, ...]
    computable_items: tuple[str, ...]
    skipped_items: dict[str, str]
    grid: AccountGrid | None = None
    regions: RegionSet | None = None
    index: RegionIndex | None = None
    layers: dict[str, AlignedLayer] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    classes: pd.DataFrame | None = None
    params: ParameterSet = field(default_factory=ParameterSet)
    region_params: dict[str, dict[str, float]] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    synthetic_inputs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def prepare_inputs(spec: AccountSpec, progress: Progress | None = None) -> PreparedInputs:
    """Read and check all inputs of ``spec``. Never raises for bad input: see ``.problems``."""
    report = progress or (lambda step, fraction: None)
    catalog = load_catalog()
    problems: list[Problem] = []
    src = str(spec.source)

    try:
        profile = catalog.profile(spec.account.profile)
    except KeyError:
        problems.append(
            error(
                "spec_unknown_profile",
                src,
                "account.profile",
                value=spec.account.profile,
                expected=", ".join(p.id for p in catalog.profiles),
            )
        )
        return PreparedInputs(spec, spec.account.profile, (), (), {}, problems=problems)

    selected = tuple(profile.items)
    switched_off = _switched_off(profile)
    selected = tuple(i for i in selected if i not in switched_off)
    declared = services()
    skipped: dict[str, str] = {
        item.id: switched_off.get(item.id, "excluded by profile") for item in catalog.items if item.id not in selected
    }
    candidates = [i for i in selected if i in declared]
    for item_id in selected:
        if item_id not in declared:
            skipped[item_id] = "no spatial service module yet"

    prepared = PreparedInputs(spec, profile.id, selected, (), skipped, problems=problems)
    prepared.variants = dict(profile.variants)
    prepared.options = dict(profile.options)

    # regions and grid
    report("regions", 0.0)
    regions = _read_regions(spec, problems)
    if regions is None:
        return prepared
    prepared.regions = regions
    grid = grid_for_regions(regions, spec.account.resolution, spec.account.crs)
    prepared.grid = grid
    index = rasterize_regions(regions, grid)
    prepared.index = index

    # layers
    needed_layers = {layer.name for item_id in candidates for layer in declared[item_id].declaration.layers} | {
        source
        for item_id in candidates
        for derived in declared[item_id].declaration.derived_layers
        for source in catalog.layer(derived).derived_from
    }
    names = sorted(set(spec.layers) | needed_layers)
    coverage = _RegionCoverage.of(index)
    vocabularies = {name: _vocabulary(catalog, name) for name in names if name in spec.layers}
    with ThreadPoolExecutor(
        max_workers=READ_THREADS, thread_name_prefix="gep-read", initializer=adopt_retained_arrays
    ) as pool:
        # every read starts now (at most READ_THREADS at a time); results are taken in name order
        reads = {
            name: pool.submit(_read_and_scan, spec, name, grid, vocabulary, coverage)
            for name, vocabulary in vocabularies.items()
            if vocabulary is not None
        }
        try:
            for n, name in enumerate(names):
                report(f"layer {name}", n / max(1, len(names)))
                if name not in spec.layers:
                    continue
                _prepare_layer(spec, name, vocabularies[name], reads.get(name), coverage, prepared, catalog)
        finally:
            for pending in reads.values():
                pending.cancel()

    # tables
    for name, table_spec in spec.tables.items():
        frame, table_problems = read_table(spec.resolve(table_spec.path), table_spec.sheet)
        problems.extend(table_problems)
        if frame is not None:
            prepared.tables[name] = frame
            if _is_synthetic_table(frame):
                prepared.synthetic_inputs.append(str(spec.resolve(table_spec.path)))
    _project_points(prepared, grid)

    # which items can run
    computable = []
    for item_id in candidates:
        missing = _missing_inputs(declared[item_id].declaration, spec, prepared, catalog)
        if missing:
            skipped[item_id] = "missing inputs: " + ", ".join(missing)
            problems.append(warning("item_skipped", src, item_id, item=item_id, missing=", ".join(missing)))
        else:
            computable.append(item_id)
    prepared.computable_items = tuple(computable)

    # class table and parameters
    _prepare_classes(spec, prepared, [declared[i].declaration for i in computable])
    _prepare_parameters(spec, profile, prepared, [declared[i].declaration for i in computable])
    for name in (CLASS_TABLE, "pollutant_loads", *POINT_TABLES):
        if name in prepared.tables and "region_code" in prepared.tables[name].columns:
            _check_region_codes(prepared, name)
    report("done", 1.0)
    return prepared


DOUBLE_COUNTING_SWITCHES = {
    # option: (item it drops when false, why)
    "include_water_supply": (
        "water_supply",
        "excluded by profile option include_water_supply = false (double counting with water conservation)",
    ),
}


def _switched_off(profile) -> dict[str, str]:
    """Items a profile's double-counting switches take out, with the reason shown in the outputs."""
    return {
        item: reason
        for option, (item, reason) in DOUBLE_COUNTING_SWITCHES.items()
        if profile.options.get(option, True) is False
    }


def _read_regions(spec: AccountSpec, problems: list[Problem]) -> RegionSet | None:
    r = spec.regions
    regions, region_problems = read_regions(
        spec.resolve(r.path),
        code_field=r.code_field,
        name_field=r.name_field,
        level_field=r.level_field,
        parent_field=r.parent_field,
        name_en_field=r.name_en_field,
        layer=r.layer,
    )
    problems.extend(region_problems)
    if regions is None:
        return None
    if not regions.regions:
        problems.append(error("regions_empty", str(spec.resolve(r.path))))
        return None
    zones = []
    for z in spec.zones:
        found, zone_problems = read_zones(
            spec.resolve(z.path),
            code_field=z.code_field,
            name_field=z.name_field,
            kind_field=z.kind_field,
            layer=z.layer,
            crs=regions.crs,
        )
        zones.extend(found)
        problems.extend(zone_problems)
    regions = regions.with_zones(zones)
    problems.extend(validate_regions(regions))
    return regions


def _vocabulary(catalog, name: str):
    """The catalogue entry of layer ``name``, or None when the catalogue has no such layer."""
    try:
        return catalog.layer(name)
    except KeyError:
        return None


@dataclass(frozen=True)
class _LayerScan:
    """What the checks need from one aligned layer, counted over the pixels inside some region.

    ``missing``: nodata pixels per unit (int64, aligned with ``RegionIndex.codes``, own pixels only);
    ``valid``: finite-or-infinite (not NaN) pixels; ``below``/``above``: of those, how many lie
    under the catalogue minimum / over its maximum; ``lowest``/``highest``: their extremes (layer
    unit). For a categorical layer only ``missing`` (codes < 0) is counted.
    """

    missing: np.ndarray
    valid: int = 0
    below: int = 0
    above: int = 0
    lowest: float = float("nan")
    highest: float = float("nan")


def _read_and_scan(spec, name: str, grid, vocabulary, coverage: _RegionCoverage):
    """Read layer ``name`` onto ``grid`` and scan it (runs on a reader thread).

    Returns (layer or None, problems of reading, scan or None)."""
    layer_spec = spec.layers[name]
    categorical = vocabulary.kind == "categorical"
    layer, problems = read_aligned(
        name, spec.resolve(layer_spec.path), grid, categorical=categorical, band=layer_spec.band
    )
    if layer is None:
        return None, problems, None
    units = coverage.unit_index
    if layer.data.shape != units.shape:  # read_aligned always returns the grid's shape
        raise ValueError(f"{name}: layer shape {layer.data.shape} is not the grid's {units.shape}")
    data = np.ascontiguousarray(layer.data)
    if categorical:
        scan = _LayerScan(_scan_categorical(data.ravel(), units.ravel(), coverage.n_units))
    else:
        low = -np.inf if vocabulary.min is None else float(vocabulary.min)
        high = np.inf if vocabulary.max is None else float(vocabulary.max)
        missing, valid, below, above, lowest, highest = _scan_continuous(
            data.ravel(), units.ravel(), coverage.n_units, low, high
        )
        scan = _LayerScan(missing, int(valid), int(below), int(above), float(lowest), float(highest))
    return layer, problems, scan


def _prepare_layer(
    spec, name, vocabulary, read: Future | None, coverage: _RegionCoverage, prepared: PreparedInputs, catalog
) -> None:
    problems = prepared.problems
    layer_spec = spec.layers[name]
    path = spec.resolve(layer_spec.path)
    if vocabulary is None:
        problems.append(
            error(
                "spec_unknown_layer",
                str(spec.source),
                f"layers.{name}",
                value=name,
                expected=", ".join(sorted(layer.name for layer in catalog.layers if not layer.derived)),
            )
        )
        return
    categorical = vocabulary.kind == "categorical"
    if not categorical:
        if layer_spec.unit is None:
            problems.append(error("spec_unit_missing", str(spec.source), f"layers.{name}", expected=vocabulary.unit))
        elif not same_unit(layer_spec.unit, vocabulary.unit):
            problems.append(
                error(
                    "spec_unit_mismatch",
                    str(spec.source),
                    f"layers.{name}",
                    value=layer_spec.unit,
                    expected=vocabulary.unit,
                )
            )
    layer, layer_problems, scan = read.result()
    problems.extend(layer_problems)
    if layer is None:
        return
    prepared.layers[name] = layer
    if layer.tags.get("SYNTHETIC", "").lower() in ("yes", "true", "1"):
        prepared.synthetic_inputs.append(str(path))
    if not categorical and scan.valid:
        if vocabulary.min is not None and scan.below:
            problems.append(
                error(
                    "raster_below_min",
                    str(path),
                    name,
                    count=scan.below,
                    expected=vocabulary.min,
                    value=scan.lowest,
                )
            )
        if vocabulary.max is not None and scan.above:
            problems.append(
                warning(
                    "raster_above_max",
                    str(path),
                    name,
                    count=scan.above,
                    expected=vocabulary.max,
                    value=scan.highest,
                )
            )
    _check_coverage(path, name, scan.missing, coverage, prepared)


def _check_coverage(path, name, missing: np.ndarray, coverage: _RegionCoverage, prepared: PreparedInputs) -> None:
    """Error for a region the layer does not cover at all, warning above NODATA_WARN_SHARE nodata.

    ``missing``: nodata pixels per unit (see :class:`_LayerScan`)."""
    counts = coverage.pixels
    gaps = coverage.region_totals(missing)
    names = {r.code: r.name for r in prepared.regions.regions}
    for code, total in counts.items():
        if total == 0:
            continue
        share = gaps[code] / total
        if share >= 1.0:
            prepared.problems.append(error("region_not_covered", str(path), name, region=code, region_name=names[code]))
        elif share > NODATA_WARN_SHARE:
            prepared.problems.append(
                warning(
                    "region_nodata_share",
                    str(path),
                    name,
                    region=code,
                    region_name=names[code],
                    share=share,
                    limit=NODATA_WARN_SHARE,
                )
            )


@dataclass(frozen=True)
class _RegionCoverage:
    """Pixel counts of the region tree, computed once per run for every layer's coverage check.

    (``RegionIndex`` could offer ``unit_pixel_counts()``; until it does, this counts them here.)"""

    unit_index: np.ndarray
    """int32, C-contiguous: the unit (index into ``codes``) of each pixel, -1 outside every region."""
    codes: tuple[str, ...]
    parents: tuple[str | None, ...]
    pixels: dict[str, int]
    """Pixels per region including its descendants."""

    @property
    def n_units(self) -> int:
        return len(self.codes)

    @classmethod
    def of(cls, index: RegionIndex) -> _RegionCoverage:
        units = np.ascontiguousarray(index.unit_index, dtype=np.int32)
        own = _count_units(units.ravel(), len(index.codes))
        coverage = cls(units, tuple(index.codes), tuple(index.parents), {})
        coverage.pixels.update(coverage.region_totals(own))
        return coverage

    def region_totals(self, per_unit: np.ndarray) -> dict[str, int]:
        """Per-region totals (with descendants) of integer per-unit counts, as in
        ``RegionIndex.region_sums``: children come after parents in ``codes``, so walking backwards a
        region's total is complete before it is added to its parent."""
        totals = dict(zip(self.codes, (int(v) for v in per_unit), strict=True))
        for code, parent in zip(reversed(self.codes), reversed(self.parents), strict=True):
            if parent is not None and parent in totals:
                totals[parent] += totals[code]
        return totals


@njit(cache=True, nogil=True)
def _count_units(units, n_units):  # pragma: no cover - numba
    """Pixels per unit (int64[n_units]) of a flat unit index (-1 = outside)."""
    counts = np.zeros(n_units, dtype=np.int64)
    for i in range(units.size):
        u = units[i]
        if u >= 0:
            counts[u] += 1
    return counts


@njit(cache=True, nogil=True)
def _scan_categorical(codes, units, n_units):  # pragma: no cover - numba
    """Nodata pixels (code < 0) per unit, over the pixels inside some region."""
    missing = np.zeros(n_units, dtype=np.int64)
    for i in range(codes.size):
        u = units[i]
        if u >= 0 and codes[i] < 0:
            missing[u] += 1
    return missing


@njit(cache=True, nogil=True)
def _scan_continuous(values, units, n_units, low, high):  # pragma: no cover - numba
    """One pass over a flat float layer and its flat unit index, inside the regions only.

    Returns (NaN pixels per unit, non-NaN pixels, how many < ``low``, how many > ``high``, lowest
    and highest non-NaN value; NaN when there is none)."""
    missing = np.zeros(n_units, dtype=np.int64)
    valid = 0
    below = 0
    above = 0
    lowest = np.inf
    highest = -np.inf
    for i in range(values.size):
        u = units[i]
        if u < 0:
            continue
        v = values[i]
        if np.isnan(v):
            missing[u] += 1
            continue
        valid += 1
        if v < low:
            below += 1
        if v > high:
            above += 1
        if v < lowest:
            lowest = v
        if v > highest:
            highest = v
    if valid == 0:
        lowest = np.nan
        highest = np.nan
    return missing, valid, below, above, lowest, highest


@njit(cache=True, nogil=True)
def _class_histogram(codes, units, size):  # pragma: no cover - numba
    """Pixels per land-cover code 0..size-1 inside some region (codes < 0 are nodata)."""
    counts = np.zeros(size, dtype=np.int64)
    for i in range(codes.size):
        c = codes[i]
        if units[i] >= 0 and c >= 0:
            counts[c] += 1
    return counts


@njit(cache=True, nogil=True)
def _largest_code(codes, units):  # pragma: no cover - numba
    """Largest code >= 0 inside some region; -1 when there is none."""
    largest = -1
    for i in range(codes.size):
        c = codes[i]
        if units[i] >= 0 and c > largest:
            largest = c
    return largest


def _present_classes(codes: np.ndarray, unit_index: np.ndarray) -> np.ndarray:
    """Sorted distinct land-cover codes (>= 0) found inside the regions: the same set as
    ``np.unique(codes[(unit_index >= 0) & (codes >= 0)])``, counted with a histogram."""
    flat_codes = np.ascontiguousarray(codes).ravel()
    flat_units = np.ascontiguousarray(unit_index, dtype=np.int32).ravel()
    if flat_codes.dtype.kind not in "iu" or flat_codes.size != flat_units.size:
        return np.unique(codes[(unit_index >= 0) & (codes >= 0)])
    largest = int(_largest_code(flat_codes, flat_units))
    if largest < 0:
        return np.zeros(0, dtype=np.int64)
    if largest >= MAX_CLASS_CODE_COUNT:
        return np.unique(codes[(unit_index >= 0) & (codes >= 0)])
    return np.flatnonzero(_class_histogram(flat_codes, flat_units, largest + 1))


def _missing_inputs(declaration, spec: AccountSpec, prepared: PreparedInputs, catalog) -> list[str]:
    missing = [layer.name for layer in declaration.layers if layer.required and layer.name not in spec.layers]
    for derived in declaration.derived_layers:
        missing += [s for s in catalog.layer(derived).derived_from if s not in spec.layers]
    missing += [t.name for t in declaration.tables if t.required and t.name not in spec.tables]
    if declaration.class_columns and CLASS_TABLE not in spec.tables:
        missing.append(CLASS_TABLE)
    if declaration.class_columns and "landcover" not in spec.layers:
        missing.append("landcover")
    # a table that is given but failed to read makes the item impossible too (its error is reported);
    # a table that lacks columns the item needs skips the item (reported as a warning by the caller)
    for t in declaration.tables:
        if t.name in spec.tables and t.name not in prepared.tables:
            missing.append(t.name)
        elif t.name in prepared.tables:
            columns = prepared.tables[t.name].columns
            missing += [f"{t.name}.{c}" for c in t.columns if c not in columns]
    return sorted(set(missing))


def _prepare_classes(spec: AccountSpec, prepared: PreparedInputs, declarations) -> None:
    if CLASS_TABLE not in prepared.tables:
        return
    frame = prepared.tables[CLASS_TABLE]
    source = str(spec.resolve(spec.tables[CLASS_TABLE].path))
    needed = tuple(sorted({c for d in declarations for c in d.class_columns}))
    numeric = tuple(c for c in needed if c not in TEXT_CLASS_COLUMNS)
    column_problems = check_columns(frame, ("class", *needed), source) + check_numeric(
        frame, ("class", *numeric), source
    )
    prepared.problems.extend(column_problems)
    if column_problems:
        return
    classes = frame.copy()
    classes["class"] = classes["class"].astype(int)
    classes = classes.set_index("class")
    for code, overrides in spec.parameters.classes.items():
        if int(code) not in classes.index:
            prepared.problems.append(
                error("class_override_unknown", str(spec.source), f"parameters.classes.{code}", value=code)
            )
            continue
        for column, value in overrides.items():
            if column not in classes.columns:
                prepared.problems.append(
                    error(
                        "class_column_unknown",
                        str(spec.source),
                        f"parameters.classes.{code}",
                        value=column,
                        expected=", ".join(classes.columns),
                    )
                )
                continue
            classes.loc[int(code), column] = float(value)
    if "ecosystem" in classes.columns:
        unknown = sorted(set(classes["ecosystem"].dropna().astype(str)) - set(ECOSYSTEMS))
        if unknown:
            prepared.problems.append(
                error("class_ecosystem_unknown", source, "ecosystem", value=unknown, expected=", ".join(ECOSYSTEMS))
            )
    prepared.classes = classes
    landcover = prepared.layers.get("landcover")
    if landcover is None:
        return
    present = _present_classes(landcover.data, prepared.index.unit_index)
    absent = sorted(int(c) for c in present if int(c) not in classes.index)
    if absent:
        prepared.problems.append(error("class_missing_in_table", source, "class", value=absent))
    known = [int(c) for c in present if int(c) in classes.index]
    for column in numeric:
        values = pd.to_numeric(classes.loc[known, column], errors="coerce")
        empty = sorted(int(c) for c in values.index[values.isna()])
        if empty:
            prepared.problems.append(error("class_value_missing", source, column, value=empty))


def profile_parameters(profile) -> ParameterSet:
    """Default parameters with the method profile's values applied. A profile value carries the
    profile's standard as its source and the profile's provenance tag."""
    params = default_parameters()
    if not profile.parameters:
        return params
    tag = profile.provenance if profile.provenance in TAGS else "secondary"
    return params.with_values(profile.parameters, source=f"method profile {profile.id}: {profile.standard}", tag=tag)


def _prepare_parameters(spec: AccountSpec, profile, prepared: PreparedInputs, declarations) -> None:
    params = profile_parameters(profile)
    src = str(spec.source)
    known = sorted(params)
    account_overrides = {}
    for name, value in spec.parameters.account.items():
        if name not in params:
            prepared.problems.append(
                error("spec_unknown_parameter", src, f"parameters.{name}", value=name, expected=", ".join(known))
            )
        else:
            account_overrides[name] = value
    if account_overrides:
        params = params.with_values(account_overrides, source=f"account spec {spec.source.name}")
    prepared.params = params
    region_codes = {r.code for r in prepared.regions.regions}
    for code, overrides in spec.parameters.regions.items():
        if code not in region_codes:
            prepared.problems.append(error("spec_unknown_region", src, f"parameters.regions.{code}", value=code))
            continue
        for name in overrides:
            if name not in params:
                prepared.problems.append(
                    error(
                        "spec_unknown_parameter",
                        src,
                        f"parameters.regions.{code}.{name}",
                        value=name,
                        expected=", ".join(known),
                    )
                )
        prepared.region_params[code] = {k: float(v) for k, v in overrides.items() if k in params}


def _project_points(prepared: PreparedInputs, grid: AccountGrid) -> None:
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    for name in POINT_TABLES:
        frame = prepared.tables.get(name)
        if frame is None:
            continue
        source = str(prepared.spec.resolve(prepared.spec.tables[name].path))
        problems = check_columns(frame, ("lon", "lat"), source) + check_numeric(frame, ("lon", "lat"), source)
        prepared.problems.extend(problems)
        if problems or frame.empty:
            frame["x"] = pd.Series(dtype=float)
            frame["y"] = pd.Series(dtype=float)
            continue
        x, y = to_grid.transform(frame["lon"].astype(float).to_numpy(), frame["lat"].astype(float).to_numpy())
        frame["x"], frame["y"] = x, y


def _check_region_codes(prepared: PreparedInputs, name: str) -> None:
    frame = prepared.tables[name]
    codes = {r.code for r in prepared.regions.regions}
    source = str(prepared.spec.resolve(prepared.spec.tables[name].path))
    frame["region_code"] = frame["region_code"].map(_code_text)
    unknown = sorted(set(frame["region_code"].dropna()) - codes)
    for code in unknown:
        prepared.problems.append(error("spec_unknown_region", source, "region_code", value=code))


def _code_text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_synthetic_table(frame: pd.DataFrame) -> bool:
    for column in ("source", "note"):
        if column in frame.columns and frame[column].astype(str).str.contains("synthetic", case=False).any():
            return True
    return False
