"""Binance-compatible exchange simulator: REST + WebSocket market data on one port, with faults.

Start it in-process with :func:`start_simulator`, or run ``algo-exchange-sim``.
"""

from exchange_sim.app import create_app
from exchange_sim.runner import RunningSimulator, start_simulator
from exchange_sim.settings import SimSettings

__all__ = ["RunningSimulator", "SimSettings", "create_app", "start_simulator"]
