"""Accounts and API keys the simulator accepts, as settings (``SIM_TRADING_ACCOUNTS``, JSON).

An account has balances and one or more keys: HMAC (``api_key`` + ``secret``) or Ed25519
(``api_key`` + ``public_key_pem``). There is no default account: a credential that exists without
being configured is one nobody chose, so signed endpoints answer -2014/-2015 until accounts are given.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from algo_common.binance.signing import load_ed25519_public_key


class ApiKeyConfig(BaseModel):
    """One API key: exactly one of ``secret`` (HMAC-SHA256) or ``public_key_pem`` (Ed25519)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: str = Field(min_length=1, max_length=128)
    secret: SecretStr | None = None
    public_key_pem: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ApiKeyConfig:
        if (self.secret is None) == (self.public_key_pem is None):
            raise ValueError(
                f"key {self.api_key[:8]}...: give exactly one of secret (HMAC) or public_key_pem (Ed25519)"
            )
        if self.public_key_pem is not None:
            load_ed25519_public_key(self.public_key_pem)  # a bad PEM stops start-up here, naming the setting
        return self


class AccountConfig(BaseModel):
    """A spot account: starting balances per asset and the keys that act on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("default", min_length=1)
    balances: dict[str, Decimal] = Field(default_factory=dict)
    keys: list[ApiKeyConfig] = Field(default_factory=list)
    fee_asset: str | None = Field(
        None,
        min_length=1,
        description="Pay commissions in this asset (Binance's 'use BNB for fees') while the account holds enough "
        "of it; otherwise, and by default, a BUY pays in the base asset and a SELL in the quote asset.",
    )
    fee_asset_price: Decimal | None = Field(
        None, gt=0, description="Price of one unit of fee_asset in the quote asset: converts the commission."
    )

    @model_validator(mode="after")
    def _check(self) -> AccountConfig:
        for asset, amount in self.balances.items():
            if not amount.is_finite() or amount < 0:
                raise ValueError(f"account {self.name}: balance of {asset} must be >= 0")
        if (self.fee_asset is None) != (self.fee_asset_price is None):
            raise ValueError(f"account {self.name}: give fee_asset and fee_asset_price together")
        return self
