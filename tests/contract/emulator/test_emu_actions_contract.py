"""The invocable-action envelope (Part 2 §3, profile "Renewal"), with a small test action plugged in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from emu_http import Api

from sfsync.emulator.harness import EmulatorHandle
from sfsync.emulator.org import ActionContext, ActionOutcome


@dataclass
class EchoAction:
    """Creates one Account per input named by `name`; an input with `fail` fails its element."""

    name: str = "sfsyncEcho"
    min_version: float = 62.0

    def invoke(self, ctx: ActionContext, inputs: list[dict[str, Any]]) -> list[ActionOutcome]:
        """Process each input."""
        out = []
        for item in inputs:
            if item.get("fail"):
                out.append(
                    ActionOutcome(
                        None, [{"statusCode": "INVALID_INPUT", "message": "told to fail", "fields": []}]
                    )
                )
                continue
            with ctx.org.store.transaction():
                new_id = ctx.org.store.insert("Account", {"Name": str(item.get("name", "x"))})
            out.append(ActionOutcome({"recordId": new_id, "version": ctx.api_version}))
        return out


@pytest.fixture
def echo(emu: EmulatorHandle) -> EchoAction:
    """The test action, registered on the org."""
    action = EchoAction()
    emu.org.register_action(action)
    return action


def test_all_success_is_200_with_full_elements(api: Api, echo: EchoAction, emu: EmulatorHandle) -> None:
    """Every element has the documented keys; HTTP 200 when all succeed; the acting user writes."""
    resp = api.post(f"actions/standard/{echo.name}", json={"inputs": [{"name": "a"}, {"name": "b"}]})
    assert resp.status_code == 200
    body = resp.json()
    assert [set(e) for e in body] == [
        {
            "actionName",
            "errors",
            "isSuccess",
            "outputValues",
            "invocationId",
            "outcome",
            "sortOrder",
            "version",
        }
    ] * 2
    assert body[0]["isSuccess"] is True
    assert body[0]["errors"] is None
    assert (body[0]["invocationId"], body[0]["outcome"], body[0]["sortOrder"], body[0]["version"]) == (
        None,
        None,
        -1,
        1,
    )
    assert body[0]["outputValues"]["version"] == 66.0
    created = emu.org.store.get("Account", body[1]["outputValues"]["recordId"])
    assert created is not None
    assert created["CreatedById"] == emu.org.user_id
    entry = emu.admin.requests()[-1]
    assert (entry.action, entry.records, entry.committed, entry.status) == ("sfsyncEcho", 2, True, 200)


def test_any_failure_is_400_with_the_full_array(api: Api, echo: EchoAction) -> None:
    """One failed input makes the whole answer 400 while every element is still listed."""
    resp = api.post(f"actions/standard/{echo.name}", json={"inputs": [{"name": "ok"}, {"fail": True}]})
    assert resp.status_code == 400
    ok, bad = resp.json()
    assert ok["isSuccess"] is True
    assert bad == {
        "actionName": "sfsyncEcho", "errors": [{"statusCode": "INVALID_INPUT", "message": "told to fail", "fields": []}],
        "isSuccess": False, "outputValues": None, "invocationId": None, "outcome": None, "sortOrder": -1, "version": 1,
    }  # fmt: skip


def test_too_many_inputs_is_refused_whole(api: Api, echo: EchoAction, emu: EmulatorHandle) -> None:
    """More inputs than max_action_inputs: top-level 400 LIMIT_EXCEEDED and nothing processed."""
    limit = emu.org.config.max_action_inputs
    resp = api.post(f"actions/standard/{echo.name}", json={"inputs": [{"name": "x"}] * (limit + 1)})
    assert resp.status_code == 400
    assert resp.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert emu.org.store.count("Account") == 0


def test_unknown_action_and_version_below_minimum(api: Api, echo: EchoAction) -> None:
    """Unknown actions and versions below an action's minimum are 404 NOT_FOUND."""
    expected = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert api.post("actions/standard/noSuchAction", json={"inputs": [{}]}).json() == expected
    old = api.post(f"/services/data/v61.0/actions/standard/{echo.name}", json={"inputs": [{}]})
    assert (old.status_code, old.json()) == (404, expected)
    names = [a["name"] for a in api.get("/services/data/v61.0/actions/standard").json()["actions"]]
    assert echo.name not in names
    names = [a["name"] for a in api.get("actions/standard").json()["actions"]]
    assert {echo.name, "initiateRenewal"} <= set(names)


def test_bad_bodies(api: Api, echo: EchoAction) -> None:
    """Unparsable JSON is JSON_PARSER_ERROR; a body without an inputs list is INVALID_INPUT."""
    raw = api.post(f"actions/standard/{echo.name}", data=b"{", headers={"Content-Type": "application/json"})
    assert (raw.status_code, raw.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
    bodies: list[object] = [{}, {"inputs": {}}, {"inputs": [1]}, [{"name": "x"}]]
    for body in bodies:
        resp = api.post(f"actions/standard/{echo.name}", json=body)
        assert (resp.status_code, resp.json()[0]["errorCode"]) == (400, "INVALID_INPUT"), body
    assert api.request("DELETE", f"actions/standard/{echo.name}").status_code == 405
