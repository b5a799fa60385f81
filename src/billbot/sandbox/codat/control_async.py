"""`/_sandbox/async/` control endpoints for the async API (no auth, never faulted):

    GET  /_sandbox/async/settings          push settings and the periodic sync interval
    POST /_sandbox/async/settings          {"polls": N|null, "delaySeconds": S|null,
                                            "failNext": N, "errorMessage": "...",
                                            "syncIntervalSeconds": S|null}: any subset
    POST /_sandbox/async/sync              {"companyId" (default main), "dataTypes": [...]}:
                                           sync now; answers the pull operations
    GET  /_sandbox/async/push              every push operation (?companyId=)
    POST /_sandbox/async/push/{key}/complete   settle it now (Success, or Failed when the
                                               books refuse it)
    POST /_sandbox/async/push/{key}/fail   {"errorMessage"}: settle it now as Failed
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billbot.sandbox.codat.books import SYNCED_TYPES
from billbot.sandbox.codat.control import _body, _error, _json
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.push import PushRecord, settle
from billbot.sandbox.codat.state import SandboxState


def _optional_number(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body[name]
    if value is None:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be a number or null") from None
    if number < 0:
        raise ApiError(400, f"{name} must not be negative")
    return number


def apply_settings(state: SandboxState, body: dict[str, Any]) -> None:
    settings = state.pushes.settings
    if "polls" in body:
        settings.polls = _optional_number(body, "polls", int)
    if "delaySeconds" in body:
        settings.delay_seconds = _optional_number(body, "delaySeconds", float)
    if "failNext" in body:
        settings.fail_next = _optional_number(body, "failNext", int) or 0
    if "errorMessage" in body:
        if not isinstance(body["errorMessage"], str) or not body["errorMessage"]:
            raise ApiError(400, "errorMessage must be a non-empty string")
        settings.error_message = body["errorMessage"]
    if "syncIntervalSeconds" in body:
        state.sync_interval_seconds = _optional_number(body, "syncIntervalSeconds", float)


def _settings_json(state: SandboxState) -> dict[str, Any]:
    return {**state.pushes.settings.to_json(),
            "syncIntervalSeconds": state.sync_interval_seconds}


def _find(state: SandboxState, key: str) -> PushRecord:
    for records in state.pushes.records.values():
        if key in records:
            return records[key]
    raise ApiError(404, f"Push operation {key} not found")


def async_control_routes(state: SandboxState) -> list[Route]:
    async def settings(request: Request) -> Response:
        try:
            if request.method == "POST":
                body = await _body(request)
                with state.lock:
                    apply_settings(state, body)
            with state.lock:
                return _json(_settings_json(state))
        except ApiError as error:
            return _error(error)

    async def sync_now(request: Request) -> Response:
        try:
            body = await _body(request)
            company_id = str(body.get("companyId") or state.main_company_id)
            wanted = body.get("dataTypes") or list(SYNCED_TYPES)
            if not isinstance(wanted, list) or any(t not in SYNCED_TYPES for t in wanted):
                raise ApiError(400, f"dataTypes must be a list of {', '.join(SYNCED_TYPES)}")
            with state.lock:
                return _json(state.sync_company(company_id, tuple(wanted)))
        except ApiError as error:
            return _error(error)

    async def list_pushes(request: Request) -> Response:
        company_id = request.query_params.get("companyId")
        with state.lock:
            return _json([record.operation
                          for company, records in state.pushes.records.items()
                          if company_id in (None, company)
                          for record in records.values()])

    async def complete(request: Request) -> Response:
        try:
            with state.lock:
                record = _find(state, request.path_params["key"])
                settle(record, state.now())
                return _json(record.operation)
        except ApiError as error:
            return _error(error)

    async def fail(request: Request) -> Response:
        try:
            body = await _body(request)
            message = str(body.get("errorMessage") or state.pushes.settings.error_message)
            with state.lock:
                record = _find(state, request.path_params["key"])
                settle(record, state.now(), fail_message=message)
                return _json(record.operation)
        except ApiError as error:
            return _error(error)

    return [
        Route("/_sandbox/async/settings", settings, methods=["GET", "POST"]),
        Route("/_sandbox/async/sync", sync_now, methods=["POST"]),
        Route("/_sandbox/async/push", list_pushes, methods=["GET"]),
        Route("/_sandbox/async/push/{key}/complete", complete, methods=["POST"]),
        Route("/_sandbox/async/push/{key}/fail", fail, methods=["POST"]),
    ]
