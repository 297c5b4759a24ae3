"""Composite ``/composite`` (Part 2 §2.5): ≤ 25 subrequests, ``@{ref.path}`` references, allOrNone.

Always HTTP 200 with ``{"compositeResponse": [...]}``. With ``allOrNone`` a failure rolls back every
subrequest and the others answer 400 PROCESSING_HALTED.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import NoReturn

from sfsync.emulator.errors import ApiError
from sfsync.emulator.http import Request
from sfsync.emulator.rest.common import Call, Result

Route = Callable[[Call], Result]
_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_HALTED = [{"errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back since another operation in the same transaction failed."}]  # fmt: skip
_MAX_QUERIES = 5


def _rollback() -> NoReturn:
    raise _Rollback


class _Rollback(Exception):
    pass


class _BadReference(Exception):
    def __init__(self, expr: str) -> None:
        super().__init__(expr)
        self.expr = expr


def _lookup(results: dict[str, object], ref: str, path: str) -> object:
    if ref not in results:
        msg = f"{ref}{path}"
        raise _BadReference(msg)
    value = results[ref]
    for key, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            msg = f"{ref}{path}"
            raise _BadReference(msg)
    return value


def _substitute(text: str, results: dict[str, object]) -> str:
    def repl(m: re.Match[str]) -> str:
        value = _lookup(results, m.group(1), m.group(2))
        return value if isinstance(value, str) else json.dumps(value)

    return _REF.sub(repl, text)


def _substitute_json(value: object, results: dict[str, object]) -> object:
    if isinstance(value, str):
        return _substitute(value, results)
    if isinstance(value, list):
        return [_substitute_json(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_json(v, results) for k, v in value.items()}
    return value


def composite(call: Call, route: Route) -> Result:
    """``POST …/composite``; ``route`` runs one subrequest as a Call."""
    body = call.req.json()
    subs = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not all(isinstance(s, dict) for s in subs):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must have a 'compositeRequest' list")
    if not subs:
        raise ApiError(400, "INVALID_INPUT", "compositeRequest must not be empty")
    if len(subs) > call.org.config.max_composite_subrequests:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            f"Composite requests cannot have more than {call.org.config.max_composite_subrequests} subrequests",
        )
    heavy = sum(
        1 for s in subs if re.search(r"/(query|queryAll|composite/sobjects)\b", str(s.get("url", "")))
    )
    if heavy > _MAX_QUERIES:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            "Composite requests can have at most 5 query or sObject Collections subrequests",
        )
    all_or_none = bool(body.get("allOrNone", False)) if isinstance(body, dict) else False
    call.records = len(subs)
    results: dict[str, object] = {}
    answers: list[dict[str, object]] = []
    store = call.org.store
    outer: AbstractContextManager[None] = store.transaction() if all_or_none else nullcontext()
    failed_at: int | None = None
    try:
        with outer:
            for i, sub in enumerate(subs):
                ref = str(sub.get("referenceId", ""))
                try:
                    res = _run_one(call, sub, results, route)
                except _BadReference as exc:
                    res = Result(400, [{"errorCode": "PROCESSING_HALTED",
                                        "message": f"Invalid reference specified. No value for {exc.expr} found in {ref}."}])  # fmt: skip
                answers.append(
                    {
                        "body": res.data,
                        "httpHeaders": res.headers,
                        "httpStatusCode": res.status,
                        "referenceId": ref,
                    }
                )
                if res.status < 400:
                    results[ref] = res.data
                elif all_or_none:
                    failed_at = i
                    _rollback()
    except _Rollback:
        for i, sub in enumerate(subs):
            if i != failed_at:
                ref = str(sub.get("referenceId", ""))
                halted = {"body": _HALTED, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}
                if i < len(answers):
                    answers[i] = halted
                else:
                    answers.append(halted)
    return Result(200, {"compositeResponse": answers})


def _run_one(call: Call, sub: dict[str, object], results: dict[str, object], route: Route) -> Result:
    method = str(sub.get("method", "GET")).upper()
    url = _substitute(str(sub.get("url", "")), results)
    raw_body = sub.get("body")
    body = json.dumps(_substitute_json(raw_body, results)).encode() if raw_body is not None else b""
    headers = dict(call.req.headers)
    extra = sub.get("httpHeaders")
    if isinstance(extra, dict):
        headers.update({str(k).lower(): str(v) for k, v in extra.items()})
    req = Request.build(method, url, headers, body)
    req.headers = {k.lower(): v for k, v in headers.items()}
    sub_call = Call(call.org, req, call.base_url, call.version, call.user_id)
    try:
        result = route(sub_call)
    except ApiError as exc:
        result = Result(exc.http_status, exc.body())
    call.sobjects |= sub_call.sobjects
    return result
