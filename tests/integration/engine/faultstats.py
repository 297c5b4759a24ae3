"""Fault-test figures taken from the emulator's store and request log, not from sfsync's own view.

``figures(...)`` returns, per step, ``attempted / ok / failed / lost / duplicated / recovered``:

- ``initiate``: renewal/cancellation quotes (``QuoteAction`` rows, or ``OrderAction`` rows for
  output = order) made for each expected asset since the snapshot; ``order``: orders per quote;
  ``activate``: activated orders and the ``AssetAction`` rows of the run's category per asset;
  ``verify``: ledger items verified whose asset shows exactly one new action in the store.
- ``attempted``: assets that reached the step (had the previous step's record in the store).
- ``failed``: attempted assets without the step's record whose ledger item failed *with a code*.
- ``lost``: attempted assets with neither the record nor a recorded failure (must be 0).
- ``duplicated``: records beyond the first per asset (must be 0).
- ``recovered``: answers the emulator dropped or held on the step's calls (request log faults
  ``lose_answer``/``hold_answer``, counted in inputs) whose assets still ended with exactly one record.
``calls`` counts the request log per kind of call; ``report`` prints one line per step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sfsync.emulator.harness import EmulatorHandle
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import Item

STEPS = ("initiate", "order", "activate", "verify")
LOST_FAULTS = frozenset({"lose_answer", "hold_answer"})


@dataclass
class StepFigures:
    """One step's accounting."""

    attempted: int = 0
    ok: int = 0
    failed: int = 0
    lost: int = 0
    duplicated: int = 0
    recovered: int = 0


@dataclass
class Figures:
    """Every step's figures, the request-log call counts and the faults the emulator injected."""

    steps: dict[str, StepFigures] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    #: Assets that are not plainly ok at a step: "step asset: what was seen".
    problems: list[str] = field(default_factory=list)

    def report(self, title: str) -> str:
        """A printable table (``pytest -s`` shows it)."""
        lines = [f"== {title}", "step      attempted  ok  failed  lost  duplicated  recovered"]
        for name, f in self.steps.items():
            lines.append(
                f"{name:<9} {f.attempted:>9} {f.ok:>3} {f.failed:>7} {f.lost:>5} {f.duplicated:>11} "
                f"{f.recovered:>10}"
            )
        lines.append("calls: " + ", ".join(f"{k}={v}" for k, v in sorted(self.calls.items())))
        lines.extend(f"  ! {p}" for p in self.problems[:20])
        lines.append("faults: " + (", ".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "none"))
        text = "\n".join(lines)
        print(text)
        return text

    def total(self, what: str) -> int:
        """The sum of one figure over every step."""
        return sum(getattr(f, what) for f in self.steps.values())


def call_kind(method: str, path: str, action: str | None) -> str:
    """What a logged request was, for counting."""
    if "/oauth2/" in path:
        return "token"
    if action:
        return action
    if "/query" in path:
        return "query"
    return f"{method} {path.rsplit('/services/data/', 1)[-1].split('/', 1)[-1]}"


@dataclass
class Snapshot:
    """IDs of the store's creating records before a run (so that only new ones are counted)."""

    ids: dict[str, set[str]]

    @classmethod
    def take(cls, emulator: EmulatorHandle) -> Snapshot:
        """Remember what exists now."""
        store = emulator.org.store
        return cls(
            {
                sobject: {str(r["Id"]) for r in store.find(sobject)}
                for sobject in ("QuoteAction", "OrderAction", "Order", "AssetAction")
            }
        )

    def new(self, emulator: EmulatorHandle, sobject: str, **where: object) -> list[dict[str, object]]:
        """Rows of ``sobject`` matching ``where`` made since the snapshot."""
        rows = emulator.org.store.find(sobject, **where)
        return [r for r in rows if str(r["Id"]) not in self.ids.get(sobject, set())]


def figures(
    emulator: EmulatorHandle,
    ledger: Ledger,
    run_ids: Iterable[str],
    assets: Iterable[str],
    before: Snapshot,
    *,
    kind: str = "renewal",
    output: str = "quote",
) -> Figures:
    """Account for every expected asset of the run(s) through every creating step."""
    action_type = "Renew" if kind == "renewal" else "Cancel"
    category = "Renewals" if kind == "renewal" else "Cancellations"
    items = {i.asset_id: i for run_id in run_ids for i in all_items(ledger, run_id)}
    failed_with_code = {a for a, i in items.items() if i.sf_error_code}
    result = Figures()
    for entry in emulator.admin.requests():
        result.calls[call_kind(entry.method, entry.path, entry.action)] += 1
        if entry.fault:
            result.faults[f"{entry.fault}:{call_kind(entry.method, entry.path, entry.action)}"] += max(
                entry.records, 1
            )
    steps = {name: StepFigures() for name in STEPS}
    reached = set(assets)
    orders_of: dict[str, list[str]] = {}
    for asset in sorted(reached):
        if output == "order":
            made = [
                str(r["OrderId"])
                for r in before.new(emulator, "OrderAction", SourceAssetId=asset, Type=action_type)
            ]
        else:
            made = [
                str(r["QuoteId"])
                for r in before.new(emulator, "QuoteAction", SourceAssetId=asset, Type=action_type)
            ]
        _tally(steps["initiate"], asset, len(made), failed_with_code)
        if output == "order":
            orders_of[asset] = made
        elif made:
            orders = [str(r["Id"]) for r in before.new(emulator, "Order", QuoteId=made[0])]
            _tally(steps["order"], asset, len(orders), failed_with_code)
            orders_of[asset] = orders
    for asset, orders in orders_of.items():
        if not orders:
            continue
        activated = [o for o in orders if emulator.org.store.get("Order", o)["Status"] == "Activated"]
        actions = [
            a for a in before.new(emulator, "AssetAction", AssetId=asset) if a.get("CategoryEnum") == category
        ]
        # An activation counts once per asset; a second AssetAction of the category is a duplicate.
        _tally(steps["activate"], asset, max(len(actions), min(len(activated), 1)), failed_with_code)
        if len(actions) > 1 or len(orders) > 1:
            result.problems.append(
                f"{asset}: orders {orders}, {category} actions {[a['Id'] for a in actions]}"
            )
        if activated:
            item = items.get(asset)
            verified = item is not None and item.state == "verified" and len(actions) == 1
            if not verified:
                state = item.state if item else "no item"
                result.problems.append(f"verify {asset}: ledger {state}, {len(actions)} {category} action(s)")
            _tally(steps["verify"], asset, int(verified), failed_with_code)
    if output == "order":
        del steps["order"]
    lost_inputs = Counter(
        {k.split(":", 1)[1]: v for k, v in result.faults.items() if k.split(":", 1)[0] in LOST_FAULTS}
    )
    for name, figs in steps.items():
        injected = sum(v for k, v in lost_inputs.items() if _step_of(k) == name)
        if injected:
            figs.recovered = max(0, injected - figs.lost - figs.duplicated - figs.failed)
    result.steps = steps
    return result


def all_items(ledger: Ledger, run_id: str) -> list[Item]:
    """Every item of a run (the ledger pages them)."""
    found: list[Item] = []
    after: int | None = None
    while True:
        page = ledger.items.find(run_id, limit=1000, after_id=after)
        found.extend(page)
        if len(page) < 1000:
            return found
        after = page[-1].id


def _step_of(kind: str) -> str:
    if kind.startswith("initiate"):
        return "initiate"
    if kind.startswith("createOrder"):
        return "order"
    return "activate" if kind.startswith("PATCH") else kind


def _tally(figs: StepFigures, asset: str, made: int, failed_with_code: set[str]) -> None:
    figs.attempted += 1
    if made >= 1:
        figs.ok += 1
        figs.duplicated += made - 1
    elif asset in failed_with_code:
        figs.failed += 1
    else:
        figs.lost += 1
