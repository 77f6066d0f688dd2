"""TRADER_VENUE=binance: keys required, kept secret, endpoints by setting."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from algo_common.binance.signing import Ed25519Signer, HmacSigner
from trader.settings import TraderSettings

SECRET = "s3cr3t-value-never-logged"


def _settings(**values: Any) -> TraderSettings:
    return TraderSettings(**values)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({}, "TRADER_BINANCE_API_KEY"),
        ({"binance_api_key": "k"}, "TRADER_BINANCE_API_SECRET"),
        ({"binance_api_key": "k", "binance_api_secret": "s", "binance_private_key": "p"}, "exactly one"),
        ({"binance_api_secret": "s"}, "TRADER_BINANCE_API_KEY"),
    ],
)
def test_the_binance_venue_fails_fast_without_its_keys(values: dict[str, str], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        _settings(venue="binance", **values)


def test_paper_needs_no_keys() -> None:
    assert _settings().venue == "paper"


def test_secrets_never_show_in_the_settings_text() -> None:
    # act
    settings = _settings(venue="binance", binance_api_key=SECRET, binance_api_secret=SECRET)
    # assert
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings.model_dump_json()
    assert SECRET not in repr(settings.binance_signer())


def test_the_key_type_chooses_the_signer() -> None:
    # arrange
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    # act
    hmac_signer = _settings(venue="binance", binance_api_key="k", binance_api_secret="s").binance_signer()
    ed_signer = _settings(venue="binance", binance_api_key="k", binance_private_key=pem).binance_signer()
    # assert
    assert isinstance(hmac_signer, HmacSigner)
    assert isinstance(ed_signer, Ed25519Signer)


def test_a_bad_private_key_is_named() -> None:
    settings = _settings(venue="binance", binance_api_key="k", binance_private_key="not a pem")
    with pytest.raises(ValueError, match="TRADER_BINANCE_PRIVATE_KEY"):
        settings.binance_signer()


@pytest.mark.parametrize(
    ("values", "rest", "ws_api"),
    [
        ({}, "https://api.binance.com", "wss://ws-api.binance.com:443/ws-api/v3"),
        ({"binance_testnet": True}, "https://testnet.binance.vision", "wss://ws-api.testnet.binance.vision/ws-api/v3"),
        (
            {"binance_testnet": True, "binance_rest_url": "http://127.0.0.1:9900", "binance_ws_api_url": "ws://x/ws"},
            "http://127.0.0.1:9900",
            "ws://x/ws",
        ),
    ],
)
def test_endpoints_default_to_production(values: dict[str, object], rest: str, ws_api: str) -> None:
    # act
    settings = _settings(**values)
    # assert
    assert (settings.binance_rest_base, settings.binance_ws_api) == (rest, ws_api)


def test_binance_settings_come_from_trader_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    # arrange
    monkeypatch.setenv("TRADER_VENUE", "binance")
    monkeypatch.setenv("TRADER_BINANCE_API_KEY", "key")
    monkeypatch.setenv("TRADER_BINANCE_API_SECRET", SECRET)
    monkeypatch.setenv("TRADER_BINANCE_RECV_WINDOW_MS", "7000")
    # act
    settings = TraderSettings()
    # assert
    assert settings.venue == "binance"
    assert settings.binance_recv_window_ms == 7000
    assert settings.binance_api_secret is not None
    assert settings.binance_api_secret.get_secret_value() == SECRET
