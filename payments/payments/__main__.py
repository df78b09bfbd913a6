"""``python -m payments``: validate the settings (exit 78 when invalid), then run until SIGTERM (exit 0)."""

from __future__ import annotations

import asyncio
import logging
import sys

from .config import EXIT_CONFIG_ERROR, ConfigError, load_settings
from .logs import configure_logging
from .worker import PaymentsService


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    configure_logging(settings.service_name, settings.instance, settings.log_level)
    logger = logging.getLogger("payments")
    logger.info("starting", extra={"settings": settings.redacted()})
    try:
        asyncio.run(PaymentsService(settings).run())
    except Exception:  # noqa: BLE001 - logged as JSON, then a crash exit
        logger.exception("payments stopped on an error")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
