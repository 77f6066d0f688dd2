"""Binance stream names: which streams a market event goes to, and how names are written.

Stream names are ``<lower-case symbol>@<type>``. A diff goes to both ``@depth`` and
``@depth@100ms`` (the simulator has one update speed: one diff per market step); klines exist for
the simulated interval only. Names are matched exactly, as on Binance: an unknown symbol, an
upper-case symbol, another kline interval or an unsupported type (``@ticker``, ``@depth5``)
subscribes fine and simply never receives anything.
"""

from __future__ import annotations

from exchange_sim.market import StreamKind


def stream_names(symbol: str, kind: StreamKind, interval: str) -> tuple[str, ...]:
    """Names of the streams that carry ``kind`` events of ``symbol``."""
    prefix = symbol.lower()
    if kind == "depth":
        return (f"{prefix}@depth", f"{prefix}@depth@100ms")
    if kind == "kline":
        return (f"{prefix}@kline_{interval}",)
    return (f"{prefix}@{kind}",)


def all_stream_names(symbol: str, interval: str) -> list[str]:
    """Every stream the simulator feeds for ``symbol``."""
    kinds: tuple[StreamKind, ...] = ("trade", "aggTrade", "kline", "depth", "bookTicker")
    return [name for kind in kinds for name in stream_names(symbol, kind, interval)]


def symbol_of(stream: str) -> str:
    """Upper-case symbol of a stream name (``btcusdt@trade`` -> ``BTCUSDT``)."""
    return stream.partition("@")[0].upper()


def split_streams(query_value: str) -> list[str]:
    """Names of ``/stream?streams=a/b/c`` (empty names dropped, order and duplicates kept once)."""
    return list(dict.fromkeys(name for name in query_value.split("/") if name))
