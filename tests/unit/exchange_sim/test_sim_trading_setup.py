"""Trading settings from the environment, and the venue hook that feeds market trades to matching."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import cast

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from exchange_sim.app import build_venue
from exchange_sim.context import Venue
from exchange_sim.schemas import SimTrade
from exchange_sim.settings import SimSettings
from exchange_sim.trading.hook import MatchingVenue
from exchange_sim.venue import SimulatedVenue


def public_pem() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_accounts_and_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = [
        {"name": "main", "balances": {"USDT": "500.5"}, "keys": [{"api_key": "k1", "secret": "s1"}]},
        {"name": "ed", "keys": [{"api_key": "k2", "public_key_pem": public_pem()}]},
    ]
    monkeypatch.setenv("SIM_TRADING_ACCOUNTS", json.dumps(accounts))
    monkeypatch.setenv("SIM_TRADING_TAKER_COMMISSION", "0.00075")
    monkeypatch.setenv("SIM_TRADING_CLOCK_SKEW_MS", "-2500")
    settings = SimSettings()
    assert [a.name for a in settings.trading_accounts] == ["main", "ed"]
    assert settings.trading_accounts[0].balances == {"USDT": Decimal("500.5")}
    assert settings.trading_accounts[0].keys[0].secret is not None
    assert "s1" not in repr(settings.trading_accounts[0])  # secrets never printed
    assert (settings.trading_taker_commission, settings.trading_clock_skew_ms) == (Decimal("0.00075"), -2500)


@pytest.mark.parametrize(
    "account",
    [
        {"name": "x", "keys": [{"api_key": "k"}]},
        {"name": "x", "keys": [{"api_key": "k", "secret": "s", "public_key_pem": "p"}]},
        {"name": "x", "balances": {"USDT": "-1"}},
        [{"name": "x"}, {"name": "x"}],
        [
            {"name": "x", "keys": [{"api_key": "k", "secret": "s"}]},
            {"name": "y", "keys": [{"api_key": "k", "secret": "t"}]},
        ],
        {"name": "x", "keys": [{"api_key": "k", "public_key_pem": "-----BEGIN PUBLIC KEY-----"}]},
    ],
)
def test_bad_accounts_stop_start_up(account: dict[str, object] | list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError):
        SimSettings(trading_accounts=account if isinstance(account, list) else [account])


def test_no_account_or_key_exists_unless_configured() -> None:
    assert SimSettings().trading_accounts == []


def test_hook_sees_every_trade_and_delegates_the_rest() -> None:
    venue = MatchingVenue(build_venue(SimSettings(rate=0)))
    seen: list[tuple[str, Decimal, Decimal]] = []
    venue.on_trade = lambda symbol, price, qty: seen.append((symbol, price, qty))
    publications = venue.step()
    trades = [p for names, p in publications if isinstance(p, SimTrade)]
    assert seen == [(t.s, t.p, t.q) for t in trades]
    assert trades
    assert isinstance(venue.inner, SimulatedVenue)
    assert venue.market is venue.inner.market  # delegated attribute


def test_hook_decodes_recorded_trade_frames() -> None:
    class Recorded:
        def step(self) -> list[tuple[tuple[str, ...], object]]:
            raw = b'{"e":"trade","E":1,"s":"NKNUSDT","t":7,"p":"0.25","q":"100","T":1,"m":true,"M":true}'
            return [(("nknusdt@trade",), msgspec.Raw(raw)), (("nknusdt@depth",), msgspec.Raw(b"{}"))]

    venue = MatchingVenue(cast(Venue, Recorded()))  # only step() is used
    seen: list[tuple[str, Decimal, Decimal]] = []
    venue.on_trade = lambda symbol, price, qty: seen.append((symbol, price, qty))
    venue.step()
    assert seen == [("NKNUSDT", Decimal("0.25"), Decimal(100))]
