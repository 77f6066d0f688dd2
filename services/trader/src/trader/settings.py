"""Trader configuration from ``TRADER_*`` environment variables, validated at start."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from algo_common.settings import BaseServiceSettings
from trader.failpoints import Failpoint
from trader.venues.binance.settings import BinanceVenueSettings


class TraderSettings(BinanceVenueSettings, BaseServiceSettings):
    """Venue, fees, risk limits and stream-consumer tuning of the trader."""

    model_config = SettingsConfigDict(env_prefix="TRADER_", frozen=True, env_nested_delimiter="__", extra="ignore")

    http_port: int = Field(default=8083, ge=0, le=65535, description="Port of /healthcheck and /metrics.")
    venue: Literal["paper", "binance"] = Field(
        default="paper",
        description="Where orders execute: paper (simulated, the default) or binance (spot; TRADER_BINANCE_* keys).",
    )
    quote_asset: str = Field(
        default="USDT",
        pattern=r"^[A-Z0-9]{2,10}$",
        description="Asset fees and balances are counted in; only symbols quoted in it are traded.",
    )
    fee_rate: Decimal = Field(
        default=Decimal("0.001"),
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Fee per unit of notional, charged in the quote asset (0.001 = 0.1%, Binance spot taker).",
    )
    starting_balance: Decimal = Field(
        default=Decimal("10000"),
        ge=0,
        allow_inf_nan=False,
        description="Quote-asset cash the paper account starts with; a BUY needing more is rejected. "
        "Not used with TRADER_VENUE=binance: the free balances Binance reports are checked instead.",
    )
    max_order_notional: Decimal = Field(
        default=Decimal("5000"),
        gt=0,
        allow_inf_nan=False,
        description="Largest price * quantity of one order, in the quote asset.",
    )
    max_position_qty: Decimal = Field(
        default=Decimal("1"),
        gt=0,
        allow_inf_nan=False,
        description="Largest position per symbol, in the base asset; a BUY that would exceed it is rejected.",
    )
    stale_signal_ms: int = Field(
        default=600_000,
        ge=0,
        description="Reject a signal whose decision time is older than this (ms) when it is first seen; 0 disables.",
    )
    max_daily_loss: Decimal = Field(
        default=Decimal("1000"),
        ge=0,
        allow_inf_nan=False,
        description=(
            "Largest loss of one UTC day: realized P&L minus fees of the day's fills, quote asset (unrealized P&L "
            "is not counted). Reaching it rejects the order and sets the trading state HALTED; 0 disables."
        ),
    )
    max_orders_per_minute: int = Field(
        default=60,
        ge=0,
        description="Most orders sent in any 60 s window, across all trader replicas (a Redis window); 0 disables.",
    )
    paper_slippage_bps: Decimal = Field(
        default=Decimal("1"),
        ge=0,
        lt=10_000,
        allow_inf_nan=False,
        description="Paper venue: a fill's price is the book top moved this many basis points against the order.",
    )
    paper_price_source: Literal["book", "signal"] = Field(
        default="book",
        description=(
            "Paper venue: fill against the latest book top of market.{SYMBOL} (book), or always at the signal's "
            "price (signal: deterministic demos and end-to-end tests)."
        ),
    )
    paper_book_scan: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Paper venue: newest market.{SYMBOL} entries searched for the latest book top of an order.",
    )
    paper_order_ttl_s: int = Field(
        default=30 * 86_400,
        ge=3600,
        description="Paper venue: how long the venue keeps an order (its idempotency record), in seconds.",
    )
    claim_idle_ms: int = Field(
        default=30_000,
        ge=0,
        description="Take over signals another consumer left unacknowledged for this long (XAUTOCLAIM), in ms.",
    )
    block_ms: int = Field(
        default=1000, ge=1, le=10_000, description="Longest wait of one XREADGROUP for new signals, in ms."
    )
    read_count: int = Field(default=10, ge=1, le=1000, description="Most signals read from the stream at once.")
    retry_base_s: float = Field(
        default=0.2, gt=0, description="First backoff delay after a Redis/MongoDB error, in seconds."
    )
    retry_cap_s: float = Field(default=5.0, gt=0, description="Longest backoff delay, in seconds.")
    failpoint: Failpoint = Field(
        default=Failpoint.NONE,
        description=(
            "TEST HOOK ONLY (crash-safety tests, like FoundationDB/TiKV failpoints): exit the process with "
            "status 137 at this step: none | after_read | after_intent | after_send | after_ack | after_outcome | "
            "before_ack. Never set in production."
        ),
    )
    failpoint_hit: int = Field(
        default=1,
        ge=1,
        description="TEST HOOK ONLY: the failpoint fires the n-th time its step is reached (seeded crash runs).",
    )
