"""Savepoints of the store's re-entrant transactions, opened only when something is written.

A transaction level needs a savepoint only if something is written inside it, and levels entered
one inside the other with nothing written in between start from the same state, so one savepoint
serves them all (a collections request opens a level per record, and an update with triggers opens
another at once). So entering a level runs no SQL: the first write opens one savepoint for every
level entered since the previous write, and a level that wrote nothing has nothing to release or
roll back. The outermost savepoint begins the transaction, and releasing it commits.
"""

from __future__ import annotations

import sqlite3


class Levels:
    """The stack of open transaction levels of one connection (callers hold the store's lock)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        #: Per level, outermost first: the savepoint it rolls back to, None until something is written.
        self._marks: list[str | None] = []

    @property
    def depth(self) -> int:
        """How many levels are open."""
        return len(self._marks)

    def enter(self) -> None:
        """Open a level (no SQL yet)."""
        self._marks.append(None)

    def before_write(self) -> None:
        """Give every level entered since the last write one savepoint, before the next write."""
        marks = self._marks
        if not marks or marks[-1] is not None:
            return
        first = len(marks) - 1
        while first and marks[first - 1] is None:
            first -= 1
        name = f"sp{first}"
        self._conn.execute(f"SAVEPOINT {name}")
        marks[first:] = [name] * (len(marks) - first)

    def leave(self, *, ok: bool) -> None:
        """Close the innermost level: keep its writes (``ok``) or undo them."""
        name = self._marks.pop()
        if name is None:
            return  # nothing was written inside it
        if not ok:
            self._conn.execute(f"ROLLBACK TO {name}")
        if not self._marks or self._marks[-1] != name:  # its own savepoint, not its parent's
            self._conn.execute(f"RELEASE {name}")
