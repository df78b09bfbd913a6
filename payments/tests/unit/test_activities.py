"""chargePayment's logic: input validation, the variants' fees, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from payments.activities import INVALID_PAYMENT, MAX_AMOUNT_CENTS, Payment, charge, fee_cents, parse_payment
from temporalio.exceptions import ApplicationError


def test_a_valid_payment_is_parsed_and_unknown_fields_ignored() -> None:
    assert parse_payment({"eventId": "e1", "amountCents": 1250, "currency": "EUR", "orderId": "o1"}) == Payment(
        "e1", 1250, "EUR"
    )


@pytest.mark.parametrize(
    ("value", "mentions"),
    [
        ("not an object", ["expects one object"]),
        ([1250], ["expects one object"]),
        ({}, ["eventId", "amountCents", "currency"]),
        ({"eventId": " ", "amountCents": 1, "currency": "EUR"}, ["eventId"]),
        ({"eventId": "e", "amountCents": -1, "currency": "EUR"}, ["amountCents"]),
        ({"eventId": "e", "amountCents": 12.5, "currency": "EUR"}, ["amountCents"]),
        ({"eventId": "e", "amountCents": "1250", "currency": "EUR"}, ["amountCents"]),
        ({"eventId": "e", "amountCents": True, "currency": "EUR"}, ["amountCents"]),
        ({"eventId": "e", "amountCents": MAX_AMOUNT_CENTS + 1, "currency": "EUR"}, ["amountCents"]),
        ({"eventId": "e", "amountCents": 1, "currency": "eur"}, ["currency"]),
        ({"eventId": "e", "amountCents": 1, "currency": "EURO"}, ["currency"]),
    ],
)
def test_a_bad_input_is_a_non_retryable_invalid_payment(value: Any, mentions: list[str]) -> None:
    with pytest.raises(ApplicationError) as raised:
        parse_payment(value)
    assert raised.value.type == INVALID_PAYMENT
    assert raised.value.non_retryable
    for word in mentions:
        assert word in raised.value.message


@pytest.mark.parametrize(
    ("amount", "standard", "v2"),
    [
        (0, 0, 0),
        (1, 0, 1),  # a positive amount pays at least 1 cent on v2
        (49, 0, 1),
        (150, 0, 2),  # 1.5 rounds half up
        (1249, 0, 12),
        (1250, 0, 13),  # 12.5 rounds half up, as Math.round
        (10_000, 0, 100),
    ],
)
def test_the_fee_of_each_variant(amount: int, standard: int, v2: int) -> None:
    assert fee_cents("standard", amount) == standard
    assert fee_cents("v2", amount) == v2


def test_a_charge_is_deterministic_and_adds_the_fee() -> None:
    payment = Payment("evt-1", 1250, "EUR")
    assert charge("standard", payment) == {"chargeId": "ch_evt-1", "chargedCents": 1250, "feeCents": 0}
    assert charge("v2", payment) == {"chargeId": "ch_evt-1", "chargedCents": 1263, "feeCents": 13}
    assert charge("v2", payment) == charge("v2", payment)
