"""PROCESSOR_STRATEGY=ema_rsi and its settings; the defaults leave sma_cross unchanged."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from algo_common.settings import load_settings
from processor.settings import ProcessorSettings
from processor.strategies import build_strategy


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PROCESSOR_"):
            monkeypatch.delenv(name)


def test_ema_rsi_and_its_params_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    for name, value in {
        "PROCESSOR_STRATEGY": "ema_rsi",
        "PROCESSOR_FAST_PERIOD": "12",
        "PROCESSOR_SLOW_PERIOD": "26",
        "PROCESSOR_RSI_PERIOD": "9",
        "PROCESSOR_RSI_OVERBOUGHT": "65.5",
    }.items():
        monkeypatch.setenv(name, value)
    # act
    s = load_settings(ProcessorSettings)
    strategy = build_strategy(
        s.strategy, s.fast_period, s.slow_period, rsi_period=s.rsi_period, rsi_overbought=s.rsi_overbought
    )
    # assert
    assert (s.strategy, s.rsi_period, s.rsi_overbought) == ("ema_rsi", 9, Decimal("65.5"))
    assert strategy.params() == {"fast": "12", "slow": "26", "rsi": "9", "overbought": "65.5"}


def test_rsi_defaults_are_14_and_70() -> None:
    # act
    s = load_settings(ProcessorSettings)
    # assert
    assert (s.strategy, s.rsi_period, s.rsi_overbought) == ("sma_cross", 14, Decimal(70))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROCESSOR_RSI_PERIOD", "1"),
        ("PROCESSOR_RSI_OVERBOUGHT", "0"),
        ("PROCESSOR_RSI_OVERBOUGHT", "100.5"),
        ("PROCESSOR_RSI_OVERBOUGHT", "Infinity"),
        ("PROCESSOR_STRATEGY", "ema-rsi"),
    ],
)
def test_a_bad_rsi_setting_stops_start_up_naming_the_variable(
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
