"""SOQL parser: escapes, hostile literals, clauses and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sfsync.emulator.errors import ApiError
from sfsync.emulator.soql import ast
from sfsync.emulator.soql.parser import decode_string, parse


def _where(text: str) -> ast.Cond:
    query = parse(text)
    assert query.where is not None
    return query.where


def test_select_fields_relationships_and_clauses() -> None:
    """A full query parses into the expected AST."""
    q = parse(
        "select Id, Account.Name, AssetAction.Asset.Name FROM Asset WHERE Name = 'x' "
        "ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5"
    )
    assert [p.parts for p in q.select if isinstance(p, ast.Path)] == [
        ("Id",), ("Account", "Name"), ("AssetAction", "Asset", "Name")
    ]  # fmt: skip
    assert q.sobject == "Asset"
    assert q.order == (
        ast.OrderItem(ast.Path(("Name",), q.order[0].path.column), True, True),
        ast.OrderItem(ast.Path(("Id",), q.order[1].path.column), False, None),
    )
    assert (q.limit, q.offset) == (10, 5)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'a\'b'", "a'b"),
        (r"'a\"b'", 'a"b'),
        (r"'a\\b'", "a\\b"),
        (r"'line\nnext'", "line\nnext"),
        (r"'\r\t\b\f'", "\r\t\b\f"),
        (r"'\u00e9t\u00E9'", "été"),
        (r"'50\%'", "50%"),
        (r"'a\_b'", "a_b"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    """Every SOQL escape decodes to its character."""
    assert decode_string(literal).value == value


def test_like_pattern_keeps_escaped_wildcards() -> None:
    """In LIKE patterns \\% and \\_ stay escaped, a literal backslash is escaped for SQL."""
    assert decode_string(r"'50\%_a\\b%'").like == "50\\%_a\\\\b%"


def test_hostile_literal_stays_one_literal() -> None:
    """A quoted `' OR Name != '` never becomes SOQL syntax."""
    where = _where(r"SELECT Id FROM Account WHERE Name = 'x\' OR Name != \''")
    assert where == ast.Compare(where.path, "=", ast.StringLit("x' OR Name != '", "x' OR Name != '"))  # type: ignore[union-attr]


def test_unescaped_quote_injection_is_refused() -> None:
    """An unescaped quote ends the literal, and the rest is a syntax error, not a second condition."""
    with pytest.raises(ApiError) as err:
        parse("SELECT Id FROM Account WHERE Name = 'x'' OR Name != ''")
    assert err.value.error_code == "MALFORMED_QUERY"


def test_literals() -> None:
    """Numbers, booleans, null, dates, datetimes and relative dates."""
    where = _where(
        "SELECT Id FROM Asset WHERE Quantity > -1.5 AND HasLifecycleManagement = true AND ParentId = null "
        "AND PurchaseDate = 2026-11-23 AND LifecycleEndDate < 2026-11-23T10:00:00.000+09:00 "
        "AND LifecycleEndDate = NEXT_N_DAYS:30 AND CreatedDate = today"
    )
    assert isinstance(where, ast.And)
    values = [c.value for c in where.conds if isinstance(c, ast.Compare)]
    assert values == [
        ast.NumberLit(-1.5),
        ast.BoolLit(True),
        ast.NullLit(),
        ast.DateLit(date(2026, 11, 23)),
        ast.DateTimeLit(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),
        ast.RelativeDate("NEXT_N_DAYS", 30),
        ast.RelativeDate("TODAY"),
    ]


def test_in_lists_semi_joins_and_not() -> None:
    """IN, NOT IN, semi-joins and NOT parse into their nodes."""
    where = _where(
        "SELECT Id FROM Asset WHERE Id IN ('02i000000000001', '02i000000000002') AND Status NOT IN ('x') "
        "AND Id IN (SELECT AssetId FROM AssetAction WHERE CategoryEnum = 'Renewals') AND NOT (Name LIKE 'a%')"
    )
    assert isinstance(where, ast.And)
    kinds = [type(c).__name__ for c in where.conds]
    assert kinds == ["InList", "InList", "SemiJoin", "Not"]
    assert where.conds[1].negated is True  # type: ignore[union-attr]
    semi = where.conds[2]
    assert isinstance(semi, ast.SemiJoin)
    assert semi.query.sobject == "AssetAction"


def test_mixing_and_or_needs_parentheses() -> None:
    """SOQL refuses `a AND b OR c`; parentheses make it valid."""
    with pytest.raises(ApiError):
        parse("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")
    where = _where("SELECT Id FROM Account WHERE Name = 'a' AND (Name = 'b' OR Name = 'c')")
    assert isinstance(where, ast.And)
    assert isinstance(where.conds[1], ast.Or)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SELECT FROM Account",
        "SELECT Id FROM",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account GROUP BY Name",
        "SELECT Id FROM Account FOR UPDATE",
        "SELECT Id, COUNT() FROM Account",
        "SELECT Id FROM Account WHERE Name = 'unterminated",
        "SELECT Id FROM Account WHERE Name = 'bad \\q escape'",
        "SELECT Id FROM Account WHERE Name LIKE 5",
        "SELECT Id FROM Account; DELETE FROM Account",
    ],
)
def test_outside_the_subset_is_malformed(text: str) -> None:
    """Anything outside the subset is MALFORMED_QUERY, never a guess."""
    with pytest.raises(ApiError) as err:
        parse(text)
    assert err.value.error_code == "MALFORMED_QUERY"
    assert err.value.http_status == 400


def test_error_message_points_at_the_token() -> None:
    """The message shows the query, a caret and the column, as Salesforce does."""
    with pytest.raises(ApiError) as err:
        parse("SELECT Id FROM Account WHRE Name = 'a'")
    assert "ERROR at Row:1:Column:24" in err.value.message
    assert "^" in err.value.message


def test_count() -> None:
    """COUNT() is recognised."""
    assert parse("SELECT COUNT() FROM Asset").is_count
