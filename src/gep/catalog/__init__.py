"""The ecological product catalogue: GEP items, method profiles and the raster layer vocabulary.

Everything here is data: ``items.toml`` (the 20 items in three categories, with units, valuation
method and SEEA EA code), ``profiles/*.toml`` (which items each standard counts, its formula variants
and switches) and ``layers.toml`` (every raster a service may read, with unit and valid range). This
module only loads and checks those files. An item's ``profiles`` are derived from the profile files,
so membership is written once.

Third-party method profiles come from the entry point group ``gep.profiles``: each entry point loads
to a path (``str``/``Path``/importlib resource) of a profile TOML, or to a callable returning one. A
broken plugin becomes a warning, never a crash.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from gep.parameters import TAGS
from gep.problems import Problem, error, warning

CATEGORIES: tuple[str, ...] = ("material", "regulating", "cultural")
"""Item categories in display order: 物质产品, 调节服务, 文化服务."""
DEFAULT_PROFILE = "zj_db33_2274_2020"
PROFILE_METHODS: tuple[str, ...] = ("item_accounting", "equivalent_factor")
LAYER_KINDS: tuple[str, ...] = ("continuous", "categorical")
RESAMPLING: Mapping[str, str] = MappingProxyType({"continuous": "average", "categorical": "nearest"})
OPTION_CHOICES: Mapping[str, tuple[Any, ...]] = MappingProxyType(
    {
        "material_basis": ("gross_output", "value_added", "net_output"),
        "include_water_supply": (True, False),
        "recreation_method": ("travel_cost", "tourism_revenue"),
        "include_reservoir_operating_cost": (False, True),
    }
)
"""Profile switches and their allowed values; the first value is the default."""
ENTRY_POINT_GROUP = "gep.profiles"

_PACKAGE = "gep/catalog"
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_SEEA_CODE = re.compile(r"[1-4]\.[0-9]{1,2}\Z")


class CatalogDataError(ValueError):
    """A catalogue data file (or a plugin's profile file) is malformed; ``problem`` says where."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render("en"))


class UnknownNameError(KeyError, ValueError):
    """An item, profile or layer name that the catalogue does not know; the message lists the known ones."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.render("en"))

    def __str__(self) -> str:
        return str(self.args[0])

    def render(self, lang: str) -> str:
        return self.problem.render(lang)


@dataclass(frozen=True)
class Item:
    """One ecological product (GEP item).

    ``unit`` is the unit of the main physical quantity (``m3``, ``t``, ``kWh``, ``hm2``, ``visits``...;
    ``yuan`` for statistical material items whose quantity is the output value). ``seea_code`` is the
    primary SEEA EA reference-list code, None when ``in_seea`` is False (``seea_note`` says why).
    ``profiles`` are the ids of the method profiles that count the item (derived from profile files).
    """

    id: str
    category: str
    name_zh: str
    name_en: str
    unit: str
    unit_zh: str
    unit_en: str
    valuation: str
    valuation_zh: str
    valuation_en: str
    seea_code: str | None
    seea_codes: tuple[str, ...]
    in_seea: bool
    seea_note: str
    description_zh: str
    description_en: str
    provenance: str
    provenance_source: str
    profiles: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def unit_label(self, lang: str) -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    def valuation_label(self, lang: str) -> str:
        return self.valuation_zh if lang == "zh" else self.valuation_en


@dataclass(frozen=True)
class Profile:
    """A method profile: the items a standard counts, its formula variants and switches.

    ``variants`` maps item id to a formula variant id (``carbon_sequestration``: ``nep``/``rate``,
    ``oxygen_release``: ``from_carbon``/``npp``). ``options`` holds every key of
    :data:`OPTION_CHOICES`, defaults filled in. ``parameters`` are default-parameter overrides (values
    in each parameter's declared unit). ``unverified`` lists items whose membership is not verified.
    """

    id: str
    title_zh: str
    title_en: str
    standard: str
    status: str
    method: str
    provenance: str
    items: tuple[str, ...]
    unverified: tuple[str, ...]
    note: str
    variants: Mapping[str, str]
    options: Mapping[str, Any]
    parameters: Mapping[str, float]
    source: str

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


@dataclass(frozen=True)
class LayerSpec:
    """A raster layer of the vocabulary: kind, unit, valid range [min, max] in ``unit``, resampling."""

    name: str
    kind: str
    unit: str
    unit_zh: str
    unit_en: str
    min: float
    max: float
    name_zh: str
    name_en: str
    resampling: str
    derived: bool = False
    derived_from: tuple[str, ...] = ()
    nodata_disk: float | None = None

    def label(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Catalog:
    """The loaded catalogue. ``items`` are ordered material, regulating, cultural, then file order."""

    items: tuple[Item, ...]
    profiles: tuple[Profile, ...]
    layers: tuple[LayerSpec, ...]
    category_labels: Mapping[str, Mapping[str, str]]
    problems: tuple[Problem, ...] = ()
    """Warnings met while loading (skipped plugins)."""

    def item(self, item_id: str) -> Item:
        return _lookup(self.items, item_id, "catalog_unknown_item", "item")

    def profile(self, profile_id: str) -> Profile:
        return _lookup(self.profiles, profile_id, "catalog_unknown_profile", "profile")

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        known = ", ".join(layer.name for layer in self.layers)
        raise UnknownNameError(error("catalog_unknown_layer", "gep catalog", "layer", value=name, known=known))

    def items_for_profile(self, profile_id: str) -> tuple[Item, ...]:
        """The profile's items in catalogue order."""
        members = set(self.profile(profile_id).items)
        return tuple(item for item in self.items if item.id in members)

    def category_label(self, category: str, lang: str) -> str:
        return self.category_labels[category][lang]


def _lookup(entries: tuple[Any, ...], wanted: str, code: str, field: str) -> Any:
    for entry in entries:
        if entry.id == wanted:
            return entry
    known = ", ".join(entry.id for entry in entries)
    raise UnknownNameError(error(code, "gep catalog", field, value=wanted, known=known))


# ------------------------------------------------------------------------------------ checking


def _fail(source: str, entry: str | None, code: str, **params: Any) -> CatalogDataError:
    return CatalogDataError(error(code, source, entry, **params))


def _bad(source: str, entry: str | None, name: str, value: Any, expected: str) -> CatalogDataError:
    return _fail(source, entry, "catalog_bad_value", name=name, value=value, expected=expected)


def _check_fields(
    raw: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...], source: str, entry: str
) -> None:
    for name in required:
        if name not in raw:
            raise _fail(source, entry, "catalog_field_missing", name=name)
    for name in raw:
        if name not in required and name not in optional:
            known = ", ".join(required + optional)
            raise _fail(source, entry, "catalog_field_unknown", name=name, known=known)


def _text(raw: Mapping[str, Any], name: str, source: str, entry: str, default: str | None = None) -> str:
    value = raw.get(name, default)
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise _bad(source, entry, name, value, "a non-empty string")
    return value


def _names(raw: Mapping[str, Any], name: str, source: str, entry: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(source, entry, name, value, "a list of strings")
    if len(set(value)) != len(value):
        duplicate = next(v for v in value if value.count(v) > 1)
        raise _fail(source, entry, "catalog_duplicate_id", value=duplicate)
    return tuple(value)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(source, None, "catalog_file_invalid", reason=str(exc)) from None


def _entry_list(raw: Mapping[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    entries = raw.get(key)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _bad(source, key, key, type(entries).__name__, f"an array of tables [[{key}]]")
    return entries


# ------------------------------------------------------------------------------------- parsing

_ITEM_OPTIONAL = ("seea_code", "seea_codes", "in_seea", "seea_note")
_ITEM_REQUIRED = tuple(  # every Item field read as text; the rest are optional or computed
    f.name
    for f in dataclasses.fields(Item)
    if f.name not in {*_ITEM_OPTIONAL, "valuation_zh", "valuation_en", "profiles"}
)


def _parse_items(text: str, source: str) -> tuple[tuple[Item, ...], dict[str, dict[str, str]]]:
    raw = _read_toml(text, source)
    labels = {cat: raw.get("categories", {}).get(cat) for cat in CATEGORIES}
    methods = raw.get("valuation_methods", {})
    for key, table in [("categories", labels), ("valuation_methods", methods)]:
        for name, lab in table.items():
            if not isinstance(lab, dict) or not all(isinstance(lab.get(lg), str) for lg in ("zh", "en")):
                raise _bad(source, f"{key}.{name}", name, lab, "a table with zh and en labels")
    items: list[Item] = []
    seen: set[str] = set()
    for index, entry in enumerate(_entry_list(raw, "items", source)):
        where = f"items[{index}] {entry.get('id', '?')}"
        _check_fields(entry, _ITEM_REQUIRED, _ITEM_OPTIONAL, source, where)
        fields = {name: _text(entry, name, source, where) for name in _ITEM_REQUIRED}
        item_id = fields["id"]
        if not _ID.match(item_id):
            raise _bad(source, where, "id", item_id, "a lower-case identifier")
        if item_id in seen:
            raise _fail(source, where, "catalog_duplicate_id", value=item_id)
        seen.add(item_id)
        if fields["category"] not in CATEGORIES:
            raise _fail(
                source, where, "catalog_unknown_category", value=fields["category"], known=", ".join(CATEGORIES)
            )
        if fields["valuation"] not in methods:
            raise _bad(source, where, "valuation", fields["valuation"], "one of " + ", ".join(methods))
        if fields["provenance"] not in TAGS:
            raise _bad(source, where, "provenance", fields["provenance"], "one of " + ", ".join(TAGS))
        code, codes, in_seea = _seea(entry, source, where)
        label = methods[fields["valuation"]]
        items.append(
            Item(
                **fields,
                valuation_zh=label["zh"],
                valuation_en=label["en"],
                seea_code=code,
                seea_codes=codes,
                in_seea=in_seea,
                seea_note=_text(entry, "seea_note", source, where, default=""),
            )
        )
    items.sort(key=lambda item: CATEGORIES.index(item.category))  # stable: file order within a category
    return tuple(items), labels


def _seea(entry: Mapping[str, Any], source: str, where: str) -> tuple[str | None, tuple[str, ...], bool]:
    in_seea = entry.get("in_seea", True)
    code = entry.get("seea_code")
    codes = entry.get("seea_codes", [code] if code is not None else [])
    note = entry.get("seea_note", "")
    valid_codes = isinstance(codes, list) and all(isinstance(c, str) and _SEEA_CODE.match(c) for c in codes)
    if in_seea is True and isinstance(code, str) and valid_codes and codes[:1] == [code]:
        return code, tuple(codes), True
    has_note = isinstance(note, str) and bool(note.strip())
    if in_seea is False and code is None and "seea_codes" not in entry and has_note:
        return None, (), False
    found = f"in_seea={in_seea!r}, seea_code={code!r}, seea_codes={codes!r}, seea_note={note!r}"
    raise _fail(source, where, "catalog_seea_inconsistent", found=found)


_LAYER_REQUIRED = tuple(f.name for f in dataclasses.fields(LayerSpec) if f.default is dataclasses.MISSING)
_LAYER_OPTIONAL = tuple(f.name for f in dataclasses.fields(LayerSpec) if f.default is not dataclasses.MISSING)


def _parse_layers(text: str, source: str) -> tuple[LayerSpec, ...]:
    raw = _read_toml(text, source)
    layers: dict[str, LayerSpec] = {}
    for index, entry in enumerate(_entry_list(raw, "layers", source)):
        where = f"layers[{index}] {entry.get('name', '?')}"
        _check_fields(entry, _LAYER_REQUIRED, _LAYER_OPTIONAL, source, where)
        texts = {n: _text(entry, n, source, where) for n in _LAYER_REQUIRED if n not in ("min", "max")}
        if texts["name"] in layers:
            raise _fail(source, where, "catalog_duplicate_id", value=texts["name"])
        if texts["kind"] not in LAYER_KINDS:
            raise _bad(source, where, "kind", texts["kind"], "one of " + ", ".join(LAYER_KINDS))
        if texts["resampling"] != RESAMPLING[texts["kind"]]:
            raise _bad(
                source,
                where,
                "resampling",
                texts["resampling"],
                f"{RESAMPLING[texts['kind']]!r} for a {texts['kind']} layer",
            )
        low, high = entry["min"], entry["max"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)) or low > high:
            raise _bad(source, where, "min/max", (low, high), "two numbers with min <= max")
        derived = entry.get("derived", False)
        derived_from = _names(entry, "derived_from", source, where)
        if derived is not bool(derived_from) or any(n not in layers for n in derived_from):
            raise _bad(
                source,
                where,
                "derived_from",
                list(derived_from),
                "earlier layer names, given exactly when derived = true",
            )
        layers[texts["name"]] = LayerSpec(
            **texts,
            min=float(low),
            max=float(high),
            derived=derived,
            derived_from=derived_from,
            nodata_disk=entry.get("nodata_disk"),
        )
    return tuple(layers.values())


_PROFILE_REQUIRED = ("id", "title_zh", "title_en", "standard", "status", "items")
_PROFILE_OPTIONAL = ("method", "provenance", "unverified", "note", "variants", "options", "parameters")


def _parse_profile(text: str, source: str, item_ids: tuple[str, ...]) -> Profile:
    raw = _read_toml(text, source)
    where = str(raw.get("id", "?"))
    _check_fields(raw, _PROFILE_REQUIRED, _PROFILE_OPTIONAL, source, where)
    texts = {n: _text(raw, n, source, where) for n in _PROFILE_REQUIRED if n != "items"}
    if not _ID.match(texts["id"]):
        raise _bad(source, where, "id", texts["id"], "a lower-case identifier")
    method = _text(raw, "method", source, where, default="item_accounting")
    provenance = _text(raw, "provenance", source, where, default="unverified")
    for name, value, allowed in [("method", method, PROFILE_METHODS), ("provenance", provenance, TAGS)]:
        if value not in allowed:
            raise _bad(source, where, name, value, "one of " + ", ".join(allowed))
    items = _names(raw, "items", source, where)
    unverified = _names(raw, "unverified", source, where)
    for name, listed, allowed in [("items", items, item_ids), ("unverified", unverified, items)]:
        for item_id in listed:
            if item_id not in allowed:
                raise _fail(
                    source, where, "catalog_profile_unknown_item", name=name, value=item_id, known=", ".join(allowed)
                )
    variants = _table(raw, "variants", source, where)
    for item_id, variant in variants.items():
        if item_id not in items:
            raise _fail(
                source, where, "catalog_profile_unknown_item", name="variants", value=item_id, known=", ".join(items)
            )
        if not isinstance(variant, str) or not _ID.match(variant):
            raise _bad(source, where, f"variants.{item_id}", variant, "a variant id such as 'nep'")
    options = {name: choices[0] for name, choices in OPTION_CHOICES.items()}
    for name, value in _table(raw, "options", source, where).items():
        choices = OPTION_CHOICES.get(name)
        if choices is None or not any(value == c and type(value) is type(c) for c in choices):
            expected = f"one of {choices}" if choices else "an option among " + ", ".join(OPTION_CHOICES)
            raise _bad(source, where, f"options.{name}", value, expected)
        options[name] = value
    parameters = _table(raw, "parameters", source, where)
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(source, where, f"parameters.{name}", value, "a number in the parameter's unit")
    return Profile(
        **texts,
        method=method,
        provenance=provenance,
        items=items,
        unverified=unverified,
        note=_text(raw, "note", source, where, default=""),
        variants=MappingProxyType(dict(variants)),
        options=MappingProxyType(options),
        parameters=MappingProxyType({k: float(v) for k, v in parameters.items()}),
        source=source,
    )


def _table(raw: Mapping[str, Any], name: str, source: str, where: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise _bad(source, where, name, value, "a table")
    return value


# ------------------------------------------------------------------------------------- loading


class EntryPointLike(Protocol):
    name: str

    def load(self) -> Any: ...


def _plugin_profile(ep: EntryPointLike, item_ids: tuple[str, ...]) -> Profile:
    target = ep.load()
    if callable(target):
        target = target()
    if isinstance(target, str):
        target = Path(target)
    return _parse_profile(target.read_text(encoding="utf-8"), str(target), item_ids)


def build_catalog(entry_points: Iterable[EntryPointLike] = ()) -> Catalog:
    """Load the packaged data files plus the profiles of ``entry_points`` (uncached; see load_catalog).

    Raises CatalogDataError for a malformed packaged file; a failing plugin is skipped with a
    RuntimeWarning and recorded in ``Catalog.problems``.
    """
    folder = resources.files("gep.catalog")
    items, labels = _parse_items(folder.joinpath("items.toml").read_text("utf-8"), f"{_PACKAGE}/items.toml")
    layers = _parse_layers(folder.joinpath("layers.toml").read_text("utf-8"), f"{_PACKAGE}/layers.toml")
    item_ids = tuple(item.id for item in items)
    profiles: dict[str, Profile] = {}
    entries = sorted(
        (e for e in folder.joinpath("profiles").iterdir() if e.name.endswith(".toml")), key=lambda e: e.name
    )
    for entry in entries:
        source = f"{_PACKAGE}/profiles/{entry.name}"
        profile = _parse_profile(entry.read_text("utf-8"), source, item_ids)
        if profile.id != entry.name.removesuffix(".toml"):
            raise _bad(source, profile.id, "id", profile.id, "the file name without .toml")
        profiles[profile.id] = profile
    problems: list[Problem] = []
    for ep in entry_points:
        try:
            profile = _plugin_profile(ep, item_ids)
            if profile.id in profiles:
                raise _fail(profile.source, profile.id, "catalog_duplicate_id", value=profile.id)
        except Exception as exc:  # a broken plugin must not break gep
            problem = warning(
                "catalog_plugin_failed", f"entry point {ENTRY_POINT_GROUP}:{ep.name}", name=ep.name, reason=str(exc)
            )
            warnings.warn(problem.render("en"), RuntimeWarning, stacklevel=2)
            problems.append(problem)
            continue
        profiles[profile.id] = profile
    order = tuple(profiles)
    members = {i: tuple(p for p in order if i in profiles[p].items) for i in item_ids}
    items = tuple(dataclasses.replace(item, profiles=members[item.id]) for item in items)
    frozen_labels = MappingProxyType({c: MappingProxyType(dict(lab)) for c, lab in labels.items()})
    return Catalog(items, tuple(profiles.values()), layers, frozen_labels, tuple(problems))


def _discover_entry_points() -> tuple[EntryPointLike, ...]:
    try:
        return tuple(metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # broken distribution metadata: warn, run with built-ins
        warnings.warn(f"cannot list entry points {ENTRY_POINT_GROUP!r}: {exc}", RuntimeWarning, stacklevel=2)
        return ()


@cache
def load_catalog() -> Catalog:
    """The catalogue: packaged items, layers and profiles plus installed ``gep.profiles`` plugins (cached)."""
    return build_catalog(_discover_entry_points())


__all__ = [
    "CATEGORIES",
    "DEFAULT_PROFILE",
    "ENTRY_POINT_GROUP",
    "OPTION_CHOICES",
    "Catalog",
    "CatalogDataError",
    "Item",
    "LayerSpec",
    "Profile",
    "UnknownNameError",
    "build_catalog",
    "load_catalog",
]
