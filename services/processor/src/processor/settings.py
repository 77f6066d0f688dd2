"""Processor configuration from ``PROCESSOR_*`` environment variables, validated at start-up."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from algo_common.binance.urls import PRODUCTION_REST
from algo_common.settings import BaseServiceSettings, Symbols
from processor.intervals import Interval
from processor.strategies import STRATEGIES


class ProcessorSettings(BaseServiceSettings):
    """Which symbols and strategy to run, and how to consume the market streams."""

    model_config = SettingsConfigDict(env_prefix="PROCESSOR_", frozen=True, env_nested_delimiter="__", extra="ignore")

    http_port: int = Field(default=8082, ge=0, le=65535, description="Port of /healthcheck and /metrics.")
    symbols: Symbols = Field(
        default=("BTCUSDT",),
        description="Comma-separated symbols (e.g. BTCUSDT,ETHUSDT); one market.{SYMBOL} stream each.",
    )
    strategy: str = Field(
        default="sma_cross",
        description="Strategy: sma_cross (SMA crossover) or ema_rsi (EMA crossover, BUY only below rsi_overbought).",
    )
    fast_period: int = Field(default=50, ge=1, le=100_000, description="Fast moving-average period, in bars.")
    slow_period: int = Field(
        default=200, ge=1, le=100_000, description="Slow moving-average period, in bars; must be > fast_period."
    )
    rsi_period: int = Field(default=14, ge=2, le=100_000, description="RSI period, in bars (ema_rsi only).")
    rsi_overbought: Decimal = Field(
        default=Decimal(70),
        gt=0,
        le=100,
        allow_inf_nan=False,
        max_digits=12,
        description="ema_rsi buys a cross up only while RSI is below this level (0 < level <= 100).",
    )
    interval: Interval = Field(
        default="1d", description="Bar interval the strategy runs on, built from 1m klines (1m ... 1d)."
    )
    order_quantity: Decimal = Field(
        default=Decimal("0.001"),
        gt=0,
        allow_inf_nan=False,
        max_digits=30,
        description="Base-asset quantity each signal asks the trader to buy or sell.",
    )
    batch_count: int = Field(default=100, ge=1, le=10_000, description="Max stream entries read per XREADGROUP.")
    block_ms: int = Field(
        default=1000,
        ge=1,
        le=1500,
        description="XREADGROUP block time when idle, in ms; below the Redis client's 2 s socket timeout.",
    )
    claim_idle_ms: int = Field(
        default=30_000,
        ge=1000,
        description="Reclaim entries another consumer left pending this long (XAUTOCLAIM), in ms.",
    )
    lease_ttl_ms: int = Field(
        default=10_000,
        ge=500,
        le=600_000,
        description="Symbol lease lifetime, in ms: a dead replica's symbols are taken over after about this long.",
    )
    lease_renew_ms: int = Field(
        default=3_000,
        ge=50,
        le=300_000,
        description="How often leases are renewed and shared out, in ms; 2 x this + block_ms must be <= lease_ttl_ms.",
    )
    backfill: bool = Field(
        default=True,
        description="Fetch missing warm-up klines from rest_base_url when MongoDB's history is too short.",
    )
    rest_base_url: str = Field(
        default=PRODUCTION_REST,
        min_length=1,
        description="Binance REST base URL of the warm-up backfill (GET /api/v3/klines); the simulator's in tests.",
    )
    backfill_max_wait_s: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Longest Retry-After (HTTP 429/418) the backfill waits out; a longer one skips the backfill.",
    )
    retry_base_s: float = Field(default=0.2, gt=0, le=60, description="First retry delay after a dependency error.")
    retry_cap_s: float = Field(default=10.0, gt=0, le=600, description="Longest retry delay after dependency errors.")

    @field_validator("strategy")
    @classmethod
    def _check_strategy(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; known: {', '.join(STRATEGIES)}")
        return value

    @field_validator("slow_period")
    @classmethod
    def _slow_above_fast(cls, value: int, info: ValidationInfo) -> int:
        fast = info.data.get("fast_period")
        if isinstance(fast, int) and value <= fast:
            raise ValueError(f"must be greater than fast_period ({fast}), got {value}")
        return value

    @field_validator("lease_renew_ms")
    @classmethod
    def _renew_well_before_expiry(cls, value: int, info: ValidationInfo) -> int:
        ttl, block = info.data.get("lease_ttl_ms"), info.data.get("block_ms")
        if isinstance(ttl, int) and isinstance(block, int) and 2 * value + block > ttl:
            raise ValueError(f"2 x lease_renew_ms + block_ms ({2 * value + block}) must be <= lease_ttl_ms ({ttl})")
        return value
