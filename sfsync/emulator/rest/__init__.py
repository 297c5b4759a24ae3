"""The REST API under ``/services/data/vXX.X/``: resources, describe, CRUD, collections,
composite, query and invocable actions. Handlers return :class:`~.common.Result` values; the app
turns them into HTTP answers (and composite reuses them for subrequests)."""

from __future__ import annotations
