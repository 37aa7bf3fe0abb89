"""Powertools for AWS Lambda (Python): the logs and metrics of the scenario that
tests/observe_powertools.rs runs with lambda-middleware, printed as one JSON object
{"version", "logs": [line, ...], "metrics": [line, ...]} on standard output.

Keep the two scenarios the same call for call.
"""

import contextlib
import io
import json
import os
import sys
import warnings

os.environ["_X_AMZN_TRACE_ID"] = "Root=1-65f1a2b3-5759e988bd862e3fe1be46a9;Parent=53995c3f42cd8ad8;Sampled=1"

import aws_lambda_powertools  # noqa: E402
from aws_lambda_powertools import Logger, Metrics  # noqa: E402
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit  # noqa: E402


class Context:
    function_name = "bookings-fn"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bookings-fn"

    def __init__(self, request_id):
        self.aws_request_id = request_id


# Logs: a JSON line per call, under inject_lambda_context.
log_stream = io.StringIO()
logger = Logger(service="booking", sampling_rate=0.5, utc=True, use_rfc3339=True, stream=log_stream)


@logger.inject_lambda_context(correlation_id_path='headers."x-correlation-id"')
def logged(event, context):
    logger.info("Collecting payment", extra={"order_id": 7, "amount": 1.5, "ok": True, "guest": "Ada"})
    logger.warning("low stock", extra={"left": 2})
    logger.error("payment failed")


logged({"headers": {"x-correlation-id": "order-7"}}, Context("c6af9ac6"))
logged({"headers": {"x-correlation-id": "order-8"}}, Context("d7b0a1f2"))

# Metrics: EMF lines printed to standard output, captured here.
metrics = Metrics(namespace="ServerlessAirline", service="booking")
metrics.set_default_dimensions(environment="prod")


@metrics.log_metrics(capture_cold_start_metric=True)
def measured(event, context):
    if event["case"] == "booking":
        metrics.add_metric(name="SuccessfulBooking", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="SuccessfulBooking", unit=MetricUnit.Count, value=2)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=1.5, resolution=MetricResolution.High)
        metrics.add_metric(name="Throughput", unit=MetricUnit.BytesPerSecond, value=1024)
        metrics.add_metric(name="Ratio", unit=MetricUnit.Percent, value=12.25)
        metrics.add_metric(name="Plain", unit=MetricUnit.NoUnit, value=-3)
        metrics.add_dimension(name="route", value="/bookings")
        metrics.add_metadata(key="booking_id", value="b-1")
        metrics.add_metadata(key="stay", value={"nights": 3, "rooms": ["12B"]})
    elif event["case"] == "many":
        # Metadata first: Powertools writes the first 100 metrics as soon as the 100th
        # comes, with the metadata it has by then.
        metrics.add_metadata(key="request", value="r-2")
        for n in range(150):
            metrics.add_metric(name=f"M{n:03}", unit=MetricUnit.Count, value=n)


emf = io.StringIO()
with contextlib.redirect_stdout(emf), warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the "no application metrics" warning of the last case
    for case in ["booking", "many", "none"]:
        measured({"case": case}, Context(f"m-{case}"))

json.dump(
    {
        "version": aws_lambda_powertools.__version__ if hasattr(aws_lambda_powertools, "__version__") else "",
        "logs": log_stream.getvalue().splitlines(),
        "metrics": emf.getvalue().splitlines(),
    },
    sys.stdout,
)
