"""Bar intervals the processor can build, with their length in ms (Binance names, case-sensitive)."""

from __future__ import annotations

from typing import Literal, get_args

_MINUTE_MS = 60_000

Interval = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"]
"""Fixed-length intervals aligned to the UTC epoch like Binance's (weeks and months are not)."""

SUPPORTED_INTERVALS: tuple[str, ...] = get_args(Interval)

_MINUTES: dict[str, int] = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "6h": 360,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
}


def interval_ms(interval: str) -> int:
    """Length of ``interval`` in ms; ``ValueError`` for an interval the processor cannot build."""
    try:
        return _MINUTES[interval] * _MINUTE_MS
    except KeyError:
        raise ValueError(f"unsupported interval {interval!r}; supported: {', '.join(SUPPORTED_INTERVALS)}") from None


def interval_minutes(interval: str) -> int:
    return interval_ms(interval) // _MINUTE_MS


def bar_open_time(open_time: int, interval: str) -> int:
    """Open time of the bar containing ``open_time``: Binance aligns bars to the epoch (UTC)."""
    return open_time - open_time % interval_ms(interval)
