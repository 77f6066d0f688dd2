"""Planning connections: no connection over Binance's stream limit, a symbol's streams on one connection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algo_common.binance.urls import MAX_STREAMS_PER_CONNECTION, stream_names
from collector.connection_plan import plan_connections

KINDS = ("trade", "kline_1m", "depth@100ms", "bookTicker")


def test_few_streams_need_one_connection() -> None:
    assert plan_connections(["BTCUSDT", "ETHUSDT"], KINDS) == [("BTCUSDT", "ETHUSDT")]


def test_more_streams_than_one_connection_carries_open_more_connections() -> None:
    # arrange: 300 symbols x 4 kinds = 1,200 streams, 256 symbols fit on one connection
    symbols = [f"S{i:03d}USDT" for i in range(300)]
    # act
    plan = plan_connections(symbols, KINDS)
    # assert
    assert [len(group) for group in plan] == [256, 44]
    assert [s for group in plan for s in group] == symbols
    assert all(len(stream_names(group, KINDS)) <= MAX_STREAMS_PER_CONNECTION for group in plan)


@given(
    symbols=st.lists(st.from_regex(r"[A-Z]{3,8}USDT", fullmatch=True), unique=True, max_size=200),
    kinds=st.integers(1, 6),
    max_streams=st.integers(6, 64),
)
def test_every_symbol_is_on_exactly_one_connection_within_the_limit(
    symbols: list[str], kinds: int, max_streams: int
) -> None:
    kind_names = [f"kind{i}" for i in range(kinds)]
    plan = plan_connections(symbols, kind_names, max_streams)
    assert [s for group in plan for s in group] == symbols
    assert all(0 < len(group) * kinds <= max_streams for group in plan)
    assert len(plan) == -(-len(symbols) // (max_streams // kinds))


@pytest.mark.parametrize(
    ("symbols", "kinds", "max_streams", "message"),
    [
        (["BTCUSDT"], [], 1024, "at least one stream kind"),
        (["BTCUSDT"], ["a", "b", "c"], 2, "exceed 2 streams"),
        (["BTCUSDT", "BTCUSDT"], ["trade"], 1024, "duplicate"),
    ],
)
def test_impossible_plans_are_refused(symbols: list[str], kinds: list[str], max_streams: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_connections(symbols, kinds, max_streams)
