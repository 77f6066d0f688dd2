"""The sink port, and the bounded queue + batch writer every sink is built on.

The reader never waits on a database: it :meth:`~Sink.offer`s events to a bounded queue and goes
on. One writer task per sink drains what is queued and writes it as one batch. The queue is a
``deque`` and a future the writer sleeps on: an offer is an append (plus waking the writer when it
sleeps), not an ``asyncio.Queue`` round (getters, unfinished-task count, ``asyncio.wait`` per wake-up),
which cost as much per event as parsing it. When the
write fails (Redis or MongoDB down) the writer retries the *same* batch with backoff, marks the sink
unready, and resumes by itself when the dependency is back; deterministic ids make the retries
write each event once. Implementations: :mod:`collector.mongo_sink`, :mod:`collector.stream_sink`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

from algo_common.domain.models import BookTop, Kline, Trade
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from collector.book_state import DepthRecord
from collector.metrics import CollectorMetrics

log = get_logger(__name__)

SinkEvent = Trade | Kline | BookTop | DepthRecord
"""Everything the pipeline hands to its sinks; each sink keeps what it stores."""

Item = TypeVar("Item")

FULL_LOG_EVERY = 1000
"""While a queue is full, log the first drop and then every this many."""


def _ignore(_: object) -> None:
    return None


def _nothing() -> None:
    return None


class Sink(Protocol):
    """Where events go. ``offer`` never blocks; ``run`` writes until ``finish`` is set and all is written."""

    name: str

    def offer(self, event: SinkEvent) -> None: ...

    async def run(self, finish: asyncio.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class SinkOptions:
    maxsize: int
    batch_size: int
    flush_interval_s: float
    retry_base_s: float
    retry_cap_s: float


class QueuedSink(Generic[Item]):
    """Bounded queue, batching writer, retry-until-written; subclasses say what to keep and how to write.

    While the dependency is down the queue is the outage buffer: nothing is lost below its bound,
    and everything queued is written once when the dependency is back. At the bound the reader
    still never waits (Binance would drop a connection that is not read): the newest event is
    dropped, counted in ``collector_events_dropped{reason=<sink>_queue_full}``, logged loudly, the
    service turns unready, and ``on_drop`` gets the event (the collector backfills dropped trades
    and closed klines into MongoDB from REST); ``on_room`` runs once the queue is half empty again.
    """

    name = "sink"
    dependency = "dependency"
    retry_errors: tuple[type[BaseException], ...] = ()

    def __init__(
        self, health: Health, metrics: CollectorMetrics, options: SinkOptions, rng: random.Random | None = None
    ) -> None:
        self._health = health
        self._metrics = metrics
        self._options = options
        self._rng = rng
        self._items: deque[Item] = deque()
        self._wakeup: asyncio.Future[None] | None = None  # set while the writer waits for items
        self._in_flight = 0  # events of the batch being written
        self._full_drops = 0
        self._writer_state = f"{self.name}_writer"
        self._queue_state = f"{self.name}_queue"
        self._writer_ok = True
        self.written_count = 0
        metrics.sinks.add(self)
        self.on_drop: Callable[[Item], None] = _ignore
        self.on_room: Callable[[], None] = _nothing
        health.set_state(self._writer_state, True)
        health.set_state(self._queue_state, True)

    def select(self, event: SinkEvent) -> Item | None:
        """The queued form of ``event``, or None when this sink does not store it."""
        raise NotImplementedError

    async def prepare(self) -> None:
        """Run once before the first write (retried like a write)."""

    async def write(self, batch: list[Item], retry: bool) -> None:
        """Write ``batch``; ``retry`` is True when an earlier attempt of the same batch failed."""
        raise NotImplementedError

    @property
    def depth(self) -> int:
        return len(self._items)

    @property
    def pending(self) -> int:
        """Events offered and not written yet (queued, or in the batch being written)."""
        return len(self._items) + self._in_flight

    def has_room(self) -> bool:
        """The writer is healthy and the queue at most half full: room for a backfill page."""
        return self._writer_ok and len(self._items) <= self._options.maxsize // 2

    def offer(self, event: SinkEvent) -> None:
        item = self.select(event)
        if item is None:
            return
        if len(self._items) >= self._options.maxsize:
            self._on_full()
            self.on_drop(item)
            return
        self._items.append(item)
        if self._wakeup is not None:
            self._wake()

    async def run(self, finish: asyncio.Event) -> None:
        await self._until_done(lambda _: self.prepare(), "prepare")
        finish_wait: asyncio.Future[object] = asyncio.ensure_future(finish.wait())
        finish_wait.add_done_callback(lambda _: self._wake())
        try:
            while (batch := await self._next_batch(finish)) is not None:
                self._in_flight = len(batch)
                await self._until_done(partial(self._write_attempt, batch), "write")
                self._in_flight = 0
                self._done(len(batch))
        finally:
            finish_wait.cancel()

    async def _write_attempt(self, batch: list[Item], attempt: int) -> None:
        await self.write(batch, retry=attempt > 0)

    def _wake(self) -> None:
        waiter, self._wakeup = self._wakeup, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next_batch(self, finish: asyncio.Event) -> list[Item] | None:
        """What is queued (up to batch_size), waiting for the first item; None once finished and empty."""
        while not self._items:
            if finish.is_set():
                return None
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        if self._options.flush_interval_s and len(self._items) < self._options.batch_size:
            await asyncio.sleep(self._options.flush_interval_s)
        return self._drain()

    def _drain(self) -> list[Item]:
        items, size = self._items, self._options.batch_size
        if len(items) <= size:
            batch = list(items)
            items.clear()
            return batch
        return [items.popleft() for _ in range(size)]

    def _done(self, count: int) -> None:
        self.written_count += count
        self._metrics.written[self.name] += count
        if self._full_drops and len(self._items) < self._options.maxsize // 2:
            log.warning("sink queue has room again", sink=self.name, dropped=self._full_drops)
            self._full_drops = 0
            self._health.set_state(self._queue_state, True)
            self.on_room()

    def _on_full(self) -> None:
        self._full_drops += 1
        self._metrics.events_dropped.add(1, {"reason": f"{self.name}_queue_full"})
        if self._full_drops == 1:
            self._health.set_state(self._queue_state, False, "queue full: dropping events")
        if self._full_drops % FULL_LOG_EVERY == 1:
            log.error("sink queue full: EVENTS DROPPED", sink=self.name, dropped=self._full_drops)

    async def _until_done(self, action: Callable[[int], Awaitable[None]], what: str) -> None:
        """Run ``action(attempt)`` until it succeeds, backing off and reporting the sink unready meanwhile."""
        attempt = 0
        while True:
            try:
                await action(attempt)
            except self.retry_errors as e:
                self._metrics.dependency_errors.add(1, {"dependency": self.dependency})
                self._writer_ok = False
                self._health.set_state(self._writer_state, False, f"{what} failing: {type(e).__name__}")
                delay = backoff_delay(attempt, self._options.retry_base_s, self._options.retry_cap_s, self._rng)
                log.warning(f"{self.name} {what} failed", error=f"{type(e).__name__}: {e}", retry_in_s=round(delay, 3))
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if attempt:
                log.info(f"{self.name} {what} recovered", attempts=attempt + 1)
                self._writer_ok = True
                self._health.set_state(self._writer_state, True)
            return
