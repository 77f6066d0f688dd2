"""``GET /api/v3/exchangeInfo`` cached per symbol, refreshed after ``ttl_s``.

Filters change rarely (tick/step changes are announced) but do change, so the cache expires; a
failed refresh keeps serving the last known rules rather than stopping trading.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from algo_common.binance.urls import EXCHANGE_INFO_PATH
from algo_common.errors import AlgoTradeError, TransientError
from algo_common.logging import get_logger
from trader.venues.binance.client import BinanceRestClient
from trader.venues.binance.filters import SymbolRules, to_rules
from trader.venues.binance.schemas import BinanceExchangeInfo

log = get_logger(__name__)
_decoder = msgspec.json.Decoder(BinanceExchangeInfo)


class ExchangeInfoCache:
    """Symbol rules by symbol, each with the monotonic time it was fetched."""

    def __init__(
        self, client: BinanceRestClient, ttl_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._rules: dict[str, tuple[SymbolRules, float]] = {}

    def cached(self, symbol: str) -> SymbolRules | None:
        entry = self._rules.get(symbol)
        return entry[0] if entry else None

    async def rules(self, symbol: str) -> SymbolRules:
        entry = self._rules.get(symbol)
        if entry is not None and self._monotonic() - entry[1] < self._ttl_s:
            return entry[0]
        try:
            return await self._fetch(symbol)
        except AlgoTradeError as e:
            if entry is None:
                raise
            log.warning("exchangeInfo refresh failed; using the cached filters", symbol=symbol, error=str(e))
            return entry[0]

    async def _fetch(self, symbol: str) -> SymbolRules:
        raw = await self._client.public(EXCHANGE_INFO_PATH, [("symbol", symbol)])
        try:
            info = _decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"exchangeInfo for {symbol} undecodable: {e}") from e
        found = next((s for s in info.symbols if s.symbol == symbol), None)
        if found is None:
            raise TransientError(f"exchangeInfo has no symbol {symbol}")
        self._client.gate.set_limits(info.rateLimits)
        rules = to_rules(found)
        self._rules[symbol] = (rules, self._monotonic())
        return rules
