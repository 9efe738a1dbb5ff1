"""The account spec: one TOML file that names everything an account run reads and writes.

Relative paths in the file are relative to the spec file's folder. :func:`load_spec` returns the
parsed spec together with the problems found in the file itself (syntax, unknown keys, wrong types);
checking the inputs the spec points to is :mod:`gep.inputs.validate`'s job.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gep.grid import DEFAULT_CRS
from gep.i18n import Text
from gep.problems import Problem, error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountSection(_Strict):
    name: str = "account"
    year: int = Field(ge=1900, le=2200)
    profile: str = "zj_db33_2274_2020"
    crs: str = DEFAULT_CRS
    resolution: float = Field(default=100.0, gt=0, description="pixel size in metres")
    output: str = "gep-output"
    synthetic: bool = False
    scheduler: str | None = Field(
        default=None, description="dask.distributed scheduler address (tcp://host:port); None = run locally"
    )


class RegionsSection(_Strict):
    path: str
    code_field: str = "code"
    name_field: str = "name"
    level_field: str = "level"
    parent_field: str = "parent"
    name_en_field: str | None = None
    layer: str | None = None


class ZonesSection(_Strict):
    path: str
    code_field: str = "code"
    name_field: str = "name"
    kind_field: str | None = "kind"
    layer: str | None = None


class LayerSection(_Strict):
    path: str
    unit: str | None = None
    band: int = Field(default=1, ge=1)


class TableSection(_Strict):
    path: str
    sheet: str | None = None


class ParametersSection(BaseModel):
    """Parameter overrides: ``name = value`` for the account, ``regions.CODE.name`` per region and
    ``classes.CODE.column`` per land-cover class."""

    model_config = ConfigDict(extra="allow", frozen=True)
    regions: dict[str, dict[str, float]] = Field(default_factory=dict)
    classes: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("classes")
    @classmethod
    def _class_codes_are_integers(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for code in value:
            if not code.lstrip("-").isdigit():
                raise ValueError(f"land-cover class code {code!r} is not an integer")
        return value

    @property
    def account(self) -> dict[str, float]:
        """Account-wide overrides (``name = value`` at the top of ``[parameters]``)."""
        extra = self.model_extra or {}
        return {k: float(v) for k, v in extra.items()}


class AccountSpec(_Strict):
    """A parsed account spec. ``base_dir`` is the folder relative paths are resolved against."""

    account: AccountSection
    regions: RegionsSection
    zones: list[ZonesSection] = Field(default_factory=list)
    layers: dict[str, LayerSection] = Field(default_factory=dict)
    tables: dict[str, TableSection] = Field(default_factory=dict)
    parameters: ParametersSection = Field(default_factory=ParametersSection)
    base_dir: Path = Path(".")
    source: Path = Path("spec.toml")

    def resolve(self, relative: str) -> Path:
        """Absolute path of a path given in the spec."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def output_dir(self) -> Path:
        return self.resolve(self.account.output)

    def with_output(self, output: Path) -> AccountSpec:
        return self.model_copy(update={"account": self.account.model_copy(update={"output": str(output)})})


def load_spec(path: str | Path) -> tuple[AccountSpec | None, list[Problem]]:
    """Read and parse an account spec. Returns (spec or None, problems)."""
    path = Path(path)
    if not path.is_file():
        return None, [error("file_not_found", str(path), what=Text("核算配置文件（TOML）", "account spec (TOML)"))]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [error("spec_syntax", str(path), reason=str(exc))]
    return parse_spec(raw, path)


def parse_spec(raw: dict[str, Any], path: Path) -> tuple[AccountSpec | None, list[Problem]]:
    """Parse an already-read TOML mapping; ``path`` is where it came from."""
    try:
        spec = AccountSpec.model_validate({**raw, "base_dir": path.resolve().parent, "source": path.resolve()})
    except ValidationError as exc:
        problems = [
            error(
                "spec_field",
                str(path),
                ".".join(str(part) for part in err["loc"]),
                reason=err["msg"],
                value=_short(err.get("input")),
            )
            for err in exc.errors()
        ]
        return None, problems
    return spec, []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
