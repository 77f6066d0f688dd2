"""Collector configuration from ``COLLECTOR_*`` environment variables, validated at start."""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from algo_common.binance.urls import MAX_STREAMS_PER_CONNECTION, PRODUCTION_REST, PRODUCTION_WS
from algo_common.settings import BaseServiceSettings, CommaSeparated, Symbols
from collector.shards import owned

_KLINE_INTERVALS = "1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M"
_STREAM_KIND = re.compile(rf"^(trade|aggTrade|bookTicker|kline_({_KLINE_INTERVALS})|depth(@100ms|@1000ms)?)$")


class CollectorSettings(BaseServiceSettings):
    """What to collect from Binance, where to send it and how hard to try when something fails."""

    model_config = SettingsConfigDict(env_prefix="COLLECTOR_", frozen=True, env_nested_delimiter="__", extra="ignore")

    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of /healthcheck and /metrics.")
    symbols: Symbols = Field(
        default=("BTCUSDT",),
        description="Symbols this replica collects, comma-separated in the env (BTCUSDT,ETHUSDT); upper case.",
    )
    stream_kinds: CommaSeparated = Field(
        default=("trade", "kline_1m", "depth@100ms"),
        min_length=1,
        description=(
            "Binance stream kinds per symbol, comma-separated: trade or aggTrade, kline_<interval>, "
            "depth / depth@100ms (the local book), bookTicker (optional cross-check of the local book)."
        ),
    )
    max_streams_per_connection: int = Field(
        default=MAX_STREAMS_PER_CONNECTION,
        ge=1,
        le=MAX_STREAMS_PER_CONNECTION,
        description="Streams per WebSocket connection (Binance allows 1024); more streams open more connections, "
        "all streams of a symbol on one.",
    )
    ws_base_url: str = Field(
        default=PRODUCTION_WS, pattern=r"^wss?://", description="Binance WebSocket base URL (combined streams)."
    )
    rest_base_url: str = Field(
        default=PRODUCTION_REST, pattern=r"^https?://", description="Binance REST base URL (depth snapshots)."
    )
    depth_snapshot_limit: int = Field(
        default=5000, ge=1, le=5000, description="Levels per side of the REST depth snapshot (Binance max 5000)."
    )
    depth_persist_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between two N-level snapshots of a local book written to `depth`."
    )
    depth_persist_levels: int = Field(
        default=20, ge=1, le=5000, description="Levels per side in each `depth` document."
    )
    depth_buffer_max: int = Field(
        default=10_000,
        ge=10,
        description="Diffs buffered per symbol while a snapshot is fetched; the oldest fall out first (a snapshot "
        "older than the oldest kept diff is then refetched).",
    )
    sink_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Most events one sink writes in one round trip."
    )
    sink_flush_interval_s: float = Field(
        default=0.0,
        ge=0,
        le=5,
        description="How long a sink waits for a batch to fill before writing it; 0 writes what is queued at once.",
    )
    mongo_flush_interval_s: float = Field(
        default=0.2,
        ge=0,
        le=5,
        description="How long the MongoDB sink waits for a batch to fill (the larger of this and "
        "`sink_flush_interval_s`): fewer, larger inserts keep the event loop and the database free for the "
        "Redis writes, which carry the latency; 0 writes what is queued at once.",
    )
    queue_maxsize: int = Field(
        default=200_000,
        ge=1,
        description="Bound of each sink's in-memory buffer (events) while Redis or MongoDB is down or slow. At the "
        "bound the newest events are dropped, counted and logged, and the service is unready; trades and closed "
        "klines dropped from MongoDB's buffer are backfilled from REST once it has room again.",
    )
    rotate_after_s: float = Field(
        default=85_800.0,
        gt=0,
        le=86_400,
        description="Replace a connection this old (new one first, then close the old one); Binance cuts at 24 h.",
    )
    rotation_overlap_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How long the old and the new connection are read together when replacing a connection.",
    )
    connect_attempts_per_5min: int = Field(
        default=60,
        ge=1,
        le=300,
        description="WebSocket connection attempts allowed per 5 minutes (Binance: 300 per IP, shared by every "
        "process behind that IP).",
    )
    rest_weight_budget: int = Field(
        default=3000,
        ge=10,
        description="REST request weight per minute this replica may use, counting what the venue reports for the "
        "IP (X-MBX-USED-WEIGHT-1M; Binance's limit is 6000); above it REST calls wait for the next minute.",
    )
    backfill_max_trades: int = Field(
        default=1_000_000,
        ge=0,
        description="Largest trade hole backfilled from REST; a longer one keeps only its newest trades (the rest "
        "is counted in collector_backfill_missing). 0 disables the trade backfill.",
    )
    trades_retention_days: float = Field(
        default=90.0, ge=0, description="TTL of `trades` documents (by event time), in days; 0 keeps them forever."
    )
    depth_retention_days: float = Field(
        default=7.0, ge=0, description="TTL of `depth` documents (by event time), in days; 0 keeps them forever."
    )
    shard_count: int = Field(
        default=1,
        ge=1,
        description="Collector replicas sharing `symbols`; this one keeps the symbols the stable hash gives it.",
    )
    shard_index: int = Field(default=0, ge=0, description="This replica's index, 0..shard_count-1.")
    stall_timeout_s: float = Field(
        default=30.0,
        gt=0,
        lt=60,
        description="Close and reconnect a socket that delivered no data for this long (Binance's pong deadline "
        "is 60 s).",
    )
    ws_open_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one WebSocket connect + handshake.")
    reconnect_backoff_base_s: float = Field(
        default=0.5, gt=0, description="First reconnect delay ceiling, in seconds (full jitter, doubling)."
    )
    reconnect_backoff_cap_s: float = Field(default=30.0, gt=0, description="Largest reconnect delay, in seconds.")
    rest_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one REST request, in seconds.")
    retry_base_s: float = Field(
        default=0.2, gt=0, description="First backoff delay after a Redis/MongoDB/REST error, in seconds."
    )
    retry_cap_s: float = Field(default=5.0, gt=0, description="Largest backoff delay after such an error, in seconds.")

    @field_validator("stream_kinds")
    @classmethod
    def _check_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [kind for kind in value if not _STREAM_KIND.match(kind)]
        if bad:
            raise ValueError(
                f"unsupported stream kinds {bad}: use trade, aggTrade, kline_<i>, depth[@100ms], bookTicker"
            )
        if "trade" in value and "aggTrade" in value:
            raise ValueError("trade and aggTrade would share trade ids in `trades`: choose one")
        if sum(kind.startswith("depth") for kind in value) > 1:
            raise ValueError("one depth stream per symbol")
        if len(set(value)) != len(value):
            raise ValueError("duplicate stream kinds")
        return value

    @model_validator(mode="after")
    def _check_limits(self) -> Self:
        if self.shard_index >= self.shard_count:
            raise ValueError(f"shard_index {self.shard_index} must be below shard_count {self.shard_count}")
        if not self.owned_symbols:
            raise ValueError(f"shard {self.shard_index} of {self.shard_count} owns none of {self.symbols}")
        if len(self.stream_kinds) > self.max_streams_per_connection:
            raise ValueError("one symbol's streams exceed max_streams_per_connection")
        if self.reconnect_backoff_cap_s < self.reconnect_backoff_base_s or self.retry_cap_s < self.retry_base_s:
            raise ValueError("a backoff cap is below its base")
        if self.sink_batch_size > self.stream_maxlen:
            raise ValueError("sink_batch_size must not exceed stream_maxlen")
        return self

    @property
    def owned_symbols(self) -> tuple[str, ...]:
        """The symbols this replica collects: all of ``symbols``, or its shard of them."""
        return owned(self.symbols, self.shard_index, self.shard_count)

    @property
    def trade_kind(self) -> str | None:
        """``trade`` or ``aggTrade``: which trade stream is collected (and backfilled), if any."""
        return next((kind for kind in self.stream_kinds if kind in ("trade", "aggTrade")), None)

    @property
    def book_enabled(self) -> bool:
        """True when a diff-depth stream is collected, so a local book is kept."""
        return any(kind.startswith("depth") for kind in self.stream_kinds)
