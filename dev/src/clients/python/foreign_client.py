"""A Temporal client in another language, as the services users already have write it.

The Python SDK with its OpenTelemetry ``TracingInterceptor`` and the routing key in OpenTelemetry
baggage (``sd-routing-key``): the interceptor writes the ``_tracer-data`` header, nothing of this
project is involved. It starts the sample domain's workflows on the shared task queue, so the
worker's first-task check is their only routing. Used by the foreign-client tests and benchmark:

    python foreign_client.py --address 127.0.0.1:7233 --task-queue orders --key K \\
        --case signal-with-start [--repeat 20] [--baggage-value 'K;prop=1']

Prints one JSON object per run on stdout: what was sent, what came back, start→complete time, and
the trace the run's spans belong to. With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, its spans are
exported there over OTLP/HTTP (the local stack's Jaeger), so a trace shows the client too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.service import RPCError

CASES = (
    "start",
    "signal-with-start",
    "start-then-signal",
    "update-with-start",
    "start-then-update",
    "query",
)


def order_event(workflow_id: str) -> dict[str, Any]:
    """An ``order.created`` event as the producer writes it (the workflow's argument)."""
    return {
        "id": workflow_id,
        "type": "order.created",
        "time": "2026-01-01T00:00:00Z",
        "payload": {"items": [{"sku": "widget", "qty": 2}]},
    }


async def signal_all(handle: WorkflowHandle[Any, Any], approvers: list[str]) -> list[str]:
    """Sends ``approve`` signals in order; returns those the server accepted."""
    sent = []
    for approver in approvers:
        try:
            await handle.signal("approve", {"approvedBy": approver})
            sent.append(approver)
        except RPCError as error:  # the workflow may already have completed
            print(f"signal {approver} not accepted: {error}", file=sys.stderr)
    return sent


async def query_until_done(handle: WorkflowHandle[Any, Any], rounds: int) -> list[dict[str, Any]]:
    """Queries ``approvalStatus`` back to back; each answer or error with its latency."""
    answers = []
    for _ in range(rounds):
        began = time.perf_counter()
        try:
            answer: Any = await handle.query("approvalStatus")
            answers.append({"ms": round((time.perf_counter() - began) * 1000), "answer": answer})
        except Exception as error:  # noqa: BLE001 - reported to the test, which decides
            answers.append({"ms": round((time.perf_counter() - began) * 1000), "error": str(error)})
    return answers


async def run_case(client: Client, case: str, task_queue: str) -> dict[str, Any]:
    workflow_id = f"py-{case}-{uuid.uuid4()}"
    event = order_event(workflow_id)
    out: dict[str, Any] = {"case": case, "workflowId": workflow_id, "signals": [], "receipts": []}
    began = time.perf_counter()
    handle: WorkflowHandle[Any, Any]
    if case == "start":
        handle = await client.start_workflow("processOrder", event, id=workflow_id, task_queue=task_queue)
    elif case == "signal-with-start":
        handle = await client.start_workflow(
            "awaitApproval",
            event,
            id=workflow_id,
            task_queue=task_queue,
            start_signal="approve",
            start_signal_args=[{"approvedBy": "s1"}],
        )
        out["signals"] = ["s1"] + await signal_all(handle, ["s2"])
    elif case == "start-then-signal":
        handle = await client.start_workflow("awaitApproval", event, id=workflow_id, task_queue=task_queue)
        out["signals"] = await signal_all(handle, ["s1", "s2", "s3"])
    elif case == "update-with-start":
        operation = WithStartWorkflowOperation(
            "awaitApproval",
            event,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        receipt = await client.execute_update_with_start_workflow(
            "approveOrder", {"approvedBy": "u1"}, start_workflow_operation=operation
        )
        out["receipts"].append(receipt)
        handle = client.get_workflow_handle(workflow_id)
    elif case == "start-then-update":
        handle = await client.start_workflow("awaitApproval", event, id=workflow_id, task_queue=task_queue)
        out["receipts"].append(await handle.execute_update("approveOrder", {"approvedBy": "u1"}))
    elif case == "query":
        handle = await client.start_workflow("awaitApproval", event, id=workflow_id, task_queue=task_queue)
        out["queries"] = await query_until_done(handle, 15)
        out["signals"] = await signal_all(handle, ["s1"])
    else:
        raise ValueError(f"unknown case {case}")
    out["result"] = await client.get_workflow_handle(workflow_id).result()
    out["startToCompleteMs"] = round((time.perf_counter() - began) * 1000, 1)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--key", required=True, help="the routing key, set as baggage sd-routing-key")
    parser.add_argument("--baggage-value", help="the baggage value to send instead of the key (e.g. 'K;prop=1')")
    parser.add_argument("--case", required=True, choices=CASES)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    # As in the Signadot tutorial: an SDK tracer provider, the TracingInterceptor on the client, and the
    # key in the baggage of the active context (the interceptor injects tracecontext + baggage).
    provider = TracerProvider(resource=Resource.create({"service.name": "python-client"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("foreign-client")
    client = await Client.connect(args.address, namespace=args.namespace, interceptors=[TracingInterceptor()])
    token = context.attach(baggage.set_baggage("sd-routing-key", args.baggage_value or args.key))
    try:
        for _ in range(args.repeat):
            with tracer.start_as_current_span(f"case:{args.case}") as span:
                out = await run_case(client, args.case, args.task_queue)
                out["traceId"] = format(span.get_span_context().trace_id, "032x")
                print(json.dumps(out), flush=True)
    finally:
        context.detach(token)
        provider.shutdown()  # exports what is buffered


def run() -> None:
    """Runs ``main`` and leaves without interpreter finalization.

    The SDK's Rust core keeps threads that may touch the GIL while CPython finalizes, which aborts the
    process now and then *after* its work is done ("PyGILState_Release: thread state ... must be
    current", SIGABRT or SIGSEGV; temporalio/sdk-python#300, open). ``os._exit`` skips finalization, so
    the exit code says only whether the client did its job.
    """
    code = 0
    try:
        asyncio.run(main())
    except SystemExit as error:  # argparse's own exits (usage errors, --help)
        code = error.code if isinstance(error.code, int) else 2
    except BaseException:  # noqa: BLE001 - report any failure, then exit without finalizing
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
