"""What every Codat API request goes through, in order:

record -> count (rate-limit headers) -> auth (401) -> injected 429 -> per-minute and
per-company limits (429, throttle.py) -> injected 500/503
-> Idempotency-Key (replay / 409 / 422) -> injected latency -> handler (atomic, under the
state lock) -> store for the key -> deliver, or hold and drop ("commit, then lose").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from billbot.sandbox.codat import jsonio
from billbot.sandbox.codat.errors import ApiError, error_body
from billbot.sandbox.codat.exchange import (
    Exchange,
    ExchangeHook,
    ExchangeRequest,
    ExchangeResponse,
)
from billbot.sandbox.codat.idempotency import Outcome, StoredResponse, fingerprint
from billbot.sandbox.codat.idempotency import Scope as KeyScope
from billbot.sandbox.codat.state import RequestRecord, SandboxState

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "idempotency-key"
_TOO_MANY = ApiError(429, "You have made too many requests in a given amount of time; "
                          "please retry later.")


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass(frozen=True)
class Call:
    """A parsed request, as handlers see it."""

    state: SandboxState
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    headers: Headers
    body: bytes
    files: Mapping[str, UploadedFile] = field(default_factory=dict)
    push_fails: bool = False  # an injected fault: the push operation this creates fails

    def json(self) -> Any:
        if not self.body.strip():
            raise ApiError(400, "Error processing request - a JSON body is required.")
        try:
            return jsonio.loads(self.body)
        except ValueError:
            raise ApiError(400, "Error processing request - the body is not valid JSON.") \
                from None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get(IDEMPOTENCY_HEADER) or None


@dataclass(frozen=True)
class Reply:
    status: int
    payload: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.payload is None else jsonio.dumps(self.payload)


Handler = Callable[[Call], Reply]


def error_reply(error: ApiError) -> Reply:
    return Reply(error.status, error_body(error.status, error.error, error.validation))


def is_authorised(headers: Headers, api_key: str) -> bool:
    """(D) `Authorization: Basic base64(api key)`."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return False
    try:
        presented = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(presented, api_key.encode())


class _HeldThenDropped(Response):
    """The write happened; the client never learns the result (`lose_response`).

    Hold the answer until the client gives up (it disconnects: drop silently) or until
    `hold_seconds` pass (then start the response and cut the connection mid-body).
    """

    def __init__(self, hold_seconds: float, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(status_code=status, headers=dict(headers))
        self.hold_seconds = hold_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def until_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        try:
            await asyncio.wait_for(until_disconnect(), timeout=self.hold_seconds)
            return  # the client gave up waiting: nothing is ever sent
        except TimeoutError:
            pass
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        # Returning without the promised body makes uvicorn close the connection.


class Pipeline:
    def __init__(self, state: SandboxState, api_key: str, on_exchange: ExchangeHook | None):
        self.state = state
        self.api_key = api_key
        self.on_exchange = on_exchange

    def endpoint(self, handler: Handler, *, idempotent: bool = False) -> Callable[
            [Request], Any]:
        async def run(request: Request) -> Response:
            return await self.handle(request, handler, idempotent=idempotent)

        return run

    async def handle(self, request: Request, handler: Handler, *, idempotent: bool) -> Response:
        state = self.state
        body = await request.body()
        method, path = request.method, request.url.path
        query_string = request.url.query
        key = request.headers.get(IDEMPOTENCY_HEADER) or None
        with state.lock:
            record = RequestRecord(method=method, path=path, query=query_string,
                                   idempotency_key=key, at=state.now())
            state.requests.append(record)
            limit, remaining, reset = state.count_request()
            over_quota = state.enforce_quota and state.requests_today > limit
            decision = state.faults.decide(method, path)
            retry_after = state.faults.retry_after_seconds
            cache_injected = state.faults.cache_injected_errors
            hold_seconds = state.faults.lose_response_hold_seconds
        headers = {"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining),
                   "X-Rate-Limit-Reset": str(reset)}

        def finish(reply: Reply, outcome: str, *, lose: bool = False) -> Response:
            return self._respond(request, body, reply, headers, record, outcome,
                                 lose=lose, hold_seconds=hold_seconds)

        if not is_authorised(request.headers, self.api_key):
            return finish(error_reply(ApiError(401, "Unauthorized")), "unauthorised")
        if decision.rate_limited or over_quota:
            headers["Retry-After"] = str(retry_after)
            return finish(error_reply(_TOO_MANY), "fault_429")
        company_id = request.path_params.get("companyId") or None
        with state.lock:
            wait = state.throttle.admit(request.client.host if request.client else "",
                                        company_id)
        if wait is not None:
            headers["Retry-After"] = str(wait)
            return finish(error_reply(_TOO_MANY), "throttled_429")
        try:
            injected = _injected_error(decision.error_status)
            if injected is not None and not (cache_injected and idempotent and key):
                return finish(injected, f"fault_{decision.error_status}")

            scope: KeyScope | None = None
            if idempotent and key:
                scope = (request.path_params.get("companyId", ""), key)
                with state.lock:
                    begin = state.idempotency.begin(scope, fingerprint(method, path, body),
                                                    state.now())
                if begin.outcome is Outcome.IN_FLIGHT:
                    return finish(error_reply(ApiError(
                        409, "A request is in progress with the same idempotency key.")),
                        "idempotency_in_flight")
                if begin.outcome is Outcome.MISMATCH:
                    return finish(error_reply(ApiError(
                        422, "The idempotency key has already been used with a different "
                             "request.")), "idempotency_mismatch")
                if begin.outcome is Outcome.REPLAY:
                    assert begin.stored is not None
                    stored = begin.stored
                    reply = Reply(stored.status, raw=stored.body, content_type=stored.content_type)
                    return finish(reply, "replayed", lose=decision.lose_response)

            try:
                if decision.latency_ms:
                    await asyncio.sleep(decision.latency_ms / 1000)
                if injected is not None:
                    reply, outcome = injected, f"fault_{decision.error_status}"
                else:
                    try:
                        files = await _uploaded_files(request)
                    except ApiError as error:
                        reply, outcome = error_reply(error), "handled"
                    else:
                        call = Call(state=state, method=method, path=path,
                                    params=dict(request.path_params),
                                    query=dict(request.query_params), headers=request.headers,
                                    body=body, files=files, push_fails=decision.push_fails)
                        reply, outcome = self._run(handler, call), "handled"
            except BaseException:
                if scope is not None:
                    with state.lock:
                        state.idempotency.release(scope)
                raise
            if scope is not None:
                with state.lock:
                    state.idempotency.finish(scope, StoredResponse(reply.status, reply.content_type,
                                                                   reply.body()))
            return finish(reply, outcome, lose=decision.lose_response)
        finally:
            with state.lock:
                state.throttle.release(company_id)

    def _run(self, handler: Handler, call: Call) -> Reply:
        try:
            with self.state.lock:  # every write is atomic with respect to other requests
                return handler(call)
        except ApiError as error:
            return error_reply(error)
        except Exception:
            log.exception("sandbox handler failed on %s %s", call.method, call.path)
            return error_reply(ApiError(500, "There is a problem with our server. "
                                             "Please try again later."))

    def _respond(self, request: Request, request_body: bytes, reply: Reply,
                 headers: dict[str, str], record: RequestRecord, outcome: str, *, lose: bool,
                 hold_seconds: float) -> Response:
        body = reply.body()
        all_headers = {**headers, "Content-Type": reply.content_type}
        response: Response
        if lose:
            response = _HeldThenDropped(hold_seconds, reply.status,
                                        {**all_headers, "Content-Length": str(len(body))})
        else:
            response = Response(content=body, status_code=reply.status, headers=all_headers)
        with self.state.lock:
            record.status = reply.status
            record.outcome = f"{outcome}+lost" if lose else outcome
        if self.on_exchange is not None:
            self.on_exchange(Exchange(
                request=ExchangeRequest(
                    method=request.method, path=_raw_path(request),
                    query_string=request.url.query,
                    headers=tuple((k.decode("latin-1"), v.decode("latin-1"))
                                  for k, v in request.headers.raw),
                    body=request_body),
                response=ExchangeResponse(
                    status=reply.status,
                    headers=tuple((k.lower(), v) for k, v in
                                  {**all_headers, "Content-Length": str(len(body))}.items()),
                    body=body),
                delivered=not lose))
        return response


def _raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded (so `a%2Fb` stays one segment)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path


def _injected_error(status: int | None) -> Reply | None:
    if status == 400:
        return error_reply(ApiError(400, "The accounting platform refused the request: "
                                         "the bank account is closed for payments."))
    if status == 500:
        return error_reply(ApiError(500, "There is a problem with our server. "
                                         "Please try again later."))
    if status == 503:
        return error_reply(ApiError(503, "The Codat API is temporarily offline for "
                                         "maintenance. Please try again later."))
    return None


async def _uploaded_files(request: Request) -> dict[str, UploadedFile]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return {}
    files: dict[str, UploadedFile] = {}
    try:
        form = await request.form()
    except Exception:
        raise ApiError(400, "Error processing request - malformed multipart body.") from None
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files[name] = UploadedFile(filename=value.filename,
                                           content_type=value.content_type,
                                           content=await value.read())
    finally:
        await form.close()
    return files
