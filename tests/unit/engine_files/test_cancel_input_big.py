"""Huge cancellation files (RELIABILITY.md scenario 23): refused or streamed, never loaded whole."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from sfsync.engine.cancel_input import DEFAULT_MAX_ROWS, read_cancellations
from sfsync.sfid import make

TODAY = date(2026, 11, 23)
ROWS = 2_000_000

# Runs in a fresh interpreter so that its peak RSS is the reader's alone, not the test session's.
# Peak RSS is VmHWM: getrusage's ru_maxrss survives exec and would report the parent's peak.
_CHILD = """
import json, sys, time
from datetime import date
from sfsync.engine.cancel_input import read_cancellations
from sfsync.errors import InputError
started = time.perf_counter()
outcome = "read"
try:
    result = read_cancellations(sys.argv[1], today=date(2026, 11, 23))
    outcome = f"{len(result.rows)} rows"
except InputError as exc:
    outcome = str(exc)
with open("/proc/self/status", encoding="ascii") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started, "max_rss_mb": hwm_kb / 1024}))
"""


def run_child(path: Path) -> dict[str, object]:
    """Read ``path`` in a child interpreter; its outcome, duration and peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    report: dict[str, object] = json.loads(done.stdout)
    return report


def write_big_file(path: Path, rows: int) -> int:
    """A valid-looking file of ``rows`` rows, written in large blocks; returns its size in bytes."""
    block_rows = 100_000
    ids = [make("02i", n) for n in range(block_rows)]
    with path.open("wb") as out:
        out.write(b"AssetId,CancellationDate,Note\n")
        for block in range(rows // block_rows):
            out.write("".join(f"{asset},2027-01-01,block {block}\n" for asset in ids).encode())
    return path.stat().st_size


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from Linux /proc")
def test_two_million_rows_are_refused_at_max_rows_with_bounded_memory(tmp_path: Path) -> None:
    """A 2-million-row file stops at max_rows with a clear error; the reader's memory stays far below the file."""
    big = tmp_path / "big.csv"
    size_mb = write_big_file(big, ROWS) / 2**20
    small = tmp_path / "small.csv"
    small.write_text(f"AssetId,CancellationDate\n{make('02i', 1)},2027-01-01\n", encoding="utf-8")
    baseline = run_child(small)
    assert baseline["outcome"] == "1 rows"
    report = run_child(big)
    assert report["outcome"] == (
        f"line {DEFAULT_MAX_ROWS + 2}: the file has more than {DEFAULT_MAX_ROWS} rows (max_rows); "
        "split it into smaller files or raise the limit"
    )
    grown = float(report["max_rss_mb"]) - float(baseline["max_rss_mb"])  # type: ignore[arg-type]
    assert size_mb > 70
    assert grown < 45, f"reader grew by {grown:.1f} MB on a {size_mb:.0f} MB file"
    assert float(report["max_rss_mb"]) < 200  # type: ignore[arg-type]


def test_a_gigantic_line_is_skipped_in_bounded_memory() -> None:
    """A 40 MB line without a newline is rejected while holding at most one 64 KiB chunk of it."""
    asset = make("02i", 1)
    data = (
        b"AssetId,Note\n"
        + asset.encode()
        + b","
        + b"x" * (40 * 2**20)
        + b"\n"
        + make("02i", 2).encode()
        + b",ok\n"
    )
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        result = read_cancellations(stream, today=TODAY, default_date=TODAY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.line, e.column, e.reason) for e in result.errors] == [(2, 0, "line longer than 65536 bytes")]
    assert [row.line for row in result.rows] == [3]
    assert peak < 2 * 2**20, f"peak {peak} bytes"


def test_a_quote_left_open_over_a_huge_file_stops_early() -> None:
    """An unterminated quote followed by 20 MB of lines stops at 64 KiB, without buffering the rest."""
    asset = make("02i", 1)
    data = b"AssetId,Note\n" + asset.encode() + b',"never closed\n' + b"y" * 99 + b"\n"
    data += (b"z" * 99 + b"\n") * 200_000
    tracemalloc.start()
    try:
        result = read_cancellations(io.BytesIO(data), today=TODAY, default_date=TODAY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.line, e.column) for e in result.errors] == [(2, 2)]
    assert "unterminated quote" in result.errors[0].reason
    assert peak < 2 * 2**20, f"peak {peak} bytes"
