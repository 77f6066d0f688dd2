"""Binance kline intervals (case-sensitive: ``1m`` is a minute, ``1M`` a month)."""

from __future__ import annotations

_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

INTERVAL_MS: dict[str, int] = {
    "1s": _SECOND,
    "1m": _MINUTE,
    "3m": 3 * _MINUTE,
    "5m": 5 * _MINUTE,
    "15m": 15 * _MINUTE,
    "30m": 30 * _MINUTE,
    "1h": _HOUR,
    "2h": 2 * _HOUR,
    "4h": 4 * _HOUR,
    "6h": 6 * _HOUR,
    "8h": 8 * _HOUR,
    "12h": 12 * _HOUR,
    "1d": _DAY,
    "3d": 3 * _DAY,
    "1w": 7 * _DAY,
    "1M": 30 * _DAY,  # calendar month on Binance; only its validity matters here
}
"""Every interval Binance accepts, with its length in ms."""

SIMULATED_INTERVALS = frozenset(name for name in INTERVAL_MS if name not in {"1w", "1M"})
"""Intervals the simulator can build bars for: fixed length and aligned to the epoch like Binance's."""


def interval_ms(name: str) -> int:
    """Length of a valid interval; ``KeyError`` for an unknown one."""
    return INTERVAL_MS[name]


def is_valid_interval(name: str) -> bool:
    return name in INTERVAL_MS
