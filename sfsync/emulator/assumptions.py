"""Every point where the emulator decides something no public source settles (profile "assumption").

Kept in one place so a test against a real org can check them one by one; ``README.md`` lists the
same entries. Each names the switch or module that implements it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumption:
    """One undocumented behaviour the emulator implements in a chosen way."""

    topic: str
    behaviour: str
    where: str


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "action input limit",
        "Up to 200 inputs per invocable-action request; more answer a top-level 400 "
        "[{errorCode: LIMIT_EXCEEDED}] and process nothing.",
        "EmulatorConfig.max_action_inputs",
    ),
    Assumption(
        "action failure status",
        "HTTP 400 with the full per-input array when any input failed (community-observed).",
        "rest/actions.py",
    ),
    Assumption(
        "malformed action body",
        "Unparsable JSON → 400 JSON_PARSER_ERROR; JSON without an 'inputs' list of "
        "objects (or an empty one) → 400 INVALID_INPUT.",
        "rest/actions.py",
    ),
    Assumption(
        "requestIdentifier",
        "Sent by default; a switch leaves it out as a live v67 org did.",
        "EmulatorConfig.include_request_identifier",
    ),
    Assumption(
        "quote pricing",
        "A new quote stays PriceCalculationInProgress for pricing_delay_s (0.2 s) then "
        "becomes CompletedWithPricing.",
        "EmulatorConfig.pricing_delay_s",
    ),
    Assumption(
        "createOrdersFromQuote off",
        "Without Advanced Order Creation every element fails INVALID_OPERATION.",
        "EmulatorConfig.advanced_order_creation",
    ),
    Assumption(
        "assetization",
        "Runs assetize_delay_s (0.5 s) after activation; off = silent no-op.",
        "EmulatorConfig.assetize_delay_s, assetization_enabled",
    ),
    Assumption(
        "token errors",
        "All token-endpoint errors are HTTP 400; JWT: bad signature or unparsable → "
        "invalid_grant/invalid assertion, wrong iss → invalid_client_id/client identifier invalid, unknown "
        "sub → invalid_grant/user hasn't approved this consumer, wrong aud → invalid_grant/audience is "
        "invalid, expired → invalid_grant/expired assertion; JWT aud may be the emulator's URL or "
        "login/test.salesforce.com.",
        "auth.py",
    ),
    Assumption(
        "token expiry",
        "Access tokens expire token_lifetime_s (2 h) after issue on the org clock (no sliding renewal).",
        "EmulatorConfig.token_lifetime_s",
    ),
    Assumption(
        "bad record ID in a URL",
        "A malformed ID or one of another object answers 404 NOT_FOUND; a GET of a "
        "deleted record answers 404 NOT_FOUND.",
        "rest/common.py",
    ),
    Assumption(
        "error texts",
        "INVALID_TYPE, INVALID_CROSS_REFERENCE_KEY, MALFORMED_ID, EXCEEDED_ID_LIMIT and "
        "METHOD_NOT_ALLOWED messages follow Salesforce's usual wording but are unverified.",
        "errors.py",
    ),
    Assumption(
        "query locators",
        "Pages come from a snapshot of the matching IDs taken by the first call (values "
        "are read when each page is served); locators live 15 minutes, at most 200 open.",
        "rest/query.py",
    ),
    Assumption(
        "SOQL nulls",
        "`!=` and NOT IN match records whose field is null; other comparisons never do.",
        "soql/compiler.py",
    ),
    Assumption(
        "SOQL case",
        "String comparisons, LIKE and ORDER BY fold ASCII case only (SQLite NOCASE).",
        "soql/resolve.py",
    ),
    Assumption(
        "relative dates",
        "UTC days: NEXT_N_DAYS:n = tomorrow through today+n; LAST_N_DAYS:n = today-n through today.",
        "soql/resolve.py",
    ),
    Assumption(
        "daily limit",
        "Every authenticated data request counts one, whatever its outcome (faults too); "
        "/services/data/, token, identity and admin calls do not.",
        "app.py",
    ),
    Assumption(
        "composite limits",
        "At most 25 subrequests, of which at most 5 query or sObject Collections.",
        "rest/composite.py",
    ),
)
