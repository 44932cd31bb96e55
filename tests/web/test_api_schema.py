"""Schemathesis against a running ``assay serve``: every operation in the OpenAPI description,
with a bounded number of generated requests each (valid and invalid), answers without a server
error and as the description says (status, content type, body schema; 401 without the token).

Schemathesis's own pytest plugin cannot load a schema from a fixture under pytest 9 (its lazy
loader reads ``request.node._nodeid``, which pytest 9 removed), so each operation is a case of
this test, named by its operation id, driven by the operation's hypothesis strategies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode
from tests.web.live import AUDITOR, LiveServer

from assay.web import api as _registers_operations  # noqa: F401
from assay.web.roles import POLICY

OPERATIONS = sorted(
    name.removeprefix("api:")
    for name in POLICY
    if name.startswith("api:") and name != "api:openapi-json"
)


pytestmark = pytest.mark.live
REQUEST_LINE_TOO_LONG = 414
"""gunicorn's answer to a request line over 4 KiB, before any of Assay runs: a negative case
that repeats a query parameter a few hundred times (an array for a number) can make one."""


@dataclass(frozen=True)
class Caller:
    """The auditor of the live server, calling with an API token made by ``assay tokens``."""

    server: LiveServer
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module")
def live(server: LiveServer) -> Caller:
    made = server.assay("tokens", "create", AUDITOR.email, "--expires", "1d", "--read-only")
    return Caller(server, made.strip())


@pytest.fixture(scope="module")
def api_schema(live: Caller) -> BaseSchema:
    url = f"{live.server.url}/api/v1/openapi.json"
    return schemathesis.openapi.from_url(url, headers=live.headers)


def test_the_served_description_lists_every_operation(api_schema: BaseSchema) -> None:
    served = {
        result.ok().definition.raw["operationId"] for result in api_schema.get_all_operations()
    }
    assert served == set(OPERATIONS)


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_operation_answers_as_described(
    operation_id: str, api_schema: BaseSchema, live: Caller
) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=live.headers),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=live.headers),
    )
    with requests.Session() as session:

        @given(case=generated)
        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers(case: Case) -> None:
            response = case.call(session=session)
            if response.status_code == REQUEST_LINE_TOO_LONG:
                return  # gunicorn refused it before Assay saw it
            case.validate_response(response)

        answers()


def test_the_token_never_reaches_the_server_log(live: Caller) -> None:
    """After the requests above (file order): the server's own output holds no token."""
    written = live.server.log.read_text(errors="replace")
    assert live.token not in written
    assert live.token.removeprefix("assay_") not in written
