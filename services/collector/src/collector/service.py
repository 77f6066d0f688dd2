"""Wiring only: ws_client -> feed -> book_sync -> sinks, plus health checks and the main loop.

Tests build :class:`CollectorService` from settings and run :meth:`CollectorService.main` as a task
with a stop event; ``python -m collector`` runs the same object under :func:`run_service`.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import httpx
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from algo_common import mongo, redis_client
from algo_common.binance.urls import combined_stream_url, stream_names
from algo_common.domain.models import BookDelta, BookTop, Kline, Trade
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.runtime import run_service
from collector.book_sync import BookSync
from collector.feed import BadFrame, Feed, FeedEvent, ServerShutdown, truncated
from collector.metrics import CollectorMetrics, collector_metrics
from collector.mongo_sink import MongoSink
from collector.rest import DepthSnapshotClient
from collector.settings import CollectorSettings
from collector.sinks import SinkEvent, SinkOptions
from collector.stream_sink import StreamSink
from collector.ws_client import Connected, Frame, WsItem, WsSupervisor

log = get_logger(__name__)

SERVICE = "collector"
WS_STATE = "binance_ws"
_KINDS: dict[type, str] = {Trade: "trade", Kline: "kline", BookDelta: "depth", BookTop: "book_ticker"}


class CollectorService:
    """One collector replica: one connection for all its symbols, two sinks, one local book per symbol."""

    def __init__(
        self,
        settings: CollectorSettings,
        redis: aioredis.Redis,
        mongo_client: AsyncMongoClient[mongo.Document],
        http: httpx.AsyncClient,
    ) -> None:
        self.settings = settings
        self._redis, self._mongo_client, self._http = redis, mongo_client, http
        self.metrics: CollectorMetrics = collector_metrics()
        self.health = Health(liveness_timeout_s=settings.liveness_timeout_s)
        self.health.add_check("redis", lambda: redis_client.ping(redis))
        self.health.add_check("mongodb", lambda: mongo.ping(mongo_client))
        self.health.set_state(WS_STATE, False, "not connected yet")
        self.feed = Feed(settings.symbols)
        options = SinkOptions(
            maxsize=settings.queue_maxsize,
            batch_size=settings.sink_batch_size,
            flush_interval_s=settings.sink_flush_interval_s,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
        )
        db = mongo.get_database(mongo_client, settings.mongo_db)
        self.mongo_sink = MongoSink(db, self.health, self.metrics, options)
        self.stream_sink = StreamSink(
            redis, settings.stream_maxlen, settings.symbols, self.health, self.metrics, options
        )
        self.books = BookSync(
            settings.symbols,
            DepthSnapshotClient(http, settings.rest_base_url, settings.depth_snapshot_limit),
            self._emit,
            self.metrics,
            persist_interval_s=settings.depth_persist_interval_s,
            persist_levels=settings.depth_persist_levels,
            max_buffer=settings.depth_buffer_max,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
        )
        self.ws = WsSupervisor(
            combined_stream_url(settings.ws_base_url, stream_names(settings.symbols, settings.stream_kinds)),
            stall_timeout_s=settings.stall_timeout_s,
            open_timeout_s=settings.ws_open_timeout_s,
            backoff_base_s=settings.reconnect_backoff_base_s,
            backoff_cap_s=settings.reconnect_backoff_cap_s,
            on_reconnect=lambda: self.metrics.reconnects.add(1),
            beat=self.health.beat,
        )

    @classmethod
    def from_settings(cls, settings: CollectorSettings) -> CollectorService:
        """Build the clients from settings (no connection is opened yet)."""
        return cls(
            settings,
            redis_client.create_redis(settings.redis_url.get_secret_value()),
            mongo.create_client(settings.mongo_uri.get_secret_value(), SERVICE),
            httpx.AsyncClient(timeout=settings.rest_timeout_s),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._redis.aclose()
        await self._mongo_client.close()

    async def main(self, stop: asyncio.Event) -> None:
        """Read until ``stop``; then let the sinks write what is queued and return."""
        log.info("collecting", symbols=self.settings.symbols, kinds=self.settings.stream_kinds, url=self.ws.url)
        finish = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.mongo_sink.run(finish), name="sink-mongodb")
            tasks.create_task(self.stream_sink.run(finish), name="sink-redis")
            try:
                async with aclosing(self.ws.items(stop)) as items:
                    async for item in items:
                        self.health.beat()
                        self._on_item(item)
            finally:
                await self.books.aclose()
                finish.set()

    def _on_item(self, item: WsItem) -> None:
        if isinstance(item, Frame):
            self._on_frame(item)
        elif isinstance(item, Connected):
            self.health.set_state(WS_STATE, True, f"connection {item.connection}")
            self.books.on_connect(first=item.connection == 1)
        else:
            self.health.set_state(WS_STATE, False, item.reason)
            self.books.on_disconnect()

    def _on_frame(self, frame: Frame) -> None:
        """One frame; whatever goes wrong with it is logged, counted and skipped."""
        try:
            event = self.feed.decode(frame.data, frame.ts_recv)
        except BadFrame as e:
            self._drop(e.drop_reason, e.reason, frame.data)
            return
        try:
            self._route(event)
        except Exception as e:  # a bug must not stop the feed: one event lost, loudly
            log.exception("event handling failed", error=f"{type(e).__name__}: {e}")
            self._drop("internal_error", str(e), frame.data)

    def _route(self, event: FeedEvent) -> None:
        if isinstance(event, ServerShutdown):
            log.warning("serverShutdown received: reconnecting", ts_event=event.ts_event)
            self.ws.request_reconnect("server_shutdown")
            return
        self.metrics.events_received.add(1, {"symbol": event.symbol, "kind": _KINDS[type(event)]})
        if isinstance(event, BookDelta):
            self.books.on_delta(event)
        elif isinstance(event, BookTop):
            self.books.on_ticker(event)
        else:
            self._emit(event)

    def _emit(self, event: SinkEvent) -> None:
        self.mongo_sink.offer(event)
        self.stream_sink.offer(event)

    def _drop(self, reason: str, detail: str, raw: bytes) -> None:
        self.metrics.events_dropped.add(1, {"reason": reason})
        log.warning("frame dropped", reason=reason, detail=detail[:200], raw=truncated(raw))


async def run(settings: CollectorSettings) -> None:
    """The process body: serve health and metrics, collect until SIGTERM, drain, close clients."""
    service = CollectorService.from_settings(settings)
    try:
        await run_service(SERVICE, settings, service.health, service.main)
    finally:
        await service.aclose()
