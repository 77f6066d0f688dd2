"""Instruments of the Binance venue (labels are low-cardinality: interval, status, kind, asset)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from opentelemetry.metrics import Counter, _Gauge

from algo_common.telemetry import get_meter


@dataclass(frozen=True)
class BinanceMetrics:
    used_weight: _Gauge
    order_count: _Gauge
    rate_limited: Counter
    request_errors: Counter
    user_stream_events: Counter
    user_stream_reconnects: Counter
    reconcile_repairs: Counter
    balance: _Gauge


@cache
def binance_metrics() -> BinanceMetrics:
    meter = get_meter("trader")
    return BinanceMetrics(
        used_weight=meter.create_gauge(
            "trader_binance_used_weight", description="Request weight Binance reports used by this IP, by interval."
        ),
        order_count=meter.create_gauge(
            "trader_binance_order_count", description="Orders Binance reports placed by the account, by interval."
        ),
        rate_limited=meter.create_counter(
            "trader_binance_rate_limited", description="HTTP 429 (back off) and 418 (banned) answers, by status."
        ),
        request_errors=meter.create_counter(
            "trader_binance_request_errors",
            description="Failed Binance requests, by kind (timeout, connection, 5xx, rejected, clock).",
        ),
        user_stream_events=meter.create_counter(
            "trader_binance_user_stream_events", description="User data stream events received, by kind."
        ),
        user_stream_reconnects=meter.create_counter(
            "trader_binance_user_stream_reconnects", description="User data stream (re)connections."
        ),
        reconcile_repairs=meter.create_counter(
            "trader_binance_reconcile_repairs",
            description="Orders whose stored state reconciliation corrected, by kind (startup, periodic).",
        ),
        balance=meter.create_gauge(
            "trader_binance_balance", description="Account balance (free + locked) on Binance, by asset."
        ),
    )
