"""The idempotency keys Powertools for AWS Lambda (Python) computes.

Reads a JSON list of cases, each `{"expression": <event_key_jmespath>, "event": ...}`,
from stdin, and prints the list of keys `BasePersistenceLayer` makes for them with
`IdempotencyConfig(event_key_jmespath=expression, hash_function="sha256")` for the
function `handler` in module `app` (`None` where the key is missing).
"""

import json
import sys
from unittest import mock

# Only the key is computed: the DynamoDB layer the package imports (boto3) is not needed.
for name in [
    "boto3",
    "boto3.session",
    "boto3.dynamodb",
    "boto3.dynamodb.types",
    "botocore",
    "botocore.config",
    "botocore.exceptions",
]:
    sys.modules.setdefault(name, mock.MagicMock())

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: E402
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer  # noqa: E402


class Keys(BasePersistenceLayer):
    def _get_record(self, idempotency_key):
        raise NotImplementedError

    def _put_record(self, data_record):
        raise NotImplementedError

    def _update_record(self, data_record):
        raise NotImplementedError

    def _delete_record(self, data_record):
        raise NotImplementedError


keys = []
for case in json.load(sys.stdin):
    layer = Keys()
    config = IdempotencyConfig(event_key_jmespath=case["expression"], hash_function="sha256")
    layer.configure(config, function_name="app.handler")
    keys.append(layer._get_hashed_idempotency_key(case["event"]))
print(json.dumps(keys))
