"""The payments service against the local stack's Temporal, each instance a real process.

A tiny Python workflow (below) charges through ``chargePayment`` on the payments queue, as the sample's
``processOrder`` does. It runs on a worker of this test whose client has the SDK's TracingInterceptor,
the key in OpenTelemetry baggage: the SDK alone carries it to the activity in ``_tracer-data``. A second
worker without tracing writes ``_tracer-data`` the way the TypeScript side does when tracing is off:
``{"baggage": "sd-routing-key=K"}`` and nothing else. Every activity has one attempt, so a retried or
misplaced step fails the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk.trace import TracerProvider
from payments_harness import (
    REPO_ROOT,
    Gateway,
    LoopThread,
    PaymentsProcess,
    http_get,
    poll_until,
    stack_temporal_address,
    start_gateway,
    start_payments,
    unique,
)
from temporalio import workflow
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import (
    Interceptor,
    StartActivityInput,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

KEY_BAGGAGE = "sd-routing-key"


@workflow.defn(name="ChargeThroughPayments")
class ChargeThroughPayments:
    """Charges once on the given payments queue; one attempt, so a retry shows as a failure."""

    @workflow.run
    async def run(self, args: dict[str, Any]) -> Any:
        return await workflow.execute_activity(
            "chargePayment",
            args["payment"],
            task_queue=args["paymentsQueue"],
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=args.get("maximumAttempts", 1)),
        )


class _TracerDataOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        carrier = workflow.memo_value("tracerData", None)
        if carrier is not None:
            input.headers = {**input.headers, "_tracer-data": workflow.payload_converter().to_payload(carrier)}
        return super().start_activity(input)


class _TracerDataInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_TracerDataOutbound(outbound))


class TracerDataAsTypeScriptWritesIt(Interceptor):
    """Puts the memo ``tracerData`` (a JSON object) on each activity as its ``_tracer-data`` header."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _TracerDataInbound


@dataclass
class Stack:
    loop: LoopThread
    address: str
    tracer_provider: TracerProvider
    traced: Client
    plain: Client
    traced_queue: str
    plain_queue: str
    gateway: Gateway
    payments_queue: str
    baseline: PaymentsProcess
    log_dir: Any

    def charge(
        self,
        payment: dict[str, Any],
        *,
        queue: str | None = None,
        key: str | None = None,
        baggage_only: bool = False,
        maximum_attempts: int = 1,
        workflow_id: str | None = None,
        wait: bool = True,
    ) -> Any:
        """Runs the test workflow: traced (key in the client's baggage) or writing ``_tracer-data`` by hand.

        Returns ``(result, client trace id)``, or the workflow handle when ``wait`` is False.
        """
        args = {"payment": payment, "paymentsQueue": queue or self.payments_queue, "maximumAttempts": maximum_attempts}
        workflow_id = workflow_id or unique("charge")

        async def run() -> Any:
            if baggage_only:
                handle = await self.plain.start_workflow(
                    ChargeThroughPayments.run,
                    args,
                    id=workflow_id,
                    task_queue=self.plain_queue,
                    execution_timeout=timedelta(seconds=90),
                    memo={"tracerData": {"baggage": f"{KEY_BAGGAGE}={key}"}} if key else {},
                )
                return handle if not wait else (await handle.result(), None)
            token = context.attach(baggage.set_baggage(KEY_BAGGAGE, key) if key else context.get_current())
            try:
                tracer = self.tracer_provider.get_tracer("payments-tests")
                with tracer.start_as_current_span("test charge") as span:
                    handle = await self.traced.start_workflow(
                        ChargeThroughPayments.run,
                        args,
                        id=workflow_id,
                        task_queue=self.traced_queue,
                        execution_timeout=timedelta(seconds=90),
                    )
                    if not wait:
                        return handle
                    return await handle.result(), format(span.get_span_context().trace_id, "032x")
            finally:
                context.detach(token)

        return self.loop.run(run())


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    address = stack_temporal_address()
    loop = LoopThread()
    run_id = uuid.uuid4().hex[:8]
    log_dir = REPO_ROOT / ".stack" / "logs" / f"payments-tests-{run_id}"
    provider = TracerProvider()  # real spans (ids to compare), exported nowhere
    gateway = start_gateway()
    workers: list[Worker] = []
    baseline: PaymentsProcess | None = None
    try:

        async def connect() -> tuple[Client, Client]:
            traced = await Client.connect(address, interceptors=[TracingInterceptor(tracer=provider.get_tracer("t"))])
            plain = await Client.connect(address)
            return traced, plain

        traced, plain = loop.run(connect())
        traced_queue, plain_queue = f"charges-traced-{run_id}", f"charges-plain-{run_id}"
        for client, queue, interceptors in (
            (traced, traced_queue, []),  # the client's TracingInterceptor is the worker's too
            (plain, plain_queue, [TracerDataAsTypeScriptWritesIt()]),
        ):
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[ChargeThroughPayments],
                interceptors=interceptors,
                # The workflow lives in this test module: no sandbox re-import of pytest and friends.
                workflow_runner=UnsandboxedWorkflowRunner(),
            )
            loop.loop.call_soon_threadsafe(loop.loop.create_task, worker.run())
            workers.append(worker)
        payments_queue = f"payments-{run_id}"
        baseline = start_payments(
            log_dir, address, payments_queue, env={"PAYMENTS_GATEWAY_URL": gateway.url, "PAYMENTS_VARIANT": "standard"}
        )
        yield Stack(
            loop, address, provider, traced, plain, traced_queue, plain_queue, gateway, payments_queue, baseline, log_dir
        )
    finally:
        if baseline:
            baseline.stop()
        for worker in workers:
            loop.run(worker.shutdown())
        gateway.close()
        loop.close()


def test_the_baseline_charges_on_the_shared_queue_and_sees_the_key_in_its_baggage(stack: Stack) -> None:
    event_id = unique("evt")
    result, trace_id = stack.charge({"eventId": event_id, "amountCents": 1250, "currency": "EUR"}, key="kbaseline1")
    assert result == {
        "chargeId": f"ch_{event_id}",
        "chargedCents": 1250,
        "feeCents": 0,
        "report": {
            "name": "chargePayment",
            "instance": "baseline",
            "taskQueue": stack.payments_queue,
            "routingKey": "kbaseline1",
        },
    }
    # Its own outgoing call carries the key on, and the trace: the gateway's request is in the client's trace.
    request = stack.gateway.for_charge(f"ch_{event_id}")
    assert request is not None, "the gateway received the charge"
    assert f"{KEY_BAGGAGE}=kbaseline1" in request.headers.get("baggage", "").replace(" ", "").split(",")
    assert request.headers["traceparent"].split("-")[1] == trace_id
    assert request.headers["idempotency-key"] == f"ch_{event_id}"
    assert request.body["instance"] == "baseline"
    # The activity's log line names its key, workflow and type.
    line = poll_until(
        lambda: next((l for l in stack.baseline.log_lines() if l.get("chargeId") == f"ch_{event_id}"), None),
        "the charge's log line",
    )
    assert {k: line.get(k) for k in ("service", "instance", "routingKey", "activityType")} == {
        "service": "payments",
        "instance": "baseline",
        "routingKey": "kbaseline1",
        "activityType": "chargePayment",
    }
    assert line["workflowId"]
    assert stack.baseline.metric("payments_activities_total", instance="baseline", outcome="completed") >= 1


def test_without_a_key_the_report_says_none_and_the_gateway_gets_no_key(stack: Stack) -> None:
    event_id = unique("evt")
    result, _ = stack.charge({"eventId": event_id, "amountCents": 99, "currency": "USD"})
    assert result["report"]["routingKey"] is None
    assert result["report"]["instance"] == "baseline"
    request = stack.gateway.for_charge(f"ch_{event_id}")
    assert request is not None
    assert KEY_BAGGAGE not in request.headers.get("baggage", "")


def test_a_tracer_data_header_with_only_baggage_is_enough(stack: Stack) -> None:
    """What the TypeScript side writes with tracing off: ``{"baggage": "sd-routing-key=K"}``, no traceparent."""
    event_id = unique("evt")
    result, _ = stack.charge(
        {"eventId": event_id, "amountCents": 500, "currency": "GBP"}, key="konlybaggage", baggage_only=True
    )
    assert result["report"] == {
        "name": "chargePayment",
        "instance": "baseline",
        "taskQueue": stack.payments_queue,
        "routingKey": "konlybaggage",
    }
    request = stack.gateway.for_charge(f"ch_{event_id}")
    assert request is not None
    assert f"{KEY_BAGGAGE}=konlybaggage" in request.headers.get("baggage", "")


def test_a_bad_input_fails_at_once_as_invalid_payment_not_retried(stack: Stack) -> None:
    failed_before = stack.baseline.metric("payments_activities_total", instance="baseline", outcome="failed")
    with pytest.raises(WorkflowFailureError) as raised:
        # The activity may be retried without limit: only its non-retryable error ends the workflow.
        stack.charge({"eventId": "", "amountCents": "12", "currency": "eur"}, maximum_attempts=0)
    cause = raised.value.cause
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == "InvalidPayment"
    assert cause.cause.non_retryable
    assert "amountCents" in cause.cause.message and "currency" in cause.cause.message
    assert cause.retry_state is not None and cause.retry_state.name == "NON_RETRYABLE_FAILURE"
    assert stack.baseline.metric("payments_activities_total", instance="baseline", outcome="failed") == failed_before + 1


@pytest.mark.parametrize(("sandbox", "instance"), [("pay-fork", "pay-fork"), ("baseline", "sandbox:baseline")])
def test_a_fork_polls_queue_at_sandbox_and_runs_its_variant(stack: Stack, sandbox: str, instance: str) -> None:
    fork = start_payments(
        stack.log_dir,
        stack.address,
        stack.payments_queue,
        sandbox=sandbox,
        env={"PAYMENTS_GATEWAY_URL": stack.gateway.url, "PAYMENTS_VARIANT": "v2"},
    )
    try:
        fork_queue = f"{stack.payments_queue}@{sandbox}"
        baseline_done = stack.baseline.metric("payments_activities_total", outcome="completed")
        for traced in (True, False):
            event_id = unique("evt")
            result, _ = stack.charge(
                {"eventId": event_id, "amountCents": 1250, "currency": "EUR"},
                queue=fork_queue,
                key="kfork",
                baggage_only=not traced,
            )
            # v2's fee: 1 % of 1250 is 12.5, rounded half up.
            assert result == {
                "chargeId": f"ch_{event_id}",
                "chargedCents": 1263,
                "feeCents": 13,
                "report": {"name": "chargePayment", "instance": instance, "taskQueue": fork_queue, "routingKey": "kfork"},
            }
            request = stack.gateway.for_charge(f"ch_{event_id}")
            assert request is not None and f"{KEY_BAGGAGE}=kfork" in request.headers.get("baggage", "")
        assert fork.metric("payments_activities_total", instance=instance, outcome="completed") == 2
        assert stack.baseline.metric("payments_activities_total", outcome="completed") == baseline_done
    finally:
        assert fork.stop() == 0


def test_sigterm_stops_polling_lets_the_charge_in_flight_finish_and_exits_0(stack: Stack) -> None:
    queue = unique("payments-term")
    service = start_payments(
        stack.log_dir,
        stack.address,
        queue,
        env={"PAYMENTS_GATEWAY_URL": stack.gateway.url, "PAYMENTS_SHUTDOWN_GRACE_MS": "60000",
             "PAYMENTS_GATEWAY_TIMEOUT_MS": "60000"},
    )
    later: PaymentsProcess | None = None
    stack.gateway.hold()
    try:
        in_flight_id = unique("evt")
        in_flight = stack.charge({"eventId": in_flight_id, "amountCents": 100, "currency": "EUR"}, queue=queue, wait=False)
        poll_until(lambda: stack.gateway.for_charge(f"ch_{in_flight_id}"), "the charge to reach the gateway")
        service.terminate()
        poll_until(lambda: "shutting down" in service.log(), "the service to log its shutdown")
        # Still running: the charge is in flight; no longer ready.
        assert service.process.poll() is None
        assert http_get(f"{service.http_url}/readyz")[0] == 503
        stack.gateway.release()
        assert service.wait_exit() == 0
        result = stack.loop.run(in_flight.result())
        assert result["chargeId"] == f"ch_{in_flight_id}" and result["report"]["instance"] == "baseline"
        # It stopped polling: a charge scheduled now waits on the queue, not started by anyone...
        waiting_id = unique("evt")
        waiting = stack.charge({"eventId": waiting_id, "amountCents": 100, "currency": "EUR"}, queue=queue, wait=False)

        async def pending_state() -> Any:
            pending = (await waiting.describe()).raw_description.pending_activities
            return pending[0].state if pending else None

        poll_until(lambda: stack.loop.run(pending_state()) is not None, "the charge to be scheduled")
        assert stack.loop.run(pending_state()) == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        assert stack.gateway.for_charge(f"ch_{waiting_id}") is None
        # ...and nothing is lost: the next instance takes it.
        later = start_payments(stack.log_dir, stack.address, queue, env={"PAYMENTS_GATEWAY_URL": stack.gateway.url})
        assert stack.loop.run(waiting.result())["chargeId"] == f"ch_{waiting_id}"
    finally:
        stack.gateway.release()
        if service.process.poll() is None:
            service.stop()
        if later:
            later.stop()


def test_with_otlp_its_spans_reach_the_collector_in_the_callers_trace(stack: Stack) -> None:
    collector = start_gateway()  # records the OTLP/HTTP export requests
    queue = unique("payments-otlp")
    service = start_payments(
        stack.log_dir,
        stack.address,
        queue,
        env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server.server_address[1]}"},
    )
    try:
        _, trace_id = stack.charge({"eventId": unique("evt"), "amountCents": 1, "currency": "EUR"}, queue=queue, key="kotlp")
        assert service.stop() == 0  # the provider's shutdown flushes what the batch still holds
        exports = [r for r in collector.requests if r.path == "/v1/traces"]
        assert exports, "the service exported its spans"
        # The activity's span is in the caller's trace (the protobuf carries the 16 trace-id bytes).
        assert any(bytes.fromhex(trace_id) in r.raw for r in exports)
        assert any(b"RunActivity:chargePayment" in r.raw for r in exports)
    finally:
        if service.process.poll() is None:
            service.stop()
        collector.close()
