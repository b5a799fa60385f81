"""`/_sandbox/` control endpoints: not Codat's API, no auth. Tests and other processes use
them to read what happened, inject faults, reseed, and edit bills as a bookkeeper would.

    GET   /_sandbox/info                main companyId/connectionId, today, pageSize
    GET   /_sandbox/payments            every payment applied (replays add none)
    GET   /_sandbox/bills               every bill, all statuses (?companyId=&connectionId=)
    PATCH /_sandbox/bills/{billId}      {"amountDue", "totalAmount", "currencyRate",
                                         "dueDate", "issueDate", "status", "currency",
                                         "reference", "supplierId"}: any subset
    DELETE /_sandbox/bills/{billId}     the bill deleted from the books (it leaves every list)
    GET   /_sandbox/faults              the fault settings
    POST  /_sandbox/faults              {"clear": true, <any Faults field>, "rules":
                                         [{"kind", "count", "path" (regex), "method",
                                           "latency_ms"}]}
    POST  /_sandbox/reset               {"bills": N open bills, "dueSoon": M, "today":
                                         "YYYY-MM-DD", "pageSize": P}: reseed, forget
                                         payments, requests, keys and faults
    GET   /_sandbox/requests            the Codat API requests seen, with their outcome

The async API's push operations and syncs have their own: see `control_async.py`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billbot.sandbox.codat import jsonio
from billbot.sandbox.codat.errors import ApiError, error_body
from billbot.sandbox.codat.faults import FaultKind, FaultRule
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.query import parse_instant
from billbot.sandbox.codat.rules import BILL_STATUSES
from billbot.sandbox.codat.state import DEFAULT_OPEN_BILLS, SandboxState

_FAULT_NUMBERS = {"latency_ms": int, "rate_limit_next": int, "retry_after_seconds": int,
                  "lose_response_next": int, "error_rate": float, "rate_limit_rate": float,
                  "lose_response_rate": float, "lose_response_hold_seconds": float}
_MONEY_FIELDS = ("amountDue", "totalAmount", "currencyRate")
_DATE_FIELDS = ("dueDate", "issueDate")


def _json(payload: Any, status: int = 200) -> Response:
    return Response(jsonio.dumps(payload), status_code=status, media_type="application/json")


def _error(error: ApiError) -> Response:
    return _json(error_body(error.status, error.error, error.validation), error.status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = jsonio.loads(raw)
    except ValueError:
        raise ApiError(400, "Body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Body must be a JSON object")
    return body


def _ledger(state: SandboxState, request: Request) -> Ledger:
    company = request.query_params.get("companyId") or state.main_company_id
    connection = request.query_params.get("connectionId") or state.main_connection_id
    ledger = state.ledgers.get((company, connection))
    if ledger is None:
        raise ApiError(404, f"No ledger for company {company} connection {connection}")
    return ledger


def apply_faults(state: SandboxState, body: dict[str, Any]) -> None:
    """Apply a fault settings object (field names as on `Faults`); `clear: true` resets first."""
    faults = state.faults
    if body.get("clear"):
        faults.clear()
    for name, kind in _FAULT_NUMBERS.items():
        if name in body:
            try:
                setattr(faults, name, kind(body[name]))
            except (TypeError, ValueError):
                raise ApiError(400, f"{name} must be a number") from None
    if "cache_injected_errors" in body:
        faults.cache_injected_errors = bool(body["cache_injected_errors"])
    if "seed" in body:
        faults.reseed(int(body["seed"]))
    for raw in body.get("rules", []):
        try:
            faults.rules.append(FaultRule(
                kind=FaultKind(raw["kind"]), remaining=int(raw.get("count", 1)),
                path=str(raw.get("path", "")), method=raw.get("method"),
                latency_ms=int(raw.get("latency_ms", 0))))
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, f"Bad fault rule {raw!r}; kinds: "
                                f"{', '.join(k.value for k in FaultKind)}") from None


def edit_bill(state: SandboxState, ledger: Ledger, bill_id: str, changes: dict[str, Any]) -> Json:
    """Change a bill the way a bookkeeper would in the accounting software."""
    bill = ledger.bills.get(bill_id)
    if bill is None:
        raise ApiError(404, f"Bill {bill_id} not found")
    updated = dict(bill)
    for name, value in changes.items():
        if name in _MONEY_FIELDS:
            updated[name] = None if value is None else _decimal(name, value)
        elif name in _DATE_FIELDS:
            parsed = parse_instant(str(value))
            if parsed is None:
                raise ApiError(400, f"{name} must be an ISO date")
            updated[name] = f"{parsed.date().isoformat()}T00:00:00"
        elif name == "status":
            if value not in BILL_STATUSES:
                raise ApiError(400, f"status must be one of {', '.join(BILL_STATUSES)}")
            updated[name] = value
        elif name == "supplierId":
            supplier = ledger.suppliers.get(str(value))
            if supplier is None:
                raise ApiError(400, f"Supplier {value} not found")
            updated["supplierRef"] = {"id": supplier["id"],
                                      "supplierName": supplier["supplierName"]}
        elif name in ("currency", "reference"):
            updated[name] = value
        else:
            raise ApiError(400, f"{name} cannot be edited here")
    updated["sourceModifiedDate"] = state.timestamp()
    ledger.bills[bill_id] = updated
    return updated


def _decimal(name: str, value: Any) -> Decimal:
    number = jsonio.as_decimal(value)
    if number is None and isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise ApiError(400, f"{name} must be a number")
    return number


def control_routes(state: SandboxState) -> list[Route]:
    async def info(request: Request) -> Response:
        return _json({"companyId": state.main_company_id,
                      "connectionId": state.main_connection_id,
                      "today": state.today.isoformat(), "pageSize": state.page_size})

    async def payments(request: Request) -> Response:
        with state.lock:
            return _json([payment.to_json() for payment in state.payments])

    async def bills(request: Request) -> Response:
        try:
            with state.lock:
                return _json(list(_ledger(state, request).bills.values()))
        except ApiError as error:
            return _error(error)

    async def patch_bill(request: Request) -> Response:
        try:
            changes = await _body(request)
            with state.lock:
                bill = edit_bill(state, _ledger(state, request), request.path_params["billId"],
                                 changes)
            return _json(bill)
        except ApiError as error:
            return _error(error)

    async def delete_bill(request: Request) -> Response:
        try:
            with state.lock:
                ledger = _ledger(state, request)
                if ledger.bills.pop(request.path_params["billId"], None) is None:
                    raise ApiError(404, f"Bill {request.path_params['billId']} not found")
            return Response(status_code=204)
        except ApiError as error:
            return _error(error)

    async def faults(request: Request) -> Response:
        try:
            if request.method == "POST":
                body = await _body(request)
                with state.lock:
                    apply_faults(state, body)
            with state.lock:
                return _json(state.faults.to_json())
        except ApiError as error:
            return _error(error)

    async def reset(request: Request) -> Response:
        try:
            body = await _body(request)
            bills_wanted = int(body.get("bills", DEFAULT_OPEN_BILLS))
            due_soon = body.get("dueSoon")
            today = date.fromisoformat(body["today"]) if body.get("today") else None
            if "pageSize" in body:
                state.page_size = int(body["pageSize"])
            state.reseed(bills=bills_wanted, due_soon=None if due_soon is None else int(due_soon),
                         today=today)
        except (ValueError, TypeError) as error:
            return _error(ApiError(400, f"Bad reset request: {error}"))
        except ApiError as error:
            return _error(error)
        return await info(request)

    async def connection_status(request: Request) -> Response:
        # What Codat's link page does when the business authorises (Linked), and what a
        # revoked authorisation looks like (Unlinked or Deauthorized).
        try:
            status = (await _body(request)).get("status")
            if status not in ("PendingAuth", "Linked", "Unlinked", "Deauthorized"):
                raise ApiError(400, "status must be PendingAuth, Linked, Unlinked or Deauthorized")
            with state.lock:
                connection = state.connection(request.path_params["companyId"],
                                              request.path_params["connectionId"])
                connection["status"] = status
                return _json(connection)
        except ApiError as error:
            return _error(error)

    async def requests(request: Request) -> Response:
        with state.lock:
            return _json([record.to_json() for record in state.requests])

    return [
        Route("/_sandbox/info", info, methods=["GET"]),
        Route("/_sandbox/payments", payments, methods=["GET"]),
        Route("/_sandbox/bills", bills, methods=["GET"]),
        Route("/_sandbox/bills/{billId}", patch_bill, methods=["PATCH"]),
        Route("/_sandbox/bills/{billId}", delete_bill, methods=["DELETE"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_sandbox/companies/{companyId}/connections/{connectionId}/status",
              connection_status, methods=["POST"]),
    ]
