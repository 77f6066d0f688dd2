"""Wiring only: ws_client -> feed -> book_sync -> sinks, plus health checks and the main loop.

Tests build :class:`CollectorService` from settings and run :meth:`CollectorService.main` as a task
with a stop event; ``python -m collector`` runs the same object under :func:`run_service`.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import replace

import httpx
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from algo_common import mongo, redis_client
from algo_common.binance.urls import combined_stream_url, stream_names
from algo_common.collections import DEPTH, TRADES
from algo_common.domain.models import BookTop, Kline, Trade
from algo_common.errors import BadMessage
from algo_common.health import Health
from algo_common.logging import get_logger
from algo_common.runtime import run_service
from collector.backfill import Backfill, Target
from collector.book_sync import BookSync
from collector.connection_plan import plan_connections
from collector.continuity import Continuity, Gap, GapKind, Holes, Verdict
from collector.feed import BadFrame, DropReason, Feed, FeedEvent, ServerShutdown, truncated
from collector.level_book import DepthDiff
from collector.metrics import CollectorMetrics, collector_metrics
from collector.mongo_sink import MongoSink, Stored
from collector.rest import DepthSnapshotClient, HistoryClient, RestClient
from collector.settings import CollectorSettings
from collector.sinks import SinkEvent, SinkOptions
from collector.storage import last_stored
from collector.stream_sink import StreamSink
from collector.weight_gate import WeightGate
from collector.ws_client import AttemptWindow, Connected, Frame, WsItem, WsSupervisor
from collector.ws_merge import merged_items

log = get_logger(__name__)

SERVICE = "collector"
WS_STATE = "binance_ws"


def ws_state_name(index: int) -> str:
    """Readiness state of connection ``index``: ``binance_ws``, then ``binance_ws_2``, ... when there are several."""
    return WS_STATE if index == 0 else f"{WS_STATE}_{index + 1}"


_KINDS: dict[type, str] = {Trade: "trade", Kline: "kline", DepthDiff: "depth", BookTop: "book_ticker"}


class CollectorService:
    """One collector replica: as few connections as Binance's 1024-stream limit allows (all streams of a
    symbol on one), two sinks, one local book per symbol, watermarks that drop repeated trades/klines
    and turn skipped ones into REST backfill jobs."""

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
        symbols = settings.owned_symbols
        self.symbols = symbols
        self.feed = Feed(symbols)
        self.continuity = Continuity()
        self.holes = Holes()
        options = SinkOptions(
            maxsize=settings.queue_maxsize,
            batch_size=settings.sink_batch_size,
            flush_interval_s=settings.sink_flush_interval_s,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
        )
        db = mongo.get_database(mongo_client, settings.mongo_db)
        self._db = db
        retention = {TRADES: settings.trades_retention_days, DEPTH: settings.depth_retention_days}
        mongo_options = replace(
            options, flush_interval_s=max(options.flush_interval_s, settings.mongo_flush_interval_s)
        )
        self.mongo_sink = MongoSink(db, self.health, self.metrics, mongo_options, retention_days=retention)
        self.mongo_sink.on_drop = self._on_mongo_drop
        self.mongo_sink.on_room = self._on_mongo_room
        self.stream_sink = StreamSink(redis, settings.stream_maxlen, symbols, self.health, self.metrics, options)
        self.gate = WeightGate(settings.rest_weight_budget)
        rest = RestClient(http, settings.rest_base_url, self.gate)
        self.backfill = Backfill(
            HistoryClient(rest, settings.trade_kind or "trade"),
            self._emit_backfilled,
            self._has_room,
            self.metrics,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
        )
        self.books = BookSync(
            symbols,
            DepthSnapshotClient(http, settings.rest_base_url, settings.depth_snapshot_limit, self.gate),
            self._emit,
            self.metrics,
            persist_interval_s=settings.depth_persist_interval_s,
            persist_levels=settings.depth_persist_levels,
            max_buffer=settings.depth_buffer_max,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
        )
        # One supervisor per planned connection; all share the per-IP connection-attempt window.
        self.plan = plan_connections(symbols, settings.stream_kinds, settings.max_streams_per_connection)
        attempts = AttemptWindow(settings.connect_attempts_per_5min, 300.0)
        self.supervisors = [
            WsSupervisor(
                combined_stream_url(settings.ws_base_url, stream_names(group, settings.stream_kinds)),
                stall_timeout_s=settings.stall_timeout_s,
                open_timeout_s=settings.ws_open_timeout_s,
                backoff_base_s=settings.reconnect_backoff_base_s,
                backoff_cap_s=settings.reconnect_backoff_cap_s,
                rotate_after_s=settings.rotate_after_s,
                overlap_s=settings.rotation_overlap_s,
                attempts=attempts,
                on_reconnect=lambda: self.metrics.reconnects.add(1),
                on_rotation=lambda reason: self.metrics.rotations.add(1, {"reason": reason}),
                beat=self.health.beat,
            )
            for group in self.plan
        ]
        self._ws_states = [ws_state_name(index) for index in range(len(self.plan))]
        self._connected_once = [False] * len(self.plan)
        for state in self._ws_states[1:]:
            self.health.set_state(state, False, "not connected yet")

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
        log.info(
            "collecting",
            symbols=self.symbols,
            kinds=self.settings.stream_kinds,
            connections=len(self.supervisors),
            urls=[ws.url for ws in self.supervisors],
        )
        await self._seed_watermarks()
        finish = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.mongo_sink.run(finish), name="sink-mongodb")
            tasks.create_task(self.stream_sink.run(finish), name="sink-redis")
            tasks.create_task(self.backfill.run(finish), name="backfill")
            try:
                async with aclosing(merged_items(self.supervisors, stop)) as items:
                    async for index, item in items:
                        self.health.beat()
                        self._on_item(index, item)
            finally:
                await self.books.aclose()
                finish.set()

    def _on_item(self, index: int, item: WsItem) -> None:
        """An item of connection ``index``: its connection events touch only its own symbols' books."""
        if isinstance(item, Frame):
            self._on_frame(item, index)
        elif isinstance(item, Connected):
            self.health.set_state(self._ws_states[index], True, f"connection {item.connection}")
            if not item.rotated:  # after a rotation nothing was missed: the books stay valid
                self.books.on_connect(first=not self._connected_once[index], symbols=self.plan[index])
            self._connected_once[index] = True
        else:
            self.health.set_state(self._ws_states[index], False, item.reason)
            self.books.on_disconnect(self.plan[index])

    def _on_frame(self, frame: Frame, index: int = 0) -> None:
        """One frame; whatever goes wrong with it is logged, counted and skipped."""
        try:
            event = self.feed.decode(frame.data, frame.ts_recv)
        except BadFrame as e:
            self._drop(e.drop_reason, e.reason, frame.data)
            return
        try:
            self._route(event, index)
        except BadMessage as e:  # a depth level the book refused as it applied the diff
            self._drop(DropReason.BAD_PAYLOAD, e.reason, frame.data)
        except Exception as e:  # a bug must not stop the feed: one event lost, loudly
            log.exception("event handling failed", error=f"{type(e).__name__}: {e}")
            self._drop("internal_error", str(e), frame.data)

    def _route(self, event: FeedEvent, index: int = 0) -> None:
        if isinstance(event, ServerShutdown):
            log.warning("serverShutdown received: replacing the connection", ts_event=event.ts_event)
            self.supervisors[index].request_rotation("server_shutdown")
            return
        self.metrics.received[event.symbol, _KINDS[type(event)]] += 1
        if isinstance(event, DepthDiff):
            self.books.on_delta(event)
        elif isinstance(event, BookTop):
            self.books.on_ticker(event)
        else:
            verdict = self.continuity.on_trade(event) if isinstance(event, Trade) else self.continuity.on_kline(event)
            if self._admit(verdict, event):
                self._emit(event)

    def _admit(self, verdict: Verdict, event: Trade | Kline) -> bool:
        """False for a repeat (connection overlap); a gap before a fresh event goes to the backfill."""
        if not verdict.fresh:
            self.metrics.duplicates.add(1, {"kind": _KINDS[type(event)]})
            return False
        if verdict.gap is not None:
            self._request_backfill(verdict.gap, Target.ALL)
        return True

    def _request_backfill(self, gap: Gap, target: Target) -> None:
        self.metrics.gaps.add(1, {"symbol": gap.symbol, "kind": gap.kind.value})
        if gap.kind is GapKind.TRADES:
            limit = self.settings.backfill_max_trades
            if gap.size > limit:
                self.metrics.backfill_missing.add(gap.size - limit, {"kind": "trades"})
                log.error("trade hole too long: backfilling its newest trades only", size=gap.size, kept=limit)
                if limit == 0:
                    return
                gap = Gap(gap.symbol, gap.kind, gap.last - limit + 1, gap.last)
        self.backfill.request(gap, target)

    def _emit(self, event: SinkEvent) -> None:
        self.mongo_sink.offer(event)
        self.stream_sink.offer(event)

    def _emit_backfilled(self, event: Trade | Kline, target: Target) -> None:
        if target is Target.ALL:
            self._emit(event)
        else:
            self.mongo_sink.offer(event)

    def _has_room(self, target: Target) -> bool:
        return self.mongo_sink.has_room() and (target is Target.MONGODB or self.stream_sink.has_room())

    def _on_mongo_drop(self, item: Stored) -> None:
        if isinstance(item, Trade | Kline):
            self.holes.add(item)

    def _on_mongo_room(self) -> None:
        for gap in self.holes.take():
            self._request_backfill(gap, Target.MONGODB)

    async def _seed_watermarks(self) -> None:
        """Start the watermarks at what MongoDB already holds, so a restart's hole is backfilled too.

        Best effort: when MongoDB does not answer in time the collector starts without them.
        """
        interval = next((k.removeprefix("kline_") for k in self.settings.stream_kinds if k.startswith("kline_")), None)
        try:
            async with asyncio.timeout(self.settings.rest_timeout_s):
                for symbol in self.symbols:
                    trade_id, open_time = await last_stored(self._db, symbol, interval)
                    if trade_id is not None and self.settings.trade_kind is not None:
                        self.continuity.seed_trade(symbol, trade_id)
                    if open_time is not None and interval is not None:
                        self.continuity.seed_kline(symbol, interval, open_time)
        except (TimeoutError, PyMongoError) as e:
            log.warning("watermarks not seeded from MongoDB", error=f"{type(e).__name__}: {e}")

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
