"""A stateful stand-in for Codat's Bill Pay (sync) API, served as a Starlette ASGI app.

    state = SandboxState.seeded(date(2025, 1, 6), bills=120)
    app = create_app(state, api_key="sandbox", on_exchange=validator)
    with serve_in_thread(app) as served: ...   # billbot.sandbox.serving

Tests read `state.payments` / `state.requests` and flip `state.faults`; other processes use
the `/_sandbox/` control endpoints (see `control.py`).
"""

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.exchange import Exchange, ExchangeRequest, ExchangeResponse
from billbot.sandbox.codat.faults import FaultKind, FaultRule, Faults
from billbot.sandbox.codat.state import PaymentRecord, RequestRecord, SandboxState

__all__ = [
    "Exchange",
    "ExchangeRequest",
    "ExchangeResponse",
    "FaultKind",
    "FaultRule",
    "Faults",
    "PaymentRecord",
    "RequestRecord",
    "SandboxState",
    "create_app",
]
