"""Structured logging: structlog configured once at the edge, with secrets redacted everywhere.

JSON lines when the output is not a terminal, a readable console renderer when it is. Every event
has a stable snake_case name; `run_id`, `job` and `asset_id` are bound through
``structlog.contextvars``. The redaction processor runs last before rendering, over every field
(nested dicts, lists, exception text), and removes tokens, passwords, private keys, client secrets
and session IDs whatever the field is called; values known to be secret (from the settings) are
removed wherever they appear.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

#: Field names whose values are secret whatever they hold.
_SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|session[_-]?id|sid|authorization|"
    r"assertion|signature|cookie|credential)",
    re.IGNORECASE,
)
_NOT_SECRET_NAMES = frozenset({"token_type", "tokens", "lease_token", "csrf_field"})

#: Secret-looking values inside any text.
_SECRET_VALUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # PEM private keys, whole block (also when the END line was cut off).
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
    # Salesforce access tokens / session IDs: 15- or 18-char org ID, '!', then the opaque part.
    re.compile(r"\b00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?![A-Za-z0-9._\-]+"),
    # HTTP authorization headers.
    re.compile(r"(?i)\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=\-!]{8,}"),
    # JWTs (header.payload.signature, base64url).
    re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
    # key=value pairs in URLs, form bodies and messages.
    re.compile(
        r"(?i)\b(access_token|refresh_token|client_secret|password|assertion|session_id|sid|token)"
        r"=[^&\s\"']+"
    ),
)


class SecretRedactor:
    """A structlog processor that removes secrets from every field of an event."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: tuple[str, ...] = ()
        self.add_secrets(known_secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Remember values that must never appear (settings secrets, issued tokens)."""
        with self._lock:
            # Longest first, so a secret that contains another is removed whole.
            merged = {*self._known, *(s for s in secrets if s and len(s) >= 4)}
            self._known = tuple(sorted(merged, key=len, reverse=True))

    def redact_text(self, text: str) -> str:
        """Text with every known secret and secret-looking value replaced."""
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if text.isalnum():
            # Every pattern needs a character other than a letter or digit ("-", "!", " ", ".",
            # "="): record IDs and names, most of what is logged per item, cannot match.
            return text
        for pattern in _SECRET_VALUE_PATTERNS:
            text = pattern.sub(_keep_label, text)
        return text

    def redact(self, value: object, name: str | None = None) -> object:
        """A redacted copy of any logged value."""
        if name is not None and _is_secret_name(name) and value not in (None, "", REDACTED):
            return REDACTED
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict) or isinstance(value, MutableMapping):  # noqa: SIM101 (dict first: no ABC check)
            return {key: self.redact(item, str(key)) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.redact(item) for item in value]
        if isinstance(value, BaseException):
            return self.redact_text(f"{type(value).__name__}: {value}")
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact_text(str(value))

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        """Processor entry point."""
        return {key: self.redact(value, key) for key, value in event_dict.items()}


def _keep_label(match: re.Match[str]) -> str:
    text = match.group(0)
    for sep in ("=", " "):
        if sep in text and not text.startswith("-----"):
            label = text.split(sep, 1)[0]
            if label.lower() in {"bearer", "basic", "oauth"} or sep == "=":
                return f"{label}{sep}{REDACTED}"
    return REDACTED


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str) -> bool:
    # Cached: the same few field names come with every event.
    return name not in _NOT_SECRET_NAMES and bool(_SECRET_NAME.search(name))


#: The process-wide redactor: settings secrets and issued tokens are added to it at start.
redactor = SecretRedactor()


def configure(
    *,
    level: str = "INFO",
    fmt: str = "auto",
    stream: TextIO | None = None,
    extra_processors: Iterable[Processor] = (),
) -> None:
    """Configure structlog and the stdlib root logger once, at the edge of the program."""
    out = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if use_console
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        *extra_processors,
        redactor,
        _escape_control_characters,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries that use stdlib logging (urllib3, alembic, apscheduler) go through the same pipeline.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redactor, renderer],
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level == "DEBUG" else logging.ERROR)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x1b]")


def _escape_control_characters(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """CR/LF and ANSI escapes in data cannot forge a log line or repaint a terminal."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace("\r", "\\r").replace("\n", "\\n")
            return _CONTROL.sub(_hex_escape, value)
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    # A traceback keeps its line breaks (it is ours), but not terminal escapes from data inside it.
    return {
        key: _ANSI_ONLY.sub(_hex_escape, value)
        if key == "exception" and isinstance(value, str)
        else clean(value)
        for key, value in event_dict.items()
    }


_ANSI_ONLY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _hex_escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group(0)):02x}"


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (typed loosely: structlog's bound loggers are dynamic)."""
    return structlog.get_logger(name)
