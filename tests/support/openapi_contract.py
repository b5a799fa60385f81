"""Check Codat traffic against Codat's own OpenAPI spec (bill-pay-sync.openapi.yaml).

`validate_exchange(exchange)` takes one request/response pair as it crossed the wire and
returns the ways it breaks the contract, one readable string each. An exchange is judged
as a whole, because a request that breaks the spec is fine when the server refuses it:

- a request that breaks the spec and is answered with a 4xx is the server doing its job
  (tests of error paths send such requests on purpose); its response is still checked;
- the same request answered with 2xx/3xx/5xx is a violation: the client sent something
  Codat does not promise to understand, and the stand-in let it through;
- every response is checked: its status must be declared for the operation, its content
  type and body must match. The one exception is the 422 Codat's docs give for a reused
  Idempotency-Key with a different body, which the spec does not declare: it is accepted
  only on operations that take an Idempotency-Key, from requests that carried one, and its
  body is checked against ErrorMessage by hand.

The spec is repaired before use (`make_nullable_explicit`, `make_binary_untyped`: 3.0
habits in a spec that says 3.1) and parsed once per process (`codat_contract()`).
`ContractRecorder` collects exchanges from a served sandbox and validates them in the
caller's thread; `validated_sandbox_app(state)` builds a sandbox app wired to the recorder
that the pytest plugin (tests/plugins/openapi_contract.py) reports at the end of the run.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.schemas import oas31_schema_validators_factory
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.support.openapi_exchange import (
    HttpExchange,
    SandboxExchange,
    _content_type,
    _OpenApiRequest,
    _OpenApiResponse,
    as_http_exchange,
)
from tests.support.openapi_spec import (
    _clip,
    _describe,
    _schema_error_text,
    load_spec,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Undeclared in the spec, documented in using-the-api/write-data/idempotency.md.
IDEMPOTENCY_REUSE_STATUS = 422
BASIC_AUTH = re.compile(r"Basic [A-Za-z0-9+/]+={0,2}")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --------------------------------------------------------------------------- the contract


@dataclass(frozen=True)
class Verdict:
    """What the contract says about one exchange."""

    operation_id: str | None  # None: no operation of the spec has this method and path
    request_problems: tuple[str, ...]  # how the request breaks the spec, whatever the answer
    violations: tuple[str, ...]  # what breaks the contract, given the answer

    @property
    def refused_bad_request(self) -> bool:
        """The request broke the spec and the server rightly refused it."""
        return bool(self.request_problems) and not any(
            v.startswith("request ") for v in self.violations)


@dataclass(frozen=True)
class _Operation:
    operation_id: str
    template: str
    query_params: frozenset[str]
    header_params: frozenset[str]
    statuses: tuple[str, ...]
    has_body: bool


class CodatContract:
    """The repaired spec with an openapi-core validator; build once, validate many."""

    def __init__(self, spec: dict[str, Any], *, check_spec: bool = True) -> None:
        # check_spec=False skips validating the spec document itself (slow on a large one)
        self.openapi = (OpenAPI.from_dict(spec) if check_spec else
                        OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None)))
        self.server_url: str = spec["servers"][0]["url"].rstrip("/")
        self._finder = APICallPathFinder(self.openapi.spec)
        self._request_validator = self.openapi.request_validator
        self._response_validator = self.openapi.response_validator
        self._operations = self._index_operations(spec)
        self._error_message_validator = oas31_schema_validators_factory.create(
            self.openapi.spec, self.openapi.spec / "components" / "schemas" / "ErrorMessage")

    @staticmethod
    def _index_operations(spec: dict[str, Any]) -> dict[tuple[str, str], _Operation]:
        def resolve(obj: dict[str, Any]) -> dict[str, Any]:
            ref = obj.get("$ref")
            if not isinstance(ref, str):
                return obj
            target: Any = spec
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target)

        index: dict[tuple[str, str], _Operation] = {}
        for template, path_item in spec["paths"].items():
            shared = [resolve(p) for p in path_item.get("parameters", [])]
            for method in HTTP_METHODS:
                operation = path_item.get(method)
                if operation is None:
                    continue
                params = shared + [resolve(p) for p in operation.get("parameters", [])]
                index[(method, template)] = _Operation(
                    operation_id=operation.get("operationId", f"{method} {template}"),
                    template=template,
                    query_params=frozenset(p["name"] for p in params if p["in"] == "query"),
                    header_params=frozenset(
                        p["name"].lower() for p in params if p["in"] == "header"),
                    statuses=tuple(str(s) for s in operation.get("responses", {})),
                    has_body="requestBody" in operation,
                )
        return index

    # -- public

    @property
    def operation_ids(self) -> frozenset[str]:
        return frozenset(op.operation_id for op in self._operations.values())

    def check(self, exchange: HttpExchange) -> Verdict:
        """Judge one exchange; see the module docstring for the rules."""
        request = self._request(exchange)
        refused = 400 <= exchange.status < 500
        try:
            found = self._finder.find(request.method, request.host_url + request.path)
        except PathError:
            problem = "no such operation in the spec"
            unrouted = f"request {exchange.label}: {problem}, yet the server answered {exchange.status}"
            return Verdict(None, (problem,), () if refused else (_clip(unrouted),))
        operation = self._operations[(request.method, found.path.parts[-1])]
        where = f"{operation.operation_id} {exchange.label}"
        request_problems = self._request_problems(request, exchange, operation)
        violations: list[str] = []
        if request_problems and not refused:
            violations += [f"request {where}: {problem} (answered {exchange.status}, not refused)"
                           for problem in request_problems]
        violations += [f"response {exchange.status} to {where}: {problem}"
                       for problem in self._response_problems(request, exchange, operation)]
        return Verdict(operation.operation_id, tuple(request_problems),
                       tuple(_clip(v) for v in violations))

    def validate(self, exchange: HttpExchange) -> list[str]:
        """Every way `exchange` breaks the contract; empty when it keeps it."""
        return list(self.check(exchange).violations)

    # -- request

    def _request(self, exchange: HttpExchange) -> _OpenApiRequest:
        headers = Headers(list(exchange.request_headers))
        query = ImmutableMultiDict(parse_qsl(exchange.query_string, keep_blank_values=True))
        return _OpenApiRequest(
            host_url=self.server_url,
            path=exchange.path,
            method=exchange.method.lower(),
            body=exchange.request_body or None,
            content_type=_content_type(headers),
            parameters=RequestParameters(query=query, header=headers),
        )

    def _request_problems(self, request: _OpenApiRequest, exchange: HttpExchange,
                          operation: _Operation) -> list[str]:
        problems: list[str] = []
        for exc in self._request_validator.iter_errors(request):
            problems += _describe(exc)
        headers = request.parameters.header
        auth = headers.get("Authorization")
        if auth is not None and not BASIC_AUTH.fullmatch(auth):
            problems.append("Authorization is not 'Basic <base64 API key>'")
        for name in request.parameters.query:
            if name not in operation.query_params:
                problems.append(f"undeclared query parameter {name!r} "
                                f"(declared: {', '.join(sorted(operation.query_params)) or 'none'})")
        if IDEMPOTENCY_HEADER in headers and IDEMPOTENCY_HEADER.lower() not in operation.header_params:
            problems.append(f"{IDEMPOTENCY_HEADER} sent, but {operation.operation_id} does not "
                            "take one: Codat would not deduplicate this write")
        if operation.has_body and not exchange.request_body:
            problems.append("no request body, but the operation takes one")
        if not operation.has_body and exchange.request_body:
            problems.append("a request body was sent, but the operation takes none")
        return problems

    # -- response

    def _response_problems(self, request: _OpenApiRequest, exchange: HttpExchange,
                           operation: _Operation) -> list[str]:
        headers = Headers(list(exchange.response_headers))
        response = _OpenApiResponse(status_code=exchange.status, headers=headers,
                                    data=exchange.response_body or None,
                                    content_type=_content_type(headers))
        if (exchange.status == IDEMPOTENCY_REUSE_STATUS
                and str(IDEMPOTENCY_REUSE_STATUS) not in operation.statuses):
            return self._idempotency_reuse_problems(request, response, operation)
        problems: list[str] = []
        for exc in self._response_validator.iter_errors(request, response):
            if type(exc).__name__ == "ResponseNotFound":
                problems.append(f"status {exchange.status} is not declared "
                                f"(declared: {', '.join(operation.statuses)})")
            else:
                problems += _describe(exc)
        if not problems and exchange.status >= 400:
            problems += _status_code_mismatch(response)
        return problems

    def _idempotency_reuse_problems(self, request: _OpenApiRequest,
                                    response: _OpenApiResponse,
                                    operation: _Operation) -> list[str]:
        if IDEMPOTENCY_HEADER.lower() not in operation.header_params:
            return [f"status 422 is not declared (declared: {', '.join(operation.statuses)}); "
                    f"Codat's idempotency 422 needs an operation that takes {IDEMPOTENCY_HEADER}"]
        if IDEMPOTENCY_HEADER not in request.parameters.header:
            return [f"status 422 is not declared, and the request carried no "
                    f"{IDEMPOTENCY_HEADER} that could have been reused"]
        media_type = response.content_type.split(";")[0].strip().lower()
        if media_type != "application/json":
            return [f"idempotency 422 has content type {response.content_type!r}, "
                    "not application/json"]
        try:
            body = json.loads(response.data or b"")
        except ValueError:
            return ["idempotency 422 body is not JSON"]
        problems = [f"idempotency 422 body {_schema_error_text(e)} (ErrorMessage)"
                    for e in self._error_message_validator.validator.iter_errors(body)]
        return problems or _status_code_mismatch(response)


def _status_code_mismatch(response: _OpenApiResponse) -> list[str]:
    """ErrorMessage.statusCode is "the HTTP status code returned by the error" (spec)."""
    if not response.content_type.lower().startswith("application/json") or not response.data:
        return []
    try:
        body = json.loads(response.data)
    except ValueError:
        return []
    if isinstance(body, dict) and "statusCode" in body and body["statusCode"] != response.status_code:
        return [f"ErrorMessage.statusCode is {body['statusCode']!r}, "
                f"but the HTTP status is {response.status_code}"]
    return []


@functools.cache
def codat_contract() -> CodatContract:
    """The contract, parsed once per process (the spec is ~170 kB of YAML)."""
    return CodatContract(load_spec())


def validate_exchange(exchange: HttpExchange | SandboxExchange) -> list[str]:
    """Every way one Codat exchange breaks the spec; see the module docstring."""
    return codat_contract().validate(as_http_exchange(exchange))


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Violation:
    """A violation, with the test that was running when the exchange happened."""

    test: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.test or '(outside a test)'}: {self.message}"


@dataclass
class ContractRecorder:
    """Collects exchanges from any thread; validates them when `flush()` is called.

    The sandbox calls `record` on its server thread; validation waits for `flush` (the
    plugin calls it after each test) so it never delays a response the client is timing.
    """

    validated: int = 0
    violations: list[Violation] = field(default_factory=list)
    refused_bad_requests: int = 0  # spec-breaking requests answered with a 4xx (error paths)
    operations: Counter[str] = field(default_factory=Counter)  # operationId -> exchanges
    current_test: str | None = None
    _pending: list[tuple[str | None, HttpExchange | SandboxExchange]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, exchange: HttpExchange | SandboxExchange) -> None:
        with self._lock:
            self._pending.append((self.current_test, exchange))

    def flush(self) -> list[Violation]:
        """Validate what was recorded since the last flush; return the new violations."""
        with self._lock:
            pending, self._pending = self._pending, []
        from tests.support.openapi_async import check_both  # it imports this module

        checked = [(test, check_both(as_http_exchange(exchange))) for test, exchange in pending]
        found = [Violation(test, f"[{spec}] {message}" if spec == "async" else message)
                 for test, verdicts in checked for spec, verdict in verdicts
                 for message in verdict.violations]
        with self._lock:
            self.validated += len(pending)
            self.violations += found
            self.refused_bad_requests += sum(
                any(v.refused_bad_request for _, v in verdicts) for _, verdicts in checked)
            self.operations.update(f"{spec}:{v.operation_id}" for _, verdicts in checked
                                   for spec, v in verdicts if v.operation_id)
        return found

    def export(self) -> dict[str, Any]:
        """What this process checked, for the pytest-xdist controller to add up."""
        self.flush()
        return {"validated": self.validated, "refused": self.refused_bad_requests,
                "operations": dict(self.operations),
                "violations": [[v.test, v.message] for v in self.violations]}

    def absorb(self, exported: dict[str, Any]) -> None:
        """Add a worker's `export()` to this (the controller's) recorder."""
        with self._lock:
            self.validated += int(exported["validated"])
            self.refused_bad_requests += int(exported["refused"])
            self.operations.update(exported["operations"])
            self.violations += [Violation(test, message)
                                for test, message in exported["violations"]]

    def summary(self) -> str:
        return (f"openapi contract: {self.validated} requests validated, "
                f"{len(self.violations)} violations")

    def lines(self) -> Iterator[str]:
        yield self.summary()
        from tests.support.openapi_async import coverage_lines, operation_ids

        yield from coverage_lines(self.operations, operation_ids())
        yield (f"  spec-breaking requests refused with a 4xx (error-path tests): "
               f"{self.refused_bad_requests}")
        for violation in self.violations:
            yield f"  {violation}"


_SESSION_RECORDER = ContractRecorder()


def session_recorder() -> ContractRecorder:
    """The recorder the pytest plugin reports (and fails the run on) at session end."""
    return _SESSION_RECORDER


def validated_sandbox_app(state: Any, *, recorder: ContractRecorder | None = None,
                          **app_options: Any) -> Any:
    """A Codat sandbox app whose every Codat-API exchange is checked against the spec.

    Serve it however you like (`serve_in_thread(app)`); the exchanges land in the
    session recorder unless you pass your own.
    """
    from billbot.sandbox.codat.app import create_app

    sink: Callable[[SandboxExchange], None] = (recorder or _SESSION_RECORDER).record
    return create_app(state, on_exchange=sink, **app_options)


__all__ = [
    "CodatContract",
    "ContractRecorder",
    "Verdict",
    "Violation",
    "codat_contract",
    "session_recorder",
    "validate_exchange",
    "validated_sandbox_app",
]
