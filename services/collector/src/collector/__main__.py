"""``python -m collector``: settings from ``COLLECTOR_*`` env vars, JSON logs, run until SIGTERM."""

from __future__ import annotations

import asyncio

from algo_common.logging import configure_logging
from algo_common.settings import load_settings
from collector import service
from collector.settings import CollectorSettings


def main() -> None:
    settings = load_settings(CollectorSettings)
    configure_logging(service.SERVICE, settings.log_level)
    asyncio.run(service.run(settings))


if __name__ == "__main__":
    main()
