"""``python -m trader``: settings from ``TRADER_*`` environment variables, then run until SIGTERM."""

from __future__ import annotations

import asyncio

from algo_common.logging import configure_logging
from algo_common.settings import load_settings
from trader import service
from trader.settings import TraderSettings


def main() -> None:
    settings = load_settings(TraderSettings)
    configure_logging("trader", settings.log_level)
    asyncio.run(service.run(settings))


if __name__ == "__main__":
    main()
