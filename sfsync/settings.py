"""Typed settings, loaded once at the edge from ``config/sfsync.toml`` and ``SFSYNC_*`` variables.

Where a value comes from: the TOML file for everything that is not secret; the environment
(``SFSYNC_<SECTION>__<KEY>``, ``__`` between levels, e.g. ``SFSYNC_ORGS__PROD__CLIENT_SECRET``) or a
secrets directory (``SFSYNC_SECRETS_DIR``, one file per variable name, as Docker/Kubernetes mount
them) for secrets and overrides. A secret written in the TOML file is an error: files get committed.
A wrong key, type or a missing secret fails at start with a message naming the key and where it came
from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from sfsync.errors import ConfigError

ENV_PREFIX = "SFSYNC_"
DEFAULT_CONFIG_PATH = Path("config/sfsync.toml")

#: Keys that hold secrets: accepted only from the environment or the secrets directory.
SECRET_KEYS = frozenset(
    {"client_secret", "password", "access_token", "private_key", "token", "secret_key", "metrics_token"}
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class OrgProfile(_Model):
    """How to reach and authenticate to one Salesforce org (or the embedded emulator)."""

    auth: Literal["emulator", "jwt", "client_credentials", "password", "access_token"] = "emulator"
    """``emulator`` starts/uses the embedded emulator; the others are OAuth flows or a given token."""
    login_host: str = "login"
    """``login``, ``test``, a My Domain host (``acme.my.salesforce.com``) or a full https URL."""
    instance_url: str | None = None
    """Instance URL; required for ``access_token``, otherwise taken from the token response."""
    client_id: str | None = None
    """The connected app's consumer key (JWT bearer, client credentials, password)."""
    username: str | None = None
    """The integration user (JWT bearer ``sub``, password grant)."""
    client_secret: SecretStr | None = None
    """Secret: the connected app's consumer secret."""
    password: SecretStr | None = None
    """Secret: the integration user's password (+ security token) for the password grant."""
    access_token: SecretStr | None = None
    """Secret: a ready access token (``auth = "access_token"``)."""
    private_key: SecretStr | None = None
    """Secret: the JWT bearer private key (PEM)."""
    private_key_file: Path | None = None
    """The JWT bearer private key as a file (instead of ``private_key``)."""
    ca_bundle: Path | None = None
    """CA bundle to trust for this org (the emulator writes its own); None = system trust store."""
    api_version: Annotated[str, Field(pattern=r"^\d{2}\.0$")] = "66.0"
    """REST API version, e.g. ``66.0``."""
    order_from_quote_action: Literal["createOrderFromQuote", "createOrdersFromQuote"] = "createOrderFromQuote"
    """Which quote-to-order action the org supports (Advanced Order Creation From Quote)."""
    action_batch_size: Annotated[int, Field(ge=1, le=2000)] = 200
    """Inputs per invocable-action request to start with; halved when a request is refused whole."""
    collection_batch_size: Annotated[int, Field(ge=1, le=200)] = 200
    """Records per sObject Collections request (Salesforce's maximum is 200)."""
    query_batch_size: Annotated[int, Field(ge=200, le=2000)] = 2000
    """Query page size asked for with Sforce-Query-Options (200..2000)."""
    connect_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    """Seconds to wait for a connection."""
    read_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    """Seconds to wait for an answer."""
    api_reserve: Annotated[float, Field(ge=0, lt=1)] = 0.2
    """Fraction of the daily API allowance kept in reserve: below it new work pauses."""
    max_concurrency: Annotated[int, Field(ge=1, le=25)] = 4
    """Concurrent requests to this org from all workers together."""
    max_retries: Annotated[int, Field(ge=0, le=20)] = 5
    """Retries for retryable failures, and the backoff cap in seconds."""
    backoff_cap_s: Annotated[float, Field(gt=0)] = 30.0
    """Longest wait between retries, seconds."""
    reconcile_skew_s: Annotated[float, Field(ge=0)] = 300.0
    """Skew allowed when reconciling by CreatedDate after a lost answer."""

    @model_validator(mode="after")
    def _credentials_present(self) -> OrgProfile:
        needed: dict[str, tuple[str, ...]] = {
            "jwt": ("client_id", "username"),
            "client_credentials": ("client_id", "client_secret"),
            "password": ("client_id", "client_secret", "username", "password"),
            "access_token": ("access_token", "instance_url"),
        }
        missing = [key for key in needed.get(self.auth, ()) if getattr(self, key) is None]
        if self.auth == "jwt" and self.private_key is None and self.private_key_file is None:
            missing.append("private_key or private_key_file")
        if missing:
            msg = f"auth = {self.auth!r} needs {', '.join(missing)}"
            raise ValueError(msg)
        return self


class LedgerSettings(_Model):
    """Where the ledger lives."""

    url: str = "sqlite:///var/sfsync.db"
    """SQLAlchemy URL: ``sqlite:///var/sfsync.db`` (default) or ``postgresql+psycopg://…``."""
    lease_s: Annotated[float, Field(gt=0)] = 60.0
    """Seconds a worker's claim on items lasts without renewal."""
    claim_batch: Annotated[int, Field(ge=1, le=10000)] = 200
    """Items claimed per batch."""
    busy_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """SQLite only: seconds a writer waits for the write lock before the run stops with a ledger error."""


class LoggingSettings(_Model):
    """How sfsync logs."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Minimum level printed."""
    format: Literal["auto", "json", "console"] = "auto"
    """``auto``: console renderer on a TTY, JSON lines otherwise."""


class WebSettings(_Model):
    """The admin page and /metrics."""

    enabled: bool = False
    """Serve the admin page and /metrics from ``sfsync worker``."""
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    """Port to listen on."""
    base_url: str = "http://127.0.0.1:8080"
    """Public base URL used in alert links."""
    admin_user: str = "admin"
    """User name of the admin (may retry items and cancel runs)."""
    admin_password_hash: SecretStr | None = None
    """argon2id hash of the admin password (``sfsync web hash-password``)."""
    readonly_user: str | None = None
    """User name of a read-only viewer, if any."""
    readonly_password_hash: SecretStr | None = None
    """Secret: argon2id hash of the read-only user's password."""
    secret_key: SecretStr | None = None
    """Signing key for session cookies."""
    metrics_token: SecretStr | None = None
    """Bearer token that lets a Prometheus scraper read /metrics without a session."""

    @field_validator("admin_password_hash", "readonly_password_hash")
    @classmethod
    def _argon2id(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("$argon2id$"):
            msg = "must be an argon2id hash ($argon2id$…); make one with `sfsync web hash-password`"
            raise ValueError(msg)
        return value


class WorkerSettings(_Model):
    """The long-running worker."""

    jobs_dir: Path = Path("jobs")
    """Folder of the job files."""
    verify_timeout_s: Annotated[float, Field(gt=0)] = 600.0
    """How long a verification may poll before an item times out."""
    pricing_timeout_s: Annotated[float, Field(gt=0)] = 300.0
    """How long to wait for quote pricing to finish."""
    shutdown_grace_s: Annotated[float, Field(gt=0)] = 30.0
    """Seconds a SIGTERM waits for in-flight calls to finish and be recorded."""
    misfire_grace_s: Annotated[int, Field(ge=1)] = 300
    """Grace for a missed scheduled fire before it is recorded as missed."""


class AlertSettings(_Model):
    """Where alerts go."""

    webhook_url: SecretStr | None = None
    """Slack-compatible incoming webhook URL (secret: from the environment)."""
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    """Seconds to wait for the webhook."""
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    """Retries of a failed webhook call."""


class Settings(_Model):
    """Everything about where and how sfsync runs."""

    default_org: str = "emulator"
    """Org profile used when a job or ``--org`` names none."""
    orgs: dict[str, OrgProfile] = Field(default_factory=lambda: {"emulator": OrgProfile()})
    """Org profiles by name (``[orgs.<name>]``); ``emulator`` always exists."""
    ledger: LedgerSettings = LedgerSettings()
    """Where runs, items and events are recorded."""
    logging: LoggingSettings = LoggingSettings()
    """Logging."""
    web: WebSettings = WebSettings()
    """The admin page."""
    worker: WorkerSettings = WorkerSettings()
    """The long-running worker."""
    alerts: AlertSettings = AlertSettings()
    """Alerts."""

    @field_validator("orgs", mode="before")
    @classmethod
    def _keep_emulator(cls, value: object) -> object:
        # The embedded emulator profile always exists, so `sfsync demo` works whatever the file says.
        if isinstance(value, dict) and "emulator" not in value:
            return {"emulator": {}, **value}
        return value

    @model_validator(mode="after")
    def _default_org_exists(self) -> Settings:
        if self.default_org not in self.orgs:
            msg = (
                f"default_org {self.default_org!r} is not one of the profiles: {', '.join(sorted(self.orgs))}"
            )
            raise ValueError(msg)
        return self

    def org(self, name: str | None = None) -> OrgProfile:
        """The named org profile (the default one when name is None)."""
        key = name or self.default_org
        try:
            return self.orgs[key]
        except KeyError:
            msg = f"no org profile {key!r}; known: {', '.join(sorted(self.orgs))}"
            raise ConfigError(msg) from None


@dataclass(frozen=True)
class _Origin:
    """Where one settings value came from, for error messages."""

    where: str

    def __str__(self) -> str:
        return self.where


def load_settings(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load settings from the TOML file (optional) and ``SFSYNC_*`` variables; raise ConfigError."""
    env = os.environ if environ is None else environ
    origins: dict[tuple[str, ...], _Origin] = {}
    data: dict[str, Any] = {}
    file_path = path or Path(env.get("SFSYNC_CONFIG", str(DEFAULT_CONFIG_PATH)))
    explicit = path is not None or "SFSYNC_CONFIG" in env
    if file_path.is_file():
        data = _read_toml(file_path)
        _forbid_secrets_in_file(data, file_path)
        _record_origins(data, (), f"{file_path}", origins)
    elif explicit:
        msg = f"config file {file_path} does not exist"
        raise ConfigError(msg)
    for key_path, value, origin in _env_values(env):
        _set_path(data, key_path, value)
        origins[key_path] = origin
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, origins, file_path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise ConfigError(msg) from None


def _forbid_secrets_in_file(data: Mapping[str, Any], path: Path, prefix: tuple[str, ...] = ()) -> None:
    for key, value in data.items():
        here = (*prefix, key)
        if isinstance(value, Mapping):
            _forbid_secrets_in_file(value, path, here)
        elif key in SECRET_KEYS or key == "webhook_url":
            var = ENV_PREFIX + "__".join(part.upper() for part in here)
            msg = (
                f"{path}: {'.'.join(here)} is a secret and must not be written in a file that may be "
                f"committed; set the environment variable {var} or put it in a file named {var} "
                "in SFSYNC_SECRETS_DIR"
            )
            raise ConfigError(msg)


def _record_origins(
    data: Mapping[str, Any], prefix: tuple[str, ...], where: str, origins: dict[tuple[str, ...], _Origin]
) -> None:
    for key, value in data.items():
        here = (*prefix, key)
        origins[here] = _Origin(f"{where} [{'.'.join(here)}]")
        if isinstance(value, Mapping):
            _record_origins(value, here, where, origins)


def _env_values(env: Mapping[str, str]) -> list[tuple[tuple[str, ...], str, _Origin]]:
    """Values from SFSYNC_* variables and from the secrets directory (variables win)."""
    found: dict[str, tuple[str, _Origin]] = {}
    secrets_dir = env.get("SFSYNC_SECRETS_DIR")
    if secrets_dir:
        directory = Path(secrets_dir)
        if not directory.is_dir():
            msg = f"SFSYNC_SECRETS_DIR={secrets_dir} is not a directory"
            raise ConfigError(msg)
        for entry in sorted(directory.iterdir()):
            if entry.is_file() and entry.name.startswith(ENV_PREFIX):
                # Secret files conventionally end with a newline that is not part of the secret.
                value = entry.read_text(encoding="utf-8").rstrip("\r\n")
                found[entry.name] = (value, _Origin(f"secret file {entry}"))
    for name, value in env.items():
        if name.startswith(ENV_PREFIX):
            found[name] = (value, _Origin(f"environment variable {name}"))
    out = []
    for name, (value, origin) in found.items():
        if name in {"SFSYNC_CONFIG", "SFSYNC_SECRETS_DIR"} or name.startswith("SFSYNC_TEST_"):
            continue
        parts = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if not all(parts):
            msg = f"{origin}: cannot map to a setting (empty part between '__')"
            raise ConfigError(msg)
        if parts[0] == "orgs" and len(parts) >= 2:
            # Profile names keep their case only as written in the file; variables use lower case.
            parts = ("orgs", parts[1], *parts[2:])
        out.append((parts, value, origin))
    return out


def _set_path(data: dict[str, Any], key_path: tuple[str, ...], value: str) -> None:
    node = data
    for part in key_path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[key_path[-1]] = value


def _explain(exc: ValidationError, origins: Mapping[tuple[str, ...], _Origin], file_path: Path) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        origin = _nearest_origin(loc, origins) or f"defaults (no value given; file {file_path})"
        key = ".".join(loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            reason = "unknown key"
        else:
            reason = error["msg"].removeprefix("Value error, ")
        if loc[:1] == ("orgs",) and len(loc) >= 2 and "needs" in reason:
            var = f"{ENV_PREFIX}ORGS__{loc[1].upper()}__<KEY>"
            reason += f" (secrets come from {var} or a file of that name in SFSYNC_SECRETS_DIR)"
        lines.append(f"  {key}: {reason} — from {origin}")
    return "\n".join(lines)


def _nearest_origin(loc: tuple[str, ...], origins: Mapping[tuple[str, ...], _Origin]) -> _Origin | None:
    for size in range(len(loc), 0, -1):
        origin = origins.get(loc[:size])
        if origin is not None:
            return origin
    return None


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, for the log redactor."""
    found: list[str] = []

    def walk(model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, SecretStr):
                found.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                walk(value)
            elif isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, BaseModel):
                        walk(item)

    walk(settings)
    return [value for value in found if value]
