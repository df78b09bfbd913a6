"""Log lines are JSON objects with the service, the instance and what `extra=` adds."""

from __future__ import annotations

import json
import logging

from payments.logs import JsonFormatter


def test_a_line_is_one_json_object_with_service_instance_and_extras() -> None:
    record = logging.LogRecord("payments", logging.WARNING, __file__, 1, "charged %s", ("x",), None)
    record.chargeId = "ch_1"
    line = json.loads(JsonFormatter("payments", "sandbox:baseline").format(record))
    assert {k: line[k] for k in ("level", "service", "instance", "msg", "chargeId")} == {
        "level": "warn",
        "service": "payments",
        "instance": "sandbox:baseline",
        "msg": "charged x",
        "chargeId": "ch_1",
    }
    assert "routingKey" not in line  # outside an activity
