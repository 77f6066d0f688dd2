"""ProcessorSettings from PROCESSOR_* variables; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from algo_common.settings import load_settings
from processor.settings import ProcessorSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PROCESSOR_"):
            monkeypatch.delenv(name)


def test_defaults_follow_the_case_study() -> None:
    # act
    settings = load_settings(ProcessorSettings)
    # assert
    assert settings.http_port == 8082
    assert (settings.strategy, settings.fast_period, settings.slow_period) == ("sma_cross", 50, 200)
    assert settings.interval == "1d"
    assert settings.order_quantity == Decimal("0.001")
    assert settings.symbols == ("BTCUSDT",)
    assert (settings.lease_ttl_ms, settings.lease_renew_ms) == (10_000, 3_000)
    assert (settings.backfill, settings.rest_base_url) == (True, "https://api.binance.com")


def test_everything_is_configurable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    env = {
        "PROCESSOR_SYMBOLS": "btcusdt, ETHUSDT",
        "PROCESSOR_FAST_PERIOD": "10",
        "PROCESSOR_SLOW_PERIOD": "30",
        "PROCESSOR_INTERVAL": "1h",
        "PROCESSOR_ORDER_QUANTITY": "0.25",
        "PROCESSOR_CONSUMER_NAME": "proc-1",
        "PROCESSOR_BATCH_COUNT": "7",
        "PROCESSOR_BLOCK_MS": "50",
        "PROCESSOR_CLAIM_IDLE_MS": "1000",
        "PROCESSOR_HTTP_PORT": "0",
        "PROCESSOR_MONGO_DB": "other",
        "PROCESSOR_LEASE_TTL_MS": "2000",
        "PROCESSOR_LEASE_RENEW_MS": "500",
        "PROCESSOR_BACKFILL": "false",
        "PROCESSOR_REST_BASE_URL": "http://127.0.0.1:9900",
        "PROCESSOR_BACKFILL_MAX_WAIT_S": "5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # act
    s = load_settings(ProcessorSettings)
    # assert
    assert s.symbols == ("BTCUSDT", "ETHUSDT")
    assert (s.fast_period, s.slow_period, s.interval) == (10, 30, "1h")
    assert s.order_quantity == Decimal("0.25")
    assert (s.consumer_name, s.batch_count, s.block_ms, s.claim_idle_ms) == ("proc-1", 7, 50, 1000)
    assert (s.http_port, s.mongo_db) == (0, "other")
    assert (s.lease_ttl_ms, s.lease_renew_ms) == (2000, 500)
    assert (s.backfill, s.rest_base_url, s.backfill_max_wait_s) == (False, "http://127.0.0.1:9900", 5.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROCESSOR_SLOW_PERIOD", "50"),
        ("PROCESSOR_FAST_PERIOD", "0"),
        ("PROCESSOR_INTERVAL", "1w"),
        ("PROCESSOR_ORDER_QUANTITY", "0"),
        ("PROCESSOR_ORDER_QUANTITY", "NaN"),
        ("PROCESSOR_SYMBOLS", "BTC-USDT"),
        ("PROCESSOR_SYMBOLS", "BTCUSDT,btcusdt"),
        ("PROCESSOR_SYMBOLS", ""),
        ("PROCESSOR_STRATEGY", "ema_cross"),
        ("PROCESSOR_BLOCK_MS", "5000"),
        ("PROCESSOR_HTTP_PORT", "70000"),
        ("PROCESSOR_LEASE_RENEW_MS", "5000"),
        ("PROCESSOR_LEASE_TTL_MS", "100"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    # arrange
    monkeypatch.setenv(name, value)
    # act
    with pytest.raises(SystemExit) as exit_info:
        load_settings(ProcessorSettings)
    # assert
    assert exit_info.value.code == 2
    assert name in capsys.readouterr().err
