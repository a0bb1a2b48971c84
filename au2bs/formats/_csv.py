"""Shared CSV plumbing for the readers: tolerant loading, precise errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from au2bs.errors import InputError

# Line 1 is the header, so data row i (0-based) is on line i + 2.
HEADER_LINES = 1


def read_table(path: Path, what: str, usecols: set[str] | None = None) -> pd.DataFrame:
    """Reads a CSV with `,` or `, ` separators, CRLF endings and a UTF-8 BOM.

    Only the columns named in `usecols` (stripped names) are parsed when it
    is given: real OpenFace files carry hundreds of landmark columns.
    Column names come back stripped. Raises InputError naming the file for a
    missing, empty or malformed file, and for a header with no data rows.
    """
    if not path.is_file():
        raise InputError(f"{what} file not found", path)
    try:
        table = pd.read_csv(
            path,
            sep=",",
            skipinitialspace=True,  # OpenFace writes ", " between fields
            encoding="utf-8-sig",  # strips a BOM when there is one
            # No NA guessing: an empty or "NA" cell stays text, so the column
            # is not numeric and `numeric_column` reports the exact cell.
            keep_default_na=False,
            na_filter=False,
            usecols=None if usecols is None else (lambda name: name.strip() in usecols),
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"empty {what} file", path) from None
    except pd.errors.ParserError as error:
        # pandas' message spans lines and names the line deep inside: one line, the line up front.
        text = " ".join(str(error).split())
        found = re.search(r"line (\d+)", text)
        raise InputError(
            f"malformed {what} CSV: {text}", path, line=int(found.group(1)) if found else None
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(f"{what} file is not UTF-8 text: {' '.join(str(error).split())}", path) from None
    table.columns = [str(name).strip() for name in table.columns]
    if len(table) == 0:
        raise InputError(f"{what} file has a header but no data rows", path)
    return table


def numeric_column(table: pd.DataFrame, name: str, path: Path) -> np.ndarray:
    """Returns column `name` as float64; any non-numeric or NaN cell is an error."""
    raw = table[name]
    if pd.api.types.is_numeric_dtype(raw):
        values = raw.to_numpy(dtype=np.float64)  # the fast path: pandas parsed it
    else:
        values = pd.to_numeric(raw.astype(str).str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"value {raw.iloc[row]!r} is not a finite number",
            path,
            line=row + HEADER_LINES + 1,
            column=name,
        )
    return values


def numeric_block(table: pd.DataFrame, names: list[str], path: Path) -> np.ndarray:
    """Returns columns `names` as a (rows, len(names)) float64 array."""
    block = np.empty((len(table), len(names)), dtype=np.float64)
    for index, name in enumerate(names):
        block[:, index] = numeric_column(table, name, path)
    return block


def first_non_increasing(times: np.ndarray) -> int | None:
    """Index of the first row whose time is not after the previous row's."""
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= 0)
    return None if bad.size == 0 else int(bad[0]) + 1
