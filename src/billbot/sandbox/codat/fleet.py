"""Many linked companies at once, for tests and benchmarks of many bound channels.

Every company of a fleet shows one shared ledger (the standard seed's main company with
`bills` open bills, all due soon), so a thousand of them cost the memory of one. Shared
means read-only: digests, reminders and refreshes, not payments or edits.
"""

from __future__ import annotations

from datetime import timedelta

from billbot.sandbox.codat.seed_records import company_json, connection_json, stable_id
from billbot.sandbox.codat.state import SandboxState


def add_fleet(state: SandboxState, count: int, *, bills: int,
              name: str = "fleet") -> list[tuple[str, str]]:
    """Add `count` linked companies; their (company id, connection id) pairs, in order."""
    donor = SandboxState.seeded(state.today, bills=bills, due_soon=bills, clock=state.clock)
    ledger = donor.main_ledger
    created = state.today - timedelta(days=400)
    pairs = []
    with state.lock:
        for n in range(count):
            company = stable_id(f"company/{name}-{n}")
            connection = stable_id(f"connection/{name}-{n}/xero")
            state.companies[company] = company_json(company, f"{name.title()} {n} Ltd",
                                                    "One of many companies", created)
            state.connections[company] = {connection: connection_json(
                company, connection, "gbol", "Linked", created)}
            state.ledgers[(company, connection)] = ledger
            pairs.append((company, connection))
    return pairs


__all__ = ["add_fleet"]
