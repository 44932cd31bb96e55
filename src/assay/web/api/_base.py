"""The API object, and the one way to add an operation to it: ``read``, which names who may call
it in ``roles.POLICY`` as it registers it, so no operation exists without its roles.

What every section shares lives here too: the error bodies, paging, bounded identifiers, and the
run a request is about (the auditor's within the audit period, as on the pages).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.signature import ViewSignature

from assay.monitor.models import Run
from assay.web import roles
from assay.web.roles import Role
from assay.web.views._common import visible_runs


class SignedIn(HttpBearer):
    """Names the bearer token in the OpenAPI description. The check itself is
    ``AccessPolicy``'s, which let this request in (by token or session) before it got here."""

    def __call__(self, request: HttpRequest) -> Any:
        return request.user if request.user.is_authenticated else None

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return None  # never reached: __call__ answers from the middleware's decision


api = NinjaAPI(
    title="Assay",
    version="1",
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
    auth=SignedIn(),
    description=(
        "Read the programme: runs, controls, findings, scope, evidence, people, the registers "
        "and the evidence requests."
    ),
)

MAX_ID = 2**63 - 1
"""The largest id a database column holds: a larger one is a bad parameter, not a crash."""
MAX_LIMIT = 500
RunId = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$", max_length=200)]
"""A check, rule, system or kind as the programme and the checks spell them."""


class Problem(Schema):
    detail: str


class Invalid(Schema):
    detail: list[dict[str, Any]]
    """What was wrong with each parameter, as pydantic reports it."""


class Paging(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_ID)


class Page(Schema):
    total: int
    limit: int
    offset: int


F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=Model)


def read(
    path: str,
    *,
    name: str,
    allowed: frozenset[Role],
    response: type[Schema],
    tag: str,
    can_fail: bool = True,
) -> Callable[[F], F]:
    """A GET operation at ``path``, named ``api:<name>``, open to the ``allowed`` roles. Any
    operation may refuse a caller (401 without a live token or session, 403 for another role or
    a write with a read-only token); ``can_fail``: it may also answer 404 (an unknown id) or
    422 (a bad parameter)."""
    roles.POLICY[f"api:{name}"] = allowed
    responses: dict[int, Any] = {200: response, 401: Problem, 403: Problem}
    if can_fail:
        responses |= {404: Problem, 422: Invalid}

    def register(func: F) -> F:
        made = api.get(path, response=responses, url_name=name, operation_id=name, tags=[tag])
        return decorate_view(_only_parameters(_query_names(path, func)))(made(func))

    return register


def _query_names(path: str, func: Callable[..., Any]) -> frozenset[str]:
    """The query parameters an operation reads, as ninja reads its signature."""
    models = ViewSignature(path, func).models
    return frozenset(
        name
        for model in models
        if model.__ninja_param_source__ == "query"
        for name in model.__ninja_flatten_map__
    )


def _only_parameters(known: frozenset[str]) -> Callable[[Callable[..., Any]], Any]:
    """Refuse (422) a query parameter the operation does not have, or one given twice (every
    parameter takes one value): a misspelt filter would otherwise be ignored silently and
    answer with everything, and of two values one would be dropped unseen."""

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def checked(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            unknown = sorted(set(request.GET) - known)
            repeated = sorted(
                k for k in request.GET if k in known and len(request.GET.getlist(k)) > 1
            )
            if not unknown and not repeated:
                return run(request, **kwargs)
            detail = [
                {"type": "unknown_parameter", "loc": ["query", key], "msg": "no such parameter"}
                for key in unknown
            ] + [
                {"type": "repeated_parameter", "loc": ["query", key], "msg": "given more than once"}
                for key in repeated
            ]
            return api.create_response(request, {"detail": detail}, status=422)

        return checked

    return decorator


def open_description() -> None:
    """The OpenAPI description is open to every role that may call some operation."""
    callers: set[Role] = set()
    for name, allowed in roles.POLICY.items():
        if name.startswith("api:") and isinstance(allowed, frozenset):
            callers |= allowed
    roles.POLICY["api:openapi-json"] = frozenset(callers)


def not_found(what: str) -> HttpError:
    return HttpError(404, f"{what}: not found")


def completed_run(request: HttpRequest, run: int | None) -> Run:
    """The completed run ``run`` the viewer may see, or their latest one."""
    completed = visible_runs(request).filter(status=Run.Status.COMPLETED)
    chosen = completed.filter(pk=run).first() if run is not None else completed.first()
    if chosen is None:
        raise not_found(f"completed run {run}" if run is not None else "a completed run")
    return chosen


def filtered(rows: QuerySet[M], **wanted: str | int | None) -> QuerySet[M]:
    """Only the rows equal to each filter given (None: not filtered)."""
    return rows.filter(**{field: value for field, value in wanted.items() if value is not None})


def page_of(rows: QuerySet[M], paging: Paging) -> tuple[dict[str, int], list[M]]:
    """The paging fields of an answer, and the rows of the page asked for."""
    shown = list(rows[paging.offset : paging.offset + paging.limit])
    return {"total": rows.count(), "limit": paging.limit, "offset": paging.offset}, shown
