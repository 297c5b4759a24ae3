"""The escaping SOQL builder: literals, IDs, conditions, batching, and hostile strings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sfsync import sfid
from sfsync.salesforce import soql
from sfsync.salesforce.soql import and_, eq, ge, in_, in_ids, in_select, like, ne, not_, or_, select

ASSET = sfid.make("02i", 1)
ORDER = sfid.make("801", 1)

_UNESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "%": "%",
    "_": "_",
}


def unescape(quoted: str, *, like_pattern: bool = False) -> str:
    """Reference reader of a SOQL string literal (test-only): the text a server would see."""
    assert quoted.startswith("'")
    assert quoted.endswith("'")
    body, out, i = quoted[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "'":
            raise AssertionError(f"unescaped quote at {i} in {quoted!r}")
        if char == "\\":
            nxt = body[i + 1]
            if nxt in "%_" and not like_pattern:
                raise AssertionError("LIKE escape outside a LIKE pattern")
            out.append(_UNESCAPES[nxt])
            i += 2
            continue
        if like_pattern and char in "%_":
            raise AssertionError(f"unescaped wildcard {char!r} in {quoted!r}")
        out.append(char)
        i += 1
    return "".join(out)


HOSTILE = st.one_of(
    st.sampled_from(
        ["' OR Name != '", "\\", "\\'", "%", "_", "a\nb", "'; DELETE", "ü∑😀", "\\\\'", '"', "\t\r\b\f"]
    ),
    st.text(
        st.characters(
            blacklist_categories=("Cs",), blacklist_characters=[chr(c) for c in range(0x20)] + ["\x7f"]
        )
    )
    | st.text(alphabet="'\\\"%_\n\r\t\b\fab "),
)


@given(HOSTILE)
def test_string_literal_reads_back_exactly(text: str) -> None:
    """Whatever the input, the rendered literal parses back to exactly the input."""
    assert unescape(soql.literal(text)) == text


@given(HOSTILE)
def test_equality_condition_cannot_be_broken_out_of(text: str) -> None:
    """`Name = '…'` stays one comparison: the literal spans to the end of the condition."""
    cond = eq("Name", text).text
    assert cond.startswith("Name = '")
    assert unescape(cond[len("Name = ") :]) == text


@given(HOSTILE)
def test_like_escapes_wildcards(text: str) -> None:
    """In LIKE, % and _ of the input are literal; only the added wildcards are live."""
    cond = like("Name", text, "contains").text
    pattern = cond[len("Name LIKE ") :]
    assert pattern.startswith("'%")
    assert pattern.endswith("%'")
    assert unescape("'" + pattern[2:-2] + "'", like_pattern=True) == text


def test_known_escapes() -> None:
    """The documented escape sequences, exactly."""
    assert soql.literal('O\'Brien \\ "x"\n') == "'O\\'Brien \\\\ \\\"x\\\"\\n'"
    assert like("Name", "50%_off", "startswith").text == "Name LIKE '50\\%\\_off%'"


def test_control_characters_are_refused() -> None:
    """A NUL or other control character has no SOQL escape and is refused."""
    with pytest.raises(ValueError, match="control character"):
        soql.literal("a\x00b")


def test_literals_of_other_types() -> None:
    """Booleans, null, numbers, dates, datetimes (UTC) and date literals."""
    assert soql.literal(True) == "true"
    assert soql.literal(None) == "null"
    assert soql.literal(42) == "42"
    assert soql.literal(date(2026, 11, 23)) == "2026-11-23"
    tokyo = timezone(timedelta(hours=9))
    assert soql.literal(datetime(2026, 11, 23, 9, 0, tzinfo=tokyo)) == "2026-11-23T00:00:00Z"
    assert soql.literal(soql.DateLiteral("NEXT_N_DAYS:30")) == "NEXT_N_DAYS:30"
    with pytest.raises(ValueError, match="timezone-aware"):
        soql.literal(datetime(2026, 11, 23))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="date literal"):
        soql.DateLiteral("TODAY OR Id != null")


def test_ids_are_validated_by_object() -> None:
    """An Order ID where an Asset ID belongs, or a bad checksum, is refused; 15 chars become 18."""
    assert in_ids("Id", [ASSET[:15]], "Asset").text == f"Id IN ('{ASSET}')"
    with pytest.raises(sfid.InvalidIdError, match="not a Asset ID"):
        in_ids("Id", [ORDER], "Asset")
    with pytest.raises(sfid.InvalidIdError):
        in_ids("Id", ["02i' OR Id != '"], "Asset")


@given(st.lists(st.integers(min_value=0, max_value=62**10 - 1), min_size=1, max_size=20), st.booleans())
def test_in_ids_renders_what_literal_renders_for_an_id(serials: list[int], short: bool) -> None:
    """in_ids (no Id object per value) gives exactly the text of in_ over Id literals."""
    ids = [sfid.make("02i", serial)[: 15 if short else 18] for serial in serials]
    for sobject in ("Asset", None):
        expected = in_("AssetId", [soql.Id(record_id, sobject) for record_id in ids]).text
        assert in_ids("AssetId", ids, sobject).text == expected


def test_an_id_accepted_for_one_object_is_still_refused_for_another() -> None:
    """Validation is per object even when the ID was rendered before (for any object, or its own)."""
    assert in_ids("Id", [ORDER], None).text == f"Id IN ('{ORDER}')"
    assert in_ids("OrderId", [ORDER], "Order").text == f"OrderId IN ('{ORDER}')"
    with pytest.raises(sfid.InvalidIdError, match="not a Asset ID"):
        in_ids("AssetId", [ORDER], "Asset")
    with pytest.raises(ValueError, match="IN list for Id is empty"):
        in_ids("Id", [], "Asset")
    with pytest.raises(ValueError, match="not a SOQL field"):
        in_ids("Id) OR (Id", [ASSET], "Asset")


@given(HOSTILE)
def test_in_ids_refuses_anything_but_an_id(text: str) -> None:
    """Hostile text never reaches an IN list of IDs: it is not an ID, whatever the object."""
    assume(not sfid.is_valid(text))  # fifteen a's and b's would be a well-formed ID
    for sobject in ("Asset", None):
        with pytest.raises(sfid.InvalidIdError):
            in_ids("Id", [ASSET, text], sobject)


def test_names_are_checked() -> None:
    """Field and object names must be identifiers (relationship paths allowed)."""
    assert soql.name("AssetAction.AssetId") == "AssetAction.AssetId"
    with pytest.raises(ValueError, match="not a SOQL field"):
        eq("Name = 'x' OR Id", "y")


def test_full_select_with_semi_join() -> None:
    """A complete statement: fields, nested AND/OR/NOT, semi-join, ORDER BY, LIMIT."""
    items = select("OrderItem", ("Id",), in_ids("OrderId", [ORDER], "Order"))
    query = select(
        "AssetActionSource",
        ("Id", "AssetAction.AssetId"),
        and_(
            in_select("ReferenceEntityItemId", items),
            or_(eq("AssetAction.CategoryEnum", "Renewals"), ne("Quantity", None)),
            not_(in_("Name", ["a", "b"])),
            ge("CreatedDate", datetime(2026, 1, 1, tzinfo=UTC)),
        ),
        order_by=(("CreatedDate", "DESC"),),
        limit=10,
    )
    assert query.soql() == (
        "SELECT Id, AssetAction.AssetId FROM AssetActionSource WHERE (ReferenceEntityItemId IN "
        f"(SELECT Id FROM OrderItem WHERE OrderId IN ('{ORDER}')) AND (AssetAction.CategoryEnum = 'Renewals' "
        "OR Quantity != null) AND (NOT Name IN ('a', 'b')) AND CreatedDate >= 2026-01-01T00:00:00Z) "
        "ORDER BY CreatedDate DESC LIMIT 10"
    )


def test_batched_splits_and_deduplicates() -> None:
    """IN lists are cut into batches of at most the size, duplicates dropped, order kept."""
    size = soql.IN_BATCH
    ids = [sfid.make("02i", n) for n in range(2 * size + 50)] + [sfid.make("02i", 3)]
    chunks = list(soql.batched(ids))
    assert [len(chunk) for chunk in chunks] == [size, size, 50]
    assert [i for chunk in chunks for i in chunk] == ids[: 2 * size + 50]


def test_a_full_batch_stays_far_below_the_limit() -> None:
    """A full IN list makes a statement well below Salesforce's 100,000 characters."""
    ids = [sfid.make("02i", n) for n in range(soql.IN_BATCH)]
    text = select("Asset", ("Id",), in_ids("Id", ids, "Asset")).soql()
    assert len(text) < soql.MAX_SOQL_CHARS < 100_000
    assert len(re.findall(r"'02i", text)) == soql.IN_BATCH


def test_a_full_batch_fits_in_a_get_url() -> None:
    """A full IN list with a verification-sized field list, URL-encoded, fits Salesforce's URI limit."""
    ids = [sfid.make("02i", n) for n in range(soql.IN_BATCH)]
    fields = ("Id", "AssetId", "StartDate", "EndDate", "Quantity", "Mrr", "Amount")
    text = select("AssetStatePeriod", fields, in_ids("AssetId", ids, "Asset")).soql()
    uri = "/services/data/v66.0/query?" + urlencode({"q": text})
    assert len(uri) < soql.MAX_URI_CHARS


def test_overlong_statement_is_refused() -> None:
    """A statement past our ceiling is an error, never sent."""
    ids = [sfid.make("02i", n) for n in range(1200)]
    with pytest.raises(ValueError, match="exceeds"):
        select("Asset", ("Id",), in_ids("Id", ids, "Asset")).soql()
