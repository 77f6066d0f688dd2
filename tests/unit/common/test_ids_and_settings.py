"""Deterministic ids and fail-fast settings."""

from __future__ import annotations

import re

import pytest
from pydantic_settings import SettingsConfigDict

from algo_common.domain.ids import signal_id
from algo_common.settings import BaseServiceSettings, Symbols, load_settings


def test_signal_id_is_deterministic_and_a_valid_client_order_id() -> None:
    a = signal_id("sma_cross", {"fast": "50", "slow": "200"}, "btcusdt", "1d", 1_700_000_000_000)
    b = signal_id("sma_cross", {"slow": "200", "fast": "50"}, "BTCUSDT", "1d", 1_700_000_000_000)
    later = signal_id("sma_cross", {"fast": "50", "slow": "200"}, "BTCUSDT", "1d", 1_700_000_060_000)
    other_interval = signal_id("sma_cross", {"fast": "50", "slow": "200"}, "BTCUSDT", "1h", 1_700_000_000_000)
    assert a == b
    assert len({a, later, other_interval}) == 3
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,36}", a)


class _Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UNIT_", frozen=True, extra="ignore")


def test_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIT_HTTP_PORT", "not-a-port")
    with pytest.raises(SystemExit) as exit_info:
        load_settings(_Settings)
    assert exit_info.value.code == 2
    assert "UNIT_HTTP_PORT" in capsys.readouterr().err


def test_secrets_are_not_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIT_MONGO_URI", "mongodb://user:hunter2@db/?replicaSet=rs0")
    settings = load_settings(_Settings)
    assert "hunter2" not in repr(settings)
    assert "hunter2" in settings.mongo_uri.get_secret_value()


class _SymbolSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="UNIT_", frozen=True, extra="ignore")
    symbols: Symbols = ("BTCUSDT",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("btcusdt, ethusdt", ("BTCUSDT", "ETHUSDT")), ('["BTCUSDT"]', ("BTCUSDT",))],
)
def test_symbols_come_comma_separated_or_as_json(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: tuple[str, ...]
) -> None:
    monkeypatch.setenv("UNIT_SYMBOLS", raw)
    assert load_settings(_SymbolSettings).symbols == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("BTC-USDT", "not a Binance symbol"), ("BTCUSDT,btcusdt", "twice"), ("", "at least one")]
)
def test_bad_symbols_are_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], raw: str, reason: str
) -> None:
    monkeypatch.setenv("UNIT_SYMBOLS", raw)
    with pytest.raises(SystemExit):
        load_settings(_SymbolSettings)
    assert reason in capsys.readouterr().err
