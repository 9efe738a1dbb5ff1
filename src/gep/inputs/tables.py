"""Read CSV and Excel tables named in an account spec."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gep.i18n import Text
from gep.problems import Problem, error


def read_table(path: Path, sheet: str | None = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a CSV (UTF-8, with or without BOM; GBK as a fallback for files saved by Chinese Excel)
    or an XLSX sheet. Returns (DataFrame or None, problems)."""
    if not path.is_file():
        return None, [error("file_not_found", str(path), what=Text("表格（CSV/XLSX）", "table (CSV/XLSX)"))]
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet or 0)
        elif suffix == ".csv":
            try:
                frame = pd.read_csv(path, encoding="utf-8-sig")
            except UnicodeDecodeError:
                frame = pd.read_csv(path, encoding="gbk")
        else:
            reason = f"unsupported suffix {suffix!r}; expected .csv or .xlsx"
            return None, [error("file_unreadable", str(path), what=Text("表格", "table"), reason=reason)]
    except Exception as exc:  # pandas raises many types for broken files; report them all the same way
        return None, [error("file_unreadable", str(path), what=Text("表格", "table"), reason=str(exc))]
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, []


def check_columns(frame: pd.DataFrame, required: tuple[str, ...], source: str) -> list[Problem]:
    """One problem per required column missing from ``frame``."""
    expected = ", ".join(required)
    return [
        error("column_missing", source, column, column=column, expected=expected)
        for column in required
        if column not in frame.columns
    ]


def check_numeric(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> list[Problem]:
    """One problem per non-numeric cell in ``columns`` (empty cells are left to the caller)."""
    problems: list[Problem] = []
    for column in columns:
        if column not in frame.columns:
            continue
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna()
        for row in frame.index[bad][:5]:
            problems.append(error("value_not_number", source, column, value=frame.at[row, column], row=int(row) + 2))
    return problems
