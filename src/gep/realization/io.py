"""Reading the realization tools' TOML files and writing their tables (CSV + Excel).

CSV files are UTF-8 with a BOM (so Chinese Excel opens them), numbers written ``%.12g`` like
``account.csv``. The Excel workbook holds the same tables, one sheet each, with a frozen header row.
Files are written next to their final name and moved into place, so an interrupted run leaves no
half-written file.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from gep.i18n import Text
from gep.problems import Problem, error

FLOAT_FORMAT = "%.12g"
EXCEL_SHEET_CHARS = 31
"""Excel's limit on the length of a sheet name."""


def read_toml(path: Path, what: Text) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse the TOML file ``path``; ``what`` names the kind of file in messages."""
    if not path.is_file():
        return None, [error("file_not_found", str(path), what=what)]
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [error("realization_toml_syntax", str(path), what=what, reason=str(exc))]


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """One problem per pydantic error, naming the TOML field (``tranches.1.share``) and the value."""
    return [
        error(
            "realization_field",
            source,
            ".".join(str(part) for part in err["loc"]) or None,
            reason=err["msg"],
            value=_short(err.get("input")),
        )
        for err in exc.errors()
    ]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as UTF-8-with-BOM CSV, numbers ``%.12g``, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig", float_format=FLOAT_FORMAT)
    return path


def write_excel(sheets: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Write one sheet per table (names cut to Excel's 31 characters), header frozen, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            sheet = name[:EXCEL_SHEET_CHARS]
            frame.to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for n, column in enumerate(frame.columns, start=1):
                values = [str(column), *(str(v) for v in frame[column].head(200))]
                width = min(60, max(8, max(len(v) for v in values) + 2))
                ws.column_dimensions[ws.cell(row=1, column=n).column_letter].width = width
    return path


def write_tables(out_dir: Path, workbook: str, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each table as ``out_dir/<name>.csv`` and all of them into ``out_dir/<workbook>.xlsx``."""
    out_dir = Path(out_dir)
    written = [write_csv(frame, out_dir / f"{name}.csv") for name, frame in tables.items()]
    written.append(write_excel(tables, out_dir / f"{workbook}.xlsx"))
    return written


class _atomic:
    """Context manager yielding a temporary path beside ``path``; renamed onto ``path`` on success."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
