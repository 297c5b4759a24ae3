"""Several ``sfsync`` worker processes on one PostgreSQL ledger and one emulated org (issue 7).

The emulator runs in the test process (its store and request log are the witnesses); each worker is a
real ``python -m sfsync run …`` process reaching it over HTTPS with the client-credentials flow, the
way separate machines would. ``bench/scale.py`` uses the same helpers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sfsync.emulator.harness import EmulatorHandle, wait_for
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import Run

ROOT = Path(__file__).resolve().parents[3]
JOB = "scale-sweep"


@dataclass
class Cluster:
    """Config, job and environment shared by the worker processes of one test."""

    workdir: Path
    emulator: EmulatorHandle
    ledger_url: str
    lease_s: float = 5.0
    max_concurrency: int = 4
    read_timeout_s: float = 4.0
    max_retries: int = 1
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.config_for(self.ledger_url, "sfsync")
        self.job = self.workdir / f"{JOB}.toml"
        self.job.write_text(
            """kind = "renewal"
org = "shared"

[selection]
window_days = 366

[limits]
max_assets = 10000
batch_size = 200
"""
        )

    def config_for(self, ledger_url: str, name: str) -> Path:
        """Write a settings file reaching the ledger at ``ledger_url`` (e.g. through a proxy)."""
        path = self.workdir / f"{name}.toml"
        # Short timeouts keep a killed worker's intent leases (renewed past the client's worst case)
        # to seconds, so the survivors take its items over within the test's time.
        path.write_text(
            f"""default_org = "shared"

[ledger]
url = "{ledger_url}"
lease_s = {self.lease_s}
claim_batch = 200

[logging]
level = "WARNING"
format = "json"

[worker]
verify_timeout_s = 120
pricing_timeout_s = 120

[orgs.shared]
auth = "client_credentials"
login_host = "{self.emulator.login_url}"
client_id = "{self.emulator.client_id}"
ca_bundle = "{self.emulator.ca_path}"
max_concurrency = {self.max_concurrency}
connect_timeout_s = 2
read_timeout_s = {self.read_timeout_s}
max_retries = {self.max_retries}
backoff_cap_s = 0.2
"""
        )
        return path

    def env(self, config: Path | None = None) -> dict[str, str]:
        """The worker environment: the secret comes from a variable, never from the file."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
        env["SFSYNC_CONFIG"] = str(config or self.config)
        env["SFSYNC_ORGS__SHARED__CLIENT_SECRET"] = self.emulator.client_secret
        return env

    def start(self, *args: str, name: str, config: Path | None = None) -> subprocess.Popen[bytes]:
        """Start ``python -m sfsync <args>`` with its output in ``<workdir>/<name>.out|err``."""
        out = (self.workdir / f"{name}.out").open("wb")
        err = (self.workdir / f"{name}.err").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "sfsync", "--json", *args],
            cwd=ROOT,
            env=self.env(config),
            stdout=out,
            stderr=err,
        )
        out.close()
        err.close()
        self.procs.append(proc)
        return proc

    def start_creator(self, name: str = "w0", config: Path | None = None) -> subprocess.Popen[bytes]:
        """A worker that creates the sweep's run, selects it and drives it."""
        return self.start("run", str(self.job), name=name, config=config)

    def start_joiner(self, run_id: str, name: str, config: Path | None = None) -> subprocess.Popen[bytes]:
        """A worker that joins the run (waiting for its selection) and drives it."""
        return self.start("run", "--join", run_id, name=name, config=config)

    def stderr(self, name: str) -> str:
        """What a worker wrote on stderr (its logs)."""
        return (self.workdir / f"{name}.err").read_text(errors="replace")

    def close(self) -> None:
        """Kill whatever is still running (a failed test must not leave workers behind)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)


def the_run(ledger: Ledger, timeout: float = 60.0) -> Run:
    """The sweep's run once a worker created it."""
    found: list[Run] = []

    def created() -> bool:
        found[:] = ledger.runs.find(job=JOB, limit=5)
        return bool(found)

    assert wait_for(created, timeout), "no worker created the run"
    return found[0]


def wait_all(procs: Iterable[subprocess.Popen[bytes]], timeout: float) -> list[int]:
    """Exit codes of the processes, waiting at most ``timeout`` seconds for all of them."""
    deadline = time.monotonic() + timeout
    codes = []
    for proc in procs:
        codes.append(proc.wait(timeout=max(deadline - time.monotonic(), 0.1)))
    return codes


@dataclass
class Effects:
    """What the org shows per asset: renewal quotes, orders of those quotes, activated orders."""

    quotes: Counter[str]
    orders: Counter[str]
    activated: Counter[str]
    renew_actions: Counter[str]
    calls: Counter[str]

    def duplicated(self) -> int:
        """Records beyond the first per asset, over every step."""
        return sum(
            max(n - 1, 0)
            for counter in (self.quotes, self.orders, self.activated, self.renew_actions)
            for n in counter.values()
        )


def effects(emulator: EmulatorHandle) -> Effects:
    """Count, from the emulator's own store and request log, what was made for each asset."""
    store = emulator.org.store
    quotes_of: dict[str, list[str]] = {}
    for action in store.find("QuoteAction", Type="Renew"):
        quotes_of.setdefault(str(action["SourceAssetId"]), []).append(str(action["QuoteId"]))
    orders_of_quote: dict[str, list[dict[str, object]]] = {}
    for order in store.find("Order"):
        if order.get("QuoteId"):
            orders_of_quote.setdefault(str(order["QuoteId"]), []).append(order)
    quotes: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    activated: Counter[str] = Counter()
    for asset, quote_ids in quotes_of.items():
        quotes[asset] = len(quote_ids)
        made = [order for quote in quote_ids for order in orders_of_quote.get(quote, [])]
        orders[asset] = len(made)
        activated[asset] = sum(1 for order in made if order.get("Status") == "Activated")
    renew_actions: Counter[str] = Counter(
        str(a["AssetId"]) for a in store.find("AssetAction") if a.get("CategoryEnum") == "Renewals"
    )
    calls: Counter[str] = Counter(
        e.action or ("read" if e.method == "GET" else f"{e.method} {e.path.rsplit('/', 1)[-1]}")
        for e in emulator.admin.requests()
    )
    return Effects(quotes, orders, activated, renew_actions, calls)
