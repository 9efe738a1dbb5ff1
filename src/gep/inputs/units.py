"""Compare unit strings written by people: ``mm/a``, ``mm/yr``, ``mm a-1`` are the same unit."""

from __future__ import annotations

import re

_ALIASES = {
    "yr": "a",
    "year": "a",
    "years": "a",
    "y": "a",
    "ha": "hm2",
    "hm²": "hm2",
    "m²": "m2",
    "m³": "m3",
    "day": "d",
    "days": "d",
    "metre": "m",
    "meter": "m",
    "meters": "m",
    "metres": "m",
}


def normalize_unit(unit: str) -> str:
    """Canonical spelling of a unit for comparison: lower case, ``x-1`` written ``/x``, aliases folded,
    and multiplication marks (space, ``·``, ``*``) dropped, so ``g C/(m²·a)`` equals ``gC/(m2*a)``."""
    text = unit.strip().lower().replace("·", "*").replace("²", "2").replace("³", "3")
    text = re.sub(r"\s+", "*", text)
    text = re.sub(r"\*?([a-z²³0-9]+)\^?-1", r"/\1", text)
    parts = re.split(r"([*/()])", text)
    return "".join(_ALIASES.get(p, p) for p in parts if p != "*")


def same_unit(a: str, b: str) -> bool:
    return normalize_unit(a) == normalize_unit(b)
