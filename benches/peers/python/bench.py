"""The workload of benches/workload as Powertools middlewares.

N middlewares made with `lambda_handler_decorator`, each adding the event's weight
to a counter before the handler and the response's after it, around a handler that
returns its event. Prints one line per N:

    powertools <N> <ns per invocation>

N = 0 is the bare handler, called without any middleware.
"""

import os
import time

from aws_lambda_powertools.middleware_factory import lambda_handler_decorator

DEPTHS = [0, 1, 5, 10, 20]
INVOCATIONS = int(os.environ.get("INVOCATIONS", "200000"))
ROUNDS = 5

steps = 0


def weight(value):
    return 1 if isinstance(value, dict) else 0


@lambda_handler_decorator
def step(handler, event, context):
    global steps
    steps += weight(event)
    response = handler(event, context)
    steps += weight(response)
    return response


def echo(event, context):
    return event


def build(depth):
    handler = echo
    for _ in range(depth):
        handler = step(handler)
    return handler


class Context:
    aws_request_id = "8f5c7c3e"
    function_name = "bench"

    def get_remaining_time_in_millis(self):
        return 30_000


def main():
    global steps
    event = {"id": 42, "customer": "c-1234", "items": [{"sku": "A-1", "quantity": 2}], "total_cents": 1999}
    context = Context()
    for depth in DEPTHS:
        handler = build(depth)
        best = float("inf")
        for _ in range(ROUNDS):
            start = time.perf_counter_ns()
            for _ in range(INVOCATIONS):
                handler(event, context)
            best = min(best, (time.perf_counter_ns() - start) / INVOCATIONS)
        expected = 2 * depth * ROUNDS * INVOCATIONS
        if steps != expected:
            raise SystemExit(f"ran {steps} steps, expected {expected}")
        steps = 0
        print(f"powertools\t{depth}\t{best:.1f}", flush=True)


if __name__ == "__main__":
    main()
