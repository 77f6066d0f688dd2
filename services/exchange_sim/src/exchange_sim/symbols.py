"""Static facts about a simulated symbol: assets, tick size, step size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

_QUOTE_ASSETS = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY")


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """What ``exchangeInfo`` says about a symbol; prices and quantities are multiples of these."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal

    @classmethod
    def derive(cls, symbol: str, price: Decimal) -> SymbolSpec:
        """Plausible Binance-like filters for a symbol trading near ``price``.

        The tick is ~1e-6 of the price (0.01 at 30,000, like BTCUSDT) and one step of quantity is
        worth ~0.1-1 quote unit (0.00001 BTC at 30,000), both powers of ten within Binance's 8 decimals.
        """
        if not symbol.isalnum() or not symbol.isupper():
            raise ValueError(f"symbol must be upper-case letters/digits like BTCUSDT, got {symbol!r}")
        if price <= 0:
            raise ValueError(f"{symbol}: start price must be positive, got {price}")
        quote = next((q for q in _QUOTE_ASSETS if symbol.endswith(q) and len(symbol) > len(q)), symbol[-4:])
        magnitude = math.floor(math.log10(price))
        tick_exp = min(-2, max(-8, magnitude - 6))
        step_exp = min(0, max(-8, math.floor(math.log10(1 / price))))
        return cls(
            symbol=symbol,
            base_asset=symbol[: -len(quote)],
            quote_asset=quote,
            tick_size=Decimal(1).scaleb(tick_exp),
            step_size=Decimal(1).scaleb(step_exp),
        )
