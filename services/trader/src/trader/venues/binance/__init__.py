"""Binance spot venue: signed REST orders, exchange filters, rate limits, user data stream.

``venue.BinanceVenue`` implements the trader's ``Venue`` port; ``userstream.UserStream`` follows
order updates over the WebSocket API; ``trader.reconcile`` repairs what either of them missed.
"""
