"""Whether the audit log accounts for every transition of a payment intent (the money
trials and the payment model test check each intent with it)."""

from __future__ import annotations

from billbot.storage.tables import AuditLog, PaymentIntent

# Which audited transition may follow which state. `calling` -> `calling` is only a new
# attempt after the previous holder died mid-call (the entry says `resumed`).
_ENTRY_STATE = {"payment.calling": "calling", "payment.unknown": "unknown",
                "payment.succeeded": "succeeded", "payment.failed": "failed"}
_ALLOWED = {"created": {"calling", "failed"},
            "calling": {"unknown", "created", "succeeded", "failed"},
            "unknown": {"calling", "succeeded", "failed"}}


def audit_problem(intent: PaymentIntent, audit: list[AuditLog]) -> str | None:
    """Why the audit log does not account for every transition of `intent`, or None.

    Each transition writes one entry: started, calling per attempt, unknown / not_sent when
    an attempt's outcome is not known or it never left, and one final entry. Replaying the
    entries must follow the state machine and end in the intent's state, with one `calling`
    per attempt; a missing entry shows up as a transition the machine does not have.
    """
    mine = [a for a in audit if a.detail.get("intent_id") == str(intent.id)]
    actions = [a.action for a in mine]
    if actions[:1] != ["payment.started"] or actions.count("payment.started") != 1:
        return f"intent {intent.id}: audit does not start with one payment.started: {actions}"
    if actions.count("payment.calling") != intent.attempts:
        return f"intent {intent.id}: {intent.attempts} attempts, audit {actions}"
    state = "created"
    for entry in mine[1:]:
        if entry.action == "payment.not_sent":
            new = str(entry.detail.get("state", "created"))
        elif entry.action in _ENTRY_STATE:
            new = _ENTRY_STATE[entry.action]
        else:  # a step within a state (the async API's `payment.pushed`: its key recorded)
            continue
        if new == state == "calling" and entry.detail.get("resumed") is True:
            continue
        if new not in _ALLOWED.get(state, set()):
            return f"intent {intent.id}: no audited step from {state} to {new}: {actions}"
        state = new
    if state != intent.state:
        return f"intent {intent.id} is {intent.state}; its audit ends in {state}: {actions}"
    return None
