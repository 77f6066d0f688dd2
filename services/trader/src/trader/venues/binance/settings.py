"""The Binance venue's settings, mixed into ``TraderSettings`` (``TRADER_BINANCE_*``).

Keys are secrets (``SecretStr``: never logged, never in an error or a metric label) and have no
defaults. With ``TRADER_VENUE=binance`` the API key and exactly one of the HMAC secret or the
Ed25519 private key (PEM) are required, or start-up stops naming the missing variables.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator

from algo_common.binance.signing import Ed25519Signer, HmacSigner, Signer
from algo_common.binance.urls import PRODUCTION_REST, TESTNET_REST

PRODUCTION_WS_API = "wss://ws-api.binance.com:443/ws-api/v3"
TESTNET_WS_API = "wss://ws-api.testnet.binance.vision/ws-api/v3"


class BinanceVenueSettings(BaseModel):
    """Fields of the Binance spot venue; used only when ``venue`` is ``binance``."""

    binance_api_key: SecretStr | None = Field(
        default=None, description="Binance API key (X-MBX-APIKEY); required with TRADER_VENUE=binance. Secret."
    )
    binance_api_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 secret of the API key. Secret; give this or the private key."
    )
    binance_private_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key of the API key, PKCS#8 PEM. Secret; give this or the secret."
    )
    binance_testnet: bool = Field(
        default=False, description="Use the spot testnet endpoints instead of production (unless URLs are set)."
    )
    binance_rest_url: str | None = Field(
        default=None, description="REST base URL; default production https://api.binance.com (testnet by flag)."
    )
    binance_ws_api_url: str | None = Field(
        default=None,
        description=f"WebSocket API URL of the user data stream; default {PRODUCTION_WS_API} (testnet by flag).",
    )
    binance_recv_window_ms: int = Field(
        default=5000, ge=1, le=60_000, description="recvWindow of signed requests, in ms (Binance max 60000)."
    )
    binance_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="HTTP timeout of one REST request; past it the outcome is unknown."
    )
    binance_time_sync_s: float = Field(
        default=300.0, gt=0, description="Re-measure the server time offset this often (also on every -1021)."
    )
    binance_exchange_info_ttl_s: float = Field(
        default=3600.0, gt=0, description="Re-read a symbol's filters from exchangeInfo after this many seconds."
    )
    binance_max_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="A 429 Retry-After up to this long is waited out in line; longer ones (and 418 bans) make "
        "the trader unready with its signals kept pending.",
    )
    binance_reconcile_interval_s: float = Field(
        default=60.0, gt=0, description="Compare open and recent orders with Binance this often, in seconds."
    )
    binance_reconcile_lookback_ms: int = Field(
        default=600_000, ge=0, description="Orders created this recently (ms) are reconciled even when stored final."
    )
    binance_balance_max_age_s: float = Field(
        default=180.0,
        gt=0,
        description="The pre-trade balance check trusts the account snapshot (GET /api/v3/account, taken by "
        "every reconciliation, kept current by the user data stream) this long; older, or with the stream down, "
        "orders are refused ('balance unknown'). Must exceed TRADER_BINANCE_RECONCILE_INTERVAL_S.",
    )
    binance_reconnect_base_s: float = Field(
        default=0.5, gt=0, description="First backoff delay before the user data stream reconnects, in seconds."
    )
    binance_reconnect_cap_s: float = Field(
        default=30.0, gt=0, description="Longest user data stream reconnect delay, in seconds."
    )

    @model_validator(mode="after")
    def _keys_for_binance(self) -> Self:
        if getattr(self, "venue", None) != "binance":
            return self
        if self.binance_balance_max_age_s <= self.binance_reconcile_interval_s:
            raise ValueError(
                "TRADER_BINANCE_BALANCE_MAX_AGE_S must exceed TRADER_BINANCE_RECONCILE_INTERVAL_S "
                "(each reconciliation refreshes the balances)"
            )
        missing = []
        if self.binance_api_key is None or not self.binance_api_key.get_secret_value():
            missing.append("TRADER_BINANCE_API_KEY")
        if (self.binance_api_secret is None) == (self.binance_private_key is None):
            missing.append("exactly one of TRADER_BINANCE_API_SECRET (HMAC) or TRADER_BINANCE_PRIVATE_KEY (Ed25519)")
        if missing:
            raise ValueError(f"TRADER_VENUE=binance needs {' and '.join(missing)}")
        return self

    def binance_signer(self) -> Signer:
        """The request signer from the configured key (raises ValueError naming the variable)."""
        if self.binance_api_key is None:
            raise ValueError("TRADER_BINANCE_API_KEY is not set")
        api_key = self.binance_api_key.get_secret_value()
        if self.binance_private_key is not None:
            try:
                return Ed25519Signer.from_pem(api_key, self.binance_private_key.get_secret_value())
            except (ValueError, TypeError) as e:
                raise ValueError("TRADER_BINANCE_PRIVATE_KEY is not an Ed25519 PKCS#8 PEM private key") from e
        if self.binance_api_secret is None:
            raise ValueError("TRADER_BINANCE_API_SECRET is not set")
        return HmacSigner(api_key, self.binance_api_secret.get_secret_value())

    @property
    def binance_rest_base(self) -> str:
        return self.binance_rest_url or (TESTNET_REST if self.binance_testnet else PRODUCTION_REST)

    @property
    def binance_ws_api(self) -> str:
        return self.binance_ws_api_url or (TESTNET_WS_API if self.binance_testnet else PRODUCTION_WS_API)
