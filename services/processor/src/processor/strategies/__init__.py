"""Strategies by name; settings pick one, and every runtime builds it through :func:`build_strategy`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from processor.strategies.base import Decision, Strategy
from processor.strategies.ema_rsi import EmaRsi
from processor.strategies.sma_cross import SmaCross


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """Every parameter a strategy may take; each strategy reads the ones it uses."""

    fast_period: int
    slow_period: int
    rsi_period: int = 14
    rsi_overbought: Decimal = Decimal(70)


StrategyFactory = Callable[[StrategyConfig], Strategy]


def _sma_cross(config: StrategyConfig) -> Strategy:
    return SmaCross(config.fast_period, config.slow_period)


def _ema_rsi(config: StrategyConfig) -> Strategy:
    return EmaRsi(config.fast_period, config.slow_period, config.rsi_period, config.rsi_overbought)


STRATEGIES: dict[str, StrategyFactory] = {SmaCross.name: _sma_cross, EmaRsi.name: _ema_rsi}
"""Strategy name -> factory taking the :class:`StrategyConfig`."""


def build_strategy(
    name: str,
    fast_period: int,
    slow_period: int,
    *,
    rsi_period: int = 14,
    rsi_overbought: Decimal = Decimal(70),
) -> Strategy:
    """A fresh strategy instance (one per symbol: strategies keep per-series state)."""
    try:
        factory = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
    return factory(StrategyConfig(fast_period, slow_period, rsi_period, rsi_overbought))


__all__ = ["STRATEGIES", "Decision", "Strategy", "StrategyConfig", "build_strategy"]
