"""Execution venues behind one small Protocol; settings choose which one runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from trader.book_top import BookTops
from trader.venues.base import Venue
from trader.venues.paper import PaperVenue
from trader.venues.paper_fills import PaperTerms

if TYPE_CHECKING:
    from trader.settings import TraderSettings


def create_venue(settings: TraderSettings, redis: aioredis.Redis) -> Venue:
    """The venue named in settings (``TRADER_VENUE``)."""
    if settings.venue == "paper":
        return create_paper_venue(settings, redis)
    raise ValueError(f"unknown venue {settings.venue!r}")


def create_paper_venue(settings: TraderSettings, redis: aioredis.Redis) -> PaperVenue:
    """The paper venue on the trader's Redis (its orders and balances survive any trader process)."""
    terms = PaperTerms(
        fee_rate=settings.fee_rate,
        fee_asset=settings.quote_asset,
        slippage_bps=settings.paper_slippage_bps,
        use_book=settings.paper_price_source == "book",
    )
    return PaperVenue(
        redis,
        terms,
        BookTops(redis, settings.paper_book_scan),
        order_ttl_s=settings.paper_order_ttl_s,
        failpoint=settings.failpoint,
    )
