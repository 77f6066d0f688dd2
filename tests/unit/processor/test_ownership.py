"""How replicas share symbols out: fair shares, spread first picks, deployments kept apart. Pure."""

from __future__ import annotations

import pytest

from processor.ownership import acquisition_order, deployment_id, fair_share


@pytest.mark.parametrize(
    ("symbols", "replicas", "share"),
    [(1, 1, 1), (1, 2, 1), (2, 2, 1), (3, 2, 2), (5, 3, 2), (6, 3, 2), (7, 3, 3), (4, 0, 4)],
)
def test_the_fair_share_is_the_ceiling_of_symbols_over_live_replicas(symbols: int, replicas: int, share: int) -> None:
    assert fair_share(symbols, replicas) == share


@pytest.mark.parametrize(("symbols", "replicas"), [(1, 2), (3, 2), (5, 3), (7, 4), (10, 3)])
def test_the_shares_of_the_live_replicas_cover_every_symbol(symbols: int, replicas: int) -> None:
    assert fair_share(symbols, replicas) * replicas >= symbols


def test_each_replica_tries_every_symbol_once_starting_at_its_own_offset() -> None:
    # arrange
    symbols = ["ETHUSDT", "BTCUSDT", "SOLUSDT", "BNBUSDT"]
    # act
    orders = {name: acquisition_order(symbols, name) for name in ("processor-0", "processor-1", "processor-2")}
    # assert: a rotation of the sorted list, the same on every call, not the same for everyone
    ordered = sorted(symbols)
    for order in orders.values():
        assert sorted(order) == ordered
        start = ordered.index(order[0])
        assert order == ordered[start:] + ordered[:start]
    assert acquisition_order(symbols, "processor-1") == orders["processor-1"]
    assert len({order[0] for order in orders.values()}) > 1
    assert acquisition_order([], "processor-0") == []


def test_only_replicas_of_the_same_strategy_interval_and_symbol_list_count_each_other() -> None:
    same = deployment_id("sma_cross", "1d", ["BTCUSDT", "ETHUSDT"])
    assert deployment_id("sma_cross", "1d", ["ETHUSDT", "BTCUSDT"]) == same
    assert deployment_id("sma_cross", "1d", ["BTCUSDT"]) != same
    assert deployment_id("ema_rsi", "1d", ["BTCUSDT", "ETHUSDT"]) != same
    assert deployment_id("sma_cross", "1h", ["BTCUSDT", "ETHUSDT"]) != same
