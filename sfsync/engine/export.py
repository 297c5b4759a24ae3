"""Export a run's items as CSV for spreadsheets, safe against formula injection (CSV injection).

A spreadsheet runs a cell as a formula when it starts with ``=``, ``+``, ``-`` or ``@`` (and some
treat a leading tab, CR or LF the same way). Asset names and Salesforce error messages are
attacker-controllable, so every text cell that starts with one of those characters (also after
leading spaces, and their full-width forms) gets a leading ``'``, which spreadsheets show as text.
Real numbers stay numbers: ``int``/``float``/``Decimal`` values, and text that is exactly a plain
number such as ``-1`` or ``20.83``, are written untouched. Rows are written as they come (streaming).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TextIO

_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# ASCII only: "-٣" is not a number to a spreadsheet, so it must be neutralised like any text.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_plain_number(text: str) -> bool:
    """Whether the text is exactly a decimal number (``-1``, ``20.83``, ``1e5``), nothing else."""
    return _NUMBER.fullmatch(text) is not None


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet could run as a formula; plain numbers pass unchanged."""
    stripped = text.lstrip(" ")
    if not stripped or stripped[0] not in _TRIGGERS or is_plain_number(text):
        return text
    return "'" + text


def cell(value: object) -> str:
    """The text of one exported cell: numbers as numbers, datetimes in ISO UTC, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        text = str(value)
        # NaN and infinities are text to a spreadsheet; "-inf" must not start a formula.
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        return text if finite else neutralise(text)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            msg = "naive datetime in an export: pass timezone-aware datetimes"
            raise ValueError(msg)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


class CsvExporter:
    """Write rows to a text stream (opened with ``newline=""``) one at a time."""

    def __init__(self, out: TextIO, columns: Sequence[str], *, excel_bom: bool = False) -> None:
        if excel_bom:
            # Excel only detects UTF-8 with a byte-order mark; other consumers ignore it.
            out.write("\ufeff")
        self._columns = tuple(columns)
        self._writer = csv.writer(out, lineterminator="\r\n")
        self._writer.writerow([neutralise(name) for name in self._columns])
        self.rows_written = 0

    def write(self, row: Sequence[object]) -> None:
        """Write one row given in column order."""
        if len(row) != len(self._columns):
            msg = f"row has {len(row)} values for {len(self._columns)} columns"
            raise ValueError(msg)
        self._writer.writerow([cell(value) for value in row])
        self.rows_written += 1

    def write_mapping(self, row: Mapping[str, object]) -> None:
        """Write one row given by column name; missing names are empty cells."""
        self.write([row.get(name) for name in self._columns])


def export_csv(
    out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[object]], *, excel_bom: bool = False
) -> int:
    """Stream ``rows`` (in column order) to ``out`` as safe CSV; returns the number of rows written."""
    exporter = CsvExporter(out, columns, excel_bom=excel_bom)
    for row in rows:
        exporter.write(row)
    return exporter.rows_written
