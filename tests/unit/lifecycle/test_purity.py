"""The lifecycle rules stay pure: no upper-layer imports, no clock reads, no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sfsync.lifecycle

PACKAGE = Path(sfsync.lifecycle.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN_IMPORTS = ("sfsync.salesforce", "sfsync.engine", "sfsync.ledger", "sfsync.emulator", "sfsync.web")
FORBIDDEN_CALLS = {"now", "today", "utcnow", "time", "monotonic", "open", "sleep"}


def imported(tree: ast.AST) -> set[str]:
    """Every module name a tree imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def called(tree: ast.AST) -> set[str]:
    """Every function or method name a tree calls."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_there_are_modules_to_check() -> None:
    """The scan sees the package's modules."""
    assert {path.name for path in MODULES} >= {"terms.py", "cancellation.py", "verify.py", "model.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_is_pure(path: Path) -> None:
    """A lifecycle module imports no upper layer and calls no clock, sleep or open."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad_imports = {name for name in imported(tree) if name.startswith(FORBIDDEN_IMPORTS)}
    assert bad_imports == set()
    assert called(tree) & FORBIDDEN_CALLS == set()
