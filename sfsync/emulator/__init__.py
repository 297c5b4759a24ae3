"""A Salesforce Revenue Cloud org in a box: HTTPS REST API, SOQL, OAuth, limits and faults.

Start one in-process with :func:`sfsync.emulator.harness.running_emulator`, or as a process with
``python -m sfsync.emulator serve``. See ``README.md`` in this package for what is served.
"""

from __future__ import annotations
