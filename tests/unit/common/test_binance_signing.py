"""Signing reproduces Binance's documented examples exactly (``../shared/BINANCE.md`` §4)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from algo_common.binance.signing import (
    Ed25519Signer,
    HmacSigner,
    load_ed25519_public_key,
    rest_payload,
    verify_ed25519,
    verify_hmac,
    ws_api_payload,
)

DOC_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
FULLWIDTH_SYMBOL = "\uff11\uff12\uff13\uff14\uff15\uff16"
"""The documentation's non-ASCII example symbol (full-width digits one to six)."""
DOC_ORDER = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
    ("recvWindow", 5000),
    ("timestamp", 1499827319559),
]


def test_rest_hmac_matches_the_documentation_example() -> None:
    payload = rest_payload(DOC_ORDER)
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    )
    signature = HmacSigner(DOC_API_KEY, DOC_SECRET).sign(payload)
    assert signature == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_rest_payload_percent_encodes_non_ascii_before_signing() -> None:
    params = [("symbol", FULLWIDTH_SYMBOL), *DOC_ORDER[1:]]
    payload = rest_payload(params)
    assert payload.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY")
    assert HmacSigner(DOC_API_KEY, DOC_SECRET).sign(payload) == (
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    )


def test_ws_api_payload_sorts_params_and_skips_the_signature() -> None:
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
        "timestamp": 1645423376532,
        "apiKey": DOC_API_KEY,
        "signature": "ignored",
    }
    payload = ws_api_payload(params)
    assert payload.startswith("apiKey=")
    assert "signature" not in payload
    assert HmacSigner(DOC_API_KEY, DOC_SECRET).sign(payload) == (
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    )


def test_ws_api_payload_keeps_non_ascii_unencoded() -> None:
    params = {
        "symbol": FULLWIDTH_SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1.00000000",
        "price": "0.10000000",
        "recvWindow": 5000,
        "timestamp": 1645423376532,
        "apiKey": DOC_API_KEY,
    }
    payload = ws_api_payload(params)
    assert f"symbol={FULLWIDTH_SYMBOL}&" in payload
    assert HmacSigner(DOC_API_KEY, DOC_SECRET).sign(payload) == (
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    )


def test_hmac_verification_is_case_insensitive_and_rejects_tampering() -> None:
    payload = rest_payload(DOC_ORDER)
    signature = HmacSigner(DOC_API_KEY, DOC_SECRET).sign(payload)
    assert verify_hmac(DOC_SECRET, payload, signature.upper())
    assert not verify_hmac(DOC_SECRET, payload.replace("BUY", "SELL"), signature)


def test_ed25519_round_trip_through_pem_keys() -> None:
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signer = Ed25519Signer.from_pem("key", private_pem)
    payload = rest_payload(DOC_ORDER)
    signature = signer.sign(payload)
    assert len(signature) == 88
    public_key = load_ed25519_public_key(public_pem)
    assert verify_ed25519(public_key, payload, signature)
    assert not verify_ed25519(public_key, payload + "&x=1", signature)
    assert not verify_ed25519(public_key, payload, "not base64!")


def test_signers_never_show_their_secret() -> None:
    assert DOC_SECRET not in repr(HmacSigner(DOC_API_KEY, DOC_SECRET))
    with pytest.raises(ValueError, match="required"):
        HmacSigner(DOC_API_KEY, "")
