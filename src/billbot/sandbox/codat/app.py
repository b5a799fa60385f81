"""`create_app()`: the Codat Bill Pay stand-in as a Starlette ASGI app, serving the sync API
and the async one (`operations_async.py`) on the same books."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from billbot.sandbox.codat import routes_payables as payables
from billbot.sandbox.codat import routes_platform as platform
from billbot.sandbox.codat.control import control_routes
from billbot.sandbox.codat.control_async import async_control_routes
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.exchange import ExchangeHook
from billbot.sandbox.codat.operations_async import ASYNC_OPERATIONS
from billbot.sandbox.codat.pipeline import Call, Handler, Pipeline, Reply
from billbot.sandbox.codat.state import SandboxState

COMPANY = "/companies/{companyId}"
CONNECTION = COMPANY + "/connections/{connectionId}"
PAYABLES = CONNECTION + "/payables"
BILL = PAYABLES + "/bills/{billId}"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

# (method, path, handler, takes an Idempotency-Key): every operation of the spec. The spec
# declares Idempotency-Key on create/update bill, create bill payment, create supplier and
# create bank account.
OPERATIONS: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/companies", platform.list_companies, False),
    ("POST", "/companies", platform.create_company, False),
    ("GET", COMPANY, platform.get_company, False),
    ("PUT", COMPANY, platform.replace_company, False),
    ("PATCH", COMPANY, platform.update_company, False),
    ("DELETE", COMPANY, platform.delete_company, False),
    ("GET", COMPANY + "/connections", platform.list_connections, False),
    ("POST", COMPANY + "/connections", platform.create_connection, False),
    ("GET", CONNECTION, platform.get_connection, False),
    ("DELETE", CONNECTION, platform.delete_connection, False),
    ("PATCH", CONNECTION, platform.unlink_connection, False),
    ("GET", PAYABLES + "/info", payables.company_information, False),
    ("GET", PAYABLES + "/mappingOptions/bills", payables.bill_mapping_options, False),
    ("GET", PAYABLES + "/mappingOptions/payments", payables.payment_mapping_options, False),
    ("GET", PAYABLES + "/bills", payables.list_bills, False),
    ("POST", PAYABLES + "/bills", payables.create_bill, True),
    ("PUT", BILL, payables.update_bill, True),
    ("POST", BILL + "/attachments", payables.upload_attachment, False),
    ("GET", BILL + "/attachments", payables.list_attachments, False),
    ("GET", BILL + "/attachments/{attachmentId}/download", payables.download_attachment, False),
    ("POST", BILL + "/payment", payables.create_bill_payment, True),
    ("GET", PAYABLES + "/suppliers", payables.list_suppliers, False),
    ("POST", PAYABLES + "/suppliers", payables.create_supplier, True),
    ("PUT", PAYABLES + "/suppliers/{supplierId}", payables.update_supplier, False),
    ("POST", PAYABLES + "/bankAccounts", payables.create_bank_account, True),
]


def _not_found(call: Call) -> Reply:
    raise ApiError(404, f"No resource at {call.method} {call.path}")


def create_app(state: SandboxState | None = None, *, api_key: str = "sandbox",
               on_exchange: ExchangeHook | None = None) -> Starlette:
    """The sandbox app; `state` defaults to the standard seed dated today (UTC).

    `on_exchange` is called with every Codat API request and its response (not for
    `/_sandbox/` control calls), e.g. to validate both against the OpenAPI spec.
    """
    sandbox = state if state is not None else SandboxState.seeded()
    pipeline = Pipeline(sandbox, api_key, on_exchange)
    routes: list[BaseRoute] = [*control_routes(sandbox), *async_control_routes(sandbox)]
    for method, path, handler, idempotent in OPERATIONS:
        routes.append(Route(path, pipeline.endpoint(handler, idempotent=idempotent),
                            methods=[method]))
    for method, path, handler in ASYNC_OPERATIONS:  # the async API takes no Idempotency-Key
        routes.append(Route(path, pipeline.endpoint(handler), methods=[method]))
    # Anything else still goes through auth and answers with an ErrorMessage.
    routes.append(Route("/{path:path}", pipeline.endpoint(_not_found), methods=ALL_METHODS))
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
