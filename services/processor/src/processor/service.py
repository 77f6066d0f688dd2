"""Wiring: clients, health, the consumer group and the main loop with recovery.

Every failure of Redis or MongoDB drops the in-memory state and rebuilds it after a backoff
(warm-up from MongoDB, then this consumer's unacked entries are read again): whatever had not
been made durable is simply done again, and deterministic ids make the repeat write nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

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
from algo_common.streams import PROCESSOR_GROUP, GroupConsumer, market_stream
from algo_common.telemetry import setup_metrics
from processor.engine import Engine, SymbolState
from processor.lag import stream_backlog
from processor.metrics import ProcessorMetrics
from processor.pipeline import SymbolPipeline
from processor.publisher import SignalPublisher
from processor.settings import ProcessorSettings
from processor.store import ProcessorStore, checkpoint_key
from processor.strategies import build_strategy
from processor.warmup import warm_up

SERVICE = "processor"
LAG_INTERVAL_S = 1.0
DEPENDENCY_ERRORS = (RedisError, PyMongoError, OSError)

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
    """State that lives from one successful warm-up to the next dependency failure."""

    consumer: GroupConsumer
    engine: Engine


class ProcessorService:
    """The processor: build it from settings, run :meth:`main` until the stop event is set."""

    def __init__(
        self,
        settings: ProcessorSettings,
        redis: aioredis.Redis,
        mongo_client: AsyncMongoClient[mongo.Document],
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.settings = settings
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

    @classmethod
    def from_settings(cls, settings: ProcessorSettings, clock: Callable[[], int] = now_ms) -> ProcessorService:
        """The service with its own Redis and MongoDB clients (``clock``: epoch ms, replaceable in tests)."""
        redis = redis_client.create_redis(settings.redis_url.get_secret_value())
        client = mongo.create_client(settings.mongo_uri.get_secret_value(), SERVICE)
        return cls(settings, redis, client, clock)

    async def aclose(self) -> None:
        await self.redis.aclose()
        await self.mongo_client.close()

    async def main(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; dependency failures make the service unready, never crash it."""
        session: _Session | None = None
        attempt = 0
        while not stop.is_set():
            self.health.beat()
            try:
                if session is None:
                    session = await self._start_session()
                await self._step(session)
                attempt = 0
            except DEPENDENCY_ERRORS as e:
                session = None
                attempt = await self._on_dependency_error(e, attempt, stop)
        log.info("processor stopped")

    async def _start_session(self) -> _Session:
        """Consumer group first (so a stream outage fails early), then a fresh warm-up per symbol."""
        self.health.set_state("processing", False, "warming up")
        consumer = GroupConsumer(
            self.redis,
            self.streams,
            PROCESSOR_GROUP,
            self.consumer_name,
            count=self.settings.batch_count,
            block_ms=self.settings.block_ms,
            claim_idle_ms=self.settings.claim_idle_ms,
        )
        await consumer.ensure_groups()
        await self.store.ensure_indexes()
        engine = Engine(
            [self._new_state(symbol) for symbol in self.settings.symbols],
            self.store,
            self.publisher,
            self.metrics,
            self.settings.order_quantity,
            self.clock,
        )
        for state in engine.states.values():
            await warm_up(state, self.store, engine.on_outcome, self.clock())
            self.health.beat()
        self.health.set_state("processing", True)
        return _Session(consumer, engine)

    def _new_state(self, symbol: str) -> SymbolState:
        s = self.settings
        strategy = build_strategy(
            s.strategy, s.fast_period, s.slow_period, rsi_period=s.rsi_period, rsi_overbought=s.rsi_overbought
        )
        return SymbolState(
            checkpoint_key(strategy.name, symbol, s.interval), SymbolPipeline(symbol, s.interval, strategy)
        )

    async def _step(self, session: _Session) -> None:
        entries = await session.consumer.read()
        if entries:
            await session.engine.process(entries)
            await session.consumer.ack(entries)
        await self._record_lag()

    async def _record_lag(self) -> None:
        if time.monotonic() - self._lag_checked < LAG_INTERVAL_S:
            return
        self._lag_checked = time.monotonic()
        for stream in self.streams:
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
