"""What the live view shows, read from the running pipeline the way an operator would:
each service's /healthcheck and /metrics, the market stream in Redis, the records in MongoDB."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families
from pymongo import DESCENDING, MongoClient
from pymongo.errors import PyMongoError
from redis import Redis
from redis.exceptions import RedisError

from algo_common.domain.models import Kline, Trade
from algo_common.mongo import CODEC_OPTIONS
from algo_common.streams import decode_market_event, market_stream
from processor.bars import BarBuilder
from processor.indicators import SMA
from processor.intervals import interval_minutes


@dataclass
class ServiceView:
    name: str
    ready: bool | None = None
    dependencies: dict[str, bool] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)


@dataclass
class PipelineView:
    at: float
    services: list[ServiceView]
    last_price: Decimal | None = None
    last_bar: Kline | None = None
    events_per_s: float = 0.0
    signals: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sma_fast: Decimal | None = None
    sma_slow: Decimal | None = None


COUNTERS = {
    "collector": ("collector_events_received_total", "collector_events_dropped_total", "collector_reconnects_total"),
    "processor": ("processor_bars_total", "processor_signals_total", "processor_events_dropped_total"),
    "trader": ("trader_orders_total", "trader_fills_total", "trader_signals_rejected_total"),
}


class Observer:
    """Polls the pipeline; keeps the previous sample to turn counters into rates."""

    def __init__(
        self,
        ports: dict[str, int],
        redis_url: str,
        mongo_uri: str,
        mongo_db: str,
        symbol: str,
        strategy: tuple[str, int, int] = ("1m", 5, 20),
    ) -> None:
        self._ports = ports
        self._redis = Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self._mongo: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, serverSelectionTimeoutMS=1000)
        self._db = self._mongo.get_database(mongo_db, codec_options=CODEC_OPTIONS)
        self._symbol = symbol
        self._interval, self._fast, self._slow = strategy
        self._http = httpx.Client(timeout=1.0)
        self._previous: tuple[float, float] | None = None

    def close(self) -> None:
        self._http.close()
        self._mongo.close()
        self._redis.close()

    def sample(self) -> PipelineView:
        now = time.monotonic()
        services = [self._service(name, port) for name, port in self._ports.items()]
        view = PipelineView(at=now, services=services)
        received = next((s.counters.get(COUNTERS["collector"][0], 0.0) for s in services if s.name == "collector"), 0.0)
        if self._previous is not None and now > self._previous[0]:
            view.events_per_s = max(0.0, (received - self._previous[1]) / (now - self._previous[0]))
        self._previous = (now, received)
        self._market(view)
        self._records(view)
        self._indicators(view)
        return view

    def _indicators(self, view: PipelineView) -> None:
        """The strategy's current SMAs, recomputed from the stored 1m klines with the processor's own
        bar builder and SMA, so the view shows what the processor sees without asking it."""
        minutes = (self._slow + 1) * interval_minutes(self._interval)
        try:
            docs = list(
                self._db.klines.find({"symbol": self._symbol, "interval": "1m"}, {"_id": 0})
                .sort("open_time", DESCENDING)
                .limit(minutes)
            )
        except PyMongoError:
            return
        builder, fast, slow = BarBuilder(self._symbol, self._interval), SMA(self._fast), SMA(self._slow)
        for doc in reversed(docs):
            for bar in builder.on_kline(msgspec.convert(doc, Kline)):
                view.sma_fast, view.sma_slow = fast.update(bar.close), slow.update(bar.close)

    def _service(self, name: str, port: int) -> ServiceView:
        view = ServiceView(name)
        base = f"http://127.0.0.1:{port}"
        try:
            health = self._http.get(f"{base}/healthcheck")
            view.ready = health.status_code == 200
            deps = health.json().get("dependencies", {})
            view.dependencies = {dep: bool(state.get("ok")) for dep, state in deps.items()}
            metrics = self._http.get(f"{base}/metrics").text
        except (httpx.HTTPError, ValueError):
            return view
        wanted = set(COUNTERS.get(name, ()))
        for family in text_string_to_metric_families(metrics):
            for sample in family.samples:
                if sample.name in wanted:
                    view.counters[sample.name] = view.counters.get(sample.name, 0.0) + sample.value
        return view

    def _market(self, view: PipelineView) -> None:
        try:
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrevrange(market_stream(self._symbol), count=200)
            )
        except RedisError:
            return
        for _, fields in entries:
            raw = fields.get(b"event")
            if raw is None:
                continue
            event = decode_market_event(raw)
            if isinstance(event, Trade) and view.last_price is None:
                view.last_price = event.price
            if isinstance(event, Kline) and event.closed and view.last_bar is None:
                view.last_bar = event

    def _records(self, view: PipelineView) -> None:
        try:
            view.signals = list(self._db.trade_signals.find().sort("bar_close_time", DESCENDING).limit(5))
            view.fills = list(self._db.fills.find().sort("ts", DESCENDING).limit(5))
            view.positions = list(self._db.positions.find())
            view.counts = {
                name: self._db[name].estimated_document_count()
                for name in ("trades", "klines", "depth", "trade_signals", "orders", "fills")
            }
        except PyMongoError:
            return
