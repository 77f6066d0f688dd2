"""Which symbols share a WebSocket connection: Binance carries at most 1024 streams on one.

A replica that owns more streams than one connection carries opens several. All streams of a
symbol stay on one connection, so its depth diffs, trades and klines keep their order relative to
each other and one connection's loss touches only its own symbols' books. Connections are filled in
the symbols' order, so the plan is the same in every process given the same settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from algo_common.binance.urls import MAX_STREAMS_PER_CONNECTION


def plan_connections(
    symbols: Sequence[str], kinds: Sequence[str], max_streams: int = MAX_STREAMS_PER_CONNECTION
) -> list[tuple[str, ...]]:
    """The symbols of each connection: as few connections as the stream limit allows."""
    if not kinds:
        raise ValueError("at least one stream kind is needed")
    per_connection = max_streams // len(kinds)
    if per_connection < 1:
        raise ValueError(f"{len(kinds)} stream kinds of one symbol exceed {max_streams} streams per connection")
    if len(set(symbols)) != len(symbols):
        raise ValueError("duplicate symbols")
    return [tuple(symbols[i : i + per_connection]) for i in range(0, len(symbols), per_connection)]
