"""``/healthz``, ``/readyz`` and ``/metrics`` on ``HTTP_HOST:HTTP_PORT`` (the TypeScript services' shape).

``/readyz`` answers 200 once every check holds (the worker polls, Temporal answers its health check) and
503 with the failing ones otherwise. ``/metrics`` is Prometheus' text format: the activities by outcome
and instance, and the process metrics prometheus-client collects. A small threaded stdlib server: its
answers never wait for the event loop that runs the activities.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        self.activities = Counter(
            "payments_activities",
            "Activities this instance ran, by type, instance and outcome (completed or failed).",
            ["activity", "instance", "outcome"],
            registry=self.registry,
        )
        self.activity_seconds = Histogram(
            "payments_activity_duration_seconds",
            "Time an activity attempt took on this instance, by type and outcome.",
            ["activity", "instance", "outcome"],
            registry=self.registry,
        )


class HealthServer:
    def __init__(
        self, host: str, port: int, metrics: Metrics, checks: Mapping[str, Callable[[], bool]]
    ) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    self._send(200, "application/json", b'{"status":"ok"}')
                elif path == "/readyz":
                    results = {name: bool(check()) for name, check in server.checks.items()}
                    ready = all(results.values())
                    body = json.dumps({"ready": ready, "checks": results}).encode()
                    self._send(200 if ready else 503, "application/json", body)
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
                else:
                    self._send(404, "application/json", b'{"error":"not found"}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # probes every few seconds: not worth a log line each

        self.checks = checks
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
