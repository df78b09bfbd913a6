"""Settings: defaults, every variable read, every invalid value named by its variable, exit 78."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from payments.config import EXIT_CONFIG_ERROR, ConfigError, Settings, instance_label, load_settings

PAYMENTS_DIR = Path(__file__).resolve().parents[2]


def problems(env: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    return dict(raised.value.problems)


def test_defaults_work_against_the_local_stack() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert (settings.temporal_address, settings.temporal_namespace) == ("127.0.0.1:7233", "default")
    assert (settings.task_queue, settings.polled_task_queue, settings.instance) == ("payments", "payments", "baseline")
    assert (settings.variant, settings.http_host, settings.http_port) == ("standard", "127.0.0.1", 8083)
    assert (settings.traces_exporter, settings.service_name, settings.gateway_url) == ("none", "payments", "")
    assert settings.temporal_tls is False


def test_every_variable_is_read(tmp_path: Path) -> None:
    ca, cert, key, api_key = (tmp_path / name for name in ("ca.pem", "cert.pem", "key.pem", "api-key"))
    for file in (ca, cert, key):
        file.write_text("pem")
    api_key.write_text("from-file\n")
    settings = load_settings(
        {
            "TEMPORAL_ADDRESS": "temporal.temporal.svc:7233",
            "TEMPORAL_NAMESPACE": "orders.prod",
            "PAYMENTS_TASK_QUEUE": "payments-eu",
            "PAYMENTS_VARIANT": "v2",
            "SIGNADOT_SANDBOX_NAME": "pay-pr-42",
            "HTTP_HOST": "0.0.0.0",
            "HTTP_PORT": "9000",
            "LOG_LEVEL": "debug",
            "TEMPORAL_TLS_CA_FILE": str(ca),
            "TEMPORAL_TLS_CERT_FILE": str(cert),
            "TEMPORAL_TLS_KEY_FILE": str(key),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.example",
            "TEMPORAL_API_KEY": "from-env",
            "TEMPORAL_API_KEY_FILE": str(api_key),
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
            "OTEL_SERVICE_NAME": "payments-eu",
            "PAYMENTS_GATEWAY_URL": "https://gateway.example/charges",
            "PAYMENTS_GATEWAY_TIMEOUT_MS": "2500",
            "PAYMENTS_SHUTDOWN_GRACE_MS": "45000",
        }
    )
    assert settings.polled_task_queue == "payments-eu@pay-pr-42"
    assert settings.instance == "pay-pr-42"
    assert settings.temporal_tls is True  # implied by the files
    assert settings.temporal_api_key == "from-file"  # the file wins, trimmed
    assert settings.redacted()["temporal_api_key"] == "[redacted]"
    assert (settings.http_port, settings.gateway_timeout_ms, settings.shutdown_grace_ms) == (9000, 2500, 45000)
    assert (settings.variant, settings.log_level, settings.traces_exporter) == ("v2", "debug", "otlp")


def test_each_invalid_setting_is_named_by_its_variable(tmp_path: Path) -> None:
    found = problems(
        {
            "TEMPORAL_ADDRESS": "temporal",
            "TEMPORAL_NAMESPACE": "Not_A_Namespace",
            "PAYMENTS_TASK_QUEUE": "payments@fork",
            "PAYMENTS_VARIANT": "v3",
            "SIGNADOT_SANDBOX_NAME": "9-starts-with-a-digit",
            "HTTP_PORT": "70000",
            "LOG_LEVEL": "verbose",
            "TEMPORAL_TLS": "yes",
            "TEMPORAL_TLS_CA_FILE": str(tmp_path / "missing.pem"),
            "OTEL_TRACES_EXPORTER": "zipkin",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "jaeger:4318",
            "PAYMENTS_GATEWAY_URL": "ftp://gateway",
            "PAYMENTS_SHUTDOWN_GRACE_MS": "-1",
        }
    )
    assert sorted(found) == sorted(
        [
            "TEMPORAL_ADDRESS",
            "TEMPORAL_NAMESPACE",
            "PAYMENTS_TASK_QUEUE",
            "PAYMENTS_VARIANT",
            "SIGNADOT_SANDBOX_NAME",
            "HTTP_PORT",
            "LOG_LEVEL",
            "TEMPORAL_TLS",
            "TEMPORAL_TLS_CA_FILE",
            "OTEL_TRACES_EXPORTER",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "PAYMENTS_GATEWAY_URL",
            "PAYMENTS_SHUTDOWN_GRACE_MS",
        ]
    )
    assert "must be one of standard, v2" in found["PAYMENTS_VARIANT"]


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("pem")
    assert "both" in problems({"TEMPORAL_TLS_CERT_FILE": str(cert)})["TEMPORAL_TLS_KEY_FILE"]


def test_an_empty_api_key_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "api-key"
    empty.write_text("\n")
    assert "empty" in problems({"TEMPORAL_API_KEY_FILE": str(empty)})["TEMPORAL_API_KEY_FILE"]


@pytest.mark.parametrize(
    ("sandbox", "label", "queue"),
    [
        ("", "baseline", "payments"),
        ("pay-fork", "pay-fork", "payments@pay-fork"),
        # A sandbox may legally be called baseline: its label must not read as the baseline.
        ("baseline", "sandbox:baseline", "payments@baseline"),
    ],
)
def test_the_instance_label_and_polled_queue(sandbox: str, label: str, queue: str) -> None:
    settings = load_settings({"SIGNADOT_SANDBOX_NAME": sandbox})
    assert (settings.instance, settings.polled_task_queue) == (label, queue)
    assert instance_label(sandbox) == label


def test_sandbox_names_follow_signadot() -> None:
    assert load_settings({"SIGNADOT_SANDBOX_NAME": "a" * 30}).sandbox_name == "a" * 30
    for bad in ("a" * 31, "ends-with-", "has_underscore", "has.dot"):
        assert "SIGNADOT_SANDBOX_NAME" in problems({"SIGNADOT_SANDBOX_NAME": bad})


def test_the_process_stops_with_78_and_names_the_variable() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "payments"],
        cwd=PAYMENTS_DIR,
        env={"PAYMENTS_VARIANT": "v3", "HTTP_PORT": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == EXIT_CONFIG_ERROR == 78
    assert "PAYMENTS_VARIANT: must be one of standard, v2 (got 'v3')" in run.stderr
    assert "HTTP_PORT" in run.stderr
