"""The simulator's trading side: signed REST order endpoints, balances, matching against the
simulated book, the user data stream over the WebSocket API, rate limits and trading faults.

Kept apart from the market-data modules: ``install`` (in ``setup.py``) wires it into the app.
This package's ``__init__`` imports nothing so ``settings`` can use ``trading.config``.
"""
