"""OpenTelemetry: a real SDK TracerProvider, exporting only when ``OTEL_TRACES_EXPORTER`` says so.

With ``none`` spans are still made (and their ids propagated to the gateway), just not exported; the
routing key travels in the baggage either way. The provider is the global one, as the Signadot Python
tutorial's workers have it, so the SDK's TracingInterceptor and the gateway call use it.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

from .config import Settings


def start_tracing(settings: Settings) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "service.instance.id": settings.instance}
        )
    )
    if settings.traces_exporter == "otlp":
        # Without an endpoint the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT itself, else localhost.
        endpoint = settings.otlp_endpoint.rstrip("/")
        exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces") if endpoint else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    elif settings.traces_exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
