"""Execution venues behind one small Protocol; settings choose which one runs."""

from __future__ import annotations

from decimal import Decimal

from trader.venues.base import Venue
from trader.venues.paper import PaperVenue


def create_venue(name: str, fee_rate: Decimal, quote_asset: str) -> Venue:
    """The venue named in settings (``TRADER_VENUE``)."""
    if name == "paper":
        return PaperVenue(fee_rate=fee_rate, fee_asset=quote_asset)
    raise ValueError(f"unknown venue {name!r}")
