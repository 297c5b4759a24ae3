"""Scenario 4 at the engine level: the ledger goes away mid-run (SQLite locked, PostgreSQL gone).

A renewal sweep of the synthetic org (14 assets, batches of 4) runs in a thread against the emulator
over HTTPS. A witness wrapped around the emulator's router (a pass-through: the emulator still answers
every call itself) sees each creating call as it arrives (``initiateRenewal``,
``createOrderFromQuote``, the activation PATCH), and reads the ledger's committed rows at that moment
through a connection of its own. The ledger goes away:

- SQLite: another connection holds ``BEGIN EXCLUSIVE`` (ledger opened with ``busy_timeout_s=0.5``)
  while the 2nd initiate call is held in flight by the witness;
- PostgreSQL: ``ALLOW_CONNECTIONS false`` and every session ended while the 2nd order call is held;
- PostgreSQL, sharper: the same, done on the engine's thread just before the COMMIT of the 2nd
  initiate intent (a SQLAlchemy event on the ledger's engine), so the intent itself is lost.

Asserted: the engine stops with :class:`LedgerError` and sends no creating call after the outage;
every asset, quote and order named in every creating call had its step's intent committed before the
call arrived (and, read after the ledger is back, no item was named by more calls than it counts
intents); resumed once the ledger is back, the run verifies every item, with one quote, one order and
one activation per asset (``faultstats`` figures) and one creating call per asset, quote and order.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url

from sfsync.clock import SystemClock
from sfsync.emulator.harness import EmulatorHandle, wait_for
from sfsync.emulator.rest.common import Call, Result
from sfsync.engine.context import Tuning
from sfsync.engine.runner import Engine, RunResult
from sfsync.errors import LedgerError
from sfsync.ledger.ledger import Ledger, open_ledger
from sfsync.ledger.records import Item
from sfsync.salesforce.client import SalesforceClient
from tests.dbfixtures import PgServer, pg
from tests.integration.engine.conftest import World
from tests.integration.engine.faultkit import config, in_window, sweep_job
from tests.integration.engine.faultstats import Snapshot, all_items, figures

__all__ = ["pg"]

SEED = "synthetic:30:seed=3"
WINDOW = 180
BATCH = 4
LEASE_S = 2.0
#: Short client timeouts: an intent's lease covers the client's worst case ((1 + 3) s × 2 tries), and
#: the resumed worker waits for the leases of the call that was in flight to run out.
PROFILE: dict[str, object] = {
    "connect_timeout_s": 1.0,
    "read_timeout_s": 3.0,
    "max_retries": 1,
    "backoff_cap_s": 0.1,
}
#: The intent state each creating step commits, and the item column its call names.
INTENT_STATE = {"initiate": "initiating", "order": "ordering", "activate": "activating"}
KEY_COLUMN = {"initiate": "asset_id", "order": "quote_id", "activate": "order_id"}
SHIPPING = frozenset(
    {"ShippingStreet", "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry"}
)


def creating_call(method: str, rest: str, body: bytes) -> tuple[str, tuple[str, ...]] | None:
    """The step and the IDs a request creates something for (assets, quotes, orders), or None."""
    path = rest.rstrip("/").lower()
    if method == "POST" and path == "/actions/standard/initiaterenewal":
        inputs = json.loads(body)["inputs"]
        return "initiate", tuple(str(a) for i in inputs for a in i["renewAssetIds"])
    if method == "POST" and path == "/actions/standard/createorderfromquote":
        inputs = json.loads(body)["inputs"]
        return "order", tuple(str(i["quoteRecordId"]) for i in inputs)
    if method == "PATCH" and path == "/composite/sobjects":
        records = json.loads(body)["records"]
        activated = tuple(str(r["id"]) for r in records if r.get("Status") == "Activated")
        return ("activate", activated) if activated else None
    return None


class LedgerReader(Protocol):
    """Reads the ledger's committed rows through a connection of its own (not the engine's)."""

    def states(self, column: str, keys: Sequence[str]) -> dict[str, list[tuple[str, str | None]]]:
        """Per key, ``(state, step)`` of every item whose ``column`` holds it."""
        ...


class SqliteReader:
    """A fresh plain ``sqlite3`` connection per read (WAL readers are not blocked by a writer's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def states(self, column: str, keys: Sequence[str]) -> dict[str, list[tuple[str, str | None]]]:
        """Per key, the ``(state, step)`` of its items as committed now."""
        marks = ", ".join("?" * len(keys))
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        try:
            rows = conn.execute(
                f"SELECT {column}, state, step FROM items WHERE {column} IN ({marks})", tuple(keys)
            ).fetchall()
        finally:
            conn.close()
        found: dict[str, list[tuple[str, str | None]]] = {}
        for key, state, step in rows:
            found.setdefault(str(key), []).append((str(state), step))
        return found


class PgReader:
    """One autocommit PostgreSQL session, opened before the outage and spared by it."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(libpq(url), autocommit=True, connect_timeout=5)
        self._lock = threading.Lock()
        self.pid = self._conn.info.backend_pid

    def states(self, column: str, keys: Sequence[str]) -> dict[str, list[tuple[str, str | None]]]:
        """Per key, the ``(state, step)`` of its items as committed now."""
        query = sql.SQL("SELECT {col}, state, step FROM items WHERE {col} = ANY(%s)").format(
            col=sql.Identifier(column)
        )
        with self._lock:
            rows = self._conn.execute(query, (list(keys),)).fetchall()
        found: dict[str, list[tuple[str, str | None]]] = {}
        for key, state, step in rows:
            found.setdefault(str(key), []).append((str(state), step))
        return found

    def close(self) -> None:
        """Close the session."""
        self._conn.close()


@dataclass
class CreatingCall:
    """A creating call as the emulator received it, and the ledger as committed at that moment."""

    step: str
    keys: tuple[str, ...]
    #: Per key, ``(state, step)`` of the ledger items naming it, read when the call arrived.
    seen: dict[str, list[tuple[str, str | None]]]
    error: str | None = None


@dataclass
class Witness:
    """Wraps the emulator's router: records creating calls, reads the ledger, holds one call."""

    reader: LedgerReader
    calls: list[CreatingCall] = field(default_factory=list)
    #: Other writes (method, path, fields written): only shipping-address fills are expected.
    other_writes: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)
    hold_at: tuple[str, int] | None = None
    #: Set when the held call has arrived; the call proceeds once ``release`` is set.
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, emulator: EmulatorHandle) -> None:
        """Put the witness in front of the emulator's router (subrequests of composite go through it too)."""
        original: Callable[[Call, str], Result] = emulator.app.route

        def route(call: Call, rest: str) -> Result:
            self._see(call, rest)
            return original(call, rest)

        emulator.app.route = route  # type: ignore[method-assign]

    def _see(self, call: Call, rest: str) -> None:
        req = call.req
        found = creating_call(req.method, rest, req.body)
        if found is None:
            if req.method in {"POST", "PATCH", "PUT", "DELETE"}:
                try:
                    body = json.loads(req.body or b"{}")
                    records = body.get("records", [body]) if isinstance(body, dict) else body
                    fields = frozenset(k for r in records for k in r if k not in {"attributes", "id"})
                except (ValueError, TypeError, AttributeError):
                    fields = frozenset({"<unreadable body>"})
                with self._lock:
                    self.other_writes.append((req.method, rest, fields))
            return
        step, keys = found
        try:
            seen, error = self.reader.states(KEY_COLUMN[step], keys), None
        except Exception as exc:  # reported by the invariant check, never into the emulator
            seen, error = {}, repr(exc)
        with self._lock:
            self.calls.append(CreatingCall(step, keys, seen, error))
            nth = sum(1 for c in self.calls if c.step == step)
        if self.hold_at == (step, nth):
            self.arrived.set()
            self.release.wait(timeout=30)

    def named(self, step: str) -> Counter[str]:
        """How many creating calls of ``step`` named each key."""
        return Counter(k for c in self.calls if c.step == step for k in c.keys)


def libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during (``__cause__`` or ``__context__``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def first_ledger_error(exc: BaseException) -> LedgerError:
    """The earliest ledger failure ``exc`` was raised during (later ones come from cleanup)."""
    found = [e for e in causes(exc) if isinstance(e, LedgerError)]
    assert found, f"no LedgerError in {causes(exc)}"
    return found[-1]


def frames(exc: BaseException) -> list[str]:
    """The names of the functions ``exc`` went through."""
    return [frame.name for frame in traceback.extract_tb(exc.__traceback__)]


def make_engine(world: World, ledger: Ledger, worker: str, stack: ExitStack) -> Engine:
    """An engine on the world's emulator (as ``World.make_engine``) but on the given ledger."""
    client = SalesforceClient(world.profile, sleep=time.sleep)
    stack.callback(client.close)
    return Engine(
        ledger=ledger,
        sf=client,
        profile=world.profile,
        org_name="emulator",
        clock=SystemClock(),
        sleep=time.sleep,
        tuning=Tuning(
            worker_id=worker,
            lease_s=LEASE_S,
            verify_timeout_s=20.0,
            pricing_timeout_s=20.0,
            poll_start_s=0.05,
            poll_cap_s=0.5,
        ),
    )


@dataclass
class Sweep:
    """A sweep running in a thread, with what it must take and the store as it was before."""

    future: Future[RunResult]
    expected: set[str]
    before: Snapshot


def start_sweep(world: World, ledger: Ledger, stack: ExitStack) -> Sweep:
    """Start the renewal sweep (small batches, so several of each creating call) in a thread."""
    expected = in_window(world.emulator, WINDOW)
    before = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    engine = make_engine(world, ledger, "w1", stack)
    pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="sweep"))
    return Sweep(pool.submit(engine.run_renewals, sweep_job(WINDOW, batch_size=BATCH)), expected, before)


@dataclass
class Outage:
    """What happened around the outage."""

    error: BaseException
    #: Creating calls the emulator had received when the ledger went away.
    calls_at_outage: int
    #: Seconds from the outage (or the held call's release) to the engine's exception.
    stopped_after_s: float
    run_id: str
    expected: set[str]
    before: Snapshot


def outage_during_held_call(
    world: World,
    ledger: Ledger,
    witness: Witness,
    stack: ExitStack,
    *,
    take_away: Callable[[], None],
    bring_back: Callable[[], None],
) -> Outage:
    """Run the sweep until the held call arrives, take the ledger away, let the call go, bring it back."""
    sweep = start_sweep(world, ledger, stack)
    try:
        assert wait_for(lambda: witness.arrived.is_set() or sweep.future.done(), timeout=60), "no held call"
        assert witness.arrived.is_set(), f"the sweep ended before the held call: {sweep.future.result()}"
        take_away()
        calls_at_outage = len(witness.calls)
        released = time.monotonic()
        witness.release.set()
        with pytest.raises(LedgerError) as raised:
            sweep.future.result(timeout=60)
        stopped_after = time.monotonic() - released
    finally:
        witness.release.set()
        bring_back()
    [run] = ledger.runs.find()
    return Outage(raised.value, calls_at_outage, stopped_after, run.id, sweep.expected, sweep.before)


class PgOutage:
    """Closes one PostgreSQL database to new connections and ends its sessions (one spared); reopens it."""

    def __init__(self, pg: PgServer, url: str, spare_pid: int) -> None:
        self.name = make_url(url).database or ""
        self.spare_pid = spare_pid
        self.admin = psycopg.connect(libpq(pg.admin_url), autocommit=True, connect_timeout=5)

    def sessions(self) -> list[int]:
        """The database's sessions other than the spared one."""
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s", (self.name, self.spare_pid)
        ).fetchall()
        return [int(pid) for (pid,) in rows]

    def take_away(self) -> None:
        """``ALLOW_CONNECTIONS false``, then end every other session, waiting until each is gone."""
        database = sql.Identifier(self.name)
        self.admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(database))
        for pid in self.sessions():
            self.admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        assert self.sessions() == []

    def bring_back(self) -> None:
        """``ALLOW_CONNECTIONS true``."""
        database = sql.Identifier(self.name)
        self.admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(database))

    def close(self) -> None:
        """Close the admin session."""
        self.admin.close()


def pg_world(
    world_factory: Callable[..., World], pg: PgServer, stack: ExitStack
) -> tuple[World, Ledger, PgReader, PgOutage]:
    """An org, a fresh PostgreSQL ledger, a reader of it and the means to take it away (``stack`` closes all)."""
    world = world_factory(SEED, config(), **PROFILE)
    url = pg.fresh()
    stack.callback(pg.drop, url)
    ledger = open_ledger(url, clock=SystemClock())
    stack.callback(ledger.close)
    reader = PgReader(url)
    stack.callback(reader.close)
    gone = PgOutage(pg, url, reader.pid)
    stack.callback(gone.close)
    return world, ledger, reader, gone


def assert_intents_committed(witness: Witness, items: Sequence[Item]) -> None:
    """Every key of every creating call had its step's intent committed before the call arrived.

    At arrival (read by the witness's own connection): every ledger item naming the key was in the
    step's intent state, with that step. Read now: no item was named by more creating calls than it
    counts intents (``attempts``, one per committed intent).
    """
    assert witness.calls
    for number, call in enumerate(witness.calls, 1):
        assert call.error is None, f"call {number} ({call.step}): ledger unreadable at arrival: {call.error}"
        for key in call.keys:
            seen = call.seen.get(key)
            assert seen, f"call {number} ({call.step}) names {key}, which no ledger item holds"
            assert set(seen) == {(INTENT_STATE[call.step], call.step)}, (
                f"call {number} ({call.step}) arrived for {key} while the ledger held {seen}"
            )
    named = {step: witness.named(step) for step in INTENT_STATE}
    for item in items:
        calls = sum(named[step][getattr(item, KEY_COLUMN[step])] for step in INTENT_STATE)
        assert calls <= item.attempts, f"{item.asset_id}: {calls} creating calls, {item.attempts} intents"
        if calls:
            assert item.intent_at is not None


def assert_stopped_mid_run(
    outage: Outage, witness: Witness, ledger: Ledger, items: Sequence[Item], held: str
) -> None:
    """The engine stopped with the held call last: nothing sent after it, only its items in intent."""
    assert isinstance(outage.error, LedgerError)
    # It could record nothing once the ledger went: the run still says running.
    run = ledger.runs.get(outage.run_id)
    assert run is not None
    assert run.status == "running"
    # What the operator reads: the run, and how to go on once the ledger is back.
    assert f"sfsync run --resume {outage.run_id}" in str(outage.error)
    # The first ledger failure was the recording of the held call's answer (its outcome is lost).
    first = first_ledger_error(outage.error)
    print(f"first ledger failure in {' > '.join(frames(first)[-6:])}: {first}")
    assert "record_many" in frames(first)
    assert outage.stopped_after_s < 15
    assert len(witness.calls) == outage.calls_at_outage
    last = witness.calls[-1]
    assert last.step == held
    in_intent = {i.asset_id for i in items if i.state in INTENT_STATE.values()}
    named = {i.asset_id for i in items if getattr(i, KEY_COLUMN[held]) in last.keys}
    assert in_intent == named
    assert {i.state for i in items if i.asset_id in named} == {INTENT_STATE[held]}
    assert witness.named("initiate")
    print("creating calls up to the outage:", " ".join(f"{c.step}:{len(c.keys)}" for c in witness.calls))


def resume_and_account(
    world: World, ledger: Ledger, witness: Witness, outage: Outage, stack: ExitStack, title: str
) -> None:
    """Resume the run on the ledger that is back: all verified, one quote/order/activation per asset."""
    started = time.monotonic()
    result = make_engine(world, ledger, "w2", stack).drive(outage.run_id)
    took = time.monotonic() - started
    figs = figures(world.emulator, ledger, [outage.run_id], outage.expected, outage.before)
    figs.report(
        f"{title}: stopped {outage.stopped_after_s:.2f} s after the outage; resumed {result.status} in {took:.1f} s"
    )
    n = len(outage.expected)
    assert result.status == "succeeded", result.message
    assert result.counts == {"verified": n}
    for name, f in figs.steps.items():
        assert (f.attempted, f.ok, f.failed, f.lost, f.duplicated) == (n, n, 0, 0, 0), name
    items = all_items(ledger, outage.run_id)
    assert {i.asset_id for i in items} == outage.expected
    # The call in flight at the outage was reconciled, not sent again: one call per asset/quote/order.
    assert set(witness.named("initiate")) == outage.expected
    assert set(witness.named("initiate").values()) == {1}
    assert set(witness.named("order")) == {i.quote_id for i in items}
    assert set(witness.named("order").values()) == {1}
    assert set(witness.named("activate")) == {i.order_id for i in items}
    assert set(witness.named("activate").values()) == {1}
    assert all(fields <= SHIPPING for _m, _p, fields in witness.other_writes), witness.other_writes
    assert_intents_committed(witness, items)


def test_sqlite_locked_mid_run(world_factory: Callable[..., World], tmp_path: Path) -> None:
    """SQLite ledger locked while an initiate call is in flight: LedgerError, no call after, resume verifies."""
    world = world_factory(SEED, config(), **PROFILE)
    path = tmp_path / "ledger-gone.db"
    ledger = open_ledger(f"sqlite:///{path}", clock=SystemClock(), busy_timeout_s=0.5)
    witness = Witness(SqliteReader(path), hold_at=("initiate", 2))
    witness.install(world.emulator)
    locker: list[sqlite3.Connection] = []

    def take_away() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        conn.execute("BEGIN EXCLUSIVE")
        locker.append(conn)

    def bring_back() -> None:
        for conn in locker:
            conn.execute("ROLLBACK")
            conn.close()
        locker.clear()

    with ExitStack() as stack:
        stack.callback(ledger.close)
        stack.callback(bring_back)
        outage = outage_during_held_call(
            world, ledger, witness, stack, take_away=take_away, bring_back=bring_back
        )
        print(f"SQLite locked: {type(outage.error).__name__}: {outage.error}")
        assert "database is locked" in str(outage.error)
        items = all_items(ledger, outage.run_id)
        assert_intents_committed(witness, items)
        assert_stopped_mid_run(outage, witness, ledger, items, "initiate")
        # Mid-run: some assets were initiated before the outage, others not yet.
        assert set(witness.named("initiate")) < outage.expected
        resume_and_account(world, ledger, witness, outage, stack, "SQLite locked mid-initiate, resumed")


@pytest.mark.postgres
def test_postgres_gone_mid_run(world_factory: Callable[..., World], pg: PgServer) -> None:
    """PostgreSQL ledger closed to connections while an order call is in flight: LedgerError, resume verifies."""
    with ExitStack() as stack:
        world, ledger, reader, gone = pg_world(world_factory, pg, stack)
        witness = Witness(reader, hold_at=("order", 2))
        witness.install(world.emulator)
        outage = outage_during_held_call(
            world, ledger, witness, stack, take_away=gone.take_away, bring_back=gone.bring_back
        )
        print(f"PostgreSQL gone: {type(outage.error).__name__}: {outage.error}")
        assert "is not currently accepting connections" in str(outage.error)
        items = all_items(ledger, outage.run_id)
        assert_intents_committed(witness, items)
        assert_stopped_mid_run(outage, witness, ledger, items, "order")
        # Orders were made before the outage for some quotes, not yet for others.
        assert 0 < sum(1 for i in items if i.order_id) < len(items)
        resume_and_account(world, ledger, witness, outage, stack, "PostgreSQL gone mid-order, resumed")


@pytest.mark.postgres
def test_postgres_gone_while_an_intent_commits(world_factory: Callable[..., World], pg: PgServer) -> None:
    """PostgreSQL goes away just before the 2nd initiate intent's COMMIT: intent lost, its call never sent."""
    with ExitStack() as stack:
        world, ledger, reader, gone = pg_world(world_factory, pg, stack)
        witness = Witness(reader)
        witness.install(world.emulator)
        intents: list[int] = []  # creating calls received when each initiate intent was written
        taken: list[float] = []

        def spot(conn: Connection, _cur: object, statement: str, params: object, *_: object) -> None:
            # The UPDATE of Claims.mark_intent for an initiate batch: one executemany, a row per item.
            first_row = params[0] if isinstance(params, list) and params else ()
            if (
                statement.startswith("UPDATE items SET")
                and "intent_at = " in statement
                and isinstance(first_row, tuple)
                and "initiating" in first_row
            ):
                intents.append(len(witness.calls))
                if len(intents) == 2:
                    conn.info["doomed"] = True

        def doom(conn: Connection) -> None:
            # Runs on the engine's thread just before the DBAPI COMMIT of that transaction.
            if conn.info.pop("doomed", False):
                gone.take_away()
                taken.append(time.monotonic())

        event.listen(ledger.engine, "before_cursor_execute", spot)
        event.listen(ledger.engine, "commit", doom)
        sweep = start_sweep(world, ledger, stack)
        try:
            with pytest.raises(LedgerError) as raised:
                sweep.future.result(timeout=60)
            stopped_after = time.monotonic() - taken[0]
        finally:
            gone.bring_back()
            event.remove(ledger.engine, "commit", doom)
            event.remove(ledger.engine, "before_cursor_execute", spot)
        print(f"PostgreSQL gone at an intent's commit: {type(raised.value).__name__}: {raised.value}")
        [run] = ledger.runs.find()
        items = all_items(ledger, run.id)
        assert_intents_committed(witness, items)
        # The first failure is the intent's own COMMIT (Claims.mark_intent); releasing the org slot
        # on the way out then failed too (no new connection allowed), which is what surfaces.
        assert f"sfsync run --resume {run.id}" in str(raised.value)
        first = first_ledger_error(raised.value)
        assert "terminating connection due to administrator command" in str(first)
        assert {"_intent", "mark_intent"} <= set(frames(first))
        assert len(intents) == 2
        assert run.status == "running"
        # The claim of the doomed batch committed, its intent did not: the items are still selected,
        # leased by the stopped worker, with no attempt counted, and no call was made for them.
        doomed = [i for i in items if i.state == "selected" and i.lease_owner == "w1"]
        assert 0 < len(doomed) <= BATCH
        assert all(i.attempts == 0 and i.intent_at is None for i in doomed)
        assert len(witness.calls) == intents[1]
        assert not {i.asset_id for i in doomed} & set(witness.named("initiate"))
        assert not [i for i in items if i.state in INTENT_STATE.values()]
        initiated = set(witness.named("initiate"))
        assert initiated
        assert initiated < sweep.expected
        print("creating calls up to the outage:", " ".join(f"{c.step}:{len(c.keys)}" for c in witness.calls))
        assert stopped_after < 15
        outage = Outage(raised.value, intents[1], stopped_after, run.id, sweep.expected, sweep.before)
        resume_and_account(
            world, ledger, witness, outage, stack, "PostgreSQL gone at an intent's COMMIT, resumed"
        )
