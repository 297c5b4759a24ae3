"""Read a cancellation CSV: stream it, validate every row offline, and say exactly what is wrong.

Format: UTF-8 (a BOM is fine), comma-delimited, RFC 4180 quoting, a header line with ``AssetId``
and optionally ``CancellationDate`` (``YYYY-MM-DD``; an empty cell or a missing column means the
run's default date). Header names match ignoring case, spaces, ``_`` and ``-``.

Other columns are **ignored** (reports exported from Salesforce carry names, accounts…), with one
exception: a column whose name looks like a known column that is absent (``Cancelation Date``,
``Cancel Date``) is rejected, because ignoring it would silently cancel on the default date.

Problems with the file as a whole (empty, no header, missing or duplicate columns, a ``;`` or tab
delimiter, UTF-16, more than ``max_rows`` rows) raise :class:`~sfsync.errors.InputError` at once.
Problems with a row become a :class:`RowError` with its line and 1-based column: a ragged row, an
unterminated or stray quote, a NUL byte, invalid UTF-8, a line over 64 KiB, an ID that is not an
Asset ID (length, checksum, key prefix), a malformed, impossible or past date, a duplicate asset.
An unterminated quote swallows the rest of the file, so reading stops there.

Memory is bounded whatever the file size: the file is read line by line with a per-line limit, a
quoted field may span lines only up to 64 KiB, and what is kept (valid rows and the IDs seen, for
duplicates) is bounded by ``max_rows``. No Salesforce call happens here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from os import PathLike
from typing import BinaryIO

from sfsync.errors import InputError
from sfsync.sfid import InvalidIdError, expect

ASSET_ID = "AssetId"
CANCELLATION_DATE = "CancellationDate"
DEFAULT_MAX_ROWS = 100_000
MAX_LINE_BYTES = 64 * 1024
MAX_RECORD_CHARS = 64 * 1024
_KNOWN = {"assetid": ASSET_ID, "cancellationdate": CANCELLATION_DATE}
_NAME_NOISE = re.compile(r"[\s_\-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOM = b"\xef\xbb\xbf"
_PREVIEW = 80
_LISTED_ERRORS = 20


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected row: physical line (1-based), CSV column (1-based; 0 = the whole line), why."""

    line: int
    column: int
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}" + (f" ({self.value!r})" if self.value else "")


@dataclass(frozen=True, slots=True)
class CancelRow:
    """A valid row: the asset's 18-character ID and the date it is to be cancelled."""

    line: int
    asset_id: str
    cancellation_date: date
    #: False when the row gave no date and the run's default was used.
    date_from_file: bool


@dataclass(frozen=True, slots=True)
class CancelInput:
    """The result of reading a file: valid rows, rejected rows, and the columns ignored."""

    rows: tuple[CancelRow, ...]
    errors: tuple[RowError, ...]
    ignored_columns: tuple[str, ...]


def read_cancellations(
    source: str | PathLike[str] | BinaryIO,
    *,
    today: date,
    default_date: date | None = None,
    strict: bool = False,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> CancelInput:
    """Read and validate a whole cancellation CSV; with ``strict``, any row error rejects the file."""
    if isinstance(source, str | PathLike):
        with open(source, "rb") as stream:
            return read_cancellations(
                stream, today=today, default_date=default_date, strict=strict, max_rows=max_rows
            )
    reader = CancellationReader(source, today=today, default_date=default_date, max_rows=max_rows)
    rows: list[CancelRow] = []
    errors: list[RowError] = []
    for item in reader:
        if isinstance(item, RowError):
            errors.append(item)
        else:
            rows.append(item)
    if strict and errors:
        raise InputError(describe_errors(errors, strict=True))
    return CancelInput(tuple(rows), tuple(errors), reader.ignored_columns)


def describe_errors(errors: list[RowError] | tuple[RowError, ...], *, strict: bool = False) -> str:
    """One message listing the first rejected rows (and how many more)."""
    head = f"{len(errors)} row(s) rejected" + ("; the whole file is refused (strict)" if strict else "")
    lines = [str(error) for error in errors[:_LISTED_ERRORS]]
    if len(errors) > _LISTED_ERRORS:
        lines.append(f"… and {len(errors) - _LISTED_ERRORS} more")
    return head + ":\n  " + "\n  ".join(lines)


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str | None
    error: RowError | None = None


class CancellationReader:
    """Stream a cancellation CSV from a binary stream; iterate once for CancelRow or RowError items.

    The header is read and checked on construction (InputError for file-level problems); iterating
    reads the rows one by one, keeping only the IDs seen (for duplicates) and a small date cache.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        today: date,
        default_date: date | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        if max_rows < 1:
            msg = "max_rows must be at least 1"
            raise ValueError(msg)
        if default_date is not None and default_date < today:
            msg = (
                f"the default cancellation date {default_date.isoformat()} is in the past (today is {today})"
            )
            raise InputError(msg)
        self._lines = _physical_lines(stream)
        self._today = today
        self._default = default_date
        self._max_rows = max_rows
        self._dates: dict[str, date | str] = {}
        self._asset_col, self._date_col, self._width, self.ignored_columns = self._read_header()
        if self._date_col is None and default_date is None:
            msg = f"no {CANCELLATION_DATE} column and no default cancellation date: give one or the other"
            raise InputError(msg)

    def _next_line(self) -> _Line | None:
        return next(self._lines, None)

    def _read_header(self) -> tuple[int, int | None, int, tuple[str, ...]]:
        while True:
            line = self._next_line()
            if line is None:
                msg = f"the file is empty; expected a header line with {ASSET_ID}"
                raise InputError(msg)
            if line.error is not None:
                msg = f"header: {line.error}"
                raise InputError(msg)
            if line.text is not None and line.text.strip():
                break
        fields, error, _ = _parse_record(line, self._next_line)
        if error is not None:
            msg = f"header: {error}"
            raise InputError(msg)
        return _check_header(line.number, fields)

    def __iter__(self) -> Iterator[CancelRow | RowError]:
        """Yield each data row as a CancelRow or one RowError per problem found in it."""
        seen: dict[str, int] = {}
        count = 0
        while (line := self._next_line()) is not None:
            if line.error is not None:
                count = self._count(count, line.number)
                yield line.error
                continue
            if not (line.text or "").strip():
                continue
            count = self._count(count, line.number)
            fields, error, stop = _parse_record(line, self._next_line)
            if error is not None:
                yield error
                if stop:
                    return
                continue
            if any(field.strip() for field in fields):  # spreadsheets pad with ",,," rows: skip them
                yield from self._check_row(line.number, fields, seen)

    def _count(self, count: int, line: int) -> int:
        if count >= self._max_rows:
            msg = (
                f"line {line}: the file has more than {self._max_rows} rows (max_rows); "
                "split it into smaller files or raise the limit"
            )
            raise InputError(msg)
        return count + 1

    def _check_row(
        self, number: int, fields: list[str], seen: dict[str, int]
    ) -> Iterator[CancelRow | RowError]:
        if len(fields) != self._width:
            column = min(len(fields), self._width) + 1
            value = fields[self._width] if len(fields) > self._width else ""
            reason = f"the row has {len(fields)} field(s) but the header has {self._width}"
            yield RowError(number, column, _preview(value), reason)
            return
        asset_id, id_error = self._check_id(number, fields[self._asset_col], seen)
        day, date_error = self._check_date(number, fields)
        if id_error is not None:
            yield id_error
        if date_error is not None:
            yield date_error
        if asset_id is not None and day is not None:
            seen[asset_id] = number
            yield CancelRow(
                number, asset_id, day, self._date_col is not None and bool(fields[self._date_col].strip())
            )

    def _check_id(self, number: int, raw: str, seen: dict[str, int]) -> tuple[str | None, RowError | None]:
        column = self._asset_col + 1
        value = raw.strip()
        if not value:
            return None, RowError(number, column, "", f"{ASSET_ID} is empty")
        if ";" in value or "\t" in value:
            return None, RowError(
                number, column, _preview(value), "holds ';' or a tab: use commas as the delimiter"
            )
        try:
            asset_id = expect(value, "Asset")
        except InvalidIdError as exc:
            return None, RowError(number, column, _preview(value), str(exc))
        first = seen.get(asset_id)
        if first is not None:
            return None, RowError(number, column, value, f"duplicate asset: already on line {first}")
        return asset_id, None

    def _check_date(self, number: int, fields: list[str]) -> tuple[date | None, RowError | None]:
        raw = fields[self._date_col].strip() if self._date_col is not None else ""
        if not raw:
            if self._default is None:
                return None, RowError(number, (self._date_col or 0) + 1, "", "no date and no default date")
            return self._default, None
        parsed = self._dates.get(raw)
        if parsed is None:
            parsed = _parse_date(raw, self._today)
            if len(self._dates) < 4096:  # most files repeat a few dates; keep the cache bounded
                self._dates[raw] = parsed
        if isinstance(parsed, str):
            return None, RowError(number, (self._date_col or 0) + 1, _preview(raw), parsed)
        return parsed, None


def _parse_date(raw: str, today: date) -> date | str:
    """The date, or why it is rejected."""
    if not _DATE.fullmatch(raw):
        return f"{CANCELLATION_DATE} must be a date written YYYY-MM-DD"
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return f"{CANCELLATION_DATE} is not a real date"
    if day < today:
        return f"{CANCELLATION_DATE} is in the past (today is {today.isoformat()})"
    return day


def _normalise(name: str) -> str:
    return _NAME_NOISE.sub("", name).lower()


def _check_header(number: int, fields: list[str]) -> tuple[int, int | None, int, tuple[str, ...]]:
    names = [_normalise(field) for field in fields]
    if not any(name in _KNOWN for name in names) and any(";" in f or "\t" in f for f in fields):
        delimiter = "';'" if any(";" in f for f in fields) else "a tab"
        msg = f"line {number}: the file uses {delimiter} as its delimiter; use commas (save as 'CSV UTF-8')"
        raise InputError(msg)
    where: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue  # spreadsheets add unnamed empty columns; they are ignored like any other
        if name in where:
            msg = (
                f"line {number}, column {index + 1}: duplicate column {fields[index].strip()!r} "
                f"(also column {where[name] + 1})"
            )
            raise InputError(msg)
        where[name] = index
    if "assetid" not in where:
        found = ", ".join(repr(f.strip()) for f in fields)
        msg = f"line {number}: missing column {ASSET_ID} (the header has {found})"
        raise InputError(msg)
    absent = [key for key in _KNOWN if key not in where]
    ignored = []
    for index, name in enumerate(names):
        if name in _KNOWN:
            continue
        for key in absent:
            if SequenceMatcher(None, name, key).ratio() >= 0.75 or (
                "cancel" in name and key == "cancellationdate"
            ):
                msg = (
                    f"line {number}, column {index + 1}: unknown column {fields[index].strip()!r}; "
                    f"did you mean {_KNOWN[key]}?"
                )
                raise InputError(msg)
        if name:
            ignored.append(fields[index].strip())
    return where["assetid"], where.get("cancellationdate"), len(fields), tuple(ignored)


def _preview(value: str) -> str:
    return value if len(value) <= _PREVIEW else value[:_PREVIEW] + "…"


def _physical_lines(stream: BinaryIO) -> Iterator[_Line]:
    """Decoded lines without terminators, each at most MAX_LINE_BYTES; bad lines carry an error."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if number == 1:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                msg = "the file is UTF-16; save it as 'CSV UTF-8'"
                raise InputError(msg)
            raw = raw.removeprefix(_BOM)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES + 1)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the over-long line without keeping it
            yield _Line(number, None, RowError(number, 0, "", f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        raw = raw.removesuffix(b"\n").removesuffix(b"\r")
        try:
            yield _Line(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            column = raw[: exc.start].count(b",") + 1
            bad = raw[exc.start : exc.end].hex(" ")
            yield _Line(
                number, None, RowError(number, column, bad, "not valid UTF-8; save the file as 'CSV UTF-8'")
            )


def _parse_record(first: _Line, more: Callable[[], _Line | None]) -> tuple[list[str], RowError | None, bool]:
    """Split one record (fields, error, stop reading); a quoted field may continue on later lines."""
    text = first.text or ""
    if '"' not in text:
        if "\x00" in text:
            column = text[: text.index("\x00")].count(",") + 1
            return [], RowError(first.number, column, "", "contains a NUL byte"), False
        return text.split(","), None, False
    fields: list[str] = []
    number, index, column, size = first.number, 0, 1, 0
    while True:
        if text.startswith('"', index):
            opened = (number, column)
            parts: list[str] = []
            index += 1
            while (close := text.find('"', index)) == -1 or text.startswith('""', close):
                if close != -1:  # a doubled quote stands for one quote character
                    parts.append(text[index : close + 1])
                    index = close + 2
                    continue
                parts.append(text[index:])
                size += len(text) - index
                nxt = more()
                if nxt is None or nxt.text is None or size > MAX_RECORD_CHARS:
                    reason = "unterminated quote: the quoted field is never closed; nothing after it was read"
                    return fields, RowError(opened[0], opened[1], _preview("".join(parts)), reason), True
                number, text, index = nxt.number, nxt.text, 0
                parts.append("\n")
            parts.append(text[index:close])
            value, index = "".join(parts), close + 1
            if index < len(text) and text[index] != ",":
                reason = "unexpected character after a closing quote"
                return fields, RowError(number, column, _preview(text[index:]), reason), False
        else:
            end = text.find(",", index)
            value = text[index:] if end == -1 else text[index:end]
            index = len(text) if end == -1 else end
            if '"' in value:
                reason = "quote inside an unquoted field: quote the whole field and double inner quotes"
                return fields, RowError(number, column, _preview(value), reason), False
        if "\x00" in value:
            return fields, RowError(number, column, "", "contains a NUL byte"), False
        fields.append(value)
        if index >= len(text):
            return fields, None, False
        index += 1
        column += 1
