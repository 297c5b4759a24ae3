"""Fault decisions: which injected faults fire for a request, deterministically.

Rate-based rules draw from one ``random.Random(seed)``, so a run with the same seed and the same
sequence of requests fails the same calls. Schedules count *matching* requests per rule (1-based).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass

from sfsync.emulator.config import FaultConfig, FaultRule

KINDS = frozenset(
    {"latency", "http_500", "http_503", "drop_before", "lose_answer", "hold_answer", "lock_row",
     "session_expiry", "concurrency"}
)  # fmt: skip


@dataclass(frozen=True)
class RequestInfo:
    """What a fault rule can match on."""

    method: str
    path: str
    action: str | None = None
    sobjects: frozenset[str] = frozenset()


def rule_matches(rule: FaultRule, req: RequestInfo) -> bool:
    """Whether the rule targets this request (all given filters must match)."""
    if rule.method and rule.method.upper() != req.method.upper():
        return False
    if rule.path and not re.search(rule.path, req.path):
        return False
    if rule.action and (req.action is None or rule.action.lower() != req.action.lower()):
        return False
    return not (rule.sobject and rule.sobject.lower() not in {s.lower() for s in req.sobjects})


class FaultEngine:
    """Holds the rules and their counters; :meth:`decide` says which fire."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Replace all rules and reset counters and the random generator."""
        for rule in config.rules:
            if rule.kind not in KINDS:
                msg = f"unknown fault kind {rule.kind!r}; known: {', '.join(sorted(KINDS))}"
                raise ValueError(msg)
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._seen = [0] * len(config.rules)
            self._fired = [0] * len(config.rules)

    def reset(self) -> None:
        """Reset counters and generator, keep the rules."""
        self.configure(self.config)

    def decide(self, req: RequestInfo, *, now_s: float | None = None) -> list[FaultRule]:
        """The rules that fire for this request, in rule order (counters advance)."""
        elapsed = (time.monotonic() if now_s is None else now_s) - self._started
        fired: list[FaultRule] = []
        with self._lock:
            for i, rule in enumerate(self.config.rules):
                if not rule_matches(rule, req):
                    continue
                self._seen[i] += 1
                if rule.max_fires is not None and self._fired[i] >= rule.max_fires:
                    continue
                if self._triggers(rule, self._seen[i], elapsed):
                    self._fired[i] += 1
                    fired.append(rule)
        return fired

    def _triggers(self, rule: FaultRule, n: int, elapsed: float) -> bool:
        if n in rule.calls:
            return True
        if rule.start_at is not None and n >= rule.start_at:
            if rule.every is None:
                if n == rule.start_at:
                    return True
            elif (n - rule.start_at) % rule.every == 0:
                return True
        if rule.window is not None and rule.window[0] <= elapsed < rule.window[1]:
            return True
        # Draw for every matching request with a rate, so the sequence is reproducible.
        return rule.rate > 0 and self._rng.random() < rule.rate

    def counters(self) -> list[dict[str, object]]:
        """Per rule: the rule, matching requests seen, times fired."""
        with self._lock:
            return [
                {"rule": asdict(rule), "seen": seen, "fired": fired}
                for rule, seen, fired in zip(self.config.rules, self._seen, self._fired, strict=True)
            ]


def rule_from_dict(data: dict[str, object]) -> FaultRule:
    """A rule from its JSON form (unknown keys are an error)."""
    known = set(FaultRule.__dataclass_fields__)
    extra = set(data) - known
    if extra:
        msg = f"unknown fault rule keys: {', '.join(sorted(extra))}"
        raise ValueError(msg)
    values = dict(data)
    if "calls" in values and isinstance(values["calls"], list):
        values["calls"] = tuple(int(c) for c in values["calls"])
    if "window" in values and isinstance(values["window"], list):
        start, end = values["window"]
        values["window"] = (float(start), float(end))
    return FaultRule(**values)  # type: ignore[arg-type]


def config_from_json(text: str | bytes | dict[str, object] | Collection[object]) -> FaultConfig:
    """A fault configuration from JSON: ``{"seed": 1, "rules": [{...}]}`` or a bare list of rules."""
    data = json.loads(text) if isinstance(text, str | bytes) else text
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        msg = "faults must be a JSON object or list"
        raise ValueError(msg)  # noqa: TRY004 - a value error in user input, not a type misuse
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        msg = "faults.rules must be a list"
        raise ValueError(msg)  # noqa: TRY004
    seed = data.get("seed", 0)
    return FaultConfig(
        seed=int(seed) if isinstance(seed, int | str) else 0, rules=[rule_from_dict(r) for r in rules]
    )
