"""Background work of the Binance venue: start-up reconciliation, user data stream, periodic repair.

The service runs :meth:`BinanceSync.startup` before it reads its first signal and
:meth:`BinanceSync.run` beside its main loop, then waits (:meth:`BinanceSync.wait_ready`) until
the account's balances are current, so signals are kept pending rather than refused for an
unknown balance while the trader starts; the paper venue needs none of this (``create_sync``
returns None for it).
"""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.clock import now_ms
from algo_common.errors import TransientError
from algo_common.mongo import Document
from trader.ledger import Ledger
from trader.metrics import trader_metrics
from trader.reconcile import Reconciler
from trader.settings import TraderSettings
from trader.venues.base import Venue
from trader.venues.binance.balances import AccountBalances
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.userstream import UserStream
from trader.venues.binance.venue import BinanceVenue

READY_WAIT_S = 10.0
"""One wait for current balances at start; past it the service backs off (unready) and waits again."""


class BinanceSync:
    """The reconciler and the user data stream of one Binance venue."""

    def __init__(
        self, settings: TraderSettings, venue: BinanceVenue, ledger: Ledger, db: AsyncDatabase[Document]
    ) -> None:
        metrics = binance_metrics()
        self.venue = venue
        self.balances = AccountBalances(now_ms, int(settings.binance_balance_max_age_s * 1000), metrics)
        self.reconciler = Reconciler(
            venue,
            ledger,
            db,
            metrics,
            trader_metrics(),
            interval_s=settings.binance_reconcile_interval_s,
            lookback_ms=settings.binance_reconcile_lookback_ms,
            balances=self.balances,
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
            balances=self.balances,
        )

        async def symbol_of(client_order_id: str) -> str | None:
            order = await ledger.get_order(client_order_id)
            return None if order is None else str(order["symbol"])

        venue.symbol_lookup = symbol_of

    async def startup(self) -> None:
        """Repair stored orders and compare balances before any new signal is taken."""
        await self.reconciler.startup()

    async def wait_ready(self) -> None:
        """Until the stream is subscribed and a snapshot taken under it (TransientError past the wait)."""
        try:
            await asyncio.wait_for(self.balances.trusted.wait(), READY_WAIT_S)
        except TimeoutError:
            reason = self.balances.untrusted_reason()
            raise TransientError(f"Binance account balances not current: {reason}") from None

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
