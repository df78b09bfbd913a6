"""What the integration tests run against the local stack: the payments service as a real process, an
HTTP gateway that records what reaches it, and an event loop in a thread for the tests' Temporal workers
and clients (the tests themselves are plain synchronous pytest functions).

No sleeps as synchronisation: every wait polls its condition until a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

PAYMENTS_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = PAYMENTS_DIR.parent
T = TypeVar("T")


def stack_temporal_address() -> str:
    """The stack's Temporal address: from the environment (``stack exec``), else from .stack/env.

    Fails the test, never skips it, when the stack is not up.
    """
    if os.environ.get("TEMPORAL_ADDRESS"):
        return os.environ["TEMPORAL_ADDRESS"]
    for folder in [Path.cwd(), *Path.cwd().parents]:
        env_file = folder / ".stack" / "env"
        if env_file.is_file():
            for line in env_file.read_text().splitlines():
                name, _, value = line.partition("=")
                if name == "TEMPORAL_ADDRESS" and value:
                    return value
    pytest.fail("TEMPORAL_ADDRESS is not set: start the local stack (npm run stack -- up) or run via npm test")


def poll_until(condition: Callable[[], T], description: str, timeout_s: float = 30.0, interval_s: float = 0.05) -> T:
    """Calls ``condition`` until it returns something truthy (returned), failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as error:  # noqa: BLE001 - reported if the deadline passes
            last_error = error
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {description}" + (f" (last error: {last_error})" if last_error else ""))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    try:
        with urlopen(url, timeout=2) as response:
            return int(response.status), response.read().decode()
    except HTTPError as error:
        return int(error.code), error.read().decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class PaymentsProcess:
    """One instance of the service, like one pod: ``python -m payments`` from the checkout."""

    name: str
    process: subprocess.Popen[bytes]
    http_url: str
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log().splitlines() if line.startswith("{")]

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples having ``labels`` (0 when none has them yet)."""
        _, text = http_get(f"{self.http_url}/metrics")
        assert f"# TYPE {name.removesuffix('_total')} " in text or f"# TYPE {name} " in text, f"no metric {name}"
        total = 0.0
        for line in text.splitlines():
            if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout_s: float = 60.0) -> int:
        poll_until(lambda: self.process.poll() is not None, f"{self.name} to exit", timeout_s)
        return int(self.process.returncode)

    def stop(self) -> int:
        """SIGTERM by PID and wait; SIGKILL if it does not exit in time (then the test fails)."""
        self.terminate()
        try:
            return self.wait_exit()
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def start_payments(
    log_dir: Path,
    temporal_address: str,
    task_queue: str,
    sandbox: str = "",
    env: dict[str, str] | None = None,
) -> PaymentsProcess:
    """Starts the service and waits until its /readyz says ready (failing early if it exits)."""
    port = free_port()
    name = f"payments-{sandbox or 'baseline'}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{name}-{port}.log"
    # The test process's OpenTelemetry settings are not the service's.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PAYMENTS_", "SIGNADOT_"))}
    full_env = {
        **inherited,
        "TEMPORAL_ADDRESS": temporal_address,
        "PAYMENTS_TASK_QUEUE": task_queue,
        "SIGNADOT_SANDBOX_NAME": sandbox,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        **(env or {}),
    }
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "payments"], cwd=PAYMENTS_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    started = PaymentsProcess(name, process, f"http://127.0.0.1:{port}", log_file)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{started.log()}")
        return http_get(f"{started.http_url}/readyz")[0] == 200

    try:
        poll_until(ready, f"{name} to be ready (log: {log_file})", timeout_s=60)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
    return started


@dataclass
class GatewayRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]  # the JSON body ({} for another content type)
    raw: bytes


@dataclass
class Gateway:
    """An HTTP server standing in for the payment gateway (or an OTLP collector): records each POST, answers 200.

    ``hold()`` makes it keep requests open until ``release()``, so a test can catch a charge in flight.
    """

    server: ThreadingHTTPServer
    requests: list[GatewayRequest] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/charges"

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def for_charge(self, charge_id: str) -> GatewayRequest | None:
        return next((r for r in self.requests if r.body.get("chargeId") == charge_id), None)

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


def start_gateway() -> Gateway:
    gateway: Gateway

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            is_json = self.headers.get("content-type", "").startswith("application/json")
            gateway.requests.append(
                GatewayRequest(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw) if is_json else {}, raw
                )
            )
            gateway.gate.wait(timeout=120)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    gateway = Gateway(server)
    gateway.release()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return gateway


class LoopThread:
    """An asyncio loop in a thread: the tests' Temporal workers keep running between test functions."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 90.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
