"""SOQL for the emulator: a lark grammar, a typed AST, a compiler to SQLite and a Python evaluator.

``parse`` gives the AST; ``compiler`` turns it into parameterised SQL over the store's tables;
``evaluate`` gives the same answers in plain Python (the property tests compare the two).
"""

from __future__ import annotations
