"""sfsync: automates renewals and cancellations of Salesforce Revenue Cloud assets."""

from __future__ import annotations

__version__ = "0.1.0"
