"""Build the Binance venue from settings: signer, HTTP client, rate gate, clock, filter cache."""

from __future__ import annotations

import httpx

from trader.venues.binance.client import BinanceRestClient
from trader.venues.binance.exchange_info import ExchangeInfoCache
from trader.venues.binance.limits import RateGate
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.settings import BinanceVenueSettings
from trader.venues.binance.venue import BinanceVenue


def create_binance_venue(settings: BinanceVenueSettings) -> BinanceVenue:
    """The venue; nothing connects until the first request."""
    metrics = binance_metrics()
    client = BinanceRestClient(
        httpx.AsyncClient(timeout=settings.binance_timeout_s),
        settings.binance_rest_base,
        settings.binance_signer(),
        settings.binance_recv_window_ms,
        RateGate(metrics, settings.binance_max_wait_s),
        metrics,
        settings.binance_time_sync_s,
    )
    return BinanceVenue(client, ExchangeInfoCache(client, settings.binance_exchange_info_ttl_s))
