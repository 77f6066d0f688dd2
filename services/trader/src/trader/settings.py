"""Trader configuration from ``TRADER_*`` environment variables, validated at start."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from algo_common.settings import BaseServiceSettings
from trader.failpoints import Failpoint


class TraderSettings(BaseServiceSettings):
    """Venue, fees, risk limits and stream-consumer tuning of the trader."""

    model_config = SettingsConfigDict(env_prefix="TRADER_", frozen=True, env_nested_delimiter="__", extra="ignore")

    http_port: int = Field(default=8083, ge=0, le=65535, description="Port of /healthcheck and /metrics.")
    venue: Literal["paper"] = Field(
        default="paper", description="Where orders execute; only the paper exchange exists in this release."
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
        description="Quote-asset cash the paper account starts with; a BUY needing more is rejected.",
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
            "status 137 at this step: none | after_intent | after_outcome | before_ack. Never set in production."
        ),
    )
