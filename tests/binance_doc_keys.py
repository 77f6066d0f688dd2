"""The HMAC key pair of Binance's signing examples, public in their documentation.

Tests configure the simulator with it explicitly, so the documentation's test vectors verify against
a running simulator; the simulator itself has no default account or key.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import SecretStr

from exchange_sim.trading.config import AccountConfig, ApiKeyConfig

DOC_EXAMPLE_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_EXAMPLE_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def doc_example_account(name: str = "default") -> AccountConfig:
    """One account with the documentation's HMAC key, 100,000 USDT and 1 BTC."""
    return AccountConfig(
        name=name,
        balances={"USDT": Decimal(100_000), "BTC": Decimal(1)},
        keys=[ApiKeyConfig(api_key=DOC_EXAMPLE_API_KEY, secret=SecretStr(DOC_EXAMPLE_SECRET))],
    )
