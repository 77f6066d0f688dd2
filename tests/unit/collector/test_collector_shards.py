"""Replica i of n owns symbols by a stable hash: every symbol has one owner, and scaling moves few."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from collector.settings import CollectorSettings
from collector.shards import main, owned, plan, shard_of

SYMBOLS = [f"SYM{i}USDT" for i in range(400)]


def test_every_symbol_has_exactly_one_owner_and_shards_are_balanced() -> None:
    # act
    shards = plan(SYMBOLS, 4)
    # assert
    assert sorted(s for shard in shards for s in shard) == sorted(SYMBOLS)
    assert all(60 <= len(shard) <= 140 for shard in shards)


def test_the_hash_is_stable_across_processes_and_case() -> None:
    # assert: fixed values (blake2b, not Python's per-process salted hash), whatever the case
    symbols = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT")
    assert [shard_of(s, 3) for s in symbols] == [2, 1, 1, 2, 0]
    assert [shard_of(s.lower(), 3) for s in symbols] == [2, 1, 1, 2, 0]
    assert shard_of("BTCUSDT", 1) == 0


def test_adding_a_replica_moves_only_symbols_to_the_new_one() -> None:
    # act
    moved = [s for s in SYMBOLS if shard_of(s, 4) != shard_of(s, 5)]
    # assert
    assert all(shard_of(s, 5) == 4 for s in moved)
    assert len(moved) < len(SYMBOLS) * 0.3


def test_settings_keep_only_the_replicas_symbols() -> None:
    # act
    settings = CollectorSettings(symbols=SYMBOLS[:20], shard_count=3, shard_index=1)
    # assert
    assert settings.owned_symbols == owned(SYMBOLS[:20], 1, 3)
    assert all(shard_of(s, 3) == 1 for s in settings.owned_symbols)


@pytest.mark.parametrize(("index", "count"), [(3, 3), (1, 1)])
def test_a_shard_index_outside_the_count_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValidationError, match="shard_index"):
        CollectorSettings(symbols=SYMBOLS[:5], shard_count=count, shard_index=index)


def test_the_cli_prints_the_chart_shards(capsys: pytest.CaptureFixture[str]) -> None:
    # act
    main(["--count", "2", "btcusdt", "ETHUSDT", "BNBUSDT"])
    # assert
    printed = json.loads(capsys.readouterr().out)
    assert printed == plan(["BTCUSDT", "ETHUSDT", "BNBUSDT"], 2)
