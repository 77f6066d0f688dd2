"""Strategies by name; settings pick one, and every runtime builds it through :func:`build_strategy`."""

from __future__ import annotations

from collections.abc import Callable

from processor.strategies.base import Decision, Strategy
from processor.strategies.sma_cross import SmaCross

StrategyFactory = Callable[[int, int], Strategy]

STRATEGIES: dict[str, StrategyFactory] = {SmaCross.name: SmaCross}
"""Strategy name -> factory taking (fast_period, slow_period)."""


def build_strategy(name: str, fast_period: int, slow_period: int) -> Strategy:
    """A fresh strategy instance (one per symbol: strategies keep per-series state)."""
    try:
        factory = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
    return factory(fast_period, slow_period)


__all__ = ["STRATEGIES", "Decision", "Strategy", "build_strategy"]
