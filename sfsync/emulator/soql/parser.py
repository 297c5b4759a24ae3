"""Text → :mod:`~sfsync.emulator.soql.ast`, with Salesforce-style MALFORMED_QUERY messages.

String escapes follow SOQL: ``\\' \\" \\\\ \\n \\r \\t \\b \\f \\uXXXX``, plus ``\\%`` and ``\\_``
which stay escaped in LIKE patterns. Anything the grammar does not cover is refused, never guessed.

Clients send ``IN`` lists of hundreds of IDs, which lark parses at tens of microseconds a literal;
long lists of plain strings are therefore cut out before lark sees the text (:func:`_swap_lists`),
and any query that then fails is parsed again whole, so errors read exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from sfsync.emulator.codec import BadValue, parse_datetime
from sfsync.emulator.errors import ApiError, malformed_query
from sfsync.emulator.soql import ast

#: IN lists with at least this many literals take the fast path (shorter ones cost lark little).
_LONG_LIST = 8
# A string literal (matched whole, so that nothing inside one is taken for a list), or a long IN
# list of plain strings: no escapes and no line breaks, so that swapping it for one literal of the
# same length leaves every later token on the same line and column.
_STRING_OR_LIST = re.compile(
    r"'(?:\\.|[^'\\])*'"
    rf"|\([ \t]*'[^'\\\n]*'(?:[ \t]*,[ \t]*'[^'\\\n]*'){{{_LONG_LIST - 1},}}[ \t]*\)"
)
_PLAIN_STRING = re.compile(r"'([^'\\\n]*)'")
#: Fills the placeholder literals; a query containing it takes the slow path.
_MARK = "\x00"

_SIMPLE_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("sfsync.emulator.soql").joinpath("soql.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True)


class _SyntaxProblem(ValueError):
    pass


def decode_string(token: str) -> ast.StringLit:
    """Decode a quoted SOQL string literal into its value and its LIKE-pattern form."""
    body = token[1:-1]
    if "\\" not in body:  # nothing to decode (IDs, names): the loop below would copy it as it is
        return ast.StringLit(value=body, like=body)
    value: list[str] = []
    like: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            value.append(char)
            like.append("\\" + char if char == "\\" else char)
            i += 1
            continue
        if i + 1 >= len(body):
            msg = "Invalid string literal: a backslash ends it"
            raise _SyntaxProblem(msg)
        esc = body[i + 1]
        if esc in _SIMPLE_ESCAPES:
            decoded = _SIMPLE_ESCAPES[esc]
            value.append(decoded)
            like.append("\\\\" if decoded == "\\" else decoded)
            i += 2
        elif esc in "%_":
            value.append(esc)
            like.append("\\" + esc)
            i += 2
        elif esc == "u" and len(body) >= i + 6:
            try:
                decoded = chr(int(body[i + 2 : i + 6], 16))
            except ValueError as exc:
                msg = f"Invalid unicode escape: {body[i : i + 6]}"
                raise _SyntaxProblem(msg) from exc
            value.append(decoded)
            like.append("\\\\" if decoded == "\\" else decoded)
            i += 6
        else:
            msg = f"Invalid string literal: illegal escape sequence \\{esc}"
            raise _SyntaxProblem(msg)
    return ast.StringLit(value="".join(value), like="".join(like))


@v_args(inline=True)
class _ToAst(Transformer[Token, ast.Query]):
    def __init__(self, lists: Mapping[str, tuple[ast.StringLit, ...]] | None = None) -> None:
        super().__init__()
        self._lists = lists or {}

    def _values(self, values: tuple[ast.Literal, ...]) -> tuple[ast.Literal, ...]:
        """An IN list's values, with a placeholder from :func:`_swap_lists` put back."""
        if len(values) == 1 and isinstance(values[0], ast.StringLit) and values[0].value in self._lists:
            return self._lists[values[0].value]
        return values

    def start(self, query: ast.Query) -> ast.Query:
        return query

    def path(self, *names: Token) -> ast.Path:
        return ast.Path(tuple(str(n) for n in names), column=names[0].column or 0)

    def count_star(self, _count: Token) -> ast.CountStar:
        return ast.CountStar()

    def select_list(self, *items: ast.Path | ast.CountStar) -> tuple[ast.Path | ast.CountStar, ...]:
        if any(isinstance(i, ast.CountStar) for i in items) and len(items) > 1:
            msg = "COUNT() must be the only element in the SELECT list"
            raise _SyntaxProblem(msg)
        return items

    def string(self, tok: Token) -> ast.StringLit:
        return decode_string(str(tok))

    def number(self, tok: Token) -> ast.NumberLit:
        return ast.NumberLit(float(tok))

    def datetime(self, tok: Token) -> ast.DateTimeLit:
        try:
            return ast.DateTimeLit(parse_datetime(str(tok)))
        except BadValue as exc:
            raise _SyntaxProblem(str(exc)) from exc

    def date(self, tok: Token) -> ast.DateLit:
        from datetime import date

        try:
            return ast.DateLit(date.fromisoformat(str(tok)))
        except ValueError as exc:
            msg = f"line 1:{tok.column} Invalid date: {tok}"
            raise _SyntaxProblem(msg) from exc

    def reldate(self, tok: Token) -> ast.RelativeDate:
        name, _, n = str(tok).upper().partition(":")
        return ast.RelativeDate(name, int(n) if n else 0)

    def null(self, _tok: Token) -> ast.NullLit:
        return ast.NullLit()

    def true(self, _tok: Token) -> ast.BoolLit:
        return ast.BoolLit(True)

    def false(self, _tok: Token) -> ast.BoolLit:
        return ast.BoolLit(False)

    def compare(self, path: ast.Path, op: Token, value: ast.Literal) -> ast.Compare:
        return ast.Compare(path, "!=" if str(op) == "<>" else str(op), value)

    def like(self, path: ast.Path, _kw: Token, value: ast.Literal) -> ast.Like:
        if not isinstance(value, ast.StringLit):
            msg = "LIKE needs a quoted string pattern"
            raise _SyntaxProblem(msg)
        return ast.Like(path, value)

    def in_list(self, path: ast.Path, _kw: Token, *values: ast.Literal) -> ast.InList:
        return ast.InList(path, self._values(values))

    def not_in_list(self, path: ast.Path, _not: Token, _kw: Token, *values: ast.Literal) -> ast.InList:
        return ast.InList(path, self._values(values), negated=True)

    def in_sub(self, path: ast.Path, _kw: Token, sub: ast.SubQuery) -> ast.SemiJoin:
        return ast.SemiJoin(path, sub)

    def not_in_sub(self, path: ast.Path, _not: Token, _kw: Token, sub: ast.SubQuery) -> ast.SemiJoin:
        return ast.SemiJoin(path, sub, negated=True)

    def not_(self, _kw: Token, cond: ast.Cond) -> ast.Not:
        return ast.Not(cond)

    def group(self, cond: ast.Cond) -> ast.Cond:
        return cond

    def cond(self, first: ast.Cond, *rest: Token | ast.Cond) -> ast.Cond:
        if not rest:
            return first
        ops = {str(tok).upper() for tok in rest[0::2]}
        operands = (first, *(c for c in rest[1::2] if not isinstance(c, Token)))
        if len(ops) > 1:
            msg = "unexpected token: 'OR' (use parentheses to mix AND and OR)"
            raise _SyntaxProblem(msg)
        return ast.And(operands) if ops == {"AND"} else ast.Or(operands)

    def where_clause(self, _kw: Token, cond: ast.Cond) -> ast.Cond:
        return cond

    def nulls(self, _kw: Token, which: Token) -> bool:
        return str(which).upper() == "FIRST"

    def order_item(self, path: ast.Path, *rest: Token | bool) -> ast.OrderItem:
        descending = any(isinstance(r, Token) and str(r).upper() == "DESC" for r in rest)
        nulls = next((r for r in rest if isinstance(r, bool)), None)
        return ast.OrderItem(path, descending, nulls)

    def order_clause(self, _o: Token, _b: Token, *items: ast.OrderItem) -> tuple[ast.OrderItem, ...]:
        return items

    def limit_clause(self, _kw: Token, n: Token) -> tuple[str, int]:
        return ("limit", int(n))

    def offset_clause(self, _kw: Token, n: Token) -> tuple[str, int]:
        return ("offset", int(n))

    def subquery(self, _s: Token, field: ast.Path, _f: Token, name: Token, *where: ast.Cond) -> ast.SubQuery:
        return ast.SubQuery(field, str(name), where[0] if where else None)

    def query(self, _s: Token, select: tuple[ast.Path | ast.CountStar, ...], _f: Token, name: Token,
              *clauses: object) -> ast.Query:  # fmt: skip
        where: ast.Cond | None = None
        order: tuple[ast.OrderItem, ...] = ()
        limit = offset = None
        for clause in clauses:
            if isinstance(clause, tuple) and clause and isinstance(clause[0], ast.OrderItem):
                order = clause
            elif isinstance(clause, tuple) and clause and clause[0] == "limit":
                limit = int(clause[1])
            elif isinstance(clause, tuple) and clause and clause[0] == "offset":
                offset = int(clause[1])
            else:
                where = clause  # type: ignore[assignment]
        return ast.Query(select, str(name), where, order, limit, offset)


def _caret_message(text: str, column: int, problem: str) -> str:
    line = text.replace("\n", " ")
    return f"{line}\n{' ' * max(column - 1, 0)}^\nERROR at Row:1:Column:{column}\n{problem}"


def _swap_lists(text: str) -> tuple[str, dict[str, tuple[ast.StringLit, ...]]]:
    """The text with each long IN list of plain strings swapped for one placeholder literal.

    A placeholder is unique (numbered, between ``_MARK``\\ s) and padded with spaces to the length
    of the list it replaces; the map gives each placeholder's literals. ``('x')`` parses only as an
    IN list, so a query that parses after the swap parses before it too, to the same tree but for
    the lists.
    """
    lists: dict[str, tuple[ast.StringLit, ...]] = {}
    pieces: list[str] = []
    done = 0
    for found in _STRING_OR_LIST.finditer(text):
        if not found.group().startswith("("):
            continue  # a string literal, left alone
        key = f"{_MARK}{len(lists)}{_MARK}"
        lists[key] = tuple(ast.StringLit(v, v) for v in _PLAIN_STRING.findall(found.group()))
        pieces += [text[done : found.start()], f"('{key}')".ljust(found.end() - found.start())]
        done = found.end()
    return "".join([*pieces, text[done:]]), lists


def parse(text: str) -> ast.Query:
    """Parse one SOQL query; raises ApiError MALFORMED_QUERY with a caret message."""
    if not text or not text.strip():
        msg = "The query is empty"
        raise malformed_query(msg)
    if _MARK not in text:
        swapped, lists = _swap_lists(text)
        if lists:
            try:
                return _ToAst(lists).transform(_parser().parse(swapped))
            except LarkError:
                pass  # refused: the whole text is parsed below, for the error it has always given
    try:
        tree = _parser().parse(text)
        return _ToAst().transform(tree)
    except UnexpectedEOF as exc:
        raise malformed_query(_caret_message(text, len(text) + 1, "unexpected end of query")) from exc
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        problem = f"unexpected token: '{text[pos : pos + 1]}'"
        raise malformed_query(_caret_message(text, exc.column, problem)) from exc
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        shown = "end of query" if token is None or token.type == "$END" else f"'{token}'"
        raise malformed_query(_caret_message(text, exc.column, f"unexpected token: {shown}")) from exc
    except VisitError as exc:
        if isinstance(exc.orig_exc, ApiError):
            raise exc.orig_exc from exc
        if isinstance(exc.orig_exc, _SyntaxProblem):
            raise malformed_query(str(exc.orig_exc)) from exc
        raise
    except LarkError as exc:
        msg = f"unable to parse the query: {exc}"
        raise malformed_query(msg) from exc
