"""Decision + bar -> Signal: deterministic id, price = bar close, quantity from settings, two clocks."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.ids import signal_id
from algo_common.domain.models import Side
from algo_common.streams import decode_signal
from processor.pipeline import SymbolPipeline
from processor.signals import stream_fields, to_signal
from processor.strategies.base import Decision
from processor.strategies.sma_cross import SmaCross
from tests.unit.processor.processor_builders import make_kline

T0 = 1_700_000_040_000


def test_signal_carries_the_bar_the_decision_and_both_clocks() -> None:
    # arrange
    strategy = SmaCross(2, 4)
    bar = make_kline(T0, "104.50000000")
    decision = Decision(Side.BUY, {"fast": Decimal(102), "slow": Decimal(101)})
    # act
    sig = to_signal(strategy, decision, bar, Decimal("0.001"), ts_decision=T0 + 70_000)
    # assert
    assert sig.signal_id == signal_id("sma_cross", {"fast": "2", "slow": "4"}, "BTCUSDT", "1m", bar.close_time)
    assert (sig.strategy, sig.strategy_version, sig.params) == ("sma_cross", "1", {"fast": "2", "slow": "4"})
    assert (sig.symbol, sig.interval, sig.side) == ("BTCUSDT", "1m", Side.BUY)
    assert (sig.price, sig.quantity) == (Decimal("104.50000000"), Decimal("0.001"))
    assert sig.indicators == {"fast": Decimal(102), "slow": Decimal(101)}
    assert (sig.bar_open_time, sig.bar_close_time) == (bar.open_time, bar.close_time)
    assert (sig.ts_event, sig.ts_decision) == (bar.ts_event, T0 + 70_000)


def test_deciding_the_same_bar_again_gives_the_same_id() -> None:
    # arrange
    bar = make_kline(T0, "1")
    decision = Decision(Side.SELL, {"fast": Decimal(1), "slow": Decimal(2)})
    # act
    first = to_signal(SmaCross(2, 4), decision, bar, Decimal("0.001"), ts_decision=1)
    again = to_signal(SmaCross(2, 4), decision, bar, Decimal("0.001"), ts_decision=2)
    other_params = to_signal(SmaCross(3, 4), decision, bar, Decimal("0.001"), ts_decision=1)
    # assert
    assert first.signal_id == again.signal_id
    assert first.signal_id != other_params.signal_id


def test_stream_fields_follow_the_contract() -> None:
    # arrange
    sig = to_signal(
        SmaCross(2, 4), Decision(Side.BUY, {"fast": Decimal(2), "slow": Decimal(1)}), make_kline(T0, "1"), Decimal(1), 5
    )
    # act
    fields = stream_fields(sig)
    # assert
    assert set(fields) == {b"signal_id", b"signal"}
    assert fields[b"signal_id"] == sig.signal_id.encode()
    assert decode_signal(fields[b"signal"]) == sig


def test_pipeline_feeds_bars_to_the_strategy_and_reports_each_outcome() -> None:
    # arrange: 3m bars from 1m klines, SMA(1)/SMA(2): closes of bars 1, 1, 5 -> BUY at the third bar
    pipeline = SymbolPipeline("btcusdt", "3m", SmaCross(1, 2))
    closes = ["1", "1", "1", "1", "1", "1", "5", "5", "5"]
    start = T0 - T0 % 180_000
    # act
    outcomes = [o for i, c in enumerate(closes) for o in pipeline.on_kline(make_kline(start + i * 60_000, c))]
    # assert
    assert [o.bar.close for o in outcomes] == [Decimal(1), Decimal(1), Decimal(5)]
    assert [o.decision.side if o.decision else None for o in outcomes] == [None, None, Side.BUY]
