"""Signed requests to the simulator's trading side, built as a Binance client builds them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from algo_common.binance.signing import Ed25519Signer, HmacSigner, Signer, rest_payload
from exchange_sim import RunningSimulator
from tests.binance_doc_keys import DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET

FROZEN_NOW = 1_800_000_030.0  # 30 s into a wall-clock minute (and 10-second window): no window boundary races
NOW_MS = int(FROZEN_NOW * 1000)
RICH = {"USDT": "10000000", "BTC": "100", "ETH": "1000"}
HMAC_SIGNER = HmacSigner(DOC_EXAMPLE_API_KEY, DOC_EXAMPLE_SECRET)


def frozen() -> float:
    return FROZEN_NOW


def hmac_account(name: str = "default", balances: dict[str, str] | None = None) -> dict[str, Any]:
    """An account config with the documentation's HMAC key."""
    keys = [{"api_key": DOC_EXAMPLE_API_KEY, "secret": DOC_EXAMPLE_SECRET}]
    return {"name": name, "balances": balances or RICH, "keys": keys}


def ed25519_key(api_key: str = "ed25519-test-key") -> tuple[Ed25519Signer, str]:
    """A fresh Ed25519 signer and its public key PEM."""
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Ed25519Signer(api_key, private), pem.decode()


class SignedClient:
    """Sends signed requests: params percent-encoded in order, then ``timestamp`` and ``signature``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        sim: RunningSimulator,
        signer: Signer = HMAC_SIGNER,
        clock_ms: Callable[[], int] = lambda: NOW_MS,
    ) -> None:
        self.http = http
        self.sim = sim
        self.signer = signer
        self.clock_ms = clock_ms

    async def request(
        self, method: str, path: str, *, timestamp: int | None = None, signature: str | None = None, **params: Any
    ) -> httpx.Response:
        pairs = [(k, v) for k, v in params.items() if v is not None]
        pairs.append(("timestamp", self.clock_ms() if timestamp is None else timestamp))
        payload = rest_payload(pairs)
        sig = self.signer.sign(payload) if signature is None else signature
        url = f"{self.sim.rest_url}{path}?{payload}&signature={quote(sig, safe='')}"
        return await self.http.request(method, url, headers={"X-MBX-APIKEY": self.signer.api_key})

    async def order(self, **params: Any) -> httpx.Response:
        return await self.request("POST", "/api/v3/order", **{"symbol": "BTCUSDT", **params})

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        response = await self.request(method, path, **params)
        assert response.status_code == 200, response.text
        return response.json()


async def trading_state(http: httpx.AsyncClient, sim: RunningSimulator) -> dict[str, Any]:
    response = await http.get(f"{sim.control_url}/trading/state")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def trading_control(http: httpx.AsyncClient, sim: RunningSimulator, action: str, **body: Any) -> dict[str, Any]:
    response = await http.post(f"{sim.control_url}/trading/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def book(http: httpx.AsyncClient, sim: RunningSimulator, symbol: str = "BTCUSDT") -> dict[str, Any]:
    response = await http.get(f"{sim.rest_url}/api/v3/depth", params={"symbol": symbol, "limit": 5000})
    return response.json()  # type: ignore[no-any-return]


def balances(state: dict[str, Any], account: str = "default") -> dict[str, tuple[Decimal, Decimal]]:
    acct = next(a for a in state["accounts"] if a["name"] == account)
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in acct["balances"]}
