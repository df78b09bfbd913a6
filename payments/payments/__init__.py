"""The sample application's payments service: a Temporal activity worker written in Python.

It needs no routing library: a fork polls ``<queue>@<sandbox>`` and the key arrives in OpenTelemetry
baggage through the SDK's TracingInterceptor. Run it with ``python -m payments`` (see README.md).
"""
