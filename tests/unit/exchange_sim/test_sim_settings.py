"""Settings from SIM_* variables and CLI flags; a bad value names its variable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_sim.__main__ import main, parse_args
from exchange_sim.settings import SimSettings


def test_defaults_match_binance() -> None:
    settings = SimSettings()
    assert (settings.host, settings.port, settings.symbols) == ("127.0.0.1", 9900, ("BTCUSDT",))
    assert (settings.ping_interval_s, settings.pong_timeout_s, settings.max_connection_s) == (20.0, 60.0, 86_400.0)
    assert (settings.max_incoming_per_s, settings.max_streams, settings.kline_interval) == (5, 1024, "1m")


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_SYMBOLS", "BTCUSDT, ETHUSDT")
    monkeypatch.setenv("SIM_PATH_CLOSES", "100.5,101")
    monkeypatch.setenv("SIM_RATE", "0")
    monkeypatch.setenv("SIM_MODE", "path")
    settings = SimSettings()
    assert settings.symbols == ("BTCUSDT", "ETHUSDT")
    assert settings.path_closes == [Decimal("100.5"), Decimal(101)]
    assert (settings.rate, settings.mode) == (0.0, "path")


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_PORT", "1234")
    monkeypatch.setenv("SIM_SEED", "5")
    settings = parse_args(["--port", "0", "--symbols", "ETHUSDT", "--kline-interval", "1h", "--start-price", "2000"])
    assert (settings.port, settings.seed, settings.symbols) == (0, 5, ("ETHUSDT",))
    assert (settings.kline_interval, settings.start_price) == ("1h", Decimal(2000))


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("SIM_SYMBOLS", "BTC-USDT", "not a Binance symbol"),
        ("SIM_KLINE_INTERVAL", "1M", "must be one of"),
        ("SIM_PORT", "70000", "less than or equal"),
        ("SIM_MODE", "replay", "replay_dir"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(env, value)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    if env != "SIM_MODE":
        assert env in err


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    # act
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"])
    # assert: descriptions with "%" (commission rates) are printed, not taken as format codes
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--trading-taker-commission" in out
    assert "0.1 %" in out
