"""The cancellation CSV reader: every malformed file of RELIABILITY.md scenario 22, line and column."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from sfsync.engine.cancel_input import (
    CancelInput,
    CancellationReader,
    CancelRow,
    RowError,
    describe_errors,
    read_cancellations,
)
from sfsync.errors import InputError
from sfsync.sfid import make

TODAY = date(2026, 11, 23)
LATER = date(2027, 2, 23)
A1, A2, A3 = make("02i", 1), make("02i", 2), make("02i", 3)


def read(
    data: str | bytes, *, default: date | None = LATER, strict: bool = False, max_rows: int = 100
) -> CancelInput:
    """Read CSV text or bytes with the test's today and default date."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return read_cancellations(
        io.BytesIO(raw), today=TODAY, default_date=default, strict=strict, max_rows=max_rows
    )


def only_error(data: str | bytes, *, default: date | None = LATER) -> RowError:
    """The single RowError a file produces."""
    result = read(data, default=default)
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


def test_valid_file_with_dates_and_defaults() -> None:
    """Rows with a date keep it; rows without take the default; IDs come back in 18-char form."""
    result = read(f"AssetId,CancellationDate\n{A1},2027-01-31\n{A2[:15]},\n")
    assert result.rows == (
        CancelRow(2, A1, date(2027, 1, 31), date_from_file=True),
        CancelRow(3, A2, LATER, date_from_file=False),
    )
    assert result.errors == ()
    assert result.ignored_columns == ()


def test_unterminated_quote_reports_where_it_opened_and_stops() -> None:
    """An unterminated quote is reported at its opening line and column; nothing after it is read."""
    data = f'AssetId,CancellationDate\n{A1},2027-01-01\n{A2},"2027-01-01\n{A3},2027-01-01\n'
    result = read(data)
    assert [row.asset_id for row in result.rows] == [A1]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.line, error.column) == (3, 2)
    assert "unterminated quote" in error.reason


def test_unterminated_quote_is_bounded() -> None:
    """A quote never closed over many lines stops after 64 KiB, not at the end of a huge file."""
    data = "AssetId,Note\n" + f'{A1},"open\n' + "x" * 100 + "\n" * 1 + ("y" * 1000 + "\n") * 200
    error = only_error(data)
    assert (error.line, error.column) == (2, 2)
    assert len(error.value) <= 81


def test_nul_byte_is_rejected_with_its_column() -> None:
    """A NUL byte is reported at its line and column, and the row is dropped."""
    error = only_error(f"AssetId,CancellationDate\n{A1},2027-01\x00-01\n")
    assert (error.line, error.column, error.reason) == (2, 2, "contains a NUL byte")


def test_nul_byte_in_a_quoted_field() -> None:
    """A NUL inside a quoted field is found too, at that field's column."""
    error = only_error(f'AssetId,Note,CancellationDate\n{A1},"a,\x00b",2027-01-01\n')
    assert (error.line, error.column) == (2, 2)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (f"{A1},2027-01-01,extra", 3, "the row has 3 field(s) but the header has 2"),
        (f"{A1}", 2, "the row has 1 field(s) but the header has 2"),
        (f"{A1},2027-01-01,,", 3, "the row has 4 field(s) but the header has 2"),
    ],
)
def test_ragged_rows(row: str, column: int, words: str) -> None:
    """Rows with too many or too few fields name the first column that does not fit."""
    error = only_error(f"AssetId,CancellationDate\n{row}\n")
    assert (error.line, error.column, error.reason) == (2, column, words)


def test_missing_asset_id_column() -> None:
    """Without an AssetId column the file is refused, naming what the header has."""
    with pytest.raises(
        InputError, match=r"line 1: missing column AssetId \(the header has 'Id', 'CancellationDate'\)"
    ):
        read(f"Id,CancellationDate\n{A1},2027-01-01\n")


def test_duplicate_column() -> None:
    """A column given twice (even spelt differently) is refused with both positions."""
    with pytest.raises(InputError, match=r"line 1, column 3: duplicate column 'asset id' \(also column 1\)"):
        read(f"AssetId,CancellationDate,asset id\n{A1},2027-01-01,{A1}\n")


def test_missing_date_column_without_default() -> None:
    """No CancellationDate column and no default date: refused before reading rows."""
    with pytest.raises(InputError, match="no CancellationDate column and no default cancellation date"):
        read(f"AssetId\n{A1}\n", default=None)


def test_empty_date_without_default_is_a_row_error() -> None:
    """A row with an empty date when there is no default is rejected at the date's column."""
    error = only_error(f"AssetId,CancellationDate\n{A1},\n", default=None)
    assert (error.line, error.column, error.reason) == (2, 2, "no date and no default date")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (A1[:15] + "AAB", "has a bad checksum"),
        (A1[:12], "is not a Salesforce ID"),
        (A1 + "X", "is not a Salesforce ID"),
        ("02i8d00000-0001", "is not a Salesforce ID"),
        (make("001", 1), "is not a Asset ID"),
        (f"{A1};2027-01-01", "use commas as the delimiter"),
    ],
)
def test_bad_ids(value: str, words: str) -> None:
    """IDs of the wrong length, checksum, characters or object are rejected at column 1."""
    error = only_error(f"AssetId\n{value}\n")
    assert (error.line, error.column) == (2, 1)
    assert words in error.reason
    assert error.value == value


def test_empty_id() -> None:
    """An empty AssetId is rejected."""
    error = only_error("AssetId,CancellationDate\n,2027-01-01\n")
    assert (error.line, error.column, error.reason) == (2, 1, "AssetId is empty")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-11-22", "in the past (today is 2026-11-23)"),
        ("2027-02-30", "not a real date"),
        ("2027-13-01", "not a real date"),
        ("23/11/2027", "must be a date written YYYY-MM-DD"),
        ("2027-1-1", "must be a date written YYYY-MM-DD"),
        ("tomorrow", "must be a date written YYYY-MM-DD"),
    ],
)
def test_bad_dates(value: str, words: str) -> None:
    """Past, impossible and malformed dates are rejected at the date's column."""
    error = only_error(f"Note,AssetId,CancellationDate\nx,{A1},{value}\n")
    assert (error.line, error.column, error.value) == (2, 3, value)
    assert words in error.reason


def test_today_is_not_past() -> None:
    """A cancellation dated today is accepted."""
    assert read(f"AssetId,CancellationDate\n{A1},2026-11-23\n").rows[0].cancellation_date == TODAY


def test_id_and_date_errors_on_one_row_are_both_reported() -> None:
    """Every problem of a row is reported, each at its own column."""
    result = read("AssetId,CancellationDate\nnope,2020-01-01\n")
    assert [(e.line, e.column) for e in result.errors] == [(2, 1), (2, 2)]
    assert result.rows == ()


def test_duplicate_assets_name_the_first_line() -> None:
    """The same asset twice (15- and 18-char forms alike) is rejected on its second line."""
    result = read(f"AssetId\n{A1}\n{A2}\n{A1[:15]}\n{A2}\n")
    assert [row.line for row in result.rows] == [2, 3]
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (4, 1, "duplicate asset: already on line 2"),
        (5, 1, "duplicate asset: already on line 3"),
    ]


@pytest.mark.parametrize(("delimiter", "name"), [(";", "';'"), ("\t", "a tab")])
def test_other_delimiters_are_refused(delimiter: str, name: str) -> None:
    """A ';'- or tab-delimited file is refused with "use commas"."""
    data = f"AssetId{delimiter}CancellationDate\n{A1}{delimiter}2027-01-01\n"
    with pytest.raises(InputError, match=f"line 1: the file uses {name} as its delimiter; use commas"):
        read(data)


def test_bom_and_crlf_are_handled() -> None:
    """A UTF-8 byte-order mark and CRLF line ends (Excel's CSV UTF-8) read cleanly."""
    result = read(b"\xef\xbb\xbfAssetId,CancellationDate\r\n" + f"{A1},2027-01-01\r\n".encode())
    assert result.rows == (CancelRow(2, A1, date(2027, 1, 1), date_from_file=True),)
    assert result.errors == ()


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n  \n", b"\r\n"])
def test_empty_file(data: bytes) -> None:
    """An empty file (or one with only a BOM or blank lines) is refused."""
    with pytest.raises(InputError, match="the file is empty"):
        read(data)


def test_utf16_is_refused() -> None:
    """A UTF-16 file is refused with the fix."""
    with pytest.raises(InputError, match="UTF-16; save it as 'CSV UTF-8'"):
        read("AssetId\n".encode("utf-16"))


def test_invalid_utf8_names_line_and_column() -> None:
    """Bytes that are not UTF-8 are reported at their line and column."""
    error = only_error(b"AssetId,Note\n" + A1.encode() + b",caf\xe9\n")
    assert (error.line, error.column, error.value) == (2, 2, "e9")


def test_header_only_gives_no_rows() -> None:
    """A header without rows is a valid, empty input."""
    result = read("AssetId,CancellationDate\n")
    assert (result.rows, result.errors) == ((), ())


def test_blank_lines_are_skipped_and_lines_stay_physical() -> None:
    """Blank lines are skipped, and line numbers still count them."""
    result = read(f"\nAssetId\n\n{A1}\n\n{A2}\n")
    assert [row.line for row in result.rows] == [4, 6]


def test_other_columns_are_ignored_and_listed() -> None:
    """Extra columns (names, accounts) are ignored and listed; header names match loosely."""
    result = read(f'Asset Name, asset_id ,Account\n"Retail POS, Enterprise",{A1},Capricorn Coffee\n')
    assert result.rows == (CancelRow(2, A1, LATER, date_from_file=False),)
    assert result.ignored_columns == ("Asset Name", "Account")


@pytest.mark.parametrize("name", ["Cancelation Date", "Cancel Date", "CancellationDates"])
def test_misspelt_date_column_is_refused(name: str) -> None:
    """A column that looks like CancellationDate is refused rather than silently ignored."""
    with pytest.raises(
        InputError, match=f"line 1, column 2: unknown column '{name}'; did you mean CancellationDate"
    ):
        read(f"AssetId,{name}\n{A1},2027-01-01\n")


def test_quoted_fields_with_commas_quotes_and_newlines() -> None:
    """RFC 4180 quoting works, including a field spanning lines; the row keeps its first line."""
    data = f'Note,AssetId,CancellationDate\n"say ""hi"", ok",{A1},"2027-01-01"\n"two\nlines",{A2},\nx,{A3},\n'
    result = read(data)
    assert [(row.line, row.asset_id) for row in result.rows] == [(2, A1), (3, A2), (5, A3)]


def test_stray_quote_in_an_unquoted_field() -> None:
    """A quote inside an unquoted field is reported at its column."""
    error = only_error(f'AssetId,Note\n{A1},5" screen\n')
    assert (error.line, error.column) == (2, 2)
    assert "quote inside an unquoted field" in error.reason


def test_text_after_a_closing_quote() -> None:
    """Characters after a closing quote are reported at that field's column."""
    error = only_error(f'AssetId,Note\n{A1},"a"b\n')
    assert (error.line, error.column, error.reason) == (2, 2, "unexpected character after a closing quote")


def test_over_long_line_is_skipped_without_keeping_it() -> None:
    """A line over 64 KiB is rejected as a whole and reading goes on."""
    result = read(f"AssetId,Note\n{A1},{'x' * 70_000}\n{A2},ok\n")
    assert [(e.line, e.column) for e in result.errors] == [(2, 0)]
    assert [row.asset_id for row in result.rows] == [A2]


def test_max_rows_is_enforced_with_the_line() -> None:
    """More data rows than max_rows rejects the file, naming the line where the limit was passed."""
    with pytest.raises(InputError, match="line 4: the file has more than 2 rows"):
        read(f"AssetId\n{A1}\n{A2}\n{A3}\n", max_rows=2)


def test_strict_rejects_the_whole_file_listing_errors() -> None:
    """With strict, one bad row refuses the file; the message lists each error with line and column."""
    data = f"AssetId,CancellationDate\n{A1},2027-01-01\nbad,2027-01-01\n{A2},2020-01-01\n"
    with pytest.raises(InputError) as caught:
        read(data, strict=True)
    message = str(caught.value)
    assert "2 row(s) rejected; the whole file is refused (strict)" in message
    assert "line 3, column 1:" in message
    assert "line 4, column 2: CancellationDate is in the past" in message
    assert len(read(data).rows) == 1


def test_strict_accepts_a_clean_file() -> None:
    """Strict mode returns normally when nothing is wrong."""
    assert len(read(f"AssetId\n{A1}\n", strict=True).rows) == 1


def test_describe_errors_caps_the_list() -> None:
    """The message lists the first 20 errors and counts the rest."""
    errors = [RowError(n, 1, "x", "bad") for n in range(2, 32)]
    message = describe_errors(errors)
    assert message.count("line ") == 20
    assert message.endswith("… and 10 more")


def test_default_date_in_the_past_is_refused() -> None:
    """The run's default date is validated like a row's."""
    with pytest.raises(InputError, match="default cancellation date 2026-01-01 is in the past"):
        read(f"AssetId\n{A1}\n", default=date(2026, 1, 1))


def test_reads_from_a_path(tmp_path: Path) -> None:
    """A file path is opened and read the same way."""
    path = tmp_path / "cancel.csv"
    path.write_text(f"AssetId,CancellationDate\n{A1},2027-01-01\n", encoding="utf-8")
    result = read_cancellations(path, today=TODAY)
    assert result.rows == (CancelRow(2, A1, date(2027, 1, 1), date_from_file=True),)


def test_reader_streams_items_in_file_order() -> None:
    """The streaming reader yields rows and errors as it meets them."""
    stream = io.BytesIO(f"AssetId\n{A1}\nbad\n{A2}\n".encode())
    items = list(CancellationReader(stream, today=TODAY, default_date=LATER))
    assert [type(item).__name__ for item in items] == ["CancelRow", "RowError", "CancelRow"]


def test_row_error_text_names_line_and_column() -> None:
    """A RowError reads as 'line L, column C: reason (value)'."""
    assert (
        str(RowError(7, 2, "2027-02-30", "not a real date"))
        == "line 7, column 2: not a real date ('2027-02-30')"
    )
    assert str(RowError(9, 0, "", "line longer than 65536 bytes")) == "line 9: line longer than 65536 bytes"


def test_dates_need_ascii_digits() -> None:
    """Digits of other scripts do not make a date."""
    error = only_error(f"AssetId,CancellationDate\n{A1},٢٠٢٧-٠١-٠١\n")
    assert (error.line, error.column) == (2, 2)
    assert "YYYY-MM-DD" in error.reason


def test_spreadsheet_padding_is_ignored() -> None:
    """Unnamed empty columns and all-empty ",," rows that spreadsheets add are skipped."""
    result = read(f"AssetId,CancellationDate,,\n{A1},2027-01-01,,\n,,,\n ,, ,\n")
    assert result.rows == (CancelRow(2, A1, date(2027, 1, 1), date_from_file=True),)
    assert (result.errors, result.ignored_columns) == ((), ())


def test_quoted_header_and_cells() -> None:
    """A fully quoted file (as some exporters write) reads like an unquoted one."""
    result = read(f'"AssetId","CancellationDate"\n"{A1}","2027-01-01"\n')
    assert result.rows == (CancelRow(2, A1, date(2027, 1, 1), date_from_file=True),)
