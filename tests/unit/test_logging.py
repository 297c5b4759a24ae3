"""Logging: JSON lines or console, stable names, and no secret ever leaks."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from sfsync import logging as sflog

CANARY_TOKEN = "00D5g000004xYzA!AQ4AQFq.canary_token_value_123"
CANARY_PASSWORD = "canary-Passw0rd!"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
CLIENT_SECRET = "canary-client-secret-9f8e7d"
SESSION_ID = "00D5g000004xYzAEAU!ARsAQJvLx.session_part"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrZXkiLCJzdWIiOiJ1In0.c2lnbmF0dXJlLXZhbHVl"


class _Tty(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Logs configured as JSON into a buffer, with the password known to the redactor."""
    buffer = io.StringIO()
    sflog.configure(fmt="auto", stream=buffer)
    sflog.redactor.add_secrets([CANARY_PASSWORD, CLIENT_SECRET])
    yield buffer
    structlog.reset_defaults()


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def _assert_clean(text: str) -> None:
    for secret in (
        CANARY_TOKEN,
        "canary_token_value",
        CANARY_PASSWORD,
        "MIIEvQIBADAN",
        CLIENT_SECRET,
        "session_part",
        JWT,
    ):
        assert secret not in text


def test_json_lines_when_not_a_tty(stream: io.StringIO) -> None:
    """Not a terminal: one JSON object per line with the stable event name and bound context."""
    structlog.contextvars.bind_contextvars(run_id="r-1", job="renewal-sweep")
    try:
        structlog.get_logger().info("run_started", assets=3)
    finally:
        structlog.contextvars.clear_contextvars()
    [line] = _lines(stream)
    assert line["event"] == "run_started"
    assert line["run_id"] == "r-1"
    assert line["level"] == "info"


def test_console_renderer_on_a_tty() -> None:
    """A terminal gets the readable console renderer, not JSON."""
    tty = _Tty()
    sflog.configure(fmt="auto", stream=tty)
    structlog.get_logger().info("run_started", assets=3)
    structlog.reset_defaults()
    text = tty.getvalue()
    assert "run_started" in text
    assert not text.lstrip().startswith("{")


@pytest.mark.parametrize(
    "fields",
    [
        {"access_token": CANARY_TOKEN},
        {"auth": {"headers": {"Authorization": f"Bearer {CANARY_TOKEN}"}}},
        {"password": CANARY_PASSWORD},
        {"detail": f"login with {CANARY_PASSWORD} failed"},
        {"key_material": PRIVATE_KEY},
        {"cfg": {"client_secret": CLIENT_SECRET}},
        {"note": f"secret is {CLIENT_SECRET}"},
        {"sid": SESSION_ID},
        {"url": f"https://x.my.salesforce.com/secur/frontdoor.jsp?sid={SESSION_ID}"},
        {"body": f"grant_type=jwt&assertion={JWT}"},
        {"items": [{"token": "abcdefgh1234"}, f"Bearer {JWT}"]},
        {"message": f"session {SESSION_ID} expired"},
    ],
)
def test_secrets_never_reach_the_log(stream: io.StringIO, fields: dict[str, object]) -> None:
    """Tokens, passwords, keys, client secrets and session IDs are removed from any field."""
    structlog.get_logger().warning("auth_failed", **fields)
    text = stream.getvalue()
    _assert_clean(text)
    assert "[REDACTED]" in text


def test_secrets_removed_from_exception_text(stream: io.StringIO) -> None:
    """A traceback whose message holds a token or a key is redacted too."""
    try:
        msg = f"refused {CANARY_TOKEN} with {PRIVATE_KEY} and {CANARY_PASSWORD}"
        raise RuntimeError(msg)
    except RuntimeError:
        structlog.get_logger().exception("call_failed")
    [line] = _lines(stream)
    assert "RuntimeError" in str(line["exception"])
    _assert_clean(stream.getvalue())


def test_control_characters_cannot_forge_lines() -> None:
    """CR/LF and ANSI escapes in data stay inside their field, even on a console."""
    tty = _Tty()
    sflog.configure(fmt="console", stream=tty)
    structlog.get_logger().info("asset_verified", asset_name='POS\n{"event": "forged"}\x1b[2J')
    structlog.reset_defaults()
    text = tty.getvalue()
    assert text.count("\n") == 1
    assert "\x1b[2J" not in text


def test_harmless_fields_are_kept(stream: io.StringIO) -> None:
    """Ordinary values (IDs, counts, token_type) pass unchanged."""
    structlog.get_logger().info("order_created", order_id="801xx0000000001AAA", count=5, token_type="Bearer")
    [line] = _lines(stream)
    assert line["order_id"] == "801xx0000000001AAA"
    assert line["count"] == 5
    assert line["token_type"] == "Bearer"
