"""Fills holes in the trade and kline history from REST, one bounded job at a time.

A job is a :class:`~collector.continuity.Gap` (trade ids or kline open times, both ends known) and
where the fetched events go: to every sink (the hole was on the WebSocket: nobody has them) or to
MongoDB only (they reached the stream but fell off MongoDB's full buffer). Because both ends are
known, a job never fetches an event that was also received live, so nothing is published twice;
MongoDB's ``_id``s make even an overlapping job harmless there. Jobs wait while their sinks have
no room, and REST weight is spent through the shared :class:`~collector.weight_gate.WeightGate`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Protocol, TypeVar

from algo_common.domain.models import Kline, Trade
from algo_common.errors import FatalError, TransientError
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from collector.continuity import INTERVAL_MS, Gap, GapKind
from collector.metrics import CollectorMetrics

log = get_logger(__name__)

E = TypeVar("E", Trade, Kline)

ROOM_POLL_S = 0.05
"""How often a job waiting for sink room looks again."""


class Target(StrEnum):
    ALL = "all"  # MongoDB and the stream: the events never arrived
    MONGODB = "mongodb"  # MongoDB only: the stream has them


class History(Protocol):
    async def trades(self, symbol: str, from_id: int) -> list[Trade]: ...

    async def klines(self, symbol: str, interval: str, start_ms: int, end_ms: int) -> list[Kline]: ...


Emit = Callable[[Trade | Kline, Target], None]
HasRoom = Callable[[Target], bool]


@dataclass(frozen=True, slots=True)
class Job:
    gap: Gap
    target: Target


class Backfill:
    """One worker; jobs run in the order they were found."""

    def __init__(
        self,
        history: History,
        emit: Emit,
        has_room: HasRoom,
        metrics: CollectorMetrics,
        *,
        retry_base_s: float,
        retry_cap_s: float,
        rng: random.Random | None = None,
    ) -> None:
        self._history = history
        self._emit = emit
        self._has_room = has_room
        self._metrics = metrics
        self._retry = (retry_base_s, retry_cap_s)
        self._rng = rng
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._busy = False
        self.filled = 0
        self.missing = 0

    @property
    def idle(self) -> bool:
        """No job queued or running."""
        return self._jobs.empty() and not self._busy

    def request(self, gap: Gap, target: Target) -> None:
        log.warning("history gap: backfilling from REST", **_describe(gap), target=target.value)
        self._jobs.put_nowait(Job(gap, target))

    async def run(self, stop: asyncio.Event) -> None:
        """Work through jobs until ``stop``; a job in progress is abandoned at stop (the next start re-finds it)."""
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(self._jobs.get())
                await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    return
                self._busy = True
                try:
                    await self._run_job(getter.result())
                finally:
                    self._busy = False
        finally:
            stopper.cancel()

    async def _run_job(self, job: Job) -> None:
        if job.gap.kind is GapKind.TRADES:
            await self._fill_trades(job)
        else:
            await self._fill_klines(job)

    async def _fill_trades(self, job: Job) -> None:
        gap = job.gap
        next_id = gap.first
        while next_id <= gap.last:
            page = await self._fetch(partial(self._history.trades, gap.symbol, next_id), gap)
            wanted = [t for t in page or [] if next_id <= t.trade_id <= gap.last]
            if not wanted:
                self._give_up(gap, "trades", gap.last - next_id + 1)
                return
            await self._deliver(wanted, job.target, "trades")
            next_id = wanted[-1].trade_id + 1

    async def _fill_klines(self, job: Job) -> None:
        gap = job.gap
        step = INTERVAL_MS[gap.interval]
        start = gap.first
        while start <= gap.last:
            page = await self._fetch(partial(self._history.klines, gap.symbol, gap.interval, start, gap.last), gap)
            if not page:
                self._give_up(gap, "klines", (gap.last - start) // step + 1)
                return
            await self._deliver(page, job.target, "klines")
            start = page[-1].open_time + step

    async def _fetch(self, call: Callable[[], Awaitable[list[E]]], gap: Gap) -> list[E] | None:
        """Run one page request until it succeeds; None when the venue refuses it for good."""
        attempt = 0
        while True:
            try:
                result = await call()
            except FatalError as e:
                log.error("backfill request refused", error=str(e), **_describe(gap))
                return None
            except TransientError as e:
                self._metrics.dependency_errors.add(1, {"dependency": "binance_rest"})
                delay = backoff_delay(attempt, *self._retry, rng=self._rng)
                log.warning("backfill request failed", error=str(e), retry_in_s=round(delay, 3))
                attempt += 1
                await asyncio.sleep(delay)
                continue
            return result

    async def _deliver(self, events: list[Trade] | list[Kline], target: Target, kind: str) -> None:
        while not self._has_room(target):  # noqa: ASYNC110 - room is a condition of two sinks, polled
            await asyncio.sleep(ROOM_POLL_S)
        for event in events:
            self._emit(event, target)
        self.filled += len(events)
        self._metrics.backfilled.add(len(events), {"kind": kind})

    def _give_up(self, gap: Gap, kind: str, count: int) -> None:
        self.missing += count
        self._metrics.backfill_missing.add(count, {"kind": kind})
        log.error("backfill incomplete: the venue no longer has these events", missing=count, **_describe(gap))


def _describe(gap: Gap) -> dict[str, object]:
    return {
        "symbol": gap.symbol,
        "kind": gap.kind.value,
        "first": gap.first,
        "last": gap.last,
        "interval": gap.interval,
    }
