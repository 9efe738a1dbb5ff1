"""Parameters with provenance: value, unit, price base year, source and a reliability tag.

Defaults live in ``gep/data/parameters/*.toml`` (one file per area, merged; a name defined twice
is an error); method profiles and account specs override them. An override keeps the unit and
records its own source, so every number in an account traces back.

Tags: ``verified`` (read in a primary or authoritative source), ``secondary`` (read in a
peer-reviewed application), ``unverified`` (from memory or inference; check before relying on
it), ``synthetic`` (demo data), ``user`` (given in an account spec).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal

Tag = Literal["verified", "secondary", "unverified", "synthetic", "user"]
TAGS: tuple[str, ...] = ("verified", "secondary", "unverified", "synthetic", "user")


@dataclass(frozen=True)
class Parameter:
    """One numeric parameter.

    Attributes:
        name: stable identifier, e.g. ``reservoir_cost``.
        value: the number, in ``unit``.
        unit: unit string, e.g. ``yuan/m3``, ``t/m3``, ``1`` for dimensionless.
        source: where the value comes from (publication, standard, spec file).
        tag: reliability tag, one of :data:`TAGS`.
        base_year: price base year for monetary parameters, else None.
        name_zh, name_en: labels for reports.
    """

    name: str
    value: float
    unit: str
    source: str
    tag: Tag
    base_year: int | None = None
    name_zh: str = ""
    name_en: str = ""

    def __post_init__(self) -> None:
        if self.tag not in TAGS:
            raise ValueError(f"parameter {self.name!r}: tag {self.tag!r} is not one of {', '.join(TAGS)}")
        if not isinstance(self.value, (int, float)) or isinstance(self.value, bool):
            raise ValueError(f"parameter {self.name!r}: value {self.value!r} is not a number")


class ParameterSet(Mapping[str, Parameter]):
    """An immutable name → :class:`Parameter` mapping."""

    def __init__(self, parameters: Mapping[str, Parameter] | None = None):
        self._items: dict[str, Parameter] = dict(parameters or {})

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(
                f"unknown parameter {name!r}; known parameters: {', '.join(sorted(self._items))}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def value(self, name: str) -> float:
        """The parameter's value in its declared unit."""
        return float(self[name].value)

    def with_values(self, values: Mapping[str, float], source: str, tag: Tag = "user") -> ParameterSet:
        """A copy with new values for existing parameters, recording ``source`` and ``tag``.

        Unknown names raise KeyError naming the known parameters: a typo in a spec must not be ignored.
        """
        items = dict(self._items)
        for name, new_value in values.items():
            items[name] = replace(self[name], value=float(new_value), source=source, tag=tag)
        return ParameterSet(items)

    def subset(self, names: list[str] | tuple[str, ...]) -> ParameterSet:
        return ParameterSet({n: self[n] for n in names})


def parameters_from_toml(text: str, origin: str) -> ParameterSet:
    """Parse a parameter table (``[name] value= unit= source= tag= base_year= name_zh= name_en=``)."""
    raw = tomllib.loads(text)
    items: dict[str, Parameter] = {}
    for name, fields in raw.items():
        try:
            items[name] = Parameter(name=name, **fields)
        except TypeError as exc:
            raise ValueError(f"{origin}: parameter {name!r}: {exc}") from None
    return ParameterSet(items)


@cache
def default_parameters() -> ParameterSet:
    """The default parameter table shipped with gep (all of ``gep/data/parameters/*.toml``)."""
    folder = resources.files("gep").joinpath("data", "parameters")
    merged: dict[str, Parameter] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        origin = f"gep/data/parameters/{entry.name}"
        for name, parameter in parameters_from_toml(entry.read_text(encoding="utf-8"), origin).items():
            if name in merged:
                raise RuntimeError(f"parameter {name!r} is defined twice (again in {origin})")
            merged[name] = parameter
    return ParameterSet(merged)
