"""Spot accounts (balances free/locked) and the API keys that act on them.

Balances change only through :class:`Account` methods so every change is recorded in
``changed`` (the assets an ``outboundAccountPosition`` must report) and ``update_time``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from algo_common.binance.signing import load_ed25519_public_key, verify_ed25519, verify_hmac
from exchange_sim.trading.config import AccountConfig

KeyKind = Literal["HMAC", "ED25519"]
ZERO = Decimal(0)


class InsufficientBalance(Exception):
    """More than the free balance was asked for."""


@dataclass(slots=True)
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO


@dataclass(slots=True)
class Account:
    """One spot account; amounts are exact Decimals, never negative."""

    name: str
    uid: int
    balances: dict[str, Balance] = field(default_factory=dict)
    update_time: int = 0
    changed: set[str] = field(default_factory=set)
    fee_asset: str | None = None
    """Commissions are paid in this asset while enough of it is free (Binance's BNB option)."""
    fee_asset_price: Decimal | None = None
    """Quote-asset price of one unit of ``fee_asset``."""

    def balance(self, asset: str) -> Balance:
        return self.balances.setdefault(asset, Balance())

    def free(self, asset: str) -> Decimal:
        return self.balance(asset).free

    def lock(self, asset: str, amount: Decimal, now_ms: int) -> None:
        """Move ``amount`` from free to locked (an order rests on the book)."""
        balance = self.balance(asset)
        if amount > balance.free:
            raise InsufficientBalance(asset)
        balance.free -= amount
        balance.locked += amount
        self._touch(asset, now_ms)

    def unlock(self, asset: str, amount: Decimal, now_ms: int) -> None:
        balance = self.balance(asset)
        amount = min(amount, balance.locked)
        balance.locked -= amount
        balance.free += amount
        self._touch(asset, now_ms)

    def debit(self, asset: str, amount: Decimal, now_ms: int, *, from_locked: bool = False) -> None:
        """Take ``amount`` away (spent in a fill), from the free or the locked part."""
        balance = self.balance(asset)
        if from_locked:
            if amount > balance.locked:
                raise InsufficientBalance(asset)
            balance.locked -= amount
        else:
            if amount > balance.free:
                raise InsufficientBalance(asset)
            balance.free -= amount
        self._touch(asset, now_ms)

    def credit(self, asset: str, amount: Decimal, now_ms: int) -> None:
        self.balance(asset).free += amount
        self._touch(asset, now_ms)

    def take_changed(self) -> list[str]:
        """Assets changed since the last call, sorted (for ``outboundAccountPosition``)."""
        assets = sorted(self.changed)
        self.changed.clear()
        return assets

    def _touch(self, asset: str, now_ms: int) -> None:
        self.changed.add(asset)
        self.update_time = max(self.update_time, now_ms)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key and how to check its signatures."""

    api_key: str
    account: str
    kind: KeyKind
    secret: str | None = None
    public_key: Ed25519PublicKey | None = None

    def verify(self, payload: str, signature: str) -> bool:
        if self.secret is not None:
            return verify_hmac(self.secret, payload, signature)
        assert self.public_key is not None
        return verify_ed25519(self.public_key, payload, signature)


class Keyring:
    """Accounts by name and keys by ``X-MBX-APIKEY`` value."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}

    def configure(self, config: AccountConfig, now_ms: int) -> Account:
        """Create the account (or reset it: balances replaced, its old keys revoked).

        Raises ``ValueError`` when one of its keys already belongs to another account.
        """
        for entry in config.keys:
            owner = self.keys.get(entry.api_key)
            if owner is not None and owner.account != config.name:
                raise ValueError(f"API key {entry.api_key[:8]}... already belongs to account {owner.account}")
        for key in [k for k in self.keys.values() if k.account == config.name]:
            del self.keys[key.api_key]
        account = Account(
            name=config.name,
            uid=100_000 + len(self.accounts) + 1,
            update_time=now_ms,
            fee_asset=config.fee_asset,
            fee_asset_price=config.fee_asset_price,
        )
        if config.name in self.accounts:
            account.uid = self.accounts[config.name].uid
        for asset, amount in config.balances.items():
            account.balance(asset).free = amount
        self.accounts[config.name] = account
        for entry in config.keys:
            if entry.secret is not None:
                secret = entry.secret.get_secret_value()
                self.keys[entry.api_key] = ApiKey(entry.api_key, config.name, "HMAC", secret=secret)
            else:
                assert entry.public_key_pem is not None
                public = load_ed25519_public_key(entry.public_key_pem)
                self.keys[entry.api_key] = ApiKey(entry.api_key, config.name, "ED25519", public_key=public)
        return account

    def key(self, api_key: str) -> ApiKey | None:
        return self.keys.get(api_key)
