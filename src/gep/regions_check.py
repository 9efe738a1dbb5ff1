"""Checks of a region hierarchy: parent links, geometry validity, containment and sibling overlap.

Shares (outside-parent, overlap) are ratios of areas measured in a local Lambert azimuthal
equal-area projection centred on the data, so they are right whatever the CRS of the set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
from shapely import STRtree
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gep.problems import Problem, error

if TYPE_CHECKING:
    from gep.regions import Region, RegionSet

_POLYGONAL = ("Polygon", "MultiPolygon")


def validate_regions(
    regions: RegionSet, *, containment_tolerance: float = 0.001, overlap_tolerance: float = 0.001
) -> list[Problem]:
    """Problems in ``regions``: unknown parent codes, cycles in parent links, empty, non-polygonal
    or invalid geometries, children extending outside their parent by more than
    ``containment_tolerance`` (share of the child's area, 0-1) and siblings overlapping by more than
    ``overlap_tolerance`` (share of the smaller sibling's area, 0-1). Duplicate codes cannot occur
    in a RegionSet; :func:`gep.regions.read_regions` reports them."""
    by_code = {r.code: r for r in regions.regions}
    problems: list[Problem] = []
    for r in regions.regions:
        if r.parent is not None and r.parent not in by_code:
            known = ", ".join(list(by_code)[:5])
            problems.append(
                error(
                    "regions_parent_unknown", _src(r), "parent", region=r.code, parent=r.parent, known=known
                )
            )
    problems += _cycles(regions.regions, by_code)

    usable: list[Region] = []
    for r in regions.regions:
        geom = r.geometry
        if geom is None or geom.is_empty:
            problems.append(error("regions_geometry_empty", _src(r), "geometry", region=r.code))
        elif geom.geom_type not in _POLYGONAL:
            problems.append(
                error("regions_geometry_type", _src(r), "geometry", region=r.code, geom_type=geom.geom_type)
            )
        elif not geom.is_valid:
            reason = explain_validity(geom)
            problems.append(
                error("regions_geometry_invalid", _src(r), "geometry", region=r.code, reason=reason)
            )
        else:
            usable.append(r)
    if not usable:
        return problems
    area = equal_area_geometries([r.geometry for r in usable], regions.crs)
    geoms = {r.code: g for r, g in zip(usable, area, strict=True)}
    problems += _containment(usable, geoms, containment_tolerance)
    problems += _overlaps(usable, geoms, overlap_tolerance)
    return problems


def equal_area_geometries(geometries: list[BaseGeometry], crs: str) -> list[BaseGeometry]:
    """``geometries`` (in ``crs``) reprojected to a Lambert azimuthal equal-area projection centred
    on their lon/lat bounding box; areas of the results are in m²."""
    lonlat = gpd.GeoSeries(geometries, crs=crs).to_crs("EPSG:4326")
    minx, miny, maxx, maxy = lonlat.total_bounds
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    laea = f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs"
    return list(lonlat.to_crs(laea))


def _src(r: Region) -> str:
    return r.source or "regions"


def _cycles(ordered: tuple[Region, ...], by_code: dict[str, Region]) -> list[Problem]:
    """One problem per cycle of parent links, listing its codes in order."""
    problems: list[Problem] = []
    done: set[str] = set()
    for start in ordered:
        path: list[str] = []
        position: dict[str, int] = {}
        code: str | None = start.code
        while code is not None and code in by_code and code not in done:
            if code in position:
                cycle = path[position[code]:]
                text = " → ".join([*cycle, cycle[0]])
                problems.append(error("regions_parent_cycle", _src(by_code[cycle[0]]), "parent", cycle=text))
                break
            position[code] = len(path)
            path.append(code)
            code = by_code[code].parent
        done.update(path)
    return problems


def _containment(usable: list[Region], geoms: dict[str, BaseGeometry], tolerance: float) -> list[Problem]:
    problems: list[Problem] = []
    for r in usable:
        if r.parent is None or r.parent not in geoms or r.parent == r.code:
            continue
        child, parent = geoms[r.code], geoms[r.parent]
        if child.area <= 0 or parent.covers(child):
            continue
        outside = child.difference(parent).area
        share = outside / child.area
        if share > tolerance:
            problems.append(
                error(
                    "regions_outside_parent", _src(r), "geometry", region=r.code, parent=r.parent,
                    share=share, tolerance=tolerance, outside_km2=outside / 1e6,
                )
            )
    return problems


def _overlaps(usable: list[Region], geoms: dict[str, BaseGeometry], tolerance: float) -> list[Problem]:
    """Siblings (same parent; roots are siblings of each other) overlapping beyond ``tolerance``."""
    groups: dict[str | None, list[Region]] = {}
    for r in usable:
        groups.setdefault(r.parent, []).append(r)
    problems: list[Problem] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        shapes = [geoms[r.code] for r in members]
        pairs = STRtree(shapes).query(shapes, predicate="intersects")
        for i, j in zip(*pairs, strict=True):
            if i >= j:
                continue
            a, b = shapes[i], shapes[j]
            smaller = min(a.area, b.area)
            if smaller <= 0:
                continue
            overlap = a.intersection(b).area
            share = overlap / smaller
            if share > tolerance:
                first, second = members[int(i)], members[int(j)]
                problems.append(
                    error(
                        "regions_siblings_overlap", _src(first), "geometry",
                        region=first.code, other=second.code,
                        share=share, tolerance=tolerance, overlap_km2=overlap / 1e6,
                    )
                )
    return problems


__all__ = ["equal_area_geometries", "validate_regions"]
