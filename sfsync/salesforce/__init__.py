"""The only code that speaks HTTP to a Salesforce org: auth, transport, retries, SOQL, batched operations.

Start from :class:`~sfsync.salesforce.client.SalesforceClient`; per-item results are the
:mod:`~sfsync.salesforce.outcomes` types.
"""

from __future__ import annotations

from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.initiate import CancellationRequest, RenewalRequest, Term
from sfsync.salesforce.orders import OrderRef
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Outcome, Uncertain

__all__ = [
    "CancellationRequest",
    "Done",
    "Failed",
    "NotSent",
    "OrderRef",
    "Outcome",
    "RenewalRequest",
    "SalesforceClient",
    "Term",
    "Uncertain",
]
