"""The façade the engine uses: one :class:`SalesforceClient` per org profile.

It owns one :class:`~sfsync.salesforce.transport.Transport` (session, token, budget, metrics,
retries) and one :class:`~sfsync.salesforce.actions.Actions` (adaptive batch sizes), and exposes
the batched operations of :mod:`reads`, :mod:`initiate` and :mod:`orders`. Operations that write
return one :data:`~sfsync.salesforce.outcomes.Outcome` per item and do not raise for Salesforce's
answers; reads raise :class:`~sfsync.errors.SalesforceError` subclasses.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Literal

import requests

from sfsync import errors
from sfsync.clock import Clock, SystemClock
from sfsync.salesforce import initiate, orders, query, reads
from sfsync.salesforce.actions import Actions
from sfsync.salesforce.auth import Identity, TokenCache, identity_from_url
from sfsync.salesforce.budget import ApiBudget
from sfsync.salesforce.initiate import CancellationRequest, RenewalRequest
from sfsync.salesforce.metrics import Metrics
from sfsync.salesforce.models import (
    Asset,
    AssetActionSource,
    AssetStatePeriod,
    AsyncOperationTracker,
    Order,
    OrderAction,
    Quote,
    QuoteAction,
    RevenueTransactionErrorLog,
)
from sfsync.salesforce.orders import OrderRef, QuoteToOrderAction
from sfsync.salesforce.outcomes import Outcome
from sfsync.salesforce.soql import Select
from sfsync.salesforce.transport import Transport
from sfsync.settings import OrgProfile

ActionType = Literal["Renew", "Cancel"]


class SalesforceClient:
    """Batched Revenue Cloud operations against one org."""

    def __init__(
        self,
        profile: OrgProfile,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        token_cache: TokenCache | None = None,
        metrics: Metrics | None = None,
        budget: ApiBudget | None = None,
    ) -> None:
        self.profile = profile
        self.transport = Transport(
            profile,
            clock=clock or SystemClock(),
            rng=rng or random.Random(),
            sleep=sleep,
            session=session,
            token_cache=token_cache,
            metrics=metrics,
            budget=budget,
        )
        self.actions = Actions(self.transport)
        self._identity: Identity | None = None
        self._identity_lock = threading.Lock()

    @property
    def metrics(self) -> Metrics:
        """Calls and latency per endpoint kind."""
        return self.transport.metrics

    @property
    def budget(self) -> ApiBudget:
        """The API allowance as last reported by the org."""
        return self.transport.budget

    def close(self) -> None:
        """Release pooled connections."""
        self.transport.session.close()

    def __enter__(self) -> SalesforceClient:
        """Use as a context manager that closes the connections."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the pooled connections."""
        self.close()

    def identity(self) -> Identity:
        """The integration user's and the org's IDs (for reconciliation by CreatedById)."""
        with self._identity_lock:
            if self._identity is None:
                token = self.transport.token()
                found = identity_from_url(token.identity_url) if token.identity_url else None
                if found is None:
                    reply = self.transport.request("GET", "/services/oauth2/userinfo")
                    body = reply.body if isinstance(reply.body, Mapping) else {}
                    user, org = body.get("user_id"), body.get("organization_id")
                    if not isinstance(user, str) or not isinstance(org, str):
                        msg = "the userinfo answer lacks user_id or organization_id"
                        raise errors.RejectedError(msg, endpoint="/services/oauth2/userinfo")
                    found = Identity(user_id=user, org_id=org)
                self._identity = found
            return self._identity

    # Reads -------------------------------------------------------------------------------------

    def query(self, select: Select, *, all_rows: bool = False) -> Iterator[dict[str, object]]:
        """Stream the raw records of a built query."""
        return query.records(self.transport, select, all_rows=all_rows)

    def select_renewal_candidates(
        self,
        window_start: datetime,
        window_end: datetime,
        *,
        account_ids: Sequence[str] = (),
        product_ids: Sequence[str] = (),
        product_families: Sequence[str] = (),
        only_auto_renew: bool = False,
    ) -> Iterator[Asset]:
        """Stream root lifecycle-managed assets ending in the window (bundle children dropped)."""
        return reads.select_renewal_candidates(
            self.transport,
            window_start,
            window_end,
            account_ids=account_ids,
            product_ids=product_ids,
            product_families=product_families,
            only_auto_renew=only_auto_renew,
        )

    def read_assets(self, ids: Iterable[str]) -> dict[str, Asset]:
        """Assets by ID."""
        return reads.read_assets(self.transport, ids)

    def asset_price_books(self, ids: Iterable[str]) -> dict[str, str]:
        """Each asset's price book ID (from its latest AssetActionSource)."""
        return reads.asset_price_books(self.transport, ids)

    def quote_calculation_status(self, quote_ids: Iterable[str]) -> dict[str, Quote]:
        """Quotes with their CalculationStatus, by ID."""
        return reads.quote_calculation_status(self.transport, quote_ids)

    def read_error_logs(
        self, *, primary_record_ids: Iterable[str] = (), request_identifiers: Iterable[str] = ()
    ) -> list[RevenueTransactionErrorLog]:
        """RevenueTransactionErrorLog rows, newest first."""
        return reads.read_error_logs(
            self.transport, primary_record_ids=primary_record_ids, request_identifiers=request_identifiers
        )

    def read_trackers(self, order_ids: Iterable[str]) -> dict[str, list[AsyncOperationTracker]]:
        """AssetizationAsyncJob trackers per order, newest first."""
        return reads.read_trackers(self.transport, order_ids)

    def read_asset_actions_for_orders(self, order_ids: Iterable[str]) -> dict[str, list[AssetActionSource]]:
        """AssetActionSource rows (with AssetAction) per order."""
        return reads.read_asset_actions_for_orders(self.transport, order_ids)

    def read_state_periods(self, asset_ids: Iterable[str]) -> dict[str, list[AssetStatePeriod]]:
        """AssetStatePeriods per asset, in start order."""
        return reads.read_state_periods(self.transport, asset_ids)

    def read_order_status(self, order_ids: Iterable[str]) -> dict[str, Order]:
        """Orders (Status, AccountId, QuoteId, OrderNumber) by ID."""
        return reads.read_orders(self.transport, order_ids)

    # Reconciliation ----------------------------------------------------------------------------

    def find_quote_actions(
        self, asset_ids: Iterable[str], type: ActionType, since: datetime, created_by: str | None = None
    ) -> list[QuoteAction]:
        """QuoteActions of the assets made by the integration user since ``since`` minus the skew."""
        found = reads.find_actions(
            self.transport,
            "QuoteAction",
            asset_ids,
            type,
            reads.skewed(since, self.profile.reconcile_skew_s),
            created_by or self.identity().user_id,
        )
        return [row for row in found if isinstance(row, QuoteAction)]

    def find_order_actions(
        self, asset_ids: Iterable[str], type: ActionType, since: datetime, created_by: str | None = None
    ) -> list[OrderAction]:
        """OrderActions of the assets made by the integration user since ``since`` minus the skew."""
        found = reads.find_actions(
            self.transport,
            "OrderAction",
            asset_ids,
            type,
            reads.skewed(since, self.profile.reconcile_skew_s),
            created_by or self.identity().user_id,
        )
        return [row for row in found if isinstance(row, OrderAction)]

    def find_orders_for_quotes(self, quote_ids: Iterable[str]) -> dict[str, list[Order]]:
        """Orders made from each quote."""
        return reads.find_orders_for_quotes(self.transport, quote_ids)

    # Writes ------------------------------------------------------------------------------------

    def initiate_renewals(self, items: Sequence[RenewalRequest]) -> dict[str, Outcome[str]]:
        """initiateRenewal per (account, price book, term, output); per asset the quote/order ID."""
        return initiate.initiate_renewals(self.actions, items)

    def initiate_cancellations(self, items: Sequence[CancellationRequest]) -> dict[str, Outcome[str]]:
        """initiateCancellation per (account, price book, date, output); per asset the quote/order ID."""
        return initiate.initiate_cancellations(self.actions, items)

    def create_orders_from_quotes(
        self, quote_ids: Iterable[str], action: QuoteToOrderAction | None = None
    ) -> dict[str, Outcome[OrderRef]]:
        """One order per quote, with the profile's ``order_from_quote_action`` unless given."""
        return orders.create_orders_from_quotes(
            self.actions, quote_ids, action or self.profile.order_from_quote_action
        )

    def fill_shipping_addresses(self, order_ids: Iterable[str]) -> dict[str, Outcome[bool]]:
        """Copy account shipping addresses onto orders lacking one."""
        return orders.fill_shipping_addresses(self.transport, order_ids)

    def activate_orders(
        self, order_ids: Iterable[str], *, reconcile: bool = False
    ) -> dict[str, Outcome[str]]:
        """Activate orders (reading Status first when reconciling)."""
        return orders.activate_orders(self.transport, order_ids, reconcile=reconcile)
