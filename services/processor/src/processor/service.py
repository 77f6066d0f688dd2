"""Wiring: clients, health, symbol leases, the consumer group and the main loop with recovery.

Every failure of Redis or MongoDB drops the in-memory state and rebuilds it after a backoff
(warm-up from MongoDB, then this consumer's unacked entries are read again): whatever had not
been made durable is simply done again, and deterministic ids make the repeat write nothing twice.

A replica processes only the symbols whose lease it holds (``ownership.py``). A task renews the
leases every ``lease_renew_ms``; the main loop applies what changed between two batches: a symbol
gained is taken over (the previous owner's pending entries claimed, then warm-up from the
checkpoint), a symbol lost is dropped at once, a surplus symbol is dropped and its lease released
(rebalancing), and the consumer is rebuilt on the owned streams.
Every signal is published under its symbol's fence, so a replica that lost a lease without
noticing yet is refused by Redis and never moves that symbol's checkpoint again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from algo_common import mongo, redis_client
from algo_common.clock import now_ms
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from algo_common.runtime import run_service
from algo_common.streams import PROCESSOR_GROUP, GroupConsumer, claim_pending, ensure_group, market_stream
from algo_common.telemetry import setup_metrics
from processor.backfill import Backfill
from processor.engine import Engine, SymbolState
from processor.kline_history import KlineHistory
from processor.lag import stream_backlog
from processor.metrics import ProcessorMetrics
from processor.ownership import LEASE_PREFIX, OwnershipChange, SymbolOwnership, deployment_id
from processor.pipeline import SymbolPipeline
from processor.publisher import SignalFenced, SignalPublisher
from processor.settings import ProcessorSettings
from processor.store import ProcessorStore, checkpoint_key
from processor.strategies import build_strategy
from processor.warmup import warm_up

SERVICE = "processor"
LAG_INTERVAL_S = 1.0
DEPENDENCY_ERRORS = (RedisError, PyMongoError, OSError)
HTTP_TIMEOUT_S = 10.0
RECLAIM_EVERY_S = 1.0  # idle entries of dead consumers: looked for once a second, not on every read

log = get_logger(__name__)


def dependency_of(error: BaseException) -> str:
    """Metric label of the dependency behind ``error``."""
    if isinstance(error, RedisError):
        return "redis"
    if isinstance(error, PyMongoError):
        return "mongodb"
    return "network"


@dataclass
class _Session:
    """State that lives from one successful start to the next dependency failure."""

    engine: Engine
    consumer: GroupConsumer | None = None


class ProcessorService:
    """The processor: build it from settings, run :meth:`main` until the stop event is set."""

    def __init__(
        self,
        settings: ProcessorSettings,
        redis: aioredis.Redis,
        mongo_client: AsyncMongoClient[mongo.Document],
        clock: Callable[[], int] = now_ms,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.redis = redis
        self.mongo_client = mongo_client
        self.clock = clock
        self.consumer_name = settings.consumer_name or socket.gethostname()
        self.streams = [market_stream(symbol) for symbol in settings.symbols]
        self.metrics = ProcessorMetrics.create()
        self.store = ProcessorStore(mongo.get_database(mongo_client, settings.mongo_db))
        self.publisher = SignalPublisher(self.store, redis, settings.stream_maxlen, self.metrics, clock)
        self.health = Health(liveness_timeout_s=settings.liveness_timeout_s)
        self.health.add_check("redis", lambda: redis_client.ping(redis))
        self.health.add_check("mongodb", lambda: mongo.ping(mongo_client))
        self.health.set_state("processing", False, "starting")
        self._lag_checked = 0.0
        strategy = settings.strategy
        self.ownership = SymbolOwnership(
            redis,
            {symbol: LEASE_PREFIX + checkpoint_key(strategy, symbol, settings.interval) for symbol in settings.symbols},
            self.consumer_name,
            deployment_id(strategy, settings.interval, settings.symbols),
            settings.lease_ttl_ms,
            self.metrics,
        )
        self.backfill = (
            None
            if http is None
            else Backfill(
                KlineHistory(http, settings.rest_base_url),
                self.store,
                self.metrics,
                max_wait_s=settings.backfill_max_wait_s,
                on_page=self.health.beat,
            )
        )
        self._changes: list[OwnershipChange] = []
        self._leases_checked = asyncio.Event()

    @classmethod
    def from_settings(cls, settings: ProcessorSettings, clock: Callable[[], int] = now_ms) -> ProcessorService:
        """The service with its own Redis and MongoDB clients (``clock``: epoch ms, replaceable in tests)."""
        redis = redis_client.create_redis(settings.redis_url.get_secret_value())
        client = mongo.create_client(settings.mongo_uri.get_secret_value(), SERVICE)
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) if settings.backfill else None
        return cls(settings, redis, client, clock, http)

    async def aclose(self) -> None:
        await self.redis.aclose()
        await self.mongo_client.close()
        if self.http is not None:
            await self.http.aclose()

    async def main(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; dependency failures make the service unready, never crash it."""
        keeper = asyncio.create_task(self._keep_leases(stop), name="leases")
        session: _Session | None = None
        attempt = 0
        try:
            while not stop.is_set():
                self.health.beat()
                try:
                    if session is None:
                        session = await self._start_session(stop)
                    await self._apply_ownership(session)
                    await self._step(session, stop)
                    attempt = 0
                except SignalFenced as e:  # a fenced publish was refused: stop acting for that symbol at once
                    self.ownership.on_fenced(e.symbol, e.fence)
                    if session is not None:
                        self._drop(session, e.symbol)
                        session.consumer = None  # the batch is not acked: a new consumer re-reads its entries
                except DEPENDENCY_ERRORS as e:
                    session = None
                    attempt = await self._on_dependency_error(e, attempt, stop)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            with contextlib.suppress(*DEPENDENCY_ERRORS):
                await self.ownership.release_all()
        log.info("processor stopped")

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Renew and share out the leases every ``lease_renew_ms``, whatever the main loop is doing."""
        while not stop.is_set():
            try:
                change = await self.ownership.refresh()
                if change.gained or change.lost or change.surplus:
                    self._changes.append(change)
                self._leases_checked.set()
            except DEPENDENCY_ERRORS as e:
                self.metrics.dependency_errors.add(1, {"dependency": dependency_of(e)})
                log.warning("lease renewal failed", error=f"{type(e).__name__}: {e}"[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.lease_renew_ms / 1000)

    async def _start_session(self, stop: asyncio.Event) -> _Session:
        """Consumer groups and indexes first (so an outage fails early); symbols are taken over as owned."""
        self.health.set_state("processing", False, "warming up")
        for stream in self.streams:
            await ensure_group(self.redis, stream, PROCESSOR_GROUP)
        await self.store.ensure_indexes()
        engine = Engine([], self.store, self.publisher, self.metrics, self.settings.order_quantity, self.clock)
        self._changes.clear()  # a new session starts from what is owned now
        while not self._leases_checked.is_set() and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._leases_checked.wait(), self.settings.block_ms / 1000)
            self.health.beat()
        return _Session(engine)

    async def _apply_ownership(self, session: _Session) -> None:
        """Drop the symbols lost, take over the ones owned but not yet processed, then re-aim the consumer."""
        changes, self._changes = self._changes, []
        for change in changes:
            for symbol in change.lost:
                self._drop(session, symbol)
            for symbol in change.surplus:  # between batches: everything read so far is acked
                self._drop(session, symbol)
                await self.ownership.release(symbol)
        for symbol in self.ownership.owned:
            if symbol not in session.engine.states:
                await self._take_over(session, symbol)
        streams = [market_stream(symbol) for symbol in sorted(session.engine.states)]
        if (session.consumer.streams if session.consumer else []) != streams:
            session.consumer = self._new_consumer(streams)
        owned = sorted(session.engine.states)
        detail = f"owns {len(owned)} of {len(self.settings.symbols)} symbols"
        self.health.set_state("processing", True, f"{detail}: {','.join(owned)}" if owned else f"{detail} (standby)")

    async def _take_over(self, session: _Session, symbol: str) -> None:
        """Claim what the previous owner left pending, then warm up from the checkpoint (with catch-up)."""
        await claim_pending(self.redis, market_stream(symbol), PROCESSOR_GROUP, self.consumer_name)
        state = self._new_state(symbol)
        state.fence = self.ownership.fence(symbol)
        await warm_up(state, self.store, session.engine.on_outcome, self.clock(), self.backfill)
        session.engine.add(state)
        self.health.beat()

    def _drop(self, session: _Session, symbol: str) -> None:
        """Stop processing ``symbol`` (the consumer is re-aimed before the next read)."""
        if symbol in session.engine.states:
            session.engine.remove(symbol)
            log.info("stopped processing", symbol=symbol)

    def _new_consumer(self, streams: list[str]) -> GroupConsumer | None:
        """A consumer of the owned streams; it first re-reads its own unacked entries of them."""
        if not streams:
            return None
        return GroupConsumer(
            self.redis,
            streams,
            PROCESSOR_GROUP,
            self.consumer_name,
            count=self.settings.batch_count,
            block_ms=self.settings.block_ms,
            claim_idle_ms=self.settings.claim_idle_ms,
            reclaim_every_s=RECLAIM_EVERY_S,
        )

    def _new_state(self, symbol: str) -> SymbolState:
        s = self.settings
        strategy = build_strategy(
            s.strategy, s.fast_period, s.slow_period, rsi_period=s.rsi_period, rsi_overbought=s.rsi_overbought
        )
        return SymbolState(
            checkpoint_key(strategy.name, symbol, s.interval),
            SymbolPipeline(symbol, s.interval, strategy, capture_state=True),
        )

    async def _step(self, session: _Session, stop: asyncio.Event) -> None:
        consumer = session.consumer
        if consumer is None:  # nothing owned: wait for the lease keeper
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.block_ms / 1000)
            return
        entries = await consumer.read()
        if entries:
            await session.engine.process(entries)
            await consumer.ack(entries)
        await self._record_lag(consumer.streams)

    async def _record_lag(self, streams: list[str]) -> None:
        if time.monotonic() - self._lag_checked < LAG_INTERVAL_S:
            return
        self._lag_checked = time.monotonic()
        for stream in streams:
            backlog = await stream_backlog(self.redis, stream, PROCESSOR_GROUP)
            if backlog is not None:
                self.metrics.stream_lag.set(backlog, {"stream": stream})

    async def _on_dependency_error(self, error: Exception, attempt: int, stop: asyncio.Event) -> int:
        dependency = dependency_of(error)
        self.metrics.dependency_errors.add(1, {"dependency": dependency})
        self.health.set_state("processing", False, f"{dependency} unavailable: {type(error).__name__}")
        delay = backoff_delay(attempt, self.settings.retry_base_s, self.settings.retry_cap_s)
        log.warning(
            "dependency error; state will be rebuilt",
            dependency=dependency,
            error=f"{type(error).__name__}: {error}"[:300],
            retry_in_s=round(delay, 3),
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        return attempt + 1


async def run(settings: ProcessorSettings) -> None:
    """Run the processor as a process: health/metrics server, main loop, SIGTERM drain."""
    setup_metrics(SERVICE)
    service = ProcessorService.from_settings(settings)
    log.info(
        "starting",
        symbols=list(settings.symbols),
        strategy=settings.strategy,
        fast_period=settings.fast_period,
        slow_period=settings.slow_period,
        rsi_period=settings.rsi_period,
        rsi_overbought=str(settings.rsi_overbought),
        interval=settings.interval,
        order_quantity=str(settings.order_quantity),
        consumer=service.consumer_name,
        mongo_db=settings.mongo_db,
    )
    try:
        await run_service(SERVICE, settings, service.health, service.main)
    finally:
        await service.aclose()
