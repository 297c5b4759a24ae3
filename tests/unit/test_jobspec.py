"""Job files: the shipped examples are valid and every kind of bad input is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfsync.errors import JobSpecError
from sfsync.jobspec import load_job, load_jobs

JOBS = Path(__file__).parents[2] / "jobs"

RENEWAL = """
kind = "renewal"
[schedule]
cron = "0 6 * * 1-5"
timezone = "Europe/Paris"
[renewal]
term = "override"
start = "today"
end = "today+1y"
"""


def _job(tmp_path: Path, text: str, name: str = "job.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_examples_are_valid() -> None:
    """jobs/renewal-sweep.toml and jobs/cancellation-run.toml load."""
    specs = {spec.name: spec for spec in load_jobs(JOBS) if not isinstance(spec, JobSpecError)}
    assert specs["renewal-sweep"].kind == "renewal"
    assert specs["renewal-sweep"].schedule is not None
    assert specs["cancellation-run"].kind == "cancellation"
    assert specs["cancellation-run"].csv_path == JOBS / "cancellations.csv"


def test_override_renewal(tmp_path: Path) -> None:
    """An override renewal with relative dates and a time zone is accepted."""
    spec = load_job(_job(tmp_path, RENEWAL, "sweep.toml"))
    assert spec.name == "sweep"
    assert spec.renewal_options.term == "override"
    assert spec.renewal_options.end == "today+1y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('kind = "renewal"\ncolour = "blue"\n', "colour: unknown key"),
        ('kind = "renewal"\n[selection]\nwindow_dayz = 3\n', "selection.window_dayz: unknown key"),
        ('kind = "upsell"\n', "kind:"),
        ('kind = "renewal"\n[schedule]\ncron = "61 * * * *"\n', "cron '61 * * * *' is invalid"),
        (
            'kind = "renewal"\n[schedule]\ncron = "0 6 * * *"\ntimezone = "Mars/Olympus"\n',
            "unknown time zone",
        ),
        ('kind = "renewal"\n[renewal]\nterm = "override"\nstart = "today"\n', "needs both start and end"),
        ('kind = "renewal"\n[renewal]\nstart = "today"\n', "apply only to term = 'override'"),
        (
            'kind = "renewal"\n[renewal]\nterm = "override"\nstart = "soon"\nend = "today+1y"\n',
            "'soon' is not a date",
        ),
        ('kind = "renewal"\n[renewal]\noutput = "order"\nmode = "stop_at_quote"\n', "needs output = 'quote'"),
        ('kind = "renewal"\n[selection]\naccounts = ["001000000000001AAB"]\n', "bad checksum"),
        ('kind = "renewal"\n[selection]\naccounts = ["02i000000000001AAA"]\n', "not a Account ID"),
        ('kind = "renewal"\n[selection]\nwindow_days = -1\n', "selection.window_days"),
        ('kind = "renewal"\n[selection]\nwindow_days = 5\nwindow_start_days = 9\n', "window_start_days"),
        ('kind = "renewal"\n[cancellation]\ndate = "today"\n', "a renewal job has no [cancellation] section"),
        (
            'kind = "cancellation"\n[renewal]\nterm = "automatic"\n',
            "a cancellation job has no [renewal] section",
        ),
        ('kind = "cancellation"\n[cancellation]\ndate = "2026-13-45x"\n', "is not a date"),
        ('kind = "renewal"\n[limits]\nmax_assets = 0\n', "limits.max_assets"),
        ('name = "Bad Name!"\nkind = "renewal"\n', "name:"),
        ('kind = "renewal"\n[schedule\n', "not valid TOML"),
    ],
)
def test_bad_job_files(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of bad job file fails with the file name and the offending key or reason."""
    path = _job(tmp_path, text)
    with pytest.raises(JobSpecError) as info:
        load_job(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_job_file(tmp_path: Path) -> None:
    """A job file that does not exist is a clear error."""
    with pytest.raises(JobSpecError, match="does not exist"):
        load_job(tmp_path / "absent.toml")


def test_load_jobs_reports_each_file(tmp_path: Path) -> None:
    """A directory with one good and one bad file yields one spec and one error."""
    _job(tmp_path, RENEWAL, "a.toml")
    _job(tmp_path, 'kind = "nope"\n', "b.toml")
    results = list(load_jobs(tmp_path))
    assert [type(result).__name__ for result in results] == ["JobSpec", "JobSpecError"]
