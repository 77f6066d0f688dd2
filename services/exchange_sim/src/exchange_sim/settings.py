"""Simulator settings: environment variables ``SIM_*``, overridable by CLI flags."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from algo_common.settings import Symbols, split_comma_separated
from exchange_sim.intervals import SIMULATED_INTERVALS
from exchange_sim.trading.config import AccountConfig


class SimSettings(BaseSettings):
    """Everything the simulator can be told at start; a bad value stops it naming the variable."""

    model_config = SettingsConfigDict(env_prefix="SIM_", frozen=True, extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to listen on (0.0.0.0 in a container).")
    port: int = Field(9900, ge=0, le=65535, description="TCP port for REST and WebSocket; 0 picks a free one.")
    symbols: Symbols = Field(("BTCUSDT",), description="Simulated symbols, comma-separated (BTCUSDT,ETHUSDT).")
    mode: Literal["walk", "path", "replay"] = Field(
        "walk",
        description="walk: seeded random walk (scripted closes first); path: only scripted closes; "
        "replay: serve the recording in replay_dir.",
    )
    seed: int = Field(1, description="Seed of the random walk and book; same seed, same market.")
    rate: float = Field(10.0, ge=0, description="Market steps per wall-clock second; 0 = only POST /_sim/step.")
    kline_interval: str = Field("1m", description="Interval of simulated klines (1s..3d).")
    steps_per_bar: int = Field(10, ge=1, le=10_000, description="Market steps per kline; the last one closes it.")
    max_trades_per_step: int = Field(3, ge=1, le=100, description="Upper bound of trades per step (random 1..n).")
    volatility: float = Field(0.001, ge=0, le=0.1, description="Std-dev of the relative price move per walk step.")
    levels_per_side: int = Field(20, ge=1, le=5000, description="Price levels per side of the simulated book.")
    start_price: Decimal = Field(Decimal(30000), gt=0, description="First price (ignored with a history CSV).")
    start_time_ms: int = Field(
        1_700_000_000_000, ge=0, description="Simulated epoch ms of the first bar (floored to the interval)."
    )
    path_closes: Annotated[list[Decimal], NoDecode] = Field(
        default_factory=list, description="Scripted bar closes for every symbol, comma-separated."
    )
    history_csv: Path | None = Field(
        None, description="CSV open_time_ms,open,high,low,close,volume of past bars, served by REST klines."
    )
    history_symbol: str | None = Field(None, description="Symbol the history CSV belongs to (default: the first).")
    replay_dir: Path | None = Field(None, description="Folder with BINANCE.ws.1.0 and BINANCE.http.0.0 (replay mode).")
    ping_interval_s: float = Field(20.0, gt=0, description="Server ping frame period per connection.")
    pong_timeout_s: float = Field(60.0, gt=0, description="Close a connection whose pong is this late.")
    max_connection_s: float = Field(86_400.0, gt=0, description="Connection lifetime, then the server closes it.")
    max_incoming_per_s: int = Field(5, ge=1, description="Incoming frames per second per connection before a drop.")
    max_streams: int = Field(1024, ge=1, description="Streams per connection.")
    send_queue_size: int = Field(10_000, ge=1, description="Frames buffered per connection; overflow drops it.")
    weight_limit: int = Field(6000, ge=1, description="REQUEST_WEIGHT per minute per IP before HTTP 429.")
    trading_accounts: list[AccountConfig] = Field(
        default_factory=list,
        description="Trading accounts, JSON: [{name, balances: {asset: amount}, keys: [{api_key, secret | "
        "public_key_pem}], fee_asset?, fee_asset_price?}] (fee_asset: pay commissions in that asset, e.g. BNB, "
        "at fee_asset_price quote per unit); none by default, so signed endpoints reject every key until one is "
        "configured.",
    )
    trading_taker_commission: Decimal = Field(
        Decimal("0.001"), ge=0, lt=1, description="Commission rate of taker fills (0.001 = 0.1 %)."
    )
    trading_maker_commission: Decimal = Field(
        Decimal("0.001"), ge=0, lt=1, description="Commission rate of maker fills (resting LIMIT orders)."
    )
    trading_orders_per_10s: int = Field(100, ge=1, description="ORDERS limit per 10 s per account before 429/-1015.")
    trading_orders_per_day: int = Field(200_000, ge=1, description="ORDERS limit per day per account.")
    trading_ban_after: int = Field(
        5, ge=1, description="Requests an IP may still send while rate limited (after a 429) before a 418 ban."
    )
    trading_ban_s: float = Field(
        120.0, gt=0, description="First 418 ban in seconds; each further ban doubles (max 3 days)."
    )
    trading_clock_skew_ms: int = Field(
        0, description="Shift of the trading server clock (serverTime, the recvWindow check) from the wall clock."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")

    @field_validator("path_closes", mode="before")
    @classmethod
    def _split_closes(cls, value: object) -> object:
        return split_comma_separated(value)

    @field_validator("kline_interval")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        if value not in SIMULATED_INTERVALS:
            raise ValueError(f"must be one of {sorted(SIMULATED_INTERVALS)}, got {value!r}")
        return value

    @field_validator("trading_accounts")
    @classmethod
    def _unique_accounts(cls, accounts: list[AccountConfig]) -> list[AccountConfig]:
        names = [a.name for a in accounts]
        keys = [k.api_key for a in accounts for k in a.keys]
        if len(set(names)) != len(names) or len(set(keys)) != len(keys):
            raise ValueError("account names and API keys must be unique")
        return accounts

    @model_validator(mode="after")
    def _check_sources(self) -> SimSettings:
        if self.mode == "replay" and self.replay_dir is None:
            raise ValueError("mode=replay needs replay_dir (SIM_REPLAY_DIR)")
        if self.history_symbol is not None and self.history_symbol not in self.symbols:
            raise ValueError(f"history_symbol {self.history_symbol} is not one of {self.symbols}")
        return self
