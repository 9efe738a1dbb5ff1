"""Read InVEST datastack (parameter set) JSON files.

An InVEST 3.20 datastack is ``{"model_id": "carbon", "invest_version": "3.20.2", "args": {...}}``;
older ones name the Python module instead (``"model_name": "natcap.invest.carbon"``). Relative paths in
``args`` are relative to the JSON file; strings "true"/"false" are booleans, as InVEST reads them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gep.problems import GepInputError, error

# InVEST model aliases (MODEL_SPEC.aliases) and module names -> model id
ALIASES: dict[str, str] = {
    "hwy": "annual_water_yield",
    "awy": "annual_water_yield",
    "hydropower_water_yield": "annual_water_yield",
}


@dataclass(frozen=True)
class Datastack:
    """A parsed datastack.

    Attributes:
        model_id: InVEST model id ("carbon", "annual_water_yield", "sdr", "ndr", ...).
        args: the model arguments with paths made absolute.
        path: the JSON file it was read from.
    """

    model_id: str
    args: dict[str, Any]
    path: Path


def normalize_model_id(name: str) -> str:
    """``natcap.invest.sdr.sdr`` -> ``sdr``; ``awy`` -> ``annual_water_yield``; ``carbon`` -> ``carbon``."""
    name = name.strip()
    if name.startswith("natcap.invest."):
        name = name[len("natcap.invest.") :].split(".")[0]
    name = name.replace("-", "_").lower()
    return ALIASES.get(name, name)


def _resolve(value: Any, base: Path) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, base) for v in value]
    if isinstance(value, str) and value:
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        expanded = os.path.expandvars(os.path.expanduser(os.path.normpath(value)))
        if os.path.isabs(expanded):
            return expanded
        candidate = (base / expanded).resolve()
        if candidate.exists():
            return str(candidate)
    return value


def read_datastack(path: Path | str) -> Datastack:
    """Read a datastack JSON; raise :class:`GepInputError` naming the file if it is not one."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise GepInputError([error("file_not_found", source, what="InVEST datastack JSON")])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GepInputError([error("invest_datastack_invalid", source, reason=str(exc))]) from None
    if not isinstance(data, dict) or not isinstance(data.get("args"), dict):
        raise GepInputError([error("invest_datastack_invalid", source, reason="no 'args' object")])
    raw_id = data.get("model_id") or data.get("model_name")
    if not isinstance(raw_id, str) or not raw_id:
        raise GepInputError([error("invest_datastack_invalid", source, reason="no 'model_id' or 'model_name'")])
    args = _resolve(data["args"], path.resolve().parent)
    return Datastack(normalize_model_id(raw_id), args, path)
