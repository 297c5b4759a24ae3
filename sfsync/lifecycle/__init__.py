"""Pure lifecycle rules: renewal terms and dates, cancellation effects, and verdicts on what
Salesforce shows after a change. No I/O and no clock reads: dates and snapshots come in as arguments.
"""

from __future__ import annotations
