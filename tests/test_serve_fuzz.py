"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis): generated requests to every
endpoint, never a 5xx, every answer JSON, every error with its message."""

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

from lenet5.serve.app import create_app  # noqa: E402

EXAMPLES = 400  # per endpoint and body type: with 4 endpoints, about 2,500 requests a run

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_generated_request_with_json_and_no_5xx(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    kind = response.headers["content-type"]
    kind = kind[0] if isinstance(kind, list) else kind  # schemathesis keeps each header as a list
    assert kind.startswith("application/json"), kind
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body.get("error"), str) and body["error"], body
