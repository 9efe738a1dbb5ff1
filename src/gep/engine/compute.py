"""Run the selected services over the account grid.

Per-pixel services run in row blocks (``chunk_rows``), so their temporaries stay small; services that
need the whole landscape (routing, regional caps) run on the whole grid. Per-region parameter
overrides are applied by re-running a service with the region's parameters and taking that run's
pixels inside the region (deeper regions last, so they win).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from gep.inputs.prepare import PreparedInputs
from gep.services.base import Component, ServiceContext, ServiceResult
from gep.services.registry import Service, services

DEFAULT_CHUNK_ROWS = 512
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ItemRun:
    """A service's result over the whole grid, with the parameters it used."""

    service: Service
    result: ServiceResult


def derived_layers(prepared: PreparedInputs, names: set[str]) -> dict[str, np.ndarray]:
    """Compute derived layers (``ls_factor`` from ``dem``) on the account grid."""
    out: dict[str, np.ndarray] = {}
    if "ls_factor" in names:
        from gep.routing.terrain import ls_factor

        dem = prepared.layers["dem"].data.copy()
        dem[~prepared.index.inside] = np.nan
        method = str(prepared.options.get("ls_routing", "mfd"))
        out["ls_factor"] = ls_factor(dem, prepared.grid.resolution, method=method)
    return out


def base_context(prepared: PreparedInputs, extra_layers: dict[str, np.ndarray]) -> ServiceContext:
    layers = {name: layer.data for name, layer in prepared.layers.items()}
    layers.update(extra_layers)
    index = prepared.index
    classes = prepared.classes
    if classes is None:
        import pandas as pd

        classes = pd.DataFrame()
    return ServiceContext(
        layers=layers,
        classes=classes,
        tables=dict(prepared.tables),
        params=prepared.params,
        pixel_area_m2=prepared.grid.pixel_area_m2,
        inside=index.inside,
        unit_index=index.unit_index,
        unit_codes=index.codes,
        region_units=index.region_units,
        transform=prepared.grid.transform,
        crs=prepared.grid.crs,
        options=dict(prepared.options),
    )


def run_services(
    prepared: PreparedInputs, progress: Progress | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> list[ItemRun]:
    """Compute every computable item of ``prepared``; returns runs in catalogue order."""
    report = progress or (lambda step, fraction: None)
    registry = services()
    chosen = [registry[i] for i in prepared.computable_items]
    needed = {d for s in chosen for d in s.declaration.derived_layers}
    report("derived layers", 0.0)
    ctx = base_context(prepared, derived_layers(prepared, needed))
    runs = []
    for n, service in enumerate(chosen):
        report(service.item_id, (n + 0.5) / max(1, len(chosen)))
        item_ctx = replace(ctx, variant=prepared.variants.get(service.item_id), options=_options(prepared))
        result = _compute(service, item_ctx, chunk_rows)
        result = _apply_region_overrides(service, item_ctx, result, prepared, chunk_rows)
        runs.append(ItemRun(service, _mask_outside(result, ctx.inside)))
    report("done", 1.0)
    return runs


def _options(prepared: PreparedInputs) -> dict[str, object]:
    """Profile options plus the carbon variant, so oxygen from carbon uses the same basis."""
    options = dict(prepared.options)
    options.setdefault("year", prepared.spec.account.year)
    carbon = registry_variant(prepared, "carbon_sequestration")
    if carbon is not None:
        options.setdefault("carbon_variant", carbon)
    return options


def registry_variant(prepared: PreparedInputs, item_id: str) -> str | None:
    """The variant the profile picks for ``item_id``, else the service's default (first) variant."""
    chosen = prepared.variants.get(item_id)
    if chosen:
        return chosen
    service = services().get(item_id)
    return service.declaration.variants[0] if service and service.declaration.variants else None


def _compute(service: Service, ctx: ServiceContext, chunk_rows: int) -> ServiceResult:
    rows = ctx.inside.shape[0]
    if service.declaration.whole_grid or rows <= chunk_rows:
        return service.compute(ctx)
    parts = [service.compute(_slice(ctx, slice(r, min(rows, r + chunk_rows)))) for r in range(0, rows, chunk_rows)]
    return _concatenate(parts)


def _slice(ctx: ServiceContext, rows: slice) -> ServiceContext:
    layers = {name: array[rows] for name, array in ctx.layers.items()}
    return replace(ctx, layers=layers, inside=ctx.inside[rows], unit_index=ctx.unit_index[rows])


def _concatenate(parts: list[ServiceResult]) -> ServiceResult:
    first = parts[0]
    components = tuple(
        Component(
            c.name,
            c.unit,
            np.concatenate([p.components[k].physical for p in parts]),
            np.concatenate([p.components[k].value_yuan for p in parts]),
            c.price_parameter,
        )
        for k, c in enumerate(first.components)
    )
    notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
    return replace(
        first,
        physical=np.concatenate([p.physical for p in parts]),
        value_yuan=np.concatenate([p.value_yuan for p in parts]),
        components=components,
        notes=notes,
    )


def _apply_region_overrides(
    service: Service, ctx: ServiceContext, result: ServiceResult, prepared: PreparedInputs, chunk_rows: int
) -> ServiceResult:
    used = set(service.declaration.parameters)
    overrides = [(code, values) for code, values in prepared.region_params.items() if used & set(values)]
    if not overrides:
        return result
    depth = {r.code: prepared.regions.depth(r.code) for r in prepared.regions.regions}
    for code, values in sorted(overrides, key=lambda item: depth[item[0]]):
        params = ctx.params.with_values(
            {k: v for k, v in values.items() if k in used}, source=f"account spec, region {code}"
        )
        regional = _compute(service, replace(ctx, params=params), chunk_rows)
        mask = ctx.region_mask(code)
        result = _merge(result, regional, mask, code)
    return result


def _merge(base: ServiceResult, regional: ServiceResult, mask: np.ndarray, code: str) -> ServiceResult:
    components = tuple(
        replace(
            b, physical=np.where(mask, r.physical, b.physical), value_yuan=np.where(mask, r.value_yuan, b.value_yuan)
        )
        for b, r in zip(base.components, regional.components, strict=True)
    )
    return replace(
        base,
        physical=np.where(mask, regional.physical, base.physical),
        value_yuan=np.where(mask, regional.value_yuan, base.value_yuan),
        components=components,
        notes=(*base.notes, f"parameters overridden for region {code}"),
    )


def _mask_outside(result: ServiceResult, inside: np.ndarray) -> ServiceResult:
    def clean(a: np.ndarray) -> np.ndarray:
        return np.where(inside, np.asarray(a, dtype=np.float64), np.nan)

    components = tuple(
        replace(c, physical=clean(c.physical), value_yuan=clean(c.value_yuan)) for c in result.components
    )
    return replace(result, physical=clean(result.physical), value_yuan=clean(result.value_yuan), components=components)
