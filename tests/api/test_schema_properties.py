"""Property-based calls generated from the OpenAPI document (schemathesis, in-process WSGI): no 500, no off-schema answer."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from matchmaker.api import tokens
from tests.factories import make_demand, make_product

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def bearer(world):
    # Something to find: a published demand and a product, and a token that may do everything.
    make_demand(world.enterprise.org, status="published")
    make_product(world.bank.org)
    return {"Authorization": "Bearer " + tokens.create_token(world.bank, "性质测试", ["read", "offers", "deals"])[1]}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_within_its_schema(app, bearer, mode):
    # The pytest plugin's lazy loader does not run under this pytest; hypothesis drives each operation here.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=bearer, checks=CHECKS)

        call()


BUREAU_PATHS = {"/api/v1/statistics", "/api/v1/exchange/export", "/api/v1/demands", "/api/v1/demands/{ref}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_bureaus_calls_answer_within_their_schema(app, world, mode):
    # A district bureau's token on what the bureau may call: statistics, the export, its pool.
    make_demand(world.enterprise.org, status="published")
    bearer = {"Authorization": "Bearer " + tokens.create_token(world.district_bureau, "性质测试", ["read"])[1]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in BUREAU_PATHS or operation.method.upper() != "GET":
            continue
        seen.add(operation.path)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=bearer, checks=CHECKS)

        call()
    assert seen == BUREAU_PATHS
