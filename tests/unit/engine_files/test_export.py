"""The CSV export (RELIABILITY.md scenario 21): hostile cells cannot run as formulas, numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfsync.engine.export import CsvExporter, cell, export_csv, is_plain_number, neutralise

TRIGGERS = "=+-@\t\r\n＝＋－＠"


def read_back(text: str) -> list[list[str]]:
    """Parse exported CSV text as a spreadsheet importer would."""
    return list(csv.reader(io.StringIO(text, newline="")))


def export(rows: list[list[object]], columns: tuple[str, ...] = ("Asset", "Quantity")) -> list[list[str]]:
    """Export rows and read them back."""
    out = io.StringIO(newline="")
    export_csv(out, columns, rows)
    return read_back(out.getvalue())


@pytest.mark.parametrize(
    "hostile",
    [
        "=1+1",
        '=HYPERLINK("http://evil","x")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1,2)",
        "\t=1",
        "\r=1",
        "\n=1",
        "  =1",
        "＝1+1",
        "-",
        "-1+1",
        "- 1",
        "+",
    ],
)
def test_hostile_cells_are_neutralised(hostile: str) -> None:
    """Text starting with = + - @, tab, CR, LF (after spaces too, full-width too) gets a leading quote."""
    assert export([[hostile, 1]]) == [["Asset", "Quantity"], ["'" + hostile, "1"]]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-1, "-1"),
        (Decimal("20.83"), "20.83"),
        (Decimal("-20.83"), "-20.83"),
        (20.83, "20.83"),
        (-0.5, "-0.5"),
        ("-1", "-1"),
        ("+5", "+5"),
        ("20.83", "20.83"),
        ("-1e5", "-1e5"),
        (0, "0"),
    ],
)
def test_numbers_stay_numbers(value: object, text: str) -> None:
    """Numeric values and plain-number text are written untouched, so spreadsheets read numbers."""
    assert cell(value) == text
    assert export([["Retail POS Enterprise", value]])[1] == ["Retail POS Enterprise", text]


def test_other_values() -> None:
    """None is empty, booleans are words, datetimes are ISO UTC, dates ISO, non-finite numbers safe text."""
    assert cell(None) == ""
    assert (cell(True), cell(False)) == ("true", "false")
    tokyo = timezone(timedelta(hours=9))
    assert cell(datetime(2027, 2, 23, 9, 0, 0, tzinfo=tokyo)) == "2027-02-23T00:00:00Z"
    assert cell(datetime(2027, 2, 23, tzinfo=UTC)) == "2027-02-23T00:00:00Z"
    assert cell(date(2027, 2, 23)) == "2027-02-23"
    assert cell(float("-inf")) == "'-inf"
    assert cell(Decimal("-Infinity")) == "'-Infinity"
    assert cell(Decimal("NaN")) == "NaN"
    with pytest.raises(ValueError, match="naive datetime"):
        cell(datetime(2027, 2, 23))  # noqa: DTZ001 - the naive datetime is the point of the test


def test_quotes_commas_and_newlines_survive() -> None:
    """CSV quoting keeps cells with commas, quotes and newlines intact."""
    tricky = 'Retail POS, "Enterprise"\nline 2'
    assert export([[tricky, 1]])[1] == [tricky, "1"]


def test_header_is_neutralised_and_bom_optional() -> None:
    """Column names get the same treatment; excel_bom starts the file with a BOM."""
    out = io.StringIO(newline="")
    export_csv(out, ("=cmd", "Quantity"), [], excel_bom=True)
    assert out.getvalue() == "\ufeff'=cmd,Quantity\r\n"


def test_streaming_writer_counts_rows_and_maps_names() -> None:
    """Rows are written as they come, by position or by name; missing names are empty."""
    out = io.StringIO(newline="")
    exporter = CsvExporter(out, ("asset_id", "state", "error"))
    exporter.write(["02i8d0000000001AAA", "verified", None])
    exporter.write_mapping({"asset_id": "02i8d0000000002AAA", "error": "=HYPERLINK(1)"})
    assert exporter.rows_written == 2
    assert read_back(out.getvalue()) == [
        ["asset_id", "state", "error"],
        ["02i8d0000000001AAA", "verified", ""],
        ["02i8d0000000002AAA", "", "'=HYPERLINK(1)"],
    ]


def test_export_consumes_a_generator_lazily() -> None:
    """export_csv pulls rows one by one: the output holds each row before the next is produced."""
    out = io.StringIO(newline="")
    seen: list[int] = []

    def rows() -> object:
        for n in range(3):
            seen.append(out.getvalue().count("\r\n"))
            yield [f"asset {n}", n]

    assert export_csv(out, ("Asset", "Quantity"), rows()) == 3  # type: ignore[arg-type]
    assert seen == [1, 2, 3]


def test_wrong_row_length_is_misuse() -> None:
    """A row with the wrong number of values raises ValueError instead of shifting columns."""
    with pytest.raises(ValueError, match="row has 1 values for 2 columns"):
        export([["only one"]])


@given(st.text())
def test_any_text_is_safe_and_recoverable(text: str) -> None:
    """Every exported text cell is either a plain number or cannot start a formula; the quote is the only change."""
    written = export([[text, 1]])[1][0]
    assert written in (text, "'" + text)
    stripped = written.lstrip(" ")
    assert is_plain_number(written) or not stripped or stripped[0] not in TRIGGERS
    if written != text:
        assert text.lstrip(" ")[0] in TRIGGERS


@given(st.sampled_from(TRIGGERS), st.text())
def test_text_starting_with_a_trigger_is_always_neutralised_unless_numeric(first: str, rest: str) -> None:
    """Generated hostile strings (trigger + anything) get the quote unless they are exactly a number."""
    text = first + rest
    expected = text if is_plain_number(text) else "'" + text
    assert neutralise(text) == expected
    assert export([[text, 0]])[1][0] == expected


@given(
    st.one_of(
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(allow_nan=False, allow_infinity=False, places=2),
    )
)
def test_numbers_round_trip_as_numbers(value: int | float | Decimal) -> None:
    """Any finite number is written as a number and reads back equal."""
    written = export([["x", value]])[1][1]
    assert not written.startswith("'")
    assert Decimal(written) == Decimal(str(value))
    assert float(written) == float(value)


def test_only_ascii_digits_make_a_number() -> None:
    """Other scripts' digits are text to a spreadsheet, so a leading minus before them is neutralised."""
    assert not is_plain_number("-٣")
    assert neutralise("-٣") == "'-٣"
    assert neutralise("-1\n") == "'-1\n"
