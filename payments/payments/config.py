"""The service's settings: read from the environment once, validated at start.

Every setting has one environment variable and a default that works against the local stack (the same
names and formats as the TypeScript services' settings, shared/src/config/). An invalid one stops the
process with a message naming each bad variable and exit code 78 (sysexits' EX_CONFIG), so an
orchestrator can tell "fix the settings" from a crash.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

EXIT_CONFIG_ERROR = 78

VARIANTS = ("standard", "v2")
LOG_LEVELS = ("fatal", "error", "warn", "info", "debug", "trace", "silent")
TRACES_EXPORTERS = ("none", "otlp", "console")

# The formats of shared/src/config/formats.ts and shared/src/routes/types.ts.
_HOST_PORT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(\d{1,5})$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
# Signadot sandbox names: a letter, then letters, digits and dashes, at most 30 bytes (`baseline` included).
SANDBOX_NAME = re.compile(r"^(?=.{1,30}$)[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")

BASELINE_LABEL = "baseline"
SANDBOX_LABEL_PREFIX = "sandbox:"


def instance_label(sandbox_name: str) -> str:
    """How this instance is written in results, logs and metrics (shared's `instanceLabel`).

    ``baseline`` without a sandbox, else the sandbox's name, except that a sandbox named ``baseline``
    is written ``sandbox:baseline`` so that it never reads as the baseline.
    """
    if not sandbox_name:
        return BASELINE_LABEL
    return SANDBOX_LABEL_PREFIX + sandbox_name if sandbox_name == BASELINE_LABEL else sandbox_name


def polled_task_queue(queue: str, sandbox_name: str) -> str:
    """The queue this instance polls: the shared one on the baseline, ``<queue>@<sandbox>`` in a fork.

    The only routing the service does: whoever schedules a charge picks the queue.
    """
    return f"{queue}@{sandbox_name}" if sandbox_name else queue


@dataclass(frozen=True)
class Settings:
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "payments"
    variant: str = "standard"
    sandbox_name: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8083
    log_level: str = "info"
    # Secured Temporal (Temporal Cloud, a TLS-terminated cluster).
    temporal_tls: bool = False
    temporal_tls_ca_file: str = ""
    temporal_tls_cert_file: str = ""
    temporal_tls_key_file: str = ""
    temporal_tls_server_name: str = ""
    temporal_api_key: str = ""
    # OpenTelemetry.
    traces_exporter: str = "none"
    otlp_endpoint: str = ""
    service_name: str = "payments"
    # Where a charge is sent (empty: nowhere) and how long in-flight charges may finish after SIGTERM.
    gateway_url: str = ""
    gateway_timeout_ms: int = 10_000
    shutdown_grace_ms: int = 30_000

    @property
    def instance(self) -> str:
        return instance_label(self.sandbox_name)

    @property
    def polled_task_queue(self) -> str:
        return polled_task_queue(self.task_queue, self.sandbox_name)

    def redacted(self) -> dict[str, object]:
        """The settings for the start-up log line, with the API key hidden."""
        out: dict[str, object] = dict(self.__dict__)
        if out["temporal_api_key"]:
            out["temporal_api_key"] = "[redacted]"
        return out


class ConfigError(Exception):
    """Invalid settings; the message names every bad variable."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {variable}: {message}" for variable, message in problems)
        super().__init__(f"Invalid configuration:\n{lines}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Reads and validates every setting; raises ConfigError naming each invalid one."""
    env = os.environ if env is None else env
    problems: list[tuple[str, str]] = []
    defaults = Settings()

    def text(name: str, default: str) -> str:
        return env.get(name, default).strip()

    def check(name: str, value: str, ok: bool, message: str) -> str:
        if not ok:
            problems.append((name, f"{message} (got {value!r})"))
        return value

    def one_of(name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = text(name, default)
        return check(name, value, value in allowed, f"must be one of {', '.join(allowed)}")

    def file_setting(name: str) -> str:
        value = text(name, "")
        if value and not os.path.isfile(value):
            problems.append((name, f"no readable file at {value}"))
        return value

    def boolean(name: str, default: bool) -> bool:
        value = text(name, "true" if default else "false").lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        problems.append((name, f"must be true or false (got {value!r})"))
        return default

    def integer(name: str, default: int, low: int, high: int) -> int:
        value = text(name, str(default))
        if re.fullmatch(r"\d+", value) and low <= int(value) <= high:
            return int(value)
        problems.append((name, f"must be an integer from {low} to {high} (got {value!r})"))
        return default

    def http_url(name: str) -> str:
        value = text(name, "")
        parsed = urlparse(value)
        ok = value == "" or (parsed.scheme in ("http", "https") and bool(parsed.netloc))
        return check(name, value, ok, "must be empty or an http(s) URL")

    address = text("TEMPORAL_ADDRESS", defaults.temporal_address)
    port = _HOST_PORT.match(address)
    check("TEMPORAL_ADDRESS", address, bool(port) and 1 <= int(port.group(1)) <= 65535, "must be host:port")
    namespace = text("TEMPORAL_NAMESPACE", defaults.temporal_namespace)
    check("TEMPORAL_NAMESPACE", namespace, bool(_DNS_SUBDOMAIN.match(namespace)), "must be a DNS-1123 subdomain")
    queue = text("PAYMENTS_TASK_QUEUE", defaults.task_queue)
    check(
        "PAYMENTS_TASK_QUEUE",
        queue,
        bool(_NAME.match(queue)),
        'must be 1-249 characters of letters, digits, ".", "_" and "-" (the fork adds @<sandbox> itself)',
    )
    sandbox = text("SIGNADOT_SANDBOX_NAME", "")
    check(
        "SIGNADOT_SANDBOX_NAME",
        sandbox,
        sandbox == "" or bool(SANDBOX_NAME.match(sandbox)),
        'must be empty (baseline) or a Signadot sandbox name (a letter, then letters, digits, "-"; at most 30)',
    )
    service_name = text("OTEL_SERVICE_NAME", defaults.service_name)
    check("OTEL_SERVICE_NAME", service_name, bool(_NAME.match(service_name)), "must be a plain name")
    http_host = text("HTTP_HOST", defaults.http_host)
    check("HTTP_HOST", http_host, http_host != "", "must not be empty")

    api_key_file = file_setting("TEMPORAL_API_KEY_FILE")
    api_key = text("TEMPORAL_API_KEY", "")
    if api_key_file and os.path.isfile(api_key_file):
        with open(api_key_file, encoding="utf-8") as key:  # the file (a mounted Secret) wins
            api_key = key.read().strip()
        if not api_key:
            problems.append(("TEMPORAL_API_KEY_FILE", f"{api_key_file} is empty"))
    ca_file = file_setting("TEMPORAL_TLS_CA_FILE")
    cert_file = file_setting("TEMPORAL_TLS_CERT_FILE")
    key_file = file_setting("TEMPORAL_TLS_KEY_FILE")
    if bool(cert_file) != bool(key_file):
        problems.append(
            ("TEMPORAL_TLS_CERT_FILE" if key_file else "TEMPORAL_TLS_KEY_FILE", "set both the certificate and the key, or neither")
        )
    tls = boolean("TEMPORAL_TLS", False)
    server_name = text("TEMPORAL_TLS_SERVER_NAME", "")

    exporter = one_of("OTEL_TRACES_EXPORTER", defaults.traces_exporter, TRACES_EXPORTERS)
    settings = Settings(
        temporal_address=address,
        temporal_namespace=namespace,
        task_queue=queue,
        variant=one_of("PAYMENTS_VARIANT", defaults.variant, VARIANTS),
        sandbox_name=sandbox,
        http_host=http_host,
        http_port=integer("HTTP_PORT", defaults.http_port, 1, 65535),
        log_level=one_of("LOG_LEVEL", defaults.log_level, LOG_LEVELS),
        # Any TLS file implies TLS, as for the TypeScript services.
        temporal_tls=tls or bool(ca_file or cert_file or key_file),
        temporal_tls_ca_file=ca_file,
        temporal_tls_cert_file=cert_file,
        temporal_tls_key_file=key_file,
        temporal_tls_server_name=server_name,
        temporal_api_key=api_key,
        traces_exporter=exporter,
        otlp_endpoint=http_url("OTEL_EXPORTER_OTLP_ENDPOINT"),
        service_name=service_name,
        gateway_url=http_url("PAYMENTS_GATEWAY_URL"),
        gateway_timeout_ms=integer("PAYMENTS_GATEWAY_TIMEOUT_MS", defaults.gateway_timeout_ms, 1, 600_000),
        shutdown_grace_ms=integer("PAYMENTS_SHUTDOWN_GRACE_MS", defaults.shutdown_grace_ms, 1, 3_600_000),
    )
    if problems:
        raise ConfigError(problems)
    return settings
