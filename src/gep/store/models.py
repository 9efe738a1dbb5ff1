"""SQLAlchemy models of the gep store: regions, datasets, accounts, indicators, evaluations, users.

The same models run on SQLite (default, a file) and PostgreSQL. Money is yuan (``*_yuan`` columns,
double precision); areas are km²; times are UTC. JSON columns hold documents the store keeps whole
(``summary.json``, ``provenance.json``, problem lists). The schema is created and changed only by
the Alembic migrations in ``gep/store/migrations``; keep them in step with this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Region(Base):
    """An administrative region or zone; ``geometry_geojson`` is a GeoJSON geometry in EPSG:4326."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(32))
    parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    area_km2: Mapped[float | None] = mapped_column(Double, nullable=True)
    geometry_geojson: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Dataset(Base):
    """An input file: raster layer, vector or table, with its metadata and SHA-256."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # layer, table, regions, zones, spec, upload
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    source: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit: Mapped[str] = mapped_column(String(64), default="")
    crs: Mapped[str] = mapped_column(String(200), default="")
    licence: Mapped[str] = mapped_column(Text, default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Account(Base):
    """One computed GEP account; ``summary`` and ``provenance`` are the JSON files as written."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    profile: Mapped[str] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    directory: Mapped[str] = mapped_column(Text)
    gep_version: Mapped[str] = mapped_column(String(32), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    regions: Mapped[list[AccountRegion]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="AccountRegion.position"
    )
    rows: Mapped[list[AccountRow]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="AccountRow.position"
    )
    maps: Mapped[list[AccountMap]] = relationship(back_populates="account", cascade="all, delete-orphan")
    datasets: Mapped[list[AccountDataset]] = relationship(back_populates="account", cascade="all, delete-orphan")


class AccountRegion(Base):
    """Summary table: one row per region or zone of an account (``summary.json`` ``regions``)."""

    __tablename__ = "account_regions"
    __table_args__ = (UniqueConstraint("account_id", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(64))
    region_name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    area_km2: Mapped[float | None] = mapped_column(Double, nullable=True)
    gep_yuan: Mapped[float] = mapped_column(Double)
    material_yuan: Mapped[float] = mapped_column(Double)
    regulating_yuan: Mapped[float] = mapped_column(Double)
    cultural_yuan: Mapped[float] = mapped_column(Double)
    gep_per_km2_yuan: Mapped[float | None] = mapped_column(Double, nullable=True)
    gdp_yuan: Mapped[float | None] = mapped_column(Double, nullable=True)
    gep_to_gdp: Mapped[float | None] = mapped_column(Double, nullable=True)
    population: Mapped[float | None] = mapped_column(Double, nullable=True)
    gep_per_capita_yuan: Mapped[float | None] = mapped_column(Double, nullable=True)

    account: Mapped[Account] = relationship(back_populates="regions")


class AccountRow(Base):
    """Item table: one row of ``account.csv`` (region × item × component), values in yuan."""

    __tablename__ = "account_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(64), index=True)
    region_name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(64))
    item_name_zh: Mapped[str] = mapped_column(String(200))
    item_name_en: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(64), default="")
    physical_quantity: Mapped[float | None] = mapped_column(Double, nullable=True)
    physical_unit: Mapped[str] = mapped_column(String(64), default="")
    value_yuan: Mapped[float | None] = mapped_column(Double, nullable=True)
    method: Mapped[str] = mapped_column(String(64), default="")
    profile: Mapped[str] = mapped_column(String(64), default="")

    account: Mapped[Account] = relationship(back_populates="rows")


class AccountMap(Base):
    """A map file of an account (COG on the account grid) and its extent in lon/lat."""

    __tablename__ = "account_maps"
    __table_args__ = (UniqueConstraint("account_id", "item", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # value, physical, density
    path: Mapped[str] = mapped_column(Text)
    west: Mapped[float] = mapped_column(Double)
    south: Mapped[float] = mapped_column(Double)
    east: Mapped[float] = mapped_column(Double)
    north: Mapped[float] = mapped_column(Double)

    account: Mapped[Account] = relationship(back_populates="maps")


class AccountDataset(Base):
    """Provenance link: an account was computed from a dataset under role ``role`` (``layers.dem``...)."""

    __tablename__ = "account_datasets"
    __table_args__ = (UniqueConstraint("account_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(200))

    account: Mapped[Account] = relationship(back_populates="datasets")
    dataset: Mapped[Dataset] = relationship()


class IndicatorSeries(Base):
    """A time series of one indicator for one region (e.g. GEP, GEP/GDP, forest cover)."""

    __tablename__ = "indicator_series"
    __table_args__ = (UniqueConstraint("code", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="IndicatorValue.year"
    )


class IndicatorValue(Base):
    """One value of a series: ``kind`` is observed, target or forecast (with an optional interval)."""

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("series_id", "kind", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("indicator_series.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Double)
    lower: Mapped[float | None] = mapped_column(Double, nullable=True)
    upper: Mapped[float | None] = mapped_column(Double, nullable=True)
    method: Mapped[str] = mapped_column(String(64), default="")

    series: Mapped[IndicatorSeries] = relationship(back_populates="values")


class Evaluation(Base):
    """An evaluation of a region (e.g. county assessment score) with its details as JSON."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Double, nullable=True)
    grade: Mapped[str] = mapped_column(String(32), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """An API token: only its SHA-256 is stored; ``role`` is admin, analyst or viewer."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """One write: who (token name and role), when (UTC), what (action, target, details)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client: Mapped[str] = mapped_column(String(200), default="")


class RunJob(Base):
    """An account run started through the API; ``progress`` is 0..1, ``step`` the engine's step name."""

    __tablename__ = "run_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    progress: Mapped[float] = mapped_column(Double, default=0.0)
    step: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    spec_path: Mapped[str] = mapped_column(Text)
    out_dir: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
