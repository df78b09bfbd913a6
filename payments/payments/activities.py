"""The `chargePayment` activity: the payments workload of the sample application.

Input ``{"eventId": str, "amountCents": int, "currency": str}``; result ``{"chargeId", "chargedCents",
"feeCents", "report": {"name", "instance", "taskQueue", "routingKey"}}``. The report says who ran it and
which routing key it saw in its OpenTelemetry baggage (``sd-routing-key``), which the SDK's
TracingInterceptor puts in place from the ``_tracer-data`` header: the service has no routing code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from opentelemetry import baggage
from temporalio import activity
from temporalio.exceptions import ApplicationError

from .config import Settings
from .gateway import Gateway

ACTIVITY_NAME = "chargePayment"
ROUTING_KEY_BAGGAGE = "sd-routing-key"
INVALID_PAYMENT = "InvalidPayment"

# JavaScript's Number.MAX_SAFE_INTEGER: the workflow side is TypeScript, whose numbers are doubles.
MAX_AMOUNT_CENTS = 2**53 - 1
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Inside an activity the log formatter adds its routing key, workflow id and type (logs.py).
logger = logging.getLogger("payments.activities")


@dataclass(frozen=True)
class Payment:
    event_id: str
    amount_cents: int
    currency: str


def parse_payment(value: Any) -> Payment:
    """The charge asked for, or a non-retryable ``InvalidPayment`` error naming what is wrong.

    Unknown fields are ignored, so the caller may add some without breaking older forks.
    """
    problems: list[str] = []
    if not isinstance(value, dict):
        raise ApplicationError(
            f"chargePayment expects one object {{eventId, amountCents, currency}}, got {type(value).__name__}",
            type=INVALID_PAYMENT,
            non_retryable=True,
        )
    event_id = value.get("eventId")
    if not isinstance(event_id, str) or not event_id.strip():
        problems.append(f"eventId must be a non-empty string (got {event_id!r})")
    amount = value.get("amountCents")
    # bool is an int in Python; JSON true is no amount. A whole float (e.g. 1250.0) is not accepted either:
    # JSON from TypeScript writes integers without a fraction.
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT_CENTS:
        problems.append(f"amountCents must be an integer from 0 to {MAX_AMOUNT_CENTS} (got {amount!r})")
    currency = value.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        problems.append(f"currency must be an ISO 4217 code of three capital letters (got {currency!r})")
    if problems:
        raise ApplicationError(
            "invalid payment: " + "; ".join(problems), value, type=INVALID_PAYMENT, non_retryable=True
        )
    return Payment(event_id=event_id, amount_cents=amount, currency=currency)  # type: ignore[arg-type]


def fee_cents(variant: str, amount_cents: int) -> int:
    """The fee a variant charges: none on ``standard``; 1 % on ``v2`` (the fork's pull request).

    1 % rounds half up (as JavaScript's Math.round would), and a positive amount pays at least 1 cent.
    """
    if variant == "standard" or amount_cents <= 0:
        return 0
    return max(1, (amount_cents + 50) // 100)


def charge(variant: str, payment: Payment) -> dict[str, Any]:
    """The charge of a payment, without the report: deterministic in the variant and the input."""
    fee = fee_cents(variant, payment.amount_cents)
    return {
        "chargeId": f"ch_{payment.event_id}",
        "chargedCents": payment.amount_cents + fee,
        "feeCents": fee,
    }


def current_routing_key() -> str | None:
    """The routing key in the current OpenTelemetry context's baggage, None without one."""
    value = baggage.get_baggage(ROUTING_KEY_BAGGAGE)
    return str(value) if value else None


class PaymentActivities:
    """The activities of one instance: its settings and its gateway."""

    def __init__(self, settings: Settings, gateway: Gateway) -> None:
        self._settings = settings
        self._gateway = gateway

    @activity.defn(name=ACTIVITY_NAME)
    async def charge_payment(self, request: Any) -> dict[str, Any]:
        payment = parse_payment(request)
        result = charge(self._settings.variant, payment)
        routing_key = current_routing_key()
        info = activity.info()
        if self._gateway.enabled:
            # The activity's context (span and baggage) goes along, as any call a real service makes.
            await self._gateway.send(
                {
                    "chargeId": result["chargeId"],
                    "eventId": payment.event_id,
                    "amountCents": payment.amount_cents,
                    "chargedCents": result["chargedCents"],
                    "currency": payment.currency,
                    "instance": self._settings.instance,
                }
            )
        logger.info(
            "charged %s %s for %s",
            result["chargedCents"],
            payment.currency,
            payment.event_id,
            extra={"chargeId": result["chargeId"], "feeCents": result["feeCents"]},
        )
        return {
            **result,
            "report": {
                "name": ACTIVITY_NAME,
                "instance": self._settings.instance,
                "taskQueue": info.task_queue,
                "routingKey": routing_key,
            },
        }
