"""Invocable actions (``/actions/standard/<name>``) with many inputs per request.

Salesforce documents no per-request input limit, so the number of inputs adapts per org and
action: start at ``profile.action_batch_size``; when a multi-input request is refused as a whole (a
top-level error array rather than per-element results — such a request processed nothing, so
splitting it is safe) halve the batch, down to one input; remember the size that worked.
Each element's result or error is mapped back to its input, including an HTTP 400 that carries the
full per-element array when only some inputs failed (its successful elements are successes).
Elements refused with ``UNABLE_TO_LOCK_ROW`` were rolled back and are sent again after a backoff.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence

import structlog

from sfsync import errors
from sfsync.salesforce import retry
from sfsync.salesforce.errors import parse_error_items
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Outcome, Uncertain, from_error, halts
from sfsync.salesforce.transport import Transport

log = structlog.get_logger(__name__)

Output = dict[str, object]


def _element_array(status: int, body: object) -> bool:
    """Whether a 400 is the per-element answer of an action call (some inputs failed)."""
    return (
        status == 400
        and isinstance(body, list)
        and bool(body)
        and all(isinstance(item, Mapping) and "isSuccess" in item for item in body)
    )


def _refused_whole(exc: errors.SalesforceError) -> bool:
    """Whether a top-level refusal may be about the number of inputs (so a smaller batch may pass)."""
    return isinstance(exc, errors.RejectedError) and not isinstance(exc, errors.NotFoundError)


class Actions:
    """Runs invocable actions for one org, remembering per action the batch size that worked."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}

    def batch_size(self, action: str) -> int:
        """Inputs per request for ``action`` (the profile's size until a smaller one was needed)."""
        with self._lock:
            return self._sizes.get(action, self._transport.profile.action_batch_size)

    def _remember(self, action: str, size: int) -> None:
        with self._lock:
            if self._sizes.get(action) != size:
                log.info("salesforce_action_batch_size", action=action, size=size)
            self._sizes[action] = size

    def invoke(
        self, action: str, inputs: Sequence[Mapping[str, object]], *, creating: bool = True
    ) -> list[Outcome[Output]]:
        """Call ``action`` for every input; one outcome per input, in order."""
        transport = self._transport
        results: list[Outcome[Output] | None] = [None] * len(inputs)
        tries = [0] * len(inputs)
        queue = deque(range(len(inputs)))
        size = self.batch_size(action)
        stop: Outcome[Output] | None = None
        while queue:
            chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
            if stop is not None:
                for index in chunk:
                    results[index] = stop
                continue
            try:
                reply = transport.request(
                    "POST",
                    f"actions/standard/{action}",
                    json={"inputs": [dict(inputs[index]) for index in chunk]},
                    creating=creating,
                    accept=_element_array,
                )
            except errors.SalesforceError as exc:
                if len(chunk) > 1 and _refused_whole(exc):
                    size = max(1, len(chunk) // 2)
                    log.warning(
                        "salesforce_action_split", action=action, inputs=len(chunk), size=size, error=str(exc)
                    )
                    queue.extendleft(reversed(chunk))
                    continue
                outcome = from_error(exc)
                for index in chunk:
                    results[index] = outcome
                stop = outcome if halts(exc) else None
                continue
            if len(chunk) == size:
                self._remember(action, size)
            elements = reply.body if isinstance(reply.body, list) else []
            if len(elements) != len(chunk):
                lost = Uncertain(f"{action} answered {len(elements)} results for {len(chunk)} inputs")
                for index in chunk:
                    results[index] = lost
                continue
            locked = []
            for index, element in zip(chunk, elements, strict=True):
                result, again = _element_outcome(element, tries[index], transport.profile.max_retries)
                results[index] = result
                if again:
                    tries[index] += 1
                    locked.append(index)
            if locked:
                attempt = max(tries[index] for index in locked)
                transport.sleep(retry.delay(attempt, transport.rng, cap=transport.profile.backoff_cap_s))
                queue.extend(locked)
        return [outcome if outcome is not None else Uncertain("no result") for outcome in results]


def _element_outcome(element: object, tries: int, max_retries: int) -> tuple[Outcome[Output], bool]:
    """One action element as an outcome, and whether to send its input again (lock error)."""
    if not isinstance(element, Mapping):
        return Uncertain("unreadable action result element"), False
    if element.get("isSuccess") is True:
        values = element.get("outputValues")
        return Done(dict(values) if isinstance(values, Mapping) else {}), False
    found = parse_error_items(element.get("errors"))
    if not found:
        return Failed("UNKNOWN_ERROR", "the action reported a failure without an error"), False
    first = found[0]
    message = "; ".join(item.message for item in found)
    if first.code in retry.RETRYABLE_CODES:
        if tries < max_retries:
            return NotSent(message, "lock"), True
        return NotSent(f"{first.code}: {message}", "lock"), False
    return Failed(first.code, message, tuple(field for item in found for field in item.fields)), False
