"""InVEST 3.20-compatible models: read an InVEST datastack, write InVEST's outputs (same names, units,
nodata), faster and with clear input errors.

Registry contract: every module named in :data:`MODEL_MODULES` (``gep.invest.<name>``) defines
``MODEL_ID`` (the InVEST model id, e.g. ``"sdr"``) and ``execute(args: dict, workspace: Path) -> None``
(``run`` is accepted as the name too)
(``args`` as in the datastack, paths absolute; outputs under ``workspace`` with InVEST's layout). Modules
not present yet are skipped; an ImportError raised *inside* a present module is not hidden.

>>> from gep.invest import MODELS, run_datastack
>>> sorted(MODELS)  # doctest: +SKIP
['annual_water_yield', 'carbon', 'ndr', 'sdr']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

MODEL_MODULES: tuple[str, ...] = ("carbon", "annual_water_yield", "sdr", "ndr")

MODELS: dict[str, Callable[[dict, Path], None]] = {}

for _name in MODEL_MODULES:
    try:
        _module = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_name}":
            raise
        continue
    _entry = getattr(_module, "execute", None) or getattr(_module, "run", None)
    if _entry is None:
        raise AttributeError(f"{_module.__name__} defines neither execute(args, workspace) nor run(args, workspace)")
    MODELS[_module.MODEL_ID] = _entry


def run_datastack(datastack: Path | str, workspace: Path | str, model: str | None = None) -> str:
    """Run the model of InVEST datastack ``datastack`` into ``workspace``; return the model id.

    ``model`` (an id or alias) must agree with the datastack's own model id when given. Raises
    :class:`gep.problems.GepInputError` for an unknown model or bad inputs.
    """
    from gep.invest.datastack import normalize_model_id, read_datastack
    from gep.problems import GepInputError, error

    stack = read_datastack(datastack)
    model_id = normalize_model_id(model) if model else stack.model_id
    if model_id not in MODELS:
        raise GepInputError(
            [error("invest_model_unknown", str(datastack), value=model_id, available=", ".join(sorted(MODELS)))]
        )
    if model_id != stack.model_id:
        raise GepInputError([error("invest_model_mismatch", str(datastack), value=model_id, found=stack.model_id)])
    MODELS[model_id](stack.args, Path(workspace))
    return model_id
