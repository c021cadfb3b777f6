"""A bounded Schemathesis run of each OpenAPI document (contracts/<api>/openapi.json) against the emulator.

Checks: no server error, the response conforms to the operation's schema (status and the oneOf of success and
error body), and its content type. Generated image and index-file URLs are arbitrary URIs, so the emulator runs
WITHOUT --allow-private-image-hosts and WITH the hidden --offline-fetch guard: loopback and private hosts are
refused by the first, every other destination by the second, before any DNS query or connection.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fashion_conformance import contracts

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
MAX_EXAMPLES = 20
HTTP_METHODS = ("get", "post", "put", "delete", "patch")
SERVICE_VAR = {"v1": "serviceID", "v2": "serviceName", "maker": "serviceID"}
SERVICE = "stfuzz"
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


def _runs() -> list[tuple[str, str, str, schemathesis.GenerationMode]]:
    """(api, method, path, mode) for every operation: positive cases, and negative ones where a request can break
    the schema at all (a query or header parameter, or a body; string path parameters cannot be broken)."""
    runs = []
    for api in contracts.APIS:
        doc = json.loads(contracts.openapi_path(api).read_text(encoding="utf-8"))
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                runs.append((api, method, path, POSITIVE))
                if "requestBody" in op or any(p.get("in") != "path" for p in op.get("parameters", ())):
                    runs.append((api, method, path, NEGATIVE))
    return runs


@pytest.fixture(scope="module")
def target(start_emulator, clients_for):
    """An offline emulator with a service named SERVICE in v1 and v2, so generated cases also reach past -42000."""
    emu = start_emulator(private=False)
    nhn = clients_for(emu)
    nhn["v1"].ok("service.create", path={"serviceID": SERVICE})
    nhn["v2"].ok("service.create", json={"serviceName": SERVICE})
    return emu


@pytest.fixture(scope="module")
def schemas(target):
    loaded = {}
    for api in contracts.APIS:
        schema = schemathesis.openapi.from_path(contracts.openapi_path(api))
        schema.config.update(base_url=target.base_url, request_timeout=30)
        loaded[api] = schema
    return loaded


def fixed_auth(api: str, emu) -> tuple[dict[str, str], dict[str, str]]:
    """(path parameters, headers) that authenticate: the emulator's appKey, secret key or Tagger API key."""
    keys = emu.keys
    path = {"appKey": keys["appkey"]} if api != "tagger" else {}
    headers = {"v2": {"Authorization": keys["secret_key"]}, "tagger": {"x-api-key": keys["api_key"]}}.get(api, {})
    return path, headers


@pytest.mark.parametrize(("api", "method", "path", "mode"), _runs())
def test_openapi(schemas, target, api, method, path, mode):
    operation = schemas[api][path][method.upper()]
    path_params, headers = fixed_auth(api, target)
    cases = operation.as_strategy(generation_mode=mode, path_parameters=path_params, headers=headers)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases, existing=st.booleans())
    def run(case, existing):
        var = SERVICE_VAR.get(api)
        if existing and var in (case.path_parameters or {}):
            case.path_parameters[var] = SERVICE
        case.call_and_validate(checks=CHECKS)

    run()
