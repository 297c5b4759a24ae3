"""Salesforce IDs: the documented checksum vectors and key-prefix checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfsync import sfid


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("70130000001tcyI", "70130000001tcyIAAQ"),
        ("003G000001SUbc4", "003G000001SUbc4IAD"),
        ("00558000001N0Ke", "00558000001N0KeAAK"),
        ("0036000000QKv5T", "0036000000QKv5TAAT"),
        ("80120000000tEst", "80120000000tEstAAE"),
    ],
)
def test_documented_vectors(short: str, full: str) -> None:
    """The checksum matches the vectors in salesforce-api.md §2.8."""
    assert sfid.to18(short) == full
    assert sfid.to18(full) == full


@pytest.mark.parametrize("doc_id", ["02iSG0000003NMhYAM", "801oB000000DCrNQAW"])
def test_documentation_sample_ids_check_out(doc_id: str) -> None:
    """Sample IDs from Salesforce's docs carry valid checksums."""
    assert sfid.is_valid(doc_id)


@pytest.mark.parametrize(
    "bad", ["", "02i", "02iSG0000003NMhYAB", "02iSG0000003NMh!AM", "x" * 16, "02iSG0000003NMhYAM "]
)
def test_invalid_ids(bad: str) -> None:
    """Wrong length, characters or checksum are refused."""
    assert not sfid.is_valid(bad)
    with pytest.raises(sfid.InvalidIdError):
        sfid.to18(bad)


def test_expect_checks_the_key_prefix() -> None:
    """An Order ID where an Asset ID is expected is an error naming both."""
    order_id = "801oB000000DCrNQAW"
    assert sfid.expect(order_id, "Order") == order_id
    with pytest.raises(sfid.InvalidIdError, match="not a Asset ID"):
        sfid.expect(order_id, "Asset")
    assert sfid.object_of(order_id) == "Order"


@given(st.integers(min_value=0, max_value=62**10 - 1))
def test_minted_ids_are_valid(number: int) -> None:
    """Every ID the emulator mints is 18 characters with a correct checksum and its prefix."""
    minted = sfid.make("02i", number)
    assert len(minted) == 18
    assert sfid.expect(minted, "Asset") == minted
    assert sfid.to18(minted[:15]) == minted


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_minted_ids_are_distinct(first: int, second: int) -> None:
    """Different serial numbers give different IDs."""
    assert (sfid.make("0Q0", first) == sfid.make("0Q0", second)) == (first == second)
