"""Scale-out fixtures: a fresh PostgreSQL database, an emulated org served from the test process,
and worker processes on both (see ``cluster.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sfsync.clock import SystemClock
from sfsync.emulator.harness import running_emulator
from sfsync.ledger.ledger import Ledger, open_ledger
from tests.dbfixtures import PgServer, pg
from tests.integration.engine.conftest import fast_config
from tests.integration.scale.cluster import Cluster

__all__ = ["cluster_factory", "pg"]


@pytest.fixture
def cluster_factory(pg: PgServer, tmp_path: Path) -> Iterator[Callable[..., tuple[Cluster, Ledger]]]:
    """Build a cluster on demand (seed size and knobs per test); workers killed, database dropped after."""
    closers: list[Callable[[], None]] = []

    def build(assets: int, *, latency_ms: int = 0, **knobs: object) -> tuple[Cluster, Ledger]:
        url = pg.fresh()
        closers.append(lambda: pg.drop(url))
        # The synthetic accounts carry only a city and a country; the emulator's activation rule wants
        # all four shipping fields, which is not what these tests are about.
        config = fast_config(latency_ms=latency_ms, enforce_shipping_address=False)
        context = running_emulator(config, seed=f"synthetic:{assets}")
        handle = context.__enter__()
        closers.append(lambda: context.__exit__(None, None, None))
        book = open_ledger(url, clock=SystemClock())
        closers.append(book.close)
        cluster = Cluster(tmp_path / f"cluster-{len(closers)}", handle, url, **knobs)  # type: ignore[arg-type]
        closers.append(cluster.close)
        return cluster, book

    yield build
    for close in reversed(closers):
        close()
