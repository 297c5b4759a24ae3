"""Properties of the cancellation CSV reader over generated files, hostile text included."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sfsync.engine.cancel_input import CancelRow, RowError, read_cancellations
from sfsync.sfid import make

TODAY = date(2026, 11, 23)
DEFAULT = date(2027, 2, 23)

# Text a user (or an attacker) may put in an ignored column: quotes, commas, newlines, SOQL-ish bits.
hostile = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        st.sampled_from(["'", '"', ",", "\n", "\r", "\\", "%", "_", ";", "\t"]),
    ),
    max_size=40,
) | st.sampled_from(["' OR Name != '", '"; DROP', "=1+1", '""', '"\n"'])

rows = st.lists(
    st.tuples(st.integers(0, 10_000), st.none() | st.integers(0, 2_000), hostile),
    max_size=40,
    unique_by=lambda row: row[0],
)


@settings(deadline=None)
@given(rows=rows, short_ids=st.booleans())
def test_written_rows_read_back_exactly(rows: list[tuple[int, int | None, str]], short_ids: bool) -> None:
    """Any file csv.writer produces from valid rows reads back as the same assets, dates and start lines."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["Note", "AssetId", "CancellationDate"])
    expected = []
    for serial, offset, note in rows:
        asset = make("02i", serial)
        day = None if offset is None else TODAY + timedelta(days=offset)
        line = out.getvalue().count("\n") + 1
        writer.writerow([note, asset[:15] if short_ids else asset, "" if day is None else day.isoformat()])
        expected.append(CancelRow(line, asset, day or DEFAULT, date_from_file=day is not None))
    result = read_cancellations(io.BytesIO(out.getvalue().encode()), today=TODAY, default_date=DEFAULT)
    assert result.errors == ()
    assert result.rows == tuple(expected)
    assert result.ignored_columns == ("Note",)


@settings(deadline=None)
@given(body=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    """Whatever follows a valid header, the reader answers with rows and RowErrors, never an exception."""
    data = b"AssetId,CancellationDate\n" + body
    result = read_cancellations(io.BytesIO(data), today=TODAY, default_date=DEFAULT)
    last_line = data.count(b"\n") + 1
    for error in result.errors:
        assert isinstance(error, RowError)
        assert 2 <= error.line <= last_line
        assert error.column >= 0
        assert error.reason
    for row in result.rows:
        assert 2 <= row.line <= last_line
        assert row.asset_id.startswith("02i")
        assert row.cancellation_date >= TODAY
