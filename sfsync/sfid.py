"""Salesforce record IDs: 15/18-character forms, the checksum suffix and key prefixes.

This is wire format, shared by the client (to validate) and the emulator (to mint IDs).
"""

from __future__ import annotations

import functools
import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")

#: Key prefixes of the objects sfsync and the emulator know (salesforce-api.md Part 2 §2.8).
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contract": "800",
    "Order": "801",
    "OrderItem": "802",
    "Quote": "0Q0",
    "QuoteLineItem": "0QL",
    "Asset": "02i",
    "AssetStatePeriod": "4nK",
    "AssetAction": "4nL",
    "AssetActionSource": "4nM",
    "AssetRelationship": "12V",
    "QuoteAction": "7oc",
    "OrderAction": "8oa",
    "RevenueTransactionErrorLog": "0nY",
    "AsyncOperationTracker": "16P",
    "Opportunity": "006",
    "Product2": "01t",
    "Pricebook2": "01s",
    "PricebookEntry": "01u",
    "User": "005",
    "Organization": "00D",
    "AppUsageAssignment": "0Rk",
}


class InvalidIdError(ValueError):
    """A string is not a Salesforce ID of the expected kind."""


def checksum(id15: str) -> str:
    """The three-character case-folding suffix of a 15-character ID."""
    if len(id15) != 15:
        msg = f"need 15 characters, got {len(id15)}"
        raise InvalidIdError(msg)
    # Each five-character chunk's upper-case pattern picks one suffix letter; translating to a
    # pattern string and looking it up keeps this in C (IDs are validated on every query built).
    bits = id15.translate(_UPPER_BITS)
    try:
        return _SUFFIX_BY_BITS[bits[0:5]] + _SUFFIX_BY_BITS[bits[5:10]] + _SUFFIX_BY_BITS[bits[10:15]]
    except KeyError:  # a non-ASCII character survived the translation
        msg = f"{id15!r} is not ASCII letters and digits"
        raise InvalidIdError(msg) from None


#: Maps every character to "1" if it is an upper-case ASCII letter, else "0".
_UPPER_BITS = {code: ("1" if 65 <= code <= 90 else "0") for code in range(128)}
#: A chunk's pattern ("10010": first and fourth characters upper case) to its suffix letter.
_SUFFIX_BY_BITS = {
    "".join("1" if bits >> i & 1 else "0" for i in range(5)): _SUFFIX_ALPHABET[bits] for bits in range(32)
}


@functools.lru_cache(maxsize=16_384)
def to18(record_id: str) -> str:
    """The 18-character form of a valid 15- or 18-character ID; raises InvalidIdError."""
    # Cached: a batch's IDs are validated again for each query that names them (about twenty
    # times per asset in a sweep); a bounded cache of recent ones keeps memory flat at any scale.
    if not _ID_RE.match(record_id):
        msg = f"{record_id!r} is not a Salesforce ID (15 or 18 letters and digits)"
        raise InvalidIdError(msg)
    if len(record_id) == 15:
        return record_id + checksum(record_id)
    if checksum(record_id[:15]) != record_id[15:]:
        msg = f"{record_id!r} has a bad checksum (expected {record_id[:15] + checksum(record_id[:15])})"
        raise InvalidIdError(msg)
    return record_id


def is_valid(record_id: str) -> bool:
    """Whether the string is a well-formed 15- or 18-character ID with a correct checksum."""
    try:
        to18(record_id)
    except InvalidIdError:
        return False
    return True


def expect(record_id: str, sobject: str) -> str:
    """Validate an ID of the given object type and return its 18-character form."""
    full = to18(record_id)
    prefix = KEY_PREFIXES.get(sobject)
    if prefix is not None and full[:3] != prefix:
        msg = f"{record_id!r} is not a {sobject} ID (expected prefix {prefix}, got {full[:3]})"
        raise InvalidIdError(msg)
    return full


def object_of(record_id: str) -> str | None:
    """The object name for an ID's key prefix, if known."""
    prefix = record_id[:3]
    for name, known in KEY_PREFIXES.items():
        if known == prefix:
            return name
    return None


def make(prefix: str, number: int, *, pod: str = "8d") -> str:
    """Mint an 18-character ID from a key prefix and a serial number (emulator, tests)."""
    if len(prefix) != 3 or len(pod) != 2:
        msg = "prefix must have 3 characters and pod 2"
        raise ValueError(msg)
    body = _base62(number).rjust(10, "0")
    if len(body) > 10:
        msg = f"serial {number} too large"
        raise ValueError(msg)
    id15 = prefix + pod + body
    return id15 + checksum(id15)


def _base62(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    if number < 0:
        msg = "serial must be non-negative"
        raise ValueError(msg)
    out = ""
    while True:
        number, rem = divmod(number, 62)
        out = digits[rem] + out
        if number == 0:
            return out
