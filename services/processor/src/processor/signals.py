"""Decision + bar -> the Signal that is stored and published. Pure: time comes in as an argument."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.ids import signal_id
from algo_common.domain.models import Kline, Signal
from algo_common.streams import encode_signal
from processor.strategies.base import Decision, Strategy


def to_signal(strategy: Strategy, decision: Decision, bar: Kline, quantity: Decimal, ts_decision: int) -> Signal:
    """The signal of ``decision`` taken at ``bar``'s close.

    Its id depends only on strategy, params, symbol and bar close time, so deciding the same bar
    again (replay, restart, catch-up) yields the same id and is recognised as a duplicate.
    """
    params = strategy.params()
    return Signal(
        signal_id=signal_id(strategy.name, params, bar.symbol, bar.interval, bar.close_time),
        strategy=strategy.name,
        strategy_version=strategy.version,
        params=params,
        symbol=bar.symbol,
        interval=bar.interval,
        side=decision.side,
        price=bar.close,
        quantity=quantity,
        indicators=dict(decision.indicators),
        bar_open_time=bar.open_time,
        bar_close_time=bar.close_time,
        ts_event=bar.ts_event,
        ts_decision=ts_decision,
    )


def stream_fields(sig: Signal) -> dict[bytes, bytes]:
    """The ``trade_signals_stream`` entry of a signal, as the contract fixes it."""
    return {b"signal_id": sig.signal_id.encode(), b"signal": encode_signal(sig)}
