"""The service: a Temporal worker for ``chargePayment`` on one task queue, with health and metrics.

It polls ``PAYMENTS_TASK_QUEUE`` on the baseline and ``<queue>@<SIGNADOT_SANDBOX_NAME>`` in a fork, and
that is all the routing it does: the workflow that schedules a charge picks the queue. The client has the
SDK's OpenTelemetry TracingInterceptor (which the worker inherits), so each activity runs in the context
its ``_tracer-data`` header carried, baggage (the routing key) included.

SIGTERM (or SIGINT): polling stops, in-flight activities may finish for ``PAYMENTS_SHUTDOWN_GRACE_MS``
(then they are cancelled), and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import TLSConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from .activities import PaymentActivities
from .config import Settings
from .gateway import Gateway
from .health import HealthServer, Metrics
from .tracing import start_tracing

logger = logging.getLogger("payments")

PROBE_INTERVAL_S = 2.0
PROBE_TIMEOUT = timedelta(seconds=2)
CONNECT_RETRY_FIRST_S = 0.5
CONNECT_RETRY_MAX_S = 5.0


class _CountingActivityInterceptor(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: Metrics, instance: str) -> None:
        super().__init__(next)
        self._metrics = metrics
        self._instance = instance

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        name = getattr(input.fn, "__temporal_activity_definition").name
        began = time.perf_counter()
        outcome = "failed"
        try:
            result = await super().execute_activity(input)
            outcome = "completed"
            return result
        finally:
            self._metrics.activities.labels(name, self._instance, outcome).inc()
            self._metrics.activity_seconds.labels(name, self._instance, outcome).observe(
                time.perf_counter() - began
            )


class MetricsInterceptor(Interceptor):
    """Counts every activity attempt by outcome (completed, failed) for /metrics."""

    def __init__(self, metrics: Metrics, instance: str) -> None:
        self._metrics = metrics
        self._instance = instance

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountingActivityInterceptor(next, self._metrics, self._instance)


def _read(path: str) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as file:
        return file.read()


def tls_config(settings: Settings) -> TLSConfig | None:
    """TLS as the settings ask; None lets the SDK decide (it turns TLS on for an API key)."""
    if not settings.temporal_tls:
        return None
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_ca_file),
        client_cert=_read(settings.temporal_tls_cert_file),
        client_private_key=_read(settings.temporal_tls_key_file),
        domain=settings.temporal_tls_server_name or None,
    )


def temporal_runtime() -> Runtime:
    """A runtime whose Core logs go to Python's logging, so they too are JSON lines."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )


class PaymentsService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self._worker: Worker | None = None
        self._temporal_reachable = False
        self._stopping = False
        self.health = HealthServer(
            settings.http_host,
            settings.http_port,
            self.metrics,
            {
                "worker": lambda: self._worker is not None and self._worker.is_running and not self._stopping,
                # The worker keeps running while Temporal is away (its polls fail and retry): ask Temporal.
                "temporal-reachable": lambda: self._temporal_reachable,
            },
        )

    async def _probe_temporal(self, client: Client) -> None:
        while True:
            try:
                self._temporal_reachable = await client.service_client.check_health(timeout=PROBE_TIMEOUT)
            except Exception as error:  # noqa: BLE001 - any failure means "not reachable now"
                if self._temporal_reachable:
                    logger.warning("Temporal is not answering: %s", error)
                self._temporal_reachable = False
            await asyncio.sleep(PROBE_INTERVAL_S)

    async def _connect(self, provider: TracerProvider, stop: asyncio.Event) -> Client | None:
        """Connects, retrying with backoff while Temporal is away (a pod may start first); None if stopped."""
        runtime = temporal_runtime()
        delay = CONNECT_RETRY_FIRST_S
        while not stop.is_set():
            try:
                return await Client.connect(
                    self.settings.temporal_address,
                    namespace=self.settings.temporal_namespace,
                    api_key=self.settings.temporal_api_key or None,
                    tls=tls_config(self.settings),
                    runtime=runtime,
                    # The worker takes the client's interceptors that are worker interceptors too (this one is).
                    interceptors=[TracingInterceptor(tracer=provider.get_tracer("payments"))],
                )
            except RuntimeError as error:  # the SDK's "Failed client connect: …"
                logger.warning("cannot connect to Temporal, retrying in %.1f s: %s", delay, error)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                delay = min(delay * 2, CONNECT_RETRY_MAX_S)
        return None

    async def run(self) -> None:
        """Runs until SIGTERM/SIGINT (returns) or a fatal worker error (raises)."""
        settings = self.settings
        provider = start_tracing(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.health.start()
        logger.info("health server listening", extra={"url": self.health.url})
        probe: asyncio.Task[None] | None = None
        try:
            client = await self._connect(provider, stop)
            if client is None:
                logger.info("stopped before Temporal answered")
                return
            probe = asyncio.create_task(self._probe_temporal(client))
            tracer = trace.get_tracer("payments")
            activities = PaymentActivities(settings, Gateway(settings.gateway_url, settings.gateway_timeout_ms, tracer))
            self._worker = Worker(
                client,
                task_queue=settings.polled_task_queue,
                activities=[activities.charge_payment],
                interceptors=[MetricsInterceptor(self.metrics, settings.instance)],
                graceful_shutdown_timeout=timedelta(milliseconds=settings.shutdown_grace_ms),
            )
            running = asyncio.create_task(self._worker.run())
            logger.info(
                "worker started",
                extra={"taskQueue": settings.polled_task_queue, "variant": settings.variant},
            )
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if running.done():
                stopped.cancel()
                running.result()  # raises the worker's fatal error
                raise RuntimeError("the worker stopped by itself")
            self._stopping = True
            logger.info(
                "shutting down: polling stops, in-flight activities may finish",
                extra={"graceMs": settings.shutdown_grace_ms},
            )
            await self._worker.shutdown()
            await running
            logger.info("worker stopped")
        finally:
            if probe:
                probe.cancel()
            self.health.close()
            provider.shutdown()  # flushes spans still buffered
