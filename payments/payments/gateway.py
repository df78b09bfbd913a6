"""The payment gateway a charge is sent to (``PAYMENTS_GATEWAY_URL``), as a real payment service calls one.

The request carries the current OpenTelemetry context (``traceparent`` and ``baggage``, so the routing
key too) through the globally configured propagators, whatever called the activity: the key travels on
without the service knowing about routing.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

from opentelemetry import propagate, trace
from temporalio.exceptions import ApplicationError

GATEWAY_ERROR = "PaymentGatewayError"


class Gateway:
    def __init__(self, url: str, timeout_ms: int, tracer: trace.Tracer) -> None:
        self._url = url
        self._timeout_s = timeout_ms / 1000
        self._tracer = tracer

    @property
    def enabled(self) -> bool:
        return bool(self._url)

    async def send(self, charge: dict[str, Any]) -> None:
        """POSTs the charge; a failed or refused request fails the attempt (Temporal retries it)."""
        with self._tracer.start_as_current_span("POST payment gateway", kind=trace.SpanKind.CLIENT) as span:
            headers = {"content-type": "application/json", "idempotency-key": str(charge["chargeId"])}
            propagate.inject(headers)  # traceparent (this span) and baggage, from the current context
            request = urllib.request.Request(
                self._url, data=json.dumps(charge).encode("utf-8"), headers=headers, method="POST"
            )
            try:
                # urllib blocks: a thread keeps the event loop (and the other activities) running.
                status = await asyncio.to_thread(_post, request, self._timeout_s)
            except (urllib.error.URLError, OSError) as error:
                raise ApplicationError(f"payment gateway {self._url}: {error}", type=GATEWAY_ERROR) from error
            span.set_attribute("http.response.status_code", status)


def _post(request: urllib.request.Request, timeout_s: float) -> int:
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # non-2xx raises HTTPError
        response.read()
        return int(response.status)
