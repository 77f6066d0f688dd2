"""Binance spot endpoints. Production is the default everywhere; tests point these at the simulator."""

from __future__ import annotations

from collections.abc import Iterable

PRODUCTION_REST = "https://api.binance.com"
PRODUCTION_WS = "wss://stream.binance.com:9443"
TESTNET_REST = "https://testnet.binance.vision"
TESTNET_WS = "wss://stream.testnet.binance.vision"

MAX_STREAMS_PER_CONNECTION = 1024

DEPTH_PATH = "/api/v3/depth"
KLINES_PATH = "/api/v3/klines"
AGG_TRADES_PATH = "/api/v3/aggTrades"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"
TIME_PATH = "/api/v3/time"
ORDER_PATH = "/api/v3/order"


def stream_names(symbols: Iterable[str], kinds: Iterable[str]) -> list[str]:
    """Combined-stream names, lower-case as Binance requires: ``btcusdt@trade``."""
    kinds = list(kinds)
    return [f"{symbol.lower()}@{kind}" for symbol in symbols for kind in kinds]


def combined_stream_url(ws_base: str, streams: Iterable[str]) -> str:
    """``<base>/stream?streams=a/b/c``: every frame arrives as ``{"stream":..,"data":..}``."""
    names = list(streams)
    if not names:
        raise ValueError("at least one stream is needed")
    if len(names) > MAX_STREAMS_PER_CONNECTION:
        raise ValueError(f"{len(names)} streams exceed Binance's {MAX_STREAMS_PER_CONNECTION} per connection")
    return f"{ws_base.rstrip('/')}/stream?streams={'/'.join(names)}"
