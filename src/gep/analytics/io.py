"""Read the analytics inputs (observed indicator values, realized values, price indices, county
indicator values, GEP tables, accounts) and write CSV + Excel outputs.

Every reader validates what it reads and raises :class:`gep.problems.GepInputError` listing each
problem with the file, the column and the value found. Row numbers in messages are spreadsheet
rows (the header is row 1). Money is yuan throughout.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gep.account import CATEGORIES, Account
from gep.i18n import Text
from gep.inputs.tables import check_columns
from gep.inputs.tables import read_table as _read_table
from gep.problems import GepInputError, Problem, error, has_errors, warning

FLOAT_FORMAT = "%.12g"
YEAR_MIN, YEAR_MAX = 1900, 2200
GEP_ITEM_COLUMNS = ("region_code", "region_name", "level", "year", "category", "item", "value_yuan", "profile")
GEP_TOTAL_COLUMNS = ("region_code", "region_name", "level", "year", *(f"{c}_yuan" for c in CATEGORIES), "gep_yuan")


def _raise_if_errors(problems: Sequence[Problem]) -> None:
    if has_errors(problems):
        raise GepInputError([p for p in problems if p.severity == "error"])


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """A CSV (UTF-8 or GBK) or XLSX sheet as a DataFrame; raises GepInputError if it cannot be read
    or has no rows."""
    path = Path(path)
    frame, problems = _read_table(path, sheet)
    _raise_if_errors(problems)
    assert frame is not None
    if frame.empty:
        raise GepInputError(
            [error("analytics_table_empty", str(path), expected=Text("至少一行数据", "at least one row"))]
        )
    return frame


def _shown(raw: object) -> object:
    """A cell as shown in messages: "" for empty cells, plain Python scalars instead of numpy ones."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)) or raw is pd.NA:
        return ""
    item = getattr(raw, "item", None)
    return item() if callable(item) else raw


def _row(index: object) -> int:
    return int(index) + 2  # type: ignore[call-overload]


def numbers(frame: pd.DataFrame, column: str, source: str, problems: list[Problem], *, nonnegative: bool = False):
    """Column ``column`` as floats; one problem per missing, non-numeric or non-finite cell
    (and per negative cell when ``nonnegative``)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for index, value in values.items():
        if not math.isfinite(value):
            problems.append(
                error(
                    "analytics_value_not_finite", source, column, value=_shown(frame.at[index, column]), row=_row(index)
                )
            )
        elif nonnegative and value < 0:
            problems.append(error("analytics_value_negative", source, column, value=value, row=_row(index)))
    return values


def years(frame: pd.DataFrame, column: str, source: str, problems: list[Problem]) -> pd.Series:
    """Column ``column`` as whole years (Int64); one problem per cell that is not a year."""
    raw = pd.to_numeric(frame[column], errors="coerce").astype(float)
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    for index, value in raw.items():
        if not math.isfinite(value) or value != round(value) or not YEAR_MIN <= value <= YEAR_MAX:
            problems.append(
                error("analytics_year_invalid", source, column, value=_shown(frame.at[index, column]), row=_row(index))
            )
        else:
            out[index] = int(value)
    return out


def codes(frame: pd.DataFrame, column: str) -> pd.Series:
    """Region codes as strings: integer-looking numbers lose a trailing '.0' (Excel reads 331102 as a float)."""

    def clean(value: object) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return frame[column].map(clean)


def _duplicates(frame: pd.DataFrame, keys: list[str], source: str, what: str) -> list[Problem]:
    problems = []
    dup = frame[frame.duplicated(keys, keep=False)]
    for key, rows in dup.groupby(keys, sort=True):
        key_text = " ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        rows_text = ", ".join(str(_row(i)) for i in rows.index)
        problems.append(error("analytics_duplicate_row", source, None, what=f"{what} {key_text}", rows=rows_text))
    return problems


# --- observed indicator values ------------------------------------------------------------------------------


def read_observed(path: str | Path, known_ids: Iterable[str], sheet: str | None = None) -> pd.DataFrame:
    """Observed yearly indicator values, long (indicator_id, year, value) or wide (year + one column per
    indicator id). Values are in each indicator's unit. Returns columns indicator_id, year, value, source."""
    source = str(path)
    frame = read_table(path, sheet)
    known = list(known_ids)
    problems: list[Problem] = []
    if {"indicator_id", "year", "value"} <= set(frame.columns):
        long = frame[["indicator_id", "year", "value"]].copy()
        long["indicator_id"] = long["indicator_id"].astype(str).str.strip()
        for index, value in long["indicator_id"].items():
            if value not in known:
                problems.append(
                    error(
                        "analytics_unknown_indicator",
                        source,
                        "indicator_id",
                        value=value,
                        row=_row(index),
                        expected=", ".join(known),
                    )
                )
        long["year"] = years(long, "year", source, problems)
        long["value"] = numbers(frame, "value", source, problems)
    elif "year" in frame.columns and len(frame.columns) > 1:
        id_columns = [c for c in frame.columns if c != "year"]
        unknown = [c for c in id_columns if c not in known and c not in ("region_code", "region_name")]
        for column in unknown:
            problems.append(
                error("analytics_unknown_indicator", source, column, value=column, row=1, expected=", ".join(known))
            )
        indicator_columns = [c for c in id_columns if c in known]
        frame_years = years(frame, "year", source, problems)
        pieces = []
        for column in indicator_columns:
            present = frame[column].notna() & (frame[column].astype(str).str.strip() != "")
            part = frame.loc[present, [column]]
            values = numbers(part, column, source, problems)
            pieces.append(pd.DataFrame({"indicator_id": column, "year": frame_years[present], "value": values}))
        long = pd.concat(pieces) if pieces else pd.DataFrame(columns=["indicator_id", "year", "value"])
    else:
        found = ", ".join(map(str, frame.columns))
        problems.append(error("analytics_layout_unknown", source, None, found=found))
        raise GepInputError(problems)
    _raise_if_errors(problems)
    problems += _duplicates(long, ["indicator_id", "year"], source, "indicator/year")
    _raise_if_errors(problems)
    long = long.reset_index(drop=True)
    long["year"] = long["year"].astype(int)
    long["source"] = source
    return long


# --- realized values, price indices, county values, GEP tables ---------------------------------------------


def read_realized(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """Realized-value table: region_code, year, component, value_yuan, source (where the figure was read,
    e.g. "统计年鉴 表5-3 row 12"). Returns those columns plus ``row`` (spreadsheet row) and ``file``."""
    source = str(path)
    frame = read_table(path, sheet)
    required = ("region_code", "year", "component", "value_yuan", "source")
    problems = check_columns(frame, required, source)
    _raise_if_errors(problems)
    out = pd.DataFrame(
        {"region_code": codes(frame, "region_code"), "component": frame["component"].astype(str).str.strip()}
    )
    out["year"] = years(frame, "year", source, problems)
    out["value_yuan"] = numbers(frame, "value_yuan", source, problems, nonnegative=True)
    out["source"] = frame["source"].fillna("").astype(str)
    _raise_if_errors(problems)
    out["year"] = out["year"].astype(int)
    out["row"] = [_row(i) for i in frame.index]
    out["file"] = source
    return out


def read_deflators(path: str | Path, sheet: str | None = None) -> dict[int, float]:
    """Price-index table (year, index): any base, e.g. 2020 = 100. Returns {year: index}."""
    source = str(path)
    frame = read_table(path, sheet)
    problems = check_columns(frame, ("year", "index"), source)
    _raise_if_errors(problems)
    frame_years = years(frame, "year", source, problems)
    values = numbers(frame, "index", source, problems)
    for index, value in values.items():
        if math.isfinite(value) and value <= 0:
            problems.append(
                error("analytics_deflator_nonpositive", source, "index", value=value, year=frame_years[index])
            )
    _raise_if_errors(problems)
    checked = pd.DataFrame({"year": frame_years.astype(int), "index": values})
    problems += _duplicates(checked, ["year"], source, "year")
    _raise_if_errors(problems)
    return {int(y): float(v) for y, v in zip(checked["year"], checked["index"], strict=True)}


def read_county_values(
    path: str | Path, known_ids: Sequence[str], year: int | None = None, sheet: str | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """County indicator values, long (region_code, indicator_id, value [, region_name, year]) or wide
    (region_code [, region_name, year] + one column per indicator id). With ``year``, rows of other years
    are dropped. Returns (columns region_code, region_name, indicator_id, value; warnings)."""
    source = str(path)
    frame = read_table(path, sheet)
    problems = check_columns(frame, ("region_code",), source)
    _raise_if_errors(problems)
    if "year" in frame.columns:
        frame_years = years(frame, "year", source, problems)
        _raise_if_errors(problems)
        if year is not None:
            frame = frame[frame_years == year]
    frame = frame.copy()
    frame["region_code"] = codes(frame, "region_code")
    if "region_name" not in frame.columns:
        frame["region_name"] = ""
    frame["region_name"] = frame["region_name"].fillna("").astype(str)
    warnings: list[Problem] = []
    if {"indicator_id", "value"} <= set(frame.columns):
        long = frame[["region_code", "region_name", "indicator_id"]].copy()
        long["indicator_id"] = long["indicator_id"].astype(str).str.strip()
        long["value"] = numbers(frame, "value", source, problems)
        extra = sorted(set(long["indicator_id"]) - set(known_ids))
        long = long[long["indicator_id"].isin(known_ids)]
    else:
        meta = {"region_code", "region_name", "year"}
        extra = sorted(c for c in frame.columns if c not in meta and c not in known_ids)
        pieces = []
        for column in [c for c in frame.columns if c in known_ids]:
            pieces.append(
                pd.DataFrame(
                    {
                        "region_code": frame["region_code"],
                        "region_name": frame["region_name"],
                        "indicator_id": column,
                        "value": numbers(frame, column, source, problems),
                    }
                )
            )
        long = (
            pd.concat(pieces)
            if pieces
            else pd.DataFrame(columns=["region_code", "region_name", "indicator_id", "value"])
        )
    _raise_if_errors(problems)
    if long.empty:
        raise GepInputError([error("analytics_no_indicator_values", source, None, expected=", ".join(known_ids))])
    if extra:
        warnings.append(warning("analytics_extra_indicator", source, None, value=", ".join(extra)))
    problems += _duplicates(long, ["region_code", "indicator_id"], source, "region/indicator")
    _raise_if_errors(problems)
    return long.reset_index(drop=True), warnings


def read_gep_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """A GEP table for users without account folders: region_code, year, category (material, regulating,
    cultural), value_yuan, and optionally region_name, level (city, county, ...) and item (default: the
    category). Returns the
    long item table (columns of :data:`GEP_ITEM_COLUMNS`, profile "")."""
    source = str(path)
    frame = read_table(path, sheet)
    problems = check_columns(frame, ("region_code", "year", "category", "value_yuan"), source)
    _raise_if_errors(problems)
    out = pd.DataFrame({"region_code": codes(frame, "region_code")})
    out["region_name"] = frame["region_name"].fillna("").astype(str) if "region_name" in frame.columns else ""
    out["level"] = frame["level"].fillna("").astype(str) if "level" in frame.columns else ""
    out["year"] = years(frame, "year", source, problems)
    out["category"] = frame["category"].astype(str).str.strip()
    for index, value in out["category"].items():
        if value not in CATEGORIES:
            problems.append(
                error(
                    "analytics_config_invalid",
                    source,
                    "category",
                    reason=f"row {_row(index)}: category {value!r} is not one of {', '.join(CATEGORIES)}",
                )
            )
    out["item"] = frame["item"].astype(str).str.strip() if "item" in frame.columns else out["category"]
    out["value_yuan"] = numbers(frame, "value_yuan", source, problems)
    out["profile"] = ""
    _raise_if_errors(problems)
    out["year"] = out["year"].astype(int)
    problems += _duplicates(out, ["region_code", "year", "item"], source, "region/year/item")
    _raise_if_errors(problems)
    return out[list(GEP_ITEM_COLUMNS)].reset_index(drop=True)


def read_tenures(path: str | Path, sheet: str | None = None) -> list:
    """Tenures for the departure audit: region_code, start_year, end_year and optionally official.
    Returns a list of :class:`gep.analytics.audit.Tenure`."""
    from gep.analytics.audit import Tenure

    source = str(path)
    frame = read_table(path, sheet)
    problems = check_columns(frame, ("region_code", "start_year", "end_year"), source)
    _raise_if_errors(problems)
    region = codes(frame, "region_code")
    start = years(frame, "start_year", source, problems)
    end = years(frame, "end_year", source, problems)
    _raise_if_errors(problems)
    for index in frame.index:
        if end[index] < start[index]:
            problems.append(
                error("analytics_tenure_years", source, "end_year", start=int(start[index]), end=int(end[index]))
            )
    _raise_if_errors(problems)
    officials = (
        frame["official"].fillna("").astype(str) if "official" in frame.columns else pd.Series("", index=frame.index)
    )
    return [Tenure(region[i], int(start[i]), int(end[i]), officials[i]) for i in frame.index]


# --- accounts ---------------------------------------------------------------------------------------------------


def load_accounts(directories: Iterable[str | Path]) -> list[Account]:
    """Account folders (written by ``gep account``), at most one per year."""
    accounts: list[Account] = []
    problems: list[Problem] = []
    by_year: dict[int, Path] = {}
    for directory in directories:
        try:
            account = Account.load(directory)
        except FileNotFoundError as exc:
            if (Path(directory) / "account.csv").is_file():
                what = Text("核算结果文件夹", "account folder")
                problems.append(error("file_unreadable", str(directory), what=what, reason=str(exc)))
                continue
            problems.append(
                error(
                    "file_not_found",
                    str(directory),
                    what=Text("核算结果文件夹（含 account.csv）", "account folder (with account.csv)"),
                )
            )
            continue
        except (OSError, ValueError, KeyError) as exc:
            problems.append(
                error("file_unreadable", str(directory), what=Text("核算结果文件夹", "account folder"), reason=str(exc))
            )
            continue
        if account.year in by_year:
            problems.append(
                error(
                    "analytics_duplicate_account_year",
                    str(directory),
                    year=account.year,
                    other=str(by_year[account.year]),
                )
            )
            continue
        by_year[account.year] = Path(directory)
        accounts.append(account)
    _raise_if_errors(problems)
    return sorted(accounts, key=lambda a: a.year)


def account_items(accounts: Iterable[Account]) -> pd.DataFrame:
    """Item values of accounts as one long table (columns of :data:`GEP_ITEM_COLUMNS`), yuan."""
    pieces = []
    for account in accounts:
        items = account.items()
        pieces.append(
            pd.DataFrame(
                {
                    "region_code": items["region_code"].astype(str),
                    "region_name": items["region_name"].astype(str),
                    "level": items["level"].astype(str),
                    "year": account.year,
                    "category": items["category"].astype(str),
                    "item": items["item"].astype(str),
                    "value_yuan": items["value_yuan"].astype(float),
                    "profile": account.profile,
                }
            )
        )
    if not pieces:
        return pd.DataFrame(columns=list(GEP_ITEM_COLUMNS))
    return pd.concat(pieces, ignore_index=True)


def gep_totals(items: pd.DataFrame) -> pd.DataFrame:
    """Per region and year: the three GEP parts and GEP (yuan), from a long item table."""
    if items.empty:
        return pd.DataFrame(columns=list(GEP_TOTAL_COLUMNS))
    parts = items.pivot_table(
        index=["region_code", "year"], columns="category", values="value_yuan", aggfunc="sum", fill_value=0.0
    )
    for category in CATEGORIES:
        if category not in parts.columns:
            parts[category] = 0.0
    parts = parts[list(CATEGORIES)].rename(columns={c: f"{c}_yuan" for c in CATEGORIES}).reset_index()
    parts.columns.name = None
    parts["gep_yuan"] = parts[[f"{c}_yuan" for c in CATEGORIES]].sum(axis=1)
    first = items.drop_duplicates(["region_code", "year"]).set_index(["region_code", "year"])
    keys = list(zip(parts["region_code"], parts["year"], strict=True))
    parts["region_name"] = [first.at[k, "region_name"] for k in keys]
    parts["level"] = [first.at[k, "level"] for k in keys]
    return parts[list(GEP_TOTAL_COLUMNS)]


def gep_items_from(accounts: Sequence[str | Path] = (), gep_tables: Sequence[str | Path] = ()) -> pd.DataFrame:
    """The long item table from account folders and/or GEP tables; a (region, year, item) given twice is an
    error naming both sources."""
    pieces = [account_items(load_accounts(accounts))] if accounts else []
    pieces += [read_gep_table(path) for path in gep_tables]
    if not pieces:
        return pd.DataFrame(columns=list(GEP_ITEM_COLUMNS))
    items = pd.concat(pieces, ignore_index=True)
    dup = items[items.duplicated(["region_code", "year", "item"], keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        raise GepInputError(
            [
                error(
                    "analytics_duplicate_row",
                    ", ".join(map(str, [*accounts, *gep_tables])),
                    None,
                    what=f"region/year/item {first['region_code']} {first['year']} {first['item']}",
                    rows="accounts and GEP tables",
                )
            ]
        )
    return items


# --- outputs ----------------------------------------------------------------------------------------------------


def write_outputs(out_dir: str | Path, sheets: Mapping[str, pd.DataFrame], workbook: str) -> list[Path]:
    """Write each frame as ``<name>.csv`` (UTF-8 with BOM, numbers "%.12g") and all of them as sheets of
    ``<workbook>.xlsx`` in ``out_dir`` (created). Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sheets.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, encoding="utf-8-sig")
        written.append(path)
    xlsx = out / f"{workbook}.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            clean = frame.replace({np.nan: None})
            clean.to_excel(writer, sheet_name=name[:31], index=False)
    written.append(xlsx)
    return written
