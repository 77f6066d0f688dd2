"""Collector settings come from COLLECTOR_* env vars and fail at start naming the variable."""

from __future__ import annotations

import os

import pytest

from algo_common.binance.urls import PRODUCTION_REST, PRODUCTION_WS
from algo_common.settings import load_settings
from collector.settings import CollectorSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)


def test_defaults_follow_the_contract() -> None:
    # act
    settings = load_settings(CollectorSettings)
    # assert
    assert settings.http_port == 8080
    assert settings.symbols == ("BTCUSDT",)
    assert settings.stream_kinds == ("trade", "kline_1m", "depth@100ms")
    assert (settings.ws_base_url, settings.rest_base_url) == (PRODUCTION_WS, PRODUCTION_REST)
    assert settings.depth_snapshot_limit == 5000
    assert (settings.depth_persist_interval_s, settings.depth_persist_levels) == (1.0, 20)
    assert settings.stall_timeout_s == 30.0
    assert settings.book_enabled


def test_comma_separated_env_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    monkeypatch.setenv("COLLECTOR_SYMBOLS", "btcusdt, ETHUSDT")
    monkeypatch.setenv("COLLECTOR_STREAM_KINDS", "aggTrade,kline_1h,depth,bookTicker")
    monkeypatch.setenv("COLLECTOR_WS_BASE_URL", "ws://127.0.0.1:9900")
    monkeypatch.setenv("COLLECTOR_HTTP_PORT", "0")
    # act
    settings = load_settings(CollectorSettings)
    # assert
    assert settings.symbols == ("BTCUSDT", "ETHUSDT")
    assert settings.stream_kinds == ("aggTrade", "kline_1h", "depth", "bookTicker")
    assert settings.ws_base_url == "ws://127.0.0.1:9900"
    assert settings.http_port == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COLLECTOR_SYMBOLS", "BTC-USDT"),
        ("COLLECTOR_SYMBOLS", ""),
        ("COLLECTOR_STREAM_KINDS", "trade,ticker"),
        ("COLLECTOR_STREAM_KINDS", "trade,aggTrade"),
        ("COLLECTOR_STREAM_KINDS", "depth,depth@100ms"),
        ("COLLECTOR_DEPTH_SNAPSHOT_LIMIT", "5001"),
        ("COLLECTOR_STALL_TIMEOUT_S", "60"),
        ("COLLECTOR_WS_BASE_URL", "http://stream.binance.com"),
        ("COLLECTOR_QUEUE_MAXSIZE", "0"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    # arrange
    monkeypatch.setenv(variable, value)
    # act
    with pytest.raises(SystemExit) as exit_info:
        load_settings(CollectorSettings)
    # assert
    assert exit_info.value.code == 2
    assert variable in capsys.readouterr().err


def test_secrets_stay_out_of_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    monkeypatch.setenv("COLLECTOR_REDIS_URL", "redis://:hunter2@redis:6379/0")
    # act
    settings = load_settings(CollectorSettings)
    # assert
    assert "hunter2" not in repr(settings)
