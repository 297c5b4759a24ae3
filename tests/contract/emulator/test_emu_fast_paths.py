"""The emulator's fast paths answer exactly as the plain ones: SOQL IN lists, savepoints, serials, rows."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sfsync import sfid
from sfsync.clock import FixedClock
from sfsync.emulator import schema
from sfsync.emulator.codec import encoder, format_sql_datetime, to_sql
from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.soql import parser
from sfsync.emulator.store import Record, Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
IDS = [sfid.make("02i", n) for n in range(1, 41)]
ESCAPED = ["a", "b", "c", "d", "e", "f", "g", "h\\\\n"]
NAIVE = NOW.replace(tzinfo=None)


def _without_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "_swap_lists", lambda text: (text, {}))


def _quoted(ids: list[str], sep: str = ", ") -> str:
    return sep.join(f"'{i}'" for i in ids)


@pytest.mark.parametrize(
    "text",
    [
        f"SELECT Id FROM Asset WHERE Id IN ({_quoted(IDS)})",
        f"SELECT Id FROM Asset WHERE Id NOT IN ({_quoted(IDS, ',')}) ORDER BY Name DESC NULLS LAST LIMIT 5",
        f"SELECT Id FROM Asset WHERE Name = 'it\\'s' AND AccountId IN (\t{_quoted(IDS[:8], ' ,  ')} )",
        f"SELECT Id FROM Asset WHERE (Name = 'x' OR Id IN ({_quoted(IDS)})) AND Id IN ({_quoted(IDS[3:20])})",
        f"SELECT Id FROM AssetActionSource WHERE AssetActionId IN (SELECT Id FROM AssetAction WHERE AssetId IN ({_quoted(IDS)}))",
        "SELECT Id FROM Asset WHERE Name = 'IN (" + ", ".join(f"\\'{i}\\'" for i in IDS) + ")'",  # text
        f"SELECT Id FROM Asset WHERE Name IN ({_quoted(ESCAPED)})",  # an escape: lark parses it all
        f"SELECT Id FROM Asset WHERE Id IN ({_quoted(IDS[:7])})",  # too short for the fast path
    ],
)
def test_long_in_lists_parse_to_the_same_tree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swapping long IN lists out of lark's way changes nothing in the tree, columns included."""
    fast = parser.parse(text)
    _without_fast_path(monkeypatch)
    assert fast == parser.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        f"SELECT Id FROM Asset WHERE Id IN ({_quoted(IDS)}) ORDER",
        f"SELECT ({_quoted(IDS)}) FROM Asset",
        f"SELECT Id FROM Asset WHERE Name = 'a\\qb' AND Id IN ({_quoted(IDS)})",
        f"SELECT Id FROM Asset WHERE Id IN ({_quoted(IDS)}) AND Name = 'unterminated",
        f"SELECT Id FROM Asset WHERE Id IN ({_quoted(IDS)}) AND Name = 'a' OR Name = 'b'",
    ],
)
def test_refused_queries_with_long_lists_keep_their_errors(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query the fast path cannot parse is parsed whole again: same code, message and caret."""
    with pytest.raises(ApiError) as fast:
        parser.parse(text)
    _without_fast_path(monkeypatch)
    with pytest.raises(ApiError) as slow:
        parser.parse(text)
    assert (fast.value.error_code, fast.value.message) == (slow.value.error_code, slow.value.message)


@pytest.fixture
def store() -> Store:
    """A fresh in-memory store with a fixed clock."""
    return Store(FixedClock(NOW), default_user_id="0058d0000000001AAA")


def _account(store: Store, name: str) -> str:
    return store.insert("Account", {"Name": name})


def test_nested_levels_sharing_a_savepoint_roll_back_only_the_inner_one(store: Store) -> None:
    """Levels entered with nothing written between share one savepoint; each still undoes its own part."""
    with store.transaction():
        with store.transaction(), store.transaction():
            _account(store, "kept")
        with pytest.raises(RuntimeError), store.transaction():  # noqa: PT012 - the write must come first
            with store.transaction():
                _account(store, "lost")
            raise RuntimeError("boom")
        _account(store, "kept too")
    assert [r["Name"] for r in store.find("Account")] == ["kept", "kept too"]


def test_failed_writes_give_their_serials_back(store: Store) -> None:
    """IDs are minted as before: a write that fails (or whose level rolls back) takes no serial."""
    first = _account(store, "one")
    with store.transaction():
        with pytest.raises(RecordError):
            store.insert("Account", {"Name": "bad", "AnnualRevenue__c": 1})  # fails inside the transaction
        with pytest.raises(RuntimeError), store.transaction():  # noqa: PT012 - the write must come first
            _account(store, "rolled back")
            raise RuntimeError("boom")
        second = _account(store, "two")
    assert [sfid.make("001", n) for n in (1, 2)] == [first, second]
    assert [r["Name"] for r in store.find("Account")] == ["one", "two"]


def test_a_database_file_keeps_its_serials(tmp_path: Path) -> None:
    """Reopening a store file goes on minting after the last committed ID."""
    path = str(tmp_path / "org.sqlite")
    before = Store(FixedClock(NOW), path=path)
    ids = [_account(before, f"A{i}") for i in range(3)]
    before.close()
    after = Store(FixedClock(NOW), path=path)
    assert _account(after, "next") == sfid.make("001", len(ids) + 1)


def test_after_update_triggers_see_the_row_as_stored(store: Store) -> None:
    """The record an after-trigger gets equals a fresh read, field for field and in order."""
    seen: list[tuple[Record, Record | None]] = []
    store.after_update("Order", lambda s, _old, new: seen.append((new, s.get("Order", str(new["Id"])))))
    account = _account(store, "A")
    order = store.insert("Order", {"AccountId": account, "EffectiveDate": date(2026, 11, 23)})
    for values in (
        {"Status": "Activated", "ShippingCity": 12},
        {"EndDate": "2027-01-02", "description": "lower-case name"},
        {"ActivatedDate": datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=2)))},
        {"EffectiveDate": datetime(2026, 5, 5, 23, 0, tzinfo=UTC), "Description": None},
    ):
        store.update("Order", order, values)
    assert len(seen) == 4
    for new, fresh in seen:
        assert fresh is not None
        assert list(new.items()) == list(fresh.items())


def test_partial_reads_match_whole_records(store: Store) -> None:
    """get/select with ``fields`` return exactly those fields of what get/find return."""
    account = _account(store, "A")
    order = store.insert("Order", {"AccountId": account, "EffectiveDate": date(2026, 11, 23)})
    whole = store.get("Order", order)
    part = store.get("Order", order[:15], fields=("Status", "EffectiveDate", "Id"))
    assert whole is not None
    assert part == {"Id": order, "Status": whole["Status"], "EffectiveDate": whole["EffectiveDate"]}
    assert store.select("Order", ("OrderNumber",), AccountId=account) == [
        {"OrderNumber": whole["OrderNumber"]}
    ]
    assert store.exists("Order", AccountId=account, Status="draft")
    assert not store.exists("Order", AccountId=account, Status="Activated")


_VALUES = [
    None, "x", "", 1, 0, 1.5, -0.0, math.nan, math.inf, True, False, "true", "FALSE", "2026-11-23",
    "2026-11-23T00:00:00Z", 10**20, [1], NOW, NOW.astimezone(timezone(timedelta(hours=3))),
    NAIVE, datetime(999, 1, 1, tzinfo=UTC), date(2026, 1, 2),
]  # fmt: skip


def _outcome(fn: object, value: object) -> tuple[str, object]:
    try:
        return ("ok", fn(value))  # type: ignore[operator]
    except Exception as exc:  # any difference counts
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("kind", sorted(schema.FIELD_TYPES))
def test_column_encoders_are_to_sql(kind: str) -> None:
    """Each column's encoder gives what to_sql gives (value and type), or the same error."""
    fdef = schema.FieldDef("F", kind)
    encode = encoder(fdef)
    for value in _VALUES * 2:  # twice: the datetime encoder remembers its last value
        expected, got = _outcome(lambda v: to_sql(fdef, v), value), _outcome(encode, value)
        assert got == expected or (expected[0] == got[0] == "ok" and expected[1] != expected[1])
        assert type(got[1]) is type(expected[1])


def test_sql_datetimes_are_fixed_width_utc() -> None:
    """Any zone (or none, taken as UTC) becomes UTC text with milliseconds, truncated."""
    assert format_sql_datetime(
        datetime(2026, 11, 23, 10, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))
    ) == ("2026-11-23T09:00:00.999Z")
    assert format_sql_datetime(NAIVE.replace(microsecond=1000)) == "2026-11-23T09:30:00.001Z"
    assert format_sql_datetime(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)) == "1999-12-31T23:59:59.000Z"
