"""Binance request signing, shared by the trader (signs) and the exchange simulator (verifies).

Two payload rules exist and they differ on purpose (see ``../shared/BINANCE.md`` §4):

* REST: the payload is the **percent-encoded** query string followed directly by the body, in the
  exact order sent, without ``signature``. Since 2026-01-15 Binance rejects a signature computed
  over unencoded non-ASCII text with ``-1022``.
* WebSocket API: every param except ``signature``, **sorted by name**, joined as ``k=v`` with
  ``&``, not percent-encoded.

Keys: HMAC-SHA256 (hex signature, case-insensitive) and Ed25519 (base64 signature, 88 chars).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_PARAM = "signature"

Param = tuple[str, object]


def _text(value: object) -> str:
    """Binance params as text: booleans lower-case as JSON writes them, everything else by ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rest_payload(params: Iterable[Param]) -> str:
    """The REST payload to sign: ``k=v`` pairs percent-encoded (UTF-8), in the order given."""
    return "&".join(f"{quote(key, safe='')}={quote(_text(value), safe='')}" for key, value in params)


def ws_api_payload(params: Mapping[str, object]) -> str:
    """The WebSocket API payload to sign: params except ``signature``, sorted by name, not encoded."""
    return "&".join(f"{key}={_text(params[key])}" for key in sorted(params) if key != SIGNATURE_PARAM)


class Signer(Protocol):
    """Signs a payload with an API secret; ``api_key`` goes in ``X-MBX-APIKEY`` / ``apiKey``."""

    @property
    def api_key(self) -> str: ...

    def sign(self, payload: str) -> str: ...


class HmacSigner:
    """HMAC-SHA256 over the payload, hex encoded."""

    def __init__(self, api_key: str, secret: str) -> None:
        if not api_key or not secret:
            raise ValueError("an HMAC API key and secret are both required")
        self._api_key = api_key
        self._secret = secret.encode()

    @property
    def api_key(self) -> str:
        return self._api_key

    def sign(self, payload: str) -> str:
        return hmac_signature(self._secret, payload)

    def __repr__(self) -> str:  # never show the secret
        return "HmacSigner(api_key=<redacted>)"


class Ed25519Signer:
    """Ed25519 over the payload bytes, base64 encoded (Binance's recommended key type)."""

    def __init__(self, api_key: str, private_key: Ed25519PrivateKey) -> None:
        if not api_key:
            raise ValueError("an Ed25519 API key is required")
        self._api_key = api_key
        self._private_key = private_key

    @classmethod
    def from_pem(cls, api_key: str, pem: str | bytes, password: bytes | None = None) -> Ed25519Signer:
        """Load a PKCS#8 PEM private key, as Binance's key generator writes it."""
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the private key is not an Ed25519 key")
        return cls(api_key, key)

    @property
    def api_key(self) -> str:
        return self._api_key

    def sign(self, payload: str) -> str:
        return base64.b64encode(self._private_key.sign(payload.encode())).decode()

    def __repr__(self) -> str:
        return "Ed25519Signer(api_key=<redacted>)"


def hmac_signature(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def verify_hmac(secret: str, payload: str, signature: str) -> bool:
    """Constant-time check; Binance treats HMAC signatures case-insensitively."""
    return hmac.compare_digest(hmac_signature(secret.encode(), payload), signature.lower())


def verify_ed25519(public_key: Ed25519PublicKey, payload: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), payload.encode())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def load_ed25519_public_key(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key
