"""What one signal costs inside a bench trader replica: round trips by command, and time per step.

Counting round trips makes the latency explainable independently of how fast the database
server of the run is: MongoDB commands are counted with PyMongo's command monitoring (one command
= one round trip; concurrent commands count one each), Redis writes to the socket by patching
redis-py's ``send_packed_command`` (one call = one round trip; a pipeline is one call, labelled
``A+B``). Step times wrap the executor's collaborators by attribute name, so a step the code no
longer has is simply absent from the breakdown.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from pymongo import monitoring
from redis.asyncio.connection import AbstractConnection

STEPS: tuple[tuple[str, str, str], ...] = (
    ("lookup", "ledger", "get_order"),
    ("pre-trade", "pre_trade", "assess"),
    ("intent", "ledger", "insert_order"),
    ("venue query", "venue", "query"),
    ("venue submit", "venue", "submit"),
    ("outcome", "ledger", "apply_order_update"),
)
"""(step name, collaborator, method) timed per signal; collaborators are looked up by :meth:`Probe.attach`."""

_COMMAND_NAME = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")

Record = dict[str, Any]


class Probe:
    """Counters and per-signal records of one replica process."""

    def __init__(self) -> None:
        self.mongo: Counter[str] = Counter()
        self.redis: Counter[str] = Counter()
        self.current: Record | None = None
        self.records: dict[str, Record] = {}

    def install(self) -> None:
        """Count every MongoDB command and Redis round trip of this process from now on."""
        monitoring.register(_MongoCounter(self))
        original = AbstractConnection.send_packed_command
        probe = self

        async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
            probe.redis[_redis_label(command)] += 1
            await original(self, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]

    def attach(self, collaborators: dict[str, object]) -> None:
        """Time the :data:`STEPS` the collaborators have (instance attributes shadow the methods)."""
        for step, owner, method in STEPS:
            target = collaborators.get(owner)
            if target is not None and hasattr(target, method):
                setattr(target, method, self._timed(step, getattr(target, method)))

    def wrap_process(self, process: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        """Wrap the service's per-entry call: everything it sends is the signal's."""

        async def recorded(entry: Any) -> None:
            record: Record = {"steps": Counter(), "start": time.time_ns()}
            mongo_before, redis_before = self.mongo.copy(), self.redis.copy()
            self.current = record
            start = time.perf_counter_ns()
            try:
                await process(entry)
            finally:
                record["steps"]["total"] += time.perf_counter_ns() - start
                record["mongo"] = dict(self.mongo - mongo_before)
                record["redis"] = dict(self.redis - redis_before)
                self.current = None
                self.records[entry.fields.get(b"signal_id", b"").decode()] = record

        return recorded

    def stamp(self, key: str, value: int) -> None:
        if self.current is not None:
            self.current[key] = value

    def _timed(self, step: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter_ns()
            try:
                return await method(*args, **kwargs)
            finally:
                if self.current is not None:
                    self.current["steps"][step] += time.perf_counter_ns() - start

        return timed


class _MongoCounter(monitoring.CommandListener):
    def __init__(self, probe: Probe) -> None:
        self._probe = probe

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self._probe.mongo[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _redis_label(command: bytes | str | Iterable[bytes]) -> str:
    if isinstance(command, str):
        data = command.encode()
    elif isinstance(command, bytes):
        data = command
    else:
        data = b"".join(command)
    names = [name.decode().upper() for name in _COMMAND_NAME.findall(data)]
    return "+".join(names) or "?"


def summarize(records: list[Record]) -> list[str]:
    """Lines for the bench output: mean round trips per signal by command, and p50/p99 per step."""
    if not records:
        return []
    lines = []
    for system in ("mongo", "redis"):
        totals: Counter[str] = Counter()
        for record in records:
            totals.update(record.get(system, {}))
        per_signal = sum(totals.values()) / len(records)
        detail = ", ".join(f"{name} {count / len(records):.2f}" for name, count in sorted(totals.items()))
        label = "MongoDB commands" if system == "mongo" else "Redis round trips"
        lines.append(f"  {label} per signal: {per_signal:.2f} ({detail})")
    steps = sorted({step for record in records for step in record["steps"]}, key=_step_order)
    parts = []
    for step in steps:
        values = sorted(record["steps"].get(step, 0) / 1e6 for record in records)
        parts.append(f"{step} {_pct(values, 0.5):.2f}/{_pct(values, 0.99):.2f}")
    lines.append(f"  per-signal steps, p50/p99 ms: {'; '.join(parts)}")
    return lines


def _step_order(step: str) -> int:
    names = ["delivery", *(name for name, _, _ in STEPS), "total"]
    return names.index(step) if step in names else len(names)


def _pct(values: list[float], q: float) -> float:
    return values[int(q * (len(values) - 1))]
