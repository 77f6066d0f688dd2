"""Background work of the Binance venue: start-up reconciliation, user data stream, periodic repair.

The service runs :meth:`BinanceSync.startup` before it reads its first signal and
:meth:`BinanceSync.run` beside its main loop; the paper venue needs neither (``create_sync``
returns None for it).
"""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from trader.ledger import Ledger
from trader.metrics import trader_metrics
from trader.reconcile import Reconciler
from trader.settings import TraderSettings
from trader.venues.base import Venue
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.userstream import UserStream
from trader.venues.binance.venue import BinanceVenue


class BinanceSync:
    """The reconciler and the user data stream of one Binance venue."""

    def __init__(
        self, settings: TraderSettings, venue: BinanceVenue, ledger: Ledger, db: AsyncDatabase[Document]
    ) -> None:
        metrics = binance_metrics()
        self.venue = venue
        self.reconciler = Reconciler(
            venue,
            ledger,
            db,
            metrics,
            trader_metrics(),
            interval_s=settings.binance_reconcile_interval_s,
            lookback_ms=settings.binance_reconcile_lookback_ms,
        )
        self.stream = UserStream(
            settings.binance_ws_api,
            settings.binance_signer(),
            venue.client.clock,
            settings.binance_recv_window_ms,
            self.reconciler.on_report,
            self._after_connect,
            metrics,
            open_timeout_s=settings.binance_timeout_s,
            backoff_base_s=settings.binance_reconnect_base_s,
            backoff_cap_s=settings.binance_reconnect_cap_s,
        )

        async def symbol_of(client_order_id: str) -> str | None:
            order = await ledger.get_order(client_order_id)
            return None if order is None else str(order["symbol"])

        venue.symbol_lookup = symbol_of

    async def startup(self) -> None:
        """Repair stored orders and compare balances before any new signal is taken."""
        await self.reconciler.startup()

    async def run(self) -> None:
        """The user data stream and the periodic reconciliation, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.stream.run())
            tasks.create_task(self.reconciler.run_periodic())

    async def aclose(self) -> None:
        await self.venue.client.aclose()

    async def _after_connect(self) -> None:
        await self.reconciler.reconcile_quietly("reconnect")


def create_sync(
    settings: TraderSettings, venue: Venue, ledger: Ledger, db: AsyncDatabase[Document]
) -> BinanceSync | None:
    """The background sync a venue needs (Binance), or None (paper)."""
    if isinstance(venue, BinanceVenue):
        return BinanceSync(settings, venue, ledger, db)
    return None
