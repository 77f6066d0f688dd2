"""Trader wiring: signal stream (consumer group ``trader``) -> executor -> XACK.

An entry is acknowledged only after its order is final and durable in MongoDB. A Redis or
MongoDB error makes the service unready and the loop back off and retry with a fresh consumer
(which re-reads its own unacknowledged entries first); the executor is idempotent, so the retry
neither loses nor doubles an order.
"""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from algo_common import mongo, redis_client
from algo_common.errors import BadMessage, TransientError
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.mongo import Document
from algo_common.retry import backoff_delay
from algo_common.runtime import run_service
from algo_common.streams import SIGNALS_STREAM, TRADER_GROUP, GroupConsumer, StreamEntry
from trader.consumer import consumer_name
from trader.decode import decode_entry
from trader.executor import ExecutionConfig, Executor
from trader.failpoints import Failpoint, arm, trigger
from trader.ledger import Ledger
from trader.metrics import TraderMetrics, trader_metrics
from trader.order_rate import OrderRate
from trader.pre_trade import Controls
from trader.reconcile_binance import create_sync
from trader.risk import RejectReason, RiskLimits
from trader.settings import TraderSettings
from trader.trading_state import TradingStateStore
from trader.venues import create_venue
from trader.venues.binance.setup import create_binance_venue

log = get_logger(__name__)
SERVICE = "trader"
RAW_LOG_LIMIT = 512


class TraderService:
    """The trader's clients, health and main loop; build with :meth:`create`, run :meth:`main`."""

    def __init__(
        self, settings: TraderSettings, redis: aioredis.Redis, mongo_client: AsyncMongoClient[Document]
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.mongo_client = mongo_client
        self.consumer_name = consumer_name(settings.consumer_name)
        self.health = Health(liveness_timeout_s=settings.liveness_timeout_s)
        self.health.add_check("redis", lambda: redis_client.ping(redis))
        self.health.add_check("mongodb", lambda: mongo.ping(mongo_client))
        self.metrics: TraderMetrics = trader_metrics()
        arm(settings.failpoint_hit)
        venue = create_binance_venue(settings) if settings.venue == "binance" else create_venue(settings, redis)
        db = mongo.get_database(mongo_client, settings.mongo_db)
        self.ledger = Ledger(mongo_client, db, venue.name, settings.quote_asset)
        controls = Controls(
            TradingStateStore(redis), OrderRate(redis, settings.max_orders_per_minute), self.consumer_name
        )
        self.executor = Executor(self.ledger, venue, _execution_config(settings), self.metrics, controls)
        self.sync = create_sync(settings, venue, self.ledger, db)  # Binance: reconciliation + user stream
        if self.sync is not None:  # the cash check reads Binance's balances, not the ledger's arithmetic
            self.executor.pre_trade.venue_balances = self.sync.balances
        self._sync_task: asyncio.Task[None] | None = None
        self._sync_ready = False
        self._consumer = self._new_consumer()
        self._indexes_ready = False
        self._groups_ready = False

    @classmethod
    def create(cls, settings: TraderSettings) -> TraderService:
        """Clients from settings; nothing connects until the main loop runs."""
        redis = redis_client.create_redis(
            settings.redis_url.get_secret_value(), timeout_s=max(2.0, settings.block_ms / 1000 + 1.0)
        )
        mongo_client = mongo.create_client(settings.mongo_uri.get_secret_value(), SERVICE)
        return cls(settings, redis, mongo_client)

    async def main(self, stop: asyncio.Event) -> None:
        """Consume signals until ``stop`` is set; dependency errors back off and retry."""
        log.info("trader consuming", consumer=self.consumer_name, venue=self.settings.venue)
        attempt = 0
        while not stop.is_set():
            self.health.beat()
            try:
                await self._step(stop)
            except (RedisError, PyMongoError, TransientError) as e:
                await self._back_off(e, attempt, stop)
                attempt += 1
                continue
            attempt = 0
            self.health.set_state("consumer", True)

    async def close(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        if self.sync is not None:
            await self.sync.aclose()
        await self.redis.aclose()
        await self.mongo_client.close()

    async def _step(self, stop: asyncio.Event) -> None:
        await self._prepare()
        entries = await self._consumer.read()
        if not entries:
            await self.executor.pre_trade.state()  # keeps trader_trading_state current while idle
        for entry in entries:
            if stop.is_set():
                return  # unhandled entries stay pending for this consumer name
            await self._process(entry)
            self.health.beat()

    async def _prepare(self) -> None:
        """Indexes, consumer group and position gauges; repeated after the dependency was lost."""
        if not self._indexes_ready:
            await self.ledger.ensure_indexes()
            for position in await self.ledger.positions():
                self.metrics.observe_position(position)
            self._indexes_ready = True
        if self.sync is not None and self._sync_task is None:
            await self.sync.startup()  # before the first signal: repair what the venue did meanwhile
            self._sync_task = asyncio.create_task(self.sync.run())
        if self.sync is not None and not self._sync_ready:
            await self.sync.wait_ready()  # signals stay pending, not refused, until balances are current
            self._sync_ready = True
        if not self._groups_ready:
            await self._consumer.ensure_groups()
            self._groups_ready = True

    async def _process(self, entry: StreamEntry) -> None:
        self.metrics.signals_consumed.add(1)
        trigger(self.settings.failpoint, Failpoint.AFTER_READ)
        try:
            signal = decode_entry(entry.fields)
        except BadMessage as e:
            log.error("malformed signal skipped", entry_id=entry.entry_id.decode(), error=e.reason, raw=_preview(e.raw))
            self.metrics.signals_rejected.add(1, {"reason": str(RejectReason.MALFORMED)})
        else:
            await self.executor.handle(signal, fresh=not entry.redelivered)
        trigger(self.settings.failpoint, Failpoint.BEFORE_ACK)
        await self._consumer.ack([entry])

    async def _back_off(self, error: Exception, attempt: int, stop: asyncio.Event) -> None:
        dependency = "redis" if isinstance(error, RedisError) else "mongodb"
        if not isinstance(error, (RedisError, PyMongoError)):
            dependency = "venue"  # e.g. Binance rate limit, ban or unknown outcome: signals stay pending
        if isinstance(error, RedisError):
            self._groups_ready = False  # a restarted Redis may have lost the group
        self.metrics.dependency_errors.add(1, {"dependency": dependency})
        self.health.set_state("consumer", False, f"{dependency}: {type(error).__name__}")
        delay = backoff_delay(attempt, self.settings.retry_base_s, self.settings.retry_cap_s)
        log.warning(
            "dependency error; retrying",
            dependency=dependency,
            error=str(error)[:RAW_LOG_LIMIT],
            attempt=attempt,
            delay_s=round(delay, 3),
        )
        self._consumer = self._new_consumer()  # re-reads this consumer's unacknowledged entries first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def _new_consumer(self) -> GroupConsumer:
        return GroupConsumer(
            self.redis,
            [SIGNALS_STREAM],
            TRADER_GROUP,
            self.consumer_name,
            count=self.settings.read_count,
            block_ms=self.settings.block_ms,
            claim_idle_ms=self.settings.claim_idle_ms,
        )


def _preview(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return data[:RAW_LOG_LIMIT].decode(errors="replace")


def _execution_config(settings: TraderSettings) -> ExecutionConfig:
    limits = RiskLimits(
        quote_asset=settings.quote_asset,
        fee_rate=settings.fee_rate,
        max_order_notional=settings.max_order_notional,
        max_position_qty=settings.max_position_qty,
        stale_signal_ms=settings.stale_signal_ms,
        max_daily_loss=settings.max_daily_loss,
    )
    return ExecutionConfig(limits=limits, starting_balance=settings.starting_balance, failpoint=settings.failpoint)


async def run(settings: TraderSettings) -> None:
    """The trader process: health server, main loop, clean shutdown on SIGTERM."""
    service = TraderService.create(settings)
    try:
        await run_service(SERVICE, settings, service.health, service.main)
    finally:
        await service.close()
