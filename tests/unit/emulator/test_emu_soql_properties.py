"""Property tests: the compiled SQL and the plain-Python evaluator agree on random data and queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfsync.clock import FixedClock
from sfsync.emulator.soql.evaluate import Evaluator
from sfsync.emulator.soql.parser import parse
from sfsync.emulator.store import Store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TEXT = st.text(alphabet="aAbB%_'\\ x", max_size=4)
STATUSES = st.sampled_from([None, "Purchased", "Shipped", "Installed"])
MOMENTS = st.one_of(st.none(), st.builds(lambda d, h: NOW + timedelta(days=d, hours=h),
                                         st.integers(-4, 4), st.sampled_from([-10, 0, 5, 14])))  # fmt: skip
DAYS = st.one_of(st.none(), st.builds(lambda d: NOW.date() + timedelta(days=d), st.integers(-4, 4)))


def soql_string(value: str) -> str:
    """Quote a value as a SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def like_literal(pattern: str) -> str:
    """Quote a LIKE pattern, keeping % and _ as wildcards and escaping quotes and backslashes."""
    return "'" + pattern.replace("\\", "\\\\").replace("'", "\\'") + "'"


def dt_literal(moment: datetime) -> str:
    """A SOQL datetime literal."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


OPS = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
RELATIVE = st.one_of(
    st.sampled_from(["TODAY", "YESTERDAY", "TOMORROW"]),
    st.builds(lambda n: f"NEXT_N_DAYS:{n}", st.integers(0, 3)),
    st.builds(lambda n: f"LAST_N_DAYS:{n}", st.integers(0, 3)),
)

ATOMS = st.one_of(
    st.builds(lambda op, v: f"Name {op} {soql_string(v)}", OPS, TEXT),
    st.builds(lambda v: f"Name LIKE {like_literal(v)}", TEXT),
    st.builds(
        lambda neg, vs: f"Name {'NOT ' if neg else ''}IN ({', '.join(map(soql_string, vs))})",
        st.booleans(),
        st.lists(TEXT, min_size=1, max_size=3),
    ),
    st.builds(lambda op, v: f"Quantity {op} {v}", OPS, st.integers(-2, 3)),
    st.builds(lambda op: f"Quantity {op} null", st.sampled_from(["=", "!="])),
    st.builds(lambda v: f"HasLifecycleManagement = {v}", st.sampled_from(["true", "false"])),
    st.builds(
        lambda op, m: f"LifecycleEndDate {op} {dt_literal(m)}", OPS, MOMENTS.filter(lambda m: m is not None)
    ),
    st.builds(lambda op, r: f"LifecycleEndDate {op} {r}", OPS, RELATIVE),
    st.builds(lambda op, d: f"PurchaseDate {op} {d.isoformat()}", OPS, DAYS.filter(lambda d: d is not None)),
    st.builds(lambda op, r: f"PurchaseDate {op} {r}", OPS, RELATIVE),
    st.builds(
        lambda vs: f"Status IN ({', '.join(soql_string(v) for v in vs)})",
        st.lists(st.sampled_from(["Purchased", "shipped", "Installed"]), min_size=1, max_size=2),
    ),
    st.builds(lambda op, v: f"Account.Name {op} {soql_string(v)}", OPS, TEXT),
    st.builds(
        lambda neg, cat: (
            f"Id {'NOT ' if neg else ''}IN (SELECT AssetId FROM AssetAction WHERE CategoryEnum = '{cat}')"
        ),
        st.booleans(),
        st.sampled_from(["Renewals", "Cancellations"]),
    ),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda xs: "(" + " AND ".join(xs) + ")", st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda xs: "(" + " OR ".join(xs) + ")", st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda x: f"(NOT {x})", children),
    )


WHERE = st.recursive(ATOMS, _combine, max_leaves=6)
ORDER = st.one_of(
    st.just(""),
    st.builds(
        lambda f, d, n: f" ORDER BY {f}{d}{n}",
        st.sampled_from(["Name", "Quantity", "LifecycleEndDate", "PurchaseDate", "Account.Name", "Status"]),
        st.sampled_from(["", " ASC", " DESC"]),
        st.sampled_from(["", " NULLS FIRST", " NULLS LAST"]),
    ),
)
LIMITS = st.one_of(st.just(""), st.builds(lambda n, o: f" LIMIT {n}" + (f" OFFSET {o}" if o else ""),
                                          st.integers(0, 6), st.integers(0, 3)))  # fmt: skip

ASSETS = st.lists(
    st.fixed_dictionaries(
        {
            "Name": TEXT,
            "Quantity": st.one_of(st.none(), st.integers(-2, 3).map(float)),
            "HasLifecycleManagement": st.booleans(),
            "LifecycleEndDate": MOMENTS,
            "PurchaseDate": DAYS,
            "Status": STATUSES,
            "account": st.integers(0, 2),
            "renewed": st.sampled_from([None, "Renewals", "Cancellations"]),
            "deleted": st.booleans(),
        }
    ),
    max_size=10,
)


def _load(assets: list[dict[str, object]], account_names: list[str]) -> Store:
    store = Store(FixedClock(NOW))
    accounts = [store.insert("Account", {"Name": n}) for n in account_names]
    for spec in assets:
        values = {k: v for k, v in spec.items() if k not in ("account", "renewed", "deleted")}
        index = int(spec["account"])  # type: ignore[call-overload]
        values["AccountId"] = accounts[index] if index < len(accounts) else None
        asset_id = store.insert("Asset", {**values, "Name": values["Name"] or "n"})
        if spec["renewed"]:
            store.insert("AssetAction", {"AssetId": asset_id, "CategoryEnum": spec["renewed"]})
        if spec["deleted"]:
            store.delete("Asset", asset_id)
    return store


def _dataset(store: Store) -> dict[str, list[dict[str, object]]]:
    return {name: store.find(name, include_deleted=True) for name in ("Account", "Asset", "AssetAction")}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ASSETS, st.lists(TEXT, min_size=1, max_size=2), WHERE, ORDER, LIMITS, st.booleans())
def test_compiled_sql_matches_evaluator(
    assets: list[dict[str, object]], names: list[str], where: str, order: str, limit: str, all_rows: bool
) -> None:
    """Both back ends return the same IDs in the same order for any query and data."""
    store = _load(assets, [n or "acct" for n in names])
    text = f"SELECT Id, Name, Account.Name FROM Asset WHERE {where}{order}{limit}"
    got = store.query(text, include_deleted=all_rows).ids
    expected = Evaluator(_dataset(store), text, NOW).ids(parse(text), include_deleted=all_rows)
    if order:
        assert got == expected
    else:
        assert sorted(got) == sorted(expected)
        assert got == [i for i in expected if i in set(got)]


@settings(max_examples=100, deadline=None)
@given(TEXT, TEXT)
def test_equality_and_like_are_case_insensitive_and_literal(stored: str, probe: str) -> None:
    """`=` compares case-insensitively; a LIKE pattern without wildcards behaves like `=`."""
    store = Store(FixedClock(NOW))
    store.insert("Account", {"Name": stored or "n"})
    name = stored or "n"
    eq = store.query(f"SELECT Id FROM Account WHERE Name = {soql_string(probe)}").total_size
    assert eq == (1 if name.lower() == probe.lower() else 0)
    # In SOQL text a literal backslash is \\, and \% / \_ are the literal wildcard characters.
    quoted = probe.replace("\\", "\\\\").replace("'", "\\'").replace("%", "\\%").replace("_", "\\_")
    like = store.query(f"SELECT Id FROM Account WHERE Name LIKE '{quoted}'").total_size
    assert like == eq


def test_relative_dates_cover_the_documented_ranges() -> None:
    """TODAY, NEXT_N_DAYS and LAST_N_DAYS select the documented days on datetime fields."""
    store = Store(FixedClock(NOW))
    days = {
        d: store.insert("Asset", {"Name": f"d{d}", "LifecycleEndDate": NOW + timedelta(days=d)})
        for d in range(-3, 4)
    }

    def names(where: str) -> set[int]:
        found = set(store.query(f"SELECT Id FROM Asset WHERE {where}").ids)
        return {d for d, i in days.items() if i in found}

    assert names("LifecycleEndDate = TODAY") == {0}
    assert names("LifecycleEndDate = NEXT_N_DAYS:2") == {1, 2}
    assert names("LifecycleEndDate = LAST_N_DAYS:2") == {-2, -1, 0}
    assert names("LifecycleEndDate > TODAY") == {1, 2, 3}
    assert names("LifecycleEndDate <= YESTERDAY") == {-3, -2, -1}
    assert date(2026, 11, 23) == NOW.date()
