"""Region hierarchy (e.g. city -> counties -> townships) and zones, read from vector files.

A :class:`RegionSet` holds administrative regions linked by parent codes, all in one CRS, plus
optional :class:`Zone` polygons (protected areas, ecological red lines...). Readers return
``(result, problems)`` and never raise on bad input; :func:`validate_regions` (in
:mod:`gep.regions_check`, re-exported here) checks the hierarchy and the geometries.

Areas are in km², measured on the WGS84 ellipsoid whatever the CRS of the set.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gep.i18n import Text
from gep.problems import Problem, error, warning
from gep.regions_check import validate_regions

__all__ = ["Region", "RegionSet", "Zone", "read_regions", "read_zones", "validate_regions"]

_GEOD = pyproj.Geod(ellps="WGS84")
_WHAT = Text(
    "区域边界文件（GeoJSON、GeoPackage 或 Shapefile）", "region boundary file (GeoJSON, GeoPackage or Shapefile)"
)
_WHAT_ZONES = Text(
    "专题区边界文件（GeoJSON、GeoPackage 或 Shapefile）", "zone boundary file (GeoJSON, GeoPackage or Shapefile)"
)


@dataclass(frozen=True)
class Region:
    """One administrative region.

    ``parent`` is None for a root. ``geometry`` is in the CRS of the :class:`RegionSet` holding it.
    ``source`` is the file it was read from (used in messages; not compared).
    """

    code: str
    name: str
    level: str
    parent: str | None
    geometry: BaseGeometry
    name_en: str = ""
    source: str = dataclasses.field(default="", compare=False)


@dataclass(frozen=True)
class Zone:
    """A zone (protected area, red-line area...) with a kind such as ``"nature_reserve"``."""

    code: str
    name: str
    kind: str
    geometry: BaseGeometry
    source: str = dataclasses.field(default="", compare=False)


@dataclass(frozen=True)
class RegionSet:
    """An immutable set of regions (unique codes) and zones (unique codes) in one CRS.

    ``regions`` is stored ordered by depth, then code, so parents come before children.
    Parent links are not required to be sound here (a missing parent or a cycle is reported by
    :func:`validate_regions`); navigation methods stop at a missing parent and never loop.
    """

    crs: str
    regions: tuple[Region, ...]
    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        regions, zones = tuple(self.regions), tuple(self.zones)
        for kind, codes in (("region", [r.code for r in regions]), ("zone", [z.code for z in zones])):
            repeated = sorted(c for c, n in Counter(codes).items() if n > 1)
            if repeated:
                raise ValueError(f"duplicate {kind} codes: {', '.join(repeated)}")
        by_code = {r.code: r for r in regions}
        depths = {r.code: len(_chain(r.code, by_code)) for r in regions}
        ordered = tuple(sorted(regions, key=lambda r: (depths[r.code], r.code)))
        children: dict[str | None, list[Region]] = {}
        for r in ordered:
            children.setdefault(r.parent, []).append(r)
        object.__setattr__(self, "regions", ordered)
        object.__setattr__(self, "zones", zones)
        object.__setattr__(self, "_by_code", {r.code: r for r in ordered})
        object.__setattr__(self, "_depths", depths)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        object.__setattr__(self, "_rank", {r.code: i for i, r in enumerate(ordered)})

    def get(self, code: str) -> Region:
        """The region with ``code``; KeyError naming the code and some known codes if absent."""
        try:
            return self._by_code[str(code)]  # type: ignore[attr-defined]
        except KeyError:
            known = ", ".join(r.code for r in self.regions[:5])
            more = f" ... ({len(self.regions)} in all)" if len(self.regions) > 5 else ""
            raise KeyError(f"unknown region code {str(code)!r}; known codes: {known}{more}") from None

    def __contains__(self, code: object) -> bool:
        return str(code) in self._by_code  # type: ignore[attr-defined]

    def children(self, code: str) -> tuple[Region, ...]:
        """Direct children of ``code``, ordered by code."""
        return self._children.get(self.get(code).code, ())  # type: ignore[attr-defined]

    def roots(self) -> tuple[Region, ...]:
        """Regions without a parent, ordered by code."""
        return self._children.get(None, ())  # type: ignore[attr-defined]

    def descendants(self, code: str) -> tuple[Region, ...]:
        """All regions below ``code`` at every level (not ``code`` itself), in set order."""
        start = self.get(code).code
        seen: set[str] = {start}
        stack = [start]
        while stack:
            for child in self._children.get(stack.pop(), ()):  # type: ignore[attr-defined]
                if child.code not in seen:
                    seen.add(child.code)
                    stack.append(child.code)
        seen.discard(start)
        return tuple(sorted((self.get(c) for c in seen), key=lambda r: self._rank[r.code]))  # type: ignore[attr-defined]

    def ancestors(self, code: str) -> tuple[Region, ...]:
        """Parent, grandparent, ... up to the root (nearest first)."""
        return tuple(self.get(c) for c in _chain(self.get(code).code, self._by_code))  # type: ignore[attr-defined]

    def depth(self, code: str) -> int:
        """Number of ancestors: 0 for a root."""
        return self._depths[self.get(code).code]  # type: ignore[attr-defined]

    def levels(self) -> tuple[str, ...]:
        """Distinct level names, shallowest first."""
        return tuple(dict.fromkeys(r.level for r in self.regions))

    def with_zones(self, zones: Iterable[Zone]) -> RegionSet:
        """A copy with ``zones`` (which must be in this set's CRS) instead of the current ones."""
        return RegionSet(self.crs, self.regions, tuple(zones))

    def to_crs(self, crs: str) -> RegionSet:
        """A copy with regions and zones reprojected to ``crs``."""
        geoms = [r.geometry for r in self.regions] + [z.geometry for z in self.zones]
        moved = list(gpd.GeoSeries(geoms, crs=self.crs).to_crs(crs)) if geoms else []
        n = len(self.regions)
        regions = [dataclasses.replace(r, geometry=g) for r, g in zip(self.regions, moved[:n], strict=True)]
        zones = [dataclasses.replace(z, geometry=g) for z, g in zip(self.zones, moved[n:], strict=True)]
        return RegionSet(crs, tuple(regions), tuple(zones))

    def area_km2(self, code: str) -> float:
        """Geodesic area (WGS84 ellipsoid) of region ``code`` in km², whatever the CRS."""
        return geodesic_area_km2(self._lonlat[self.get(code).code])

    @cached_property
    def _lonlat(self) -> dict[str, BaseGeometry]:
        series = gpd.GeoSeries([r.geometry for r in self.regions], crs=self.crs).to_crs("EPSG:4326")
        return {r.code: g for r, g in zip(self.regions, series, strict=True)}

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Columns code, name, name_en, level, parent, geometry (parent None for roots)."""
        columns = {
            "code": [r.code for r in self.regions],
            "name": [r.name for r in self.regions],
            "name_en": [r.name_en for r in self.regions],
            "level": [r.level for r in self.regions],
            "parent": pd.Series([r.parent for r in self.regions], dtype=object),
        }
        return gpd.GeoDataFrame(columns, geometry=[r.geometry for r in self.regions], crs=self.crs)


def _chain(code: str, by_code: dict[str, Region]) -> list[str]:
    """Codes of the ancestors of ``code``, nearest first; stops at a missing parent or a repeat."""
    seen, out = {code}, []
    parent = by_code[code].parent
    while parent is not None and parent in by_code and parent not in seen:
        seen.add(parent)
        out.append(parent)
        parent = by_code[parent].parent
    return out


def geodesic_area_km2(geometry: BaseGeometry) -> float:
    """Area in km² of a lon/lat (degrees) polygonal geometry on the WGS84 ellipsoid; holes subtract,
    whatever the ring orientation. Non-polygonal and empty geometries have area 0."""
    if geometry is None or geometry.is_empty:
        return 0.0
    parts = getattr(geometry, "geoms", None)
    if parts is not None:
        return sum(geodesic_area_km2(g) for g in parts)
    if not isinstance(geometry, Polygon):
        return 0.0

    def ring(r: Any) -> float:
        x, y = r.coords.xy
        return abs(_GEOD.polygon_area_perimeter(x, y)[0])

    return (ring(geometry.exterior) - sum(ring(h) for h in geometry.interiors)) / 1e6


def as_code(value: Any) -> str | None:
    """A code as text: ints and integral floats without decimals (331102.0 -> "331102"); None for
    empty values ("", None, NaN)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    text = str(value).strip()
    return text or None


def _as_text(value: Any) -> str:
    code = as_code(value)
    return "" if code is None else code


def _open(path: Path, layer: str | None, what: Text) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    if not path.exists():
        return None, [error("file_not_found", str(path), what=what)]
    try:
        frame = gpd.read_file(path, engine="pyogrio", layer=layer)
    except Exception as exc:  # pyogrio/GDAL raise several types for broken files; report them alike
        return None, [error("file_unreadable", str(path), what=what, reason=str(exc).strip())]
    return frame, []


def _fields_missing(frame: gpd.GeoDataFrame, required: Sequence[str], source: str) -> list[Problem]:
    available = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name) or "(none)"
    return [
        error("regions_field_missing", source, f, column=f, available=available)
        for f in required
        if f not in frame.columns
    ]


def _duplicates(
    seen: dict[str, list[tuple[str, int]]], key: str, field: str, multi_file: bool
) -> list[Problem]:
    problems = []
    for code, places in seen.items():
        if len(places) > 1:
            rows = ", ".join(f"{Path(s).name} #{n}" if multi_file else f"#{n}" for s, n in places)
            problems.append(error(key, places[0][0], field, value=code, count=len(places), rows=rows))
    return problems


def read_regions(
    paths: str | Path | Sequence[str | Path],
    *,
    code_field: str = "code",
    name_field: str = "name",
    level_field: str | None = "level",
    parent_field: str = "parent",
    name_en_field: str | None = None,
    layer: str | None = None,
) -> tuple[RegionSet | None, list[Problem]]:
    """Read regions from a GeoJSON, GeoPackage or Shapefile, or from a list of files (e.g. one file
    per level) merged into one set, each reprojected to the first file's CRS.

    Codes are read as text (a numeric 331102 becomes "331102"). An empty parent, or a file without
    ``parent_field``, means a root. Without ``level_field`` (or with an empty value) the level is
    named from the depth: "level0" for roots, "level1" below them, and so on. Features with an
    empty code are dropped; of repeated codes the first is kept. Returns ``(RegionSet, problems)``,
    or ``(None, problems)`` when a file is missing, unreadable, lacks a CRS or a required field.
    Call :func:`validate_regions` for hierarchy and geometry checks.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not path_list:
        return None, [error("regions_no_files", "regions")]
    problems: list[Problem] = []
    frames: list[tuple[str, gpd.GeoDataFrame]] = []
    target_crs: pyproj.CRS | None = None
    complete = True
    for i, path in enumerate(path_list):
        source = str(path)
        frame, found = _open(path, layer, _WHAT)
        problems += found
        if frame is None:
            complete = False
            continue
        missing = _fields_missing(frame, (code_field, name_field), source)
        if name_en_field is not None and name_en_field not in frame.columns:
            available = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
            problems.append(warning(
                "regions_name_en_missing", source, name_en_field, column=name_en_field, available=available
            ))
        if frame.crs is None:
            missing.append(error("regions_crs_missing", source))
        problems += missing
        if missing:
            complete = False
            continue
        if i == 0:
            target_crs = frame.crs
        elif target_crs is not None and frame.crs != target_crs:
            frame = frame.to_crs(target_crs)
        frames.append((source, frame))

    seen: dict[str, list[tuple[str, int]]] = {}
    regions: list[Region] = []
    for source, frame in frames:
        def column(name: str | None, frame: gpd.GeoDataFrame = frame) -> list[Any]:
            return list(frame[name]) if name is not None and name in frame.columns else [None] * len(frame)

        rows = zip(
            column(code_field), column(name_field), column(level_field), column(parent_field),
            column(name_en_field), frame.geometry, strict=True,
        )
        for n, (code_v, name_v, level_v, parent_v, en_v, geom) in enumerate(rows, start=1):
            code = as_code(code_v)
            if code is None:
                problems.append(error("regions_code_empty", source, code_field, row=n))
                continue
            seen.setdefault(code, []).append((source, n))
            if len(seen[code]) > 1:
                continue
            name = _as_text(name_v)
            if not name:
                problems.append(error("regions_name_empty", source, name_field, row=n, region=code))
            geometry = geom if isinstance(geom, BaseGeometry) else Polygon()
            regions.append(
                Region(code, name, _as_text(level_v), as_code(parent_v), geometry, _as_text(en_v), source)
            )
    problems += _duplicates(seen, "regions_code_duplicate", code_field, len(path_list) > 1)
    if not complete or target_crs is None:
        return None, problems
    crs = target_crs.to_string()
    draft = RegionSet(crs, tuple(regions))
    filled = tuple(
        r if r.level else dataclasses.replace(r, level=f"level{draft.depth(r.code)}") for r in draft.regions
    )
    return RegionSet(crs, filled), problems


def read_zones(
    path: str | Path,
    *,
    code_field: str = "code",
    name_field: str = "name",
    kind_field: str | None = "kind",
    layer: str | None = None,
    crs: str | None = None,
) -> tuple[list[Zone], list[Problem]]:
    """Read zones from one vector file, reprojected to ``crs`` if given (pass the RegionSet's CRS,
    then add them with :meth:`RegionSet.with_zones`). Without ``kind_field`` the kind is "".
    Checks empty and repeated codes (the first is kept) and empty or invalid geometries.
    Returns ``(zones, problems)``; zones is empty when the file cannot be used."""
    source = str(path)
    frame, problems = _open(Path(path), layer, _WHAT_ZONES)
    if frame is None:
        return [], problems
    required = [code_field, name_field] + ([kind_field] if kind_field is not None else [])
    problems += _fields_missing(frame, required, source)
    if frame.crs is None:
        problems.append(error("regions_crs_missing", source))
    if problems:
        return [], problems
    if crs is not None:
        frame = frame.to_crs(crs)
    kinds = list(frame[kind_field]) if kind_field is not None else [None] * len(frame)
    seen: dict[str, list[tuple[str, int]]] = {}
    zones: list[Zone] = []
    rows = zip(frame[code_field], frame[name_field], kinds, frame.geometry, strict=True)
    for n, (code_v, name_v, kind_v, geom) in enumerate(rows, start=1):
        code = as_code(code_v)
        if code is None:
            problems.append(error("zones_code_empty", source, code_field, row=n))
            continue
        seen.setdefault(code, []).append((source, n))
        if len(seen[code]) > 1:
            continue
        if not isinstance(geom, BaseGeometry) or geom.is_empty:
            problems.append(error("zones_geometry_empty", source, "geometry", zone=code, row=n))
            geom = Polygon()
        elif not geom.is_valid:
            reason = explain_validity(geom)
            problems.append(
                error("zones_geometry_invalid", source, "geometry", zone=code, row=n, reason=reason)
            )
        zones.append(Zone(code, _as_text(name_v), _as_text(kind_v), geom, source))
    problems += _duplicates(seen, "zones_code_duplicate", code_field, False)
    return zones, problems
