"""`billbot sandbox codat`: serve the stand-in alone on a port."""

from __future__ import annotations

import os
import sys

import uvicorn

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState

API_KEY_ENV = "CODAT_API_KEY"
DEFAULT_API_KEY = "sandbox"


def serve(host: str = "127.0.0.1", port: int = 8765, *, rate_limits: bool = False) -> int:
    """Seed, print where it listens and which ids it holds, then serve until interrupted."""
    api_key = os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY
    state = SandboxState.seeded()
    if rate_limits:
        state.throttle.documented()
    app = create_app(state, api_key=api_key)
    lines = [
        f"Codat sandbox on http://{host}:{port}",
        f"  API key: ${API_KEY_ENV}" + ("" if API_KEY_ENV in os.environ
                                         else f" (unset: using '{DEFAULT_API_KEY}')"),
        f"  CODAT_COMPANY_ID={state.main_company_id}",
        f"  CODAT_CONNECTION_ID={state.main_connection_id}",
        "  rate limits: " + ("1,000 requests a minute per address, 10 at once per company"
                             if rate_limits else "off (--rate-limits turns them on)"),
    ]
    for company_id, company in state.companies.items():
        for connection_id, connection in state.connections.get(company_id, {}).items():
            lines.append(f"  company {company_id} {company['name']!r}: connection "
                         f"{connection_id} {connection['platformName']} "
                         f"({connection['status']})")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0
