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
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.request.exceptions import SecurityValidationError
from openapi_core.validation.schemas import oas31_schema_validators_factory
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_ENV = "BILLBOT_CODAT_SPEC"
SPEC_RELATIVE_TO_REPO = Path("..", "shared", "reference", "codat", "bill-pay-sync.openapi.yaml")
REPO_ROOT = Path(__file__).resolve().parents[2]

# Longest single violation text; schema errors quote the offending value, which can be a page.
MAX_MESSAGE = 400
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Undeclared in the spec, documented in using-the-api/write-data/idempotency.md.
IDEMPOTENCY_REUSE_STATUS = 422
BASIC_AUTH = re.compile(r"Basic [A-Za-z0-9+/]+={0,2}")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --------------------------------------------------------------------------- the exchange


HeaderInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _header_pairs(headers: HeaderInput) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((_text(name), _text(value)) for name, value in items)


@dataclass(frozen=True)
class HttpExchange:
    """One request and its response, as bytes on the wire.

    `path` is the raw (still percent-encoded) path, so an id holding `%2F` stays one
    segment; `query_string` is the raw query without the `?`.
    """

    method: str
    path: str
    query_string: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes = b""
    status: int = 200
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""

    @classmethod
    def build(cls, method: str, path: str, *, query_string: str | bytes = "",
              request_headers: HeaderInput = (), request_body: bytes = b"",
              status: int = 200, response_headers: HeaderInput = (),
              response_body: bytes = b"") -> HttpExchange:
        return cls(method=method.upper(), path=path, query_string=_text(query_string),
                   request_headers=_header_pairs(request_headers), request_body=request_body,
                   status=status, response_headers=_header_pairs(response_headers),
                   response_body=response_body)

    @property
    def label(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.method} {self.path}{query}"


class _RecordedRequest(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query_string(self) -> str: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def body(self) -> bytes: ...


class _RecordedResponse(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def body(self) -> bytes: ...


class SandboxExchange(Protocol):
    """The shape of billbot.sandbox.codat.exchange.Exchange (matched by shape, not import)."""

    @property
    def request(self) -> _RecordedRequest: ...
    @property
    def response(self) -> _RecordedResponse: ...


def as_http_exchange(exchange: HttpExchange | SandboxExchange) -> HttpExchange:
    """Accept an HttpExchange or the sandbox's own exchange record."""
    if isinstance(exchange, HttpExchange):
        return exchange
    request, response = exchange.request, exchange.response
    return HttpExchange.build(
        request.method, request.path, query_string=request.query_string,
        request_headers=request.headers, request_body=request.body, status=response.status,
        response_headers=response.headers, response_body=response.body)


# ------------------------------------------------------------------------ the openapi-core view


@dataclass
class _OpenApiRequest:
    """openapi_core.protocols.Request over an HttpExchange (host is the spec's server)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class _OpenApiResponse:
    """openapi_core.protocols.Response over an HttpExchange."""

    status_code: int
    headers: Headers
    data: bytes | None
    content_type: str


def _content_type(headers: Headers) -> str:
    # openapi-core matches the media type case-insensitively but parses the multipart
    # boundary from this string, so the parameters keep their case.
    return headers.get("Content-Type") or "application/octet-stream"


# --------------------------------------------------------------------------- spec loading


def spec_path() -> Path:
    """The spec file: $BILLBOT_CODAT_SPEC, else <repo>/../shared/reference/codat/..."""
    override = os.environ.get(SPEC_ENV)
    return Path(override) if override else (REPO_ROOT / SPEC_RELATIVE_TO_REPO).resolve()


def make_nullable_explicit(node: Any) -> int:
    """Rewrite OpenAPI 3.0 `nullable: true` into 3.1 JSON Schema, in place; return the count.

    The spec says `openapi: 3.1.0`, where `nullable` means nothing, yet marks its nullable
    fields that way: read literally, a correct `null` would be a violation. A schema with a
    `type` gets "null" added to it (and to its `enum`, if any); one without (a `$ref`) is
    wrapped in `anyOf: [schema, {type: null}]`. Examples are data, not schemas: left alone.
    """
    count = 0
    if isinstance(node, list):
        for item in node:
            count += make_nullable_explicit(item)
        return count
    if not isinstance(node, dict):
        return 0
    for key, value in node.items():
        if key not in ("example", "examples"):
            count += make_nullable_explicit(value)
    if node.get("nullable") is not True:
        node.pop("nullable", None)
        return count
    del node["nullable"]
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [*types, "null"] if "null" not in types else types
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    else:
        annotations = {k: node.pop(k) for k in ("description", "title") if k in node}
        inner = dict(node)
        node.clear()
        node.update(annotations)
        node["anyOf"] = [inner, {"type": "null"}]
    return count + 1


def make_binary_untyped(node: Any) -> int:
    """Drop `type: string` from 3.0-style `format: binary` schemas, in place; return the count.

    Another 3.0 habit in this 3.1 spec: in 3.1 a `type: string` schema does not match raw
    bytes, so every attachment upload and download would fail. 3.1 describes binary
    content by its media type alone, which is what removing the type leaves.
    """
    count = 0
    if isinstance(node, list):
        return sum(make_binary_untyped(item) for item in node)
    if not isinstance(node, dict):
        return 0
    for key, value in node.items():
        if key not in ("example", "examples"):
            count += make_binary_untyped(value)
    if node.get("format") == "binary" and node.get("type") == "string":
        del node["type"]
        count += 1
    return count


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """Parse the spec and apply the repairs `CodatContract` relies on."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is 7x faster
    with (path or spec_path()).open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    make_nullable_explicit(spec)
    make_binary_untyped(spec)
    return spec


# ------------------------------------------------------------------------ error formatting


class _SchemaError(Protocol):
    """The part of jsonschema's ValidationError used here (jsonschema ships no stubs)."""

    message: str
    instance: object
    absolute_path: Sequence[object]
    context: Sequence[_SchemaError]


def _json_path(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(root)"


def _short_value(value: object) -> str:
    """A value as an error message quotes it, unless it is too long to read."""
    text = repr(value)
    if len(text) <= 80:
        return text
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(map(str, list(value)[:8]))
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    return text[:77] + "..."


def _schema_error_text(error: _SchemaError) -> str:
    message = error.message
    quoted = repr(error.instance)
    if message.startswith(quoted):  # jsonschema opens with the whole value: keep it short
        message = _short_value(error.instance) + message[len(quoted):]
    text = f"{_json_path(error.absolute_path)}: {message}"
    if error.context:  # anyOf/oneOf: name the closest branch's complaint too
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        text += f" ({_json_path(deepest.absolute_path)}: {deepest.message})"
    return text


def _describe(exc: BaseException) -> list[str]:
    """Turn an openapi-core error (and its cause chain) into readable complaints.

    Schema errors become one complaint each, located by JSON path: a parameter's under
    "<in> parameter <name>", a body's under "body".
    """
    if isinstance(exc, SecurityValidationError):
        return ["no Authorization header (the spec requires auth_header on every operation)"]
    schema_errors: Sequence[_SchemaError] | None = None
    cursor: BaseException | None = exc
    while cursor is not None and schema_errors is None:
        schema_errors = getattr(cursor, "schema_errors", None)
        cursor = cursor.__cause__
    name = getattr(exc, "name", None)
    where = getattr(exc, "location", None)
    prefix = f"{where} parameter {name}: " if name and where else "body "
    if schema_errors:
        return [prefix + _schema_error_text(e) for e in schema_errors]
    cause = exc.__cause__
    detail = str(exc).removeprefix(f"{type(exc).__name__}: ")
    if cause is not None and str(cause) not in detail:
        detail += f": {cause}"
    return [detail if name is None or name in detail else prefix + detail]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


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

    def __init__(self, spec: dict[str, Any]) -> None:
        self.openapi = OpenAPI.from_dict(spec)
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
        contract = codat_contract()
        verdicts = [(test, contract.check(as_http_exchange(exchange))) for test, exchange in pending]
        found = [Violation(test, message) for test, verdict in verdicts
                 for message in verdict.violations]
        with self._lock:
            self.validated += len(pending)
            self.violations += found
            self.refused_bad_requests += sum(v.refused_bad_request for _, v in verdicts)
            self.operations.update(v.operation_id for _, v in verdicts if v.operation_id)
        return found

    def summary(self) -> str:
        return (f"openapi contract: {self.validated} requests validated, "
                f"{len(self.violations)} violations")

    def lines(self) -> Iterator[str]:
        yield self.summary()
        all_operations = codat_contract().operation_ids
        missing = sorted(all_operations - set(self.operations))
        yield (f"  operations exercised: {len(all_operations) - len(missing)} of "
               f"{len(all_operations)}" + (f" (not: {', '.join(missing)})" if missing else ""))
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
    "SPEC_ENV",
    "CodatContract",
    "ContractRecorder",
    "HttpExchange",
    "SandboxExchange",
    "Verdict",
    "Violation",
    "as_http_exchange",
    "codat_contract",
    "load_spec",
    "make_nullable_explicit",
    "session_recorder",
    "spec_path",
    "validate_exchange",
    "validated_sandbox_app",
]
