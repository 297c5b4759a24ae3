"""The invocable-action envelope: ``POST …/actions/standard/<name>`` (Part 2 §3, profile "Renewal").

Body ``{"inputs": [...]}``; more than ``max_action_inputs`` inputs → top-level 400 LIMIT_EXCEEDED
and nothing processed; unknown action or a version below its minimum → 404 NOT_FOUND. Answer: one
element per input; HTTP 200 when all succeeded, 400 with the same full array when any failed.
"""

from __future__ import annotations

from typing import Any

from sfsync.emulator.errors import ApiError, not_found
from sfsync.emulator.org import ActionContext, ActionHandler
from sfsync.emulator.rest.common import Call, Result


def _visible(call: Call, name: str) -> ActionHandler:
    handler = call.org.action(name)
    if handler is None or call.api_version < handler.min_version:
        raise not_found()
    return handler


def list_actions(call: Call) -> Result:
    """``GET …/actions/standard``."""
    actions = [
        {
            "label": h.name,
            "name": h.name,
            "type": "STANDARD",
            "url": f"{call.prefix}/actions/standard/{h.name}",
        }
        for h in sorted(call.org.actions.values(), key=lambda h: h.name)
        if call.api_version >= h.min_version
    ]
    return Result(200, {"actions": actions})


def describe_action(call: Call, name: str) -> Result:
    """``GET …/actions/standard/<name>`` (a minimal describe)."""
    handler = _visible(call, name)
    call.action = handler.name
    return Result(
        200, {"name": handler.name, "label": handler.name, "type": "STANDARD", "inputs": [], "outputs": []}
    )


def inputs_of(call: Call) -> list[dict[str, Any]]:
    """The validated ``inputs`` list of the body."""
    body = call.req.json()
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiError(
            400, "INVALID_INPUT", "The request body must be an object with an 'inputs' list of objects"
        )
    if not inputs:
        raise ApiError(400, "INVALID_INPUT", "Provide at least one input in 'inputs'")
    limit = call.org.config.max_action_inputs
    if len(inputs) > limit:
        raise ApiError(400, "LIMIT_EXCEEDED", f"You can't invoke this action with more than {limit} inputs.")
    return inputs


def element(
    name: str, output_values: dict[str, Any] | None, errors: list[dict[str, Any]]
) -> dict[str, object]:
    """One per-input answer element."""
    return {
        "actionName": name, "errors": errors or None, "isSuccess": not errors,
        "outputValues": None if errors else output_values, "invocationId": None, "outcome": None,
        "sortOrder": -1, "version": 1,
    }  # fmt: skip


def invoke(call: Call, name: str) -> Result:
    """``POST …/actions/standard/<name>``."""
    handler = _visible(call, name)
    call.action = handler.name
    inputs = inputs_of(call)
    call.records = len(inputs)
    ctx = ActionContext(
        org=call.org, api_version=call.api_version, user_id=call.user_id, now=call.org.clock.now()
    )
    with call.org.store.acting_as(call.user_id):
        outcomes = handler.invoke(ctx, inputs)
    if len(outcomes) != len(inputs):
        raise ApiError(
            500,
            "UNKNOWN_EXCEPTION",
            f"action {handler.name} answered {len(outcomes)} of {len(inputs)} inputs",
        )
    body = [element(handler.name, o.output_values, o.errors) for o in outcomes]
    return Result(200 if all(not o.errors for o in outcomes) else 400, body)


def lock_row_result(call: Call, name: str) -> Result:
    """The UNABLE_TO_LOCK_ROW fault on an action: every input fails, nothing processed."""
    handler = _visible(call, name)
    inputs = inputs_of(call)
    error = {"statusCode": "UNABLE_TO_LOCK_ROW",
             "message": "unable to obtain exclusive access to this record or 1 records: ", "fields": []}  # fmt: skip
    return Result(400, [element(handler.name, None, [error]) for _ in inputs])
