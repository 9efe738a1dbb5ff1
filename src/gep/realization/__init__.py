"""Putting accounts to work: payments and compensation derived from GEP.

- :mod:`gep.realization.procurement`: GEP-based procurement and purchase schemes (Yunhe 云和, Dayang
  大洋) → payment schedules with conditional tranches.
- :mod:`gep.realization.compensation`: upstream–downstream eco-compensation from a cross-section
  (交接断面) P-index → direction and amount of payment.
- :mod:`gep.realization.impact`: project impact (生态占补平衡): GEP before and after a land-cover
  change inside a project footprint → loss by item and the compensation required.
- :mod:`gep.realization.io`: CSV + Excel writers; :mod:`gep.realization.cli`: ``gep procure``,
  ``gep compensate``, ``gep impact``.

Example scheme and agreement files ship in ``gep/realization/data`` (see :func:`example_path`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLES = ("yunhe_2020.toml", "dayang_2020.toml", "xinanjiang_round1.toml", "oujiang_example.toml")


def example_path(name: str) -> Path:
    """Path of a shipped example file (``yunhe_2020.toml``...); KeyError names the known files."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; known examples: {', '.join(EXAMPLES)}")
    return Path(str(resources.files("gep.realization").joinpath("data", name)))
