"""Log lines as JSON objects, one a line, on stderr (stdlib logging and a small formatter).

Every line has ``time``, ``level``, ``service``, ``instance`` and ``msg``; inside an activity also
``routingKey`` (from the OpenTelemetry baggage), ``workflowId`` and ``activityType``. Fields passed in
``extra=`` are kept. Temporal's own logs (the SDK's and its Core's) go through the same handler.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from opentelemetry import baggage
from temporalio import activity

# The TypeScript services' level names (pino), mapped onto logging's.
LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "silent": logging.CRITICAL + 10,
}

# Attributes every LogRecord has: anything else on a record came from `extra=`.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, instance: str) -> None:
        super().__init__()
        self._service = service
        self._instance = instance

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower().replace("warning", "warn").replace("critical", "fatal"),
            "service": self._service,
            "instance": self._instance,
            "logger": record.name,
        }
        if activity.in_activity():
            info = activity.info()
            line["routingKey"] = baggage.get_baggage("sd-routing-key")
            line["workflowId"] = info.workflow_id
            line["activityType"] = info.activity_type
        line["msg"] = record.getMessage()
        for key, value in vars(record).items():
            # The SDK's activity and workflow loggers attach their info dicts: the fields above say it.
            if key not in _RECORD_FIELDS and not key.startswith("temporal_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["err"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, instance: str, level: str) -> None:
    """Sends every logger's records through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(LEVELS[level])
