"""Trader settings come from TRADER_* variables, exactly, and bad values name the variable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.settings import load_settings
from trader.failpoints import Failpoint
from trader.settings import TraderSettings


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    for name in ("TRADER_FEE_RATE", "TRADER_HTTP_PORT", "TRADER_FAILPOINT", "TRADER_VENUE"):
        monkeypatch.delenv(name, raising=False)
    # act
    settings = TraderSettings()
    # assert
    assert settings.http_port == 8083
    assert settings.fee_rate == Decimal("0.001")
    assert settings.starting_balance == Decimal("10000")
    assert settings.venue == "paper"
    assert settings.failpoint is Failpoint.NONE
    assert settings.claim_idle_ms == 30_000


def test_environment_values_are_parsed_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    monkeypatch.setenv("TRADER_FEE_RATE", "0.00075")
    monkeypatch.setenv("TRADER_MAX_ORDER_NOTIONAL", "123.45")
    monkeypatch.setenv("TRADER_FAILPOINT", "after_intent")
    monkeypatch.setenv("TRADER_MONGO_DB", "elsewhere")
    # act
    settings = TraderSettings()
    # assert
    assert settings.fee_rate == Decimal("0.00075")
    assert str(settings.max_order_notional) == "123.45"
    assert settings.failpoint is Failpoint.AFTER_INTENT
    assert settings.mongo_db == "elsewhere"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TRADER_FEE_RATE", "1.5"),
        ("TRADER_FEE_RATE", "NaN"),
        ("TRADER_MAX_POSITION_QTY", "0"),
        ("TRADER_FAILPOINT", "halfway"),
        ("TRADER_VENUE", "binance"),
        ("TRADER_QUOTE_ASSET", "usdt"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    # arrange
    monkeypatch.setenv(name, value)
    # act
    with pytest.raises(SystemExit):
        load_settings(TraderSettings)
    # assert
    assert name in capsys.readouterr().err
