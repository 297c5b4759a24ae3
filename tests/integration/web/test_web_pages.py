"""The admin pages: security headers, escaping, filters and search, live data, CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from webdata import CRLF_NAME, FORMULA_NAME, IMG_MESSAGE, ORIGIN, SCRIPT_NAME, Seeded, TestClient, login

from sfsync.ledger import Ledger, NewItem
from sfsync.sfid import make
from sfsync.web.security import CSP


def _rows(html: str, table_id: str) -> list[str]:
    """The body rows of one table of a page."""
    table = html.split(f'id="{table_id}"', 1)[1]
    body = table.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>.*?</tr>", body, flags=re.DOTALL)


def _check_headers(response_headers: object, path: str) -> None:
    headers = response_headers  # an httpx Headers
    assert headers["content-security-policy"] == CSP, path  # type: ignore[index]
    assert "unsafe-inline" not in CSP
    assert "unsafe-eval" not in CSP
    assert "default-src 'self'" in CSP
    assert "frame-ancestors 'none'" in CSP
    assert headers["x-content-type-options"] == "nosniff", path  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin", path  # type: ignore[index]
    assert headers["x-frame-options"] == "DENY", path  # type: ignore[index]


def test_security_headers_on_every_response(client: TestClient, seeded: Seeded) -> None:
    """CSP, nosniff, Referrer-Policy and frame denial on pages, data, errors and redirects alike."""
    anonymous = ["/", "/login", "/healthz", "/readyz", "/metrics", "/static/app.css", "/static/live.js",
                 "/no/such/page", f"/runs/{seeded.partial_run}/live.json"]  # fmt: skip
    for path in anonymous:
        _check_headers(client.get(path).headers, path)
    login(client)
    authenticated = ["/", f"/runs/{seeded.partial_run}", f"/runs/{seeded.running_run}/live.json",
                     f"/runs/{seeded.partial_run}/items.csv", "/runs/r-unknown", "/?status=bogus",
                     "/metrics", "/static/live.js"]  # fmt: skip
    for path in authenticated:
        _check_headers(client.get(path).headers, path)
    _check_headers(
        client.post(f"/runs/{seeded.partial_run}/retry", headers={"Origin": ORIGIN}).headers, "post"
    )


def test_payloads_in_data_are_escaped(admin: TestClient, seeded: Seeded) -> None:
    """Script tags and attribute-breaking markup from names and messages appear only as text."""
    html = admin.get(f"/runs/{seeded.partial_run}").text
    for payload in (SCRIPT_NAME, IMG_MESSAGE):
        assert payload not in html
    assert "<script>window" not in html
    assert "<img" not in html
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;Capricorn Espresso" in html
    assert "&#34;&gt;&lt;img src=x onerror=&#34;window.__xss = 2&#34;&gt;quote rejected" in html
    # The only scripts are our own file, and only on a running run's page.
    assert re.findall(r"<script[^>]*>", html) == []
    live_page = admin.get(f"/runs/{seeded.running_run}").text
    assert re.findall(r"<script[^>]*>", live_page) == ['<script src="/static/live.js" defer>']


def test_control_characters_cannot_forge_log_lines(admin: TestClient, seeded: Seeded) -> None:
    """CR, LF and ESC in a name are shown escaped, so the name stays on its own line."""
    html = admin.get(f"/runs/{seeded.partial_run}").text
    assert CRLF_NAME not in html
    assert "Latte\\x0d\\x0a2026-11-23 09:00:00 error forged_line\\x1b[31m" in html


def test_runs_list_paginates_and_filters(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """25 runs per page; job, status and date filters narrow the list."""
    first = admin.get("/").text
    second = admin.get("/?page=2").text
    assert len(_rows(first, "runs-table")) == 25
    assert len(_rows(second, "runs-table")) == len(seeded.old_runs) + 2 - 25
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
    by_job = admin.get("/?job=renewal-sweep").text
    assert _row_ids(by_job) == [seeded.partial_run]
    by_status = admin.get("/?status=running").text
    assert _row_ids(by_status) == [seeded.running_run]
    everything = [ledger.runs.get(r) for r in (*seeded.old_runs, seeded.partial_run, seeded.running_run)]
    cutoff = datetime(2026, 11, 24, tzinfo=UTC)
    expected = sorted(r.id for r in everything if r is not None and r.created_at >= cutoff)
    assert 0 < len(expected) < len(everything)
    assert sorted(_row_ids(admin.get("/?since=2026-11-24").text)) == expected


def _row_ids(html: str) -> list[str]:
    return [re.search(r'href="/runs/([^"]+)"', row).group(1) for row in _rows(html, "runs-table")]  # type: ignore[union-attr]


@pytest.mark.parametrize("query", ["status=bogus", "since=yesterday", "page=0", "page=x"])
def test_bad_filters_get_a_clear_400(admin: TestClient, query: str) -> None:
    """A nonsense filter value is answered with 400 and a message naming the filter."""
    response = admin.get(f"/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.text


def test_run_page_shows_summary_progress_items_and_log(admin: TestClient, seeded: Seeded) -> None:
    """A run's page lists every item with its ids and error, the counts per state, and its log."""
    html = admin.get(f"/runs/{seeded.partial_run}").text
    assert "renewal-sweep" in html
    assert "2m 05s" in html
    progress = {re.search(r'data-state="(\w+)"', r).group(1): r for r in _rows(html, "progress")}  # type: ignore[union-attr]
    assert set(progress) == {"done", "failed"}
    assert '<td class="n">3</td>' in progress["failed"]
    items = _rows(html, "items")
    assert len(items) == 6
    failed_row = next(r for r in items if seeded.failed_assets[0] in r)
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in failed_row
    done_row = next(r for r in items if seeded.done_assets[0] in r)
    assert "0Q0" in done_row
    assert "801" in done_row
    assert len(_rows(html, "log-table")) == 8  # debug line included by default


def test_run_page_names_the_workers_holding_its_items(
    admin: TestClient, ledger: Ledger, seeded: Seeded
) -> None:
    """A running run whose items a worker holds says which worker and until when (to release a gone one)."""
    assert 'id="leases"' not in admin.get(f"/runs/{seeded.running_run}").text
    held = ledger.claims.claim(seeded.running_run, ["selected"], "host-gone:4242:1", 10, 900.0)
    assert len(held) == len(seeded.running_assets)
    html = admin.get(f"/runs/{seeded.running_run}").text
    [lease] = re.findall(r'<span class="lease-text">(.*?)</span>', html)
    assert lease.startswith(f"{len(held)} item(s) by worker host-gone:4242:1 until ")


def test_items_filter_by_state_and_search_by_asset(admin: TestClient, seeded: Seeded) -> None:
    """The state filter and the asset-ID search narrow the items table."""
    failed = _rows(admin.get(f"/runs/{seeded.partial_run}?state=failed").text, "items")
    assert len(failed) == 3
    assert all(any(a in r for a in seeded.failed_assets) for r in failed)
    one = _rows(admin.get(f"/runs/{seeded.partial_run}?q={seeded.done_assets[1]}").text, "items")
    assert len(one) == 1
    assert seeded.done_assets[1] in one[0]
    by_15_char_id = _rows(
        admin.get(f"/runs/{seeded.partial_run}?q={seeded.failed_assets[2][:15]}").text, "items"
    )
    assert len(by_15_char_id) == 1
    assert seeded.failed_assets[2] in by_15_char_id[0]
    assert _rows(admin.get(f"/runs/{seeded.partial_run}?q=02iZZZ").text, "items")[0].count("No items match")


def test_log_filters_by_level_and_asset(admin: TestClient, seeded: Seeded) -> None:
    """The log shows error lines only with level=error, one asset's lines with asset=…"""
    errors = _rows(admin.get(f"/runs/{seeded.partial_run}?level=error").text, "log-table")
    assert len(errors) == 3
    assert all("renewal_failed" in r for r in errors)
    info_up = _rows(admin.get(f"/runs/{seeded.partial_run}?level=info").text, "log-table")
    assert len(info_up) == 7
    one = _rows(admin.get(f"/runs/{seeded.partial_run}?asset={seeded.done_assets[0]}").text, "log-table")
    assert len(one) == 1
    assert "renewal_quote_created" in one[0]


def test_unknown_run_is_a_404(admin: TestClient) -> None:
    """A run id that does not exist gives a 404 page, not an error trace."""
    response = admin.get("/runs/r-doesnotexist")
    assert response.status_code == 404
    assert "No such run" in response.text


def test_live_json_returns_new_log_lines_and_counts(
    admin: TestClient, seeded: Seeded, ledger: Ledger
) -> None:
    """The live endpoint returns only lines after ``after`` and the current counts."""
    first = admin.get(f"/runs/{seeded.running_run}/live.json?after=0").json()
    assert first["active"] is True
    assert first["counts"] == {"selected": 4}
    last = first["events"][-1]["id"]
    ledger.events.append("cancel_step_done", run_id=seeded.running_run, asset_id=seeded.running_assets[0],
                         fields={"note": "<b>bold</b>"})  # fmt: skip
    later = admin.get(f"/runs/{seeded.running_run}/live.json?after={last}").json()
    assert [e["event"] for e in later["events"]] == ["cancel_step_done"]
    assert later["events"][0]["fields"] == "note=<b>bold</b>"  # raw text: the script inserts it as text
    assert admin.get(f"/runs/{seeded.running_run}/live.json?after=-1").status_code == 400


def test_csv_export_neutralises_formulas(admin: TestClient, seeded: Seeded) -> None:
    """Exported cells starting with = + - @ get a quote; plain numbers stay numbers."""
    response = admin.get(f"/runs/{seeded.partial_run}/items.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 6
    names = {r["asset_id"]: r["asset_name"] for r in rows}
    assert names[seeded.failed_assets[0]] == "'" + FORMULA_NAME
    assert names[seeded.failed_assets[1]] == "'+SUM(A1:A9)"
    assert names[seeded.failed_assets[2]] == "-1"
    failed = next(r for r in rows if r["asset_id"] == seeded.failed_assets[0])
    assert failed["attempts"] == "3"
    assert failed["error_message"] == IMG_MESSAGE
    assert all(not r[c].startswith(("=", "+", "@")) for r in rows for c in r)


def test_items_table_paginates(admin: TestClient, ledger: Ledger) -> None:
    """A run with 130 items shows 100 on the first page and the other 30 on the second."""
    run = ledger.runs.create("big-sweep", "renewal", "manual", "prod")
    assets = [make("02i", n) for n in range(1000, 1130)]
    assert ledger.items.add(run.id, [NewItem(a) for a in assets]).inserted == 130
    first = admin.get(f"/runs/{run.id}").text
    second = admin.get(f"/runs/{run.id}?page=2").text
    assert len(_rows(first, "items")) == 100
    assert len(_rows(second, "items")) == 30
    assert assets[0] in first
    assert assets[-1] in second
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
