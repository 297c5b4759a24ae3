"""The emulator's switches: API versions, limits, Revenue Cloud behaviour, latency and faults.

Every assumption the profile asks the emulator to make lives here as a named, documented switch,
so that a test against a real org can settle it (see ``assumptions.py`` for the full list).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Every API version the emulator serves (profile: 60.0 to 68.0).
API_VERSIONS: tuple[str, ...] = tuple(f"{v}.0" for v in range(60, 69))


@dataclass
class FaultRule:
    """One injectable fault: what happens, to which requests, and when.

    ``kind`` is one of ``latency``, ``http_500``, ``http_503``, ``drop_before`` (close the
    connection without processing), ``lose_answer`` (process and commit, then close the socket
    without answering), ``hold_answer`` (process and commit, then hold the answer ``hold_s``
    seconds), ``lock_row`` (``UNABLE_TO_LOCK_ROW``), ``session_expiry`` (the caller's token is
    revoked and the call answers 401), ``concurrency`` (403 ``ConcurrentRequests``).

    A rule fires on a matching request when one of its triggers says so: ``calls`` (1-based
    numbers of matching requests), ``start_at``/``every`` (call ``start_at`` and every ``every``
    matching calls after it), ``window`` (seconds since the emulator started, ``[from, to)``) or
    ``rate`` (probability drawn from the fault engine's seeded generator).
    """

    kind: str
    rate: float = 0.0
    calls: tuple[int, ...] = ()
    start_at: int | None = None
    every: int | None = None
    window: tuple[float, float] | None = None
    method: str | None = None
    path: str | None = None
    action: str | None = None
    sobject: str | None = None
    latency_ms: int = 0
    hold_s: float = 5.0
    max_fires: int | None = None


@dataclass
class FaultConfig:
    """The set of fault rules and the seed that makes rate-based faults reproducible."""

    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)


@dataclass
class EmulatorConfig:
    """Everything an emulated org can be told; defaults follow the profile."""

    api_versions: tuple[str, ...] = API_VERSIONS
    latest_version: str = API_VERSIONS[-1]
    token_lifetime_s: float = 7200.0
    daily_api_limit: int = 5_000_000
    initial_api_usage: int = 0
    #: Assumption (profile "Renewal"): inputs accepted per invocable-action request.
    max_action_inputs: int = 200
    #: Assumption (profile "Quote pricing"): seconds a new quote stays PriceCalculationInProgress.
    pricing_delay_s: float = 0.2
    #: Profile "Asynchronous completion": seconds between activation and assetization.
    assetize_delay_s: float = 0.5
    #: A live v67 org sent only renewRecordId; False leaves requestIdentifier out.
    include_request_identifier: bool = True
    #: Setup → Revenue Settings → Advanced Order Creation From Quote (createOrdersFromQuote, v65+).
    advanced_order_creation: bool = True
    #: Activation fails with FAILED_ACTIVATION when the order has no shipping address.
    enforce_shipping_address: bool = True
    #: False: activation is a silent no-op for assets (no AppUsageAssignment / flow off).
    assetization_enabled: bool = True
    #: Latency added to every data request, milliseconds.
    latency_ms: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Credentials of the one connected app and integration user the org knows.
    client_id: str = "3MVG9emulatorConsumerKey"
    client_secret: str = "emulator-consumer-secret"
    username: str = "integration@sfsync.emulator"
    password: str = "emulator-password"
    #: PEM of the certificate or public key that verifies JWT bearer assertions; None: generate a key.
    jwt_public_key_pem: str | None = None
    org_name: str = "Capricorn Coffee Emulated Org"
    #: Rows per query page when the client sends no Sforce-Query-Options.
    default_query_batch: int = 2000
    max_collection_records: int = 200
    max_composite_subrequests: int = 25
    #: Seconds a query locator stays usable.
    query_locator_ttl_s: float = 900.0
