"""``provenance.json``: what an account was computed from, so every figure can be traced.

It records the SHA-256 of every input file (regions, zones, rasters, tables, the spec), the method
profile with its variants and options, every parameter the computed items read (value, unit, base
year, source, tag), per-region and per-class overrides, the gep version and the run time. The run
time makes this file differ between runs; the account tables and maps do not.
"""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from pathlib import Path

from gep import __version__
from gep.engine.compute import ItemRun
from gep.inputs.prepare import PreparedInputs


def sha256(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(prepared: PreparedInputs) -> dict[str, Path]:
    spec = prepared.spec
    files = {"spec": spec.source, "regions": spec.resolve(spec.regions.path)}
    for n, zone in enumerate(spec.zones):
        files[f"zones[{n}]"] = spec.resolve(zone.path)
    for name, layer in spec.layers.items():
        files[f"layers.{name}"] = spec.resolve(layer.path)
    for name, table in spec.tables.items():
        files[f"tables.{name}"] = spec.resolve(table.path)
    return files


def build_provenance(prepared: PreparedInputs, runs: list[ItemRun]) -> dict:
    used = sorted({name for run in runs for name in (run.result.parameters_used)})
    parameters = {
        name: {
            "value": p.value,
            "unit": p.unit,
            "base_year": p.base_year,
            "source": p.source,
            "tag": p.tag,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
        }
        for name in used
        if name in prepared.params
        for p in [prepared.params[name]]
    }
    inputs = {
        key: {
            "path": str(path),
            "sha256": sha256(path) if path.is_file() else None,
            "synthetic": str(path) in prepared.synthetic_inputs,
        }
        for key, path in input_files(prepared).items()
    }
    return {
        "gep_version": __version__,
        "python": platform.python_version(),
        "run_time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": {"id": prepared.profile_id, "variants": prepared.variants, "options": prepared.options},
        "inputs": inputs,
        "parameters": parameters,
        "region_parameter_overrides": prepared.region_params,
        "class_parameter_overrides": {k: dict(v) for k, v in prepared.spec.parameters.classes.items()},
        "items": {
            run.service.item_id: {
                "formula": run.service.declaration.formula,
                "valuation": run.service.declaration.valuation,
                "parameters": list(run.result.parameters_used),
                "notes": list(run.result.notes),
            }
            for run in runs
        },
        "skipped_items": prepared.skipped_items,
        "synthetic_inputs": sorted(set(prepared.synthetic_inputs)),
    }
